import { isAddressAllowed, type AddressPolicy } from '../src/index.js';
import { normalizeNodeUrl } from '../src/net/peer-http.js';

/**
 * Which addresses a node may call, decided offline: nothing here opens a connection.
 * An IPv6 address standing for an IPv4 one is judged by the IPv4 address.
 */
const closed: AddressPolicy = { allowLoopback: false, allowedCidrs: [] };
const sandbox: AddressPolicy = { allowLoopback: true, allowedCidrs: [] };

const local = [
  // loopback, link-local (cloud metadata), private, carrier-grade NAT, unspecified, as IPv4…
  '127.0.0.1',
  '169.254.169.254',
  '10.0.0.5',
  '192.168.1.1',
  '100.64.0.1',
  '0.0.0.0',
  // …and in every IPv6 form that embeds an IPv4 address
  '::127.0.0.1',
  '::7f00:1',
  '::169.254.169.254',
  '::a9fe:a9fe',
  '::ffff:127.0.0.1',
  '::ffff:169.254.169.254',
  '0:0:0:0:0:ffff:a00:5',
  '::ffff:0:127.0.0.1',
  '64:ff9b::127.0.0.1',
  '64:ff9b::a9fe:a9fe',
  '64:ff9b::10.0.0.5',
  '64:ff9b:1::8.8.8.8',
  '2002:7f00:1::',
  '2002:a9fe:a9fe::1',
  '2002:c0a8:101::1',
  '2001:0:4136:e378:8000:63bf:80ff:fffe', // Teredo, client 127.0.0.1
  '2001:0:a9fe:a9fe::ffff:ffff', // Teredo, server 169.254.169.254
  // and IPv6's own
  '::1',
  '::',
  'fe80::1',
  'fc00::1',
  'fd12:3456::1',
  'ff02::1',
];
const publicAddresses = [
  '8.8.8.8',
  '1.1.1.1',
  '2606:4700:4700::1111',
  '::ffff:8.8.8.8',
  '64:ff9b::8.8.8.8',
  '2002:808:808::1',
  '2001:0:4136:e378:8000:63bf:f7f7:f7f7',
];

it.each(local)('refuses %s', (address) => {
  expect(isAddressAllowed(address, closed)).toBe(false);
});

it.each(publicAddresses)('allows the public address %s', (address) => {
  expect(isAddressAllowed(address, closed)).toBe(true);
});

it('allows loopback in every form only when the operator did, and nothing else local with it', () => {
  for (const address of ['127.0.0.1', '::1', '::127.0.0.1', '::ffff:127.0.0.1', '64:ff9b::127.0.0.1', '2002:7f00:1::'])
    expect(isAddressAllowed(address, sandbox)).toBe(true);
  for (const address of ['::169.254.169.254', '::ffff:10.0.0.5', '2002:a9fe:a9fe::1', '64:ff9b:1::7f00:1'])
    expect(isAddressAllowed(address, sandbox)).toBe(false);
});

it('allows a listed private range, in its IPv4-mapped form too', () => {
  const internal: AddressPolicy = { allowLoopback: false, allowedCidrs: ['10.20.0.0/16'] };
  expect(isAddressAllowed('10.20.1.2', internal)).toBe(true);
  expect(isAddressAllowed('::ffff:10.20.1.2', internal)).toBe(true);
  expect(isAddressAllowed('10.21.1.2', internal)).toBe(false);
});

it.each([
  'https://[::127.0.0.1]/nodes/x',
  'https://[::169.254.169.254]/nodes/x',
  'https://[::ffff:a9fe:a9fe]/nodes/x',
  'https://[64:ff9b::a9fe:a9fe]/nodes/x',
  'https://[2002:a9fe:a9fe::]/nodes/x',
])('refuses the node URL %s before any connection', (url) => {
  expect(normalizeNodeUrl(url, closed)).toMatchObject({ ok: false, problem: { kind: 'not-allowed' } });
});
