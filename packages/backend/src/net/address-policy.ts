import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';

/**
 * Which addresses this node may call when it talks to another node (destination probe,
 * acceptance, polling). The URLs come from admins and from invitation codes, so without this
 * rule a node could be made to call its own cloud metadata service or an internal admin page.
 *
 * Rule: only public unicast addresses. Loopback (127.0.0.0/8, ::1) only when `allowLoopback`
 * is set (the local sandbox and tests do); further private ranges only when listed in
 * `allowedCidrs` (for partners on an internal network). Plain http only to loopback; https
 * everywhere else. The check runs on every resolved address at connect time, so DNS
 * rebinding and redirects are covered too.
 */
export interface AddressPolicy {
  allowLoopback: boolean;
  allowedCidrs: string[];
}

export class AddressNotAllowedError extends Error {
  constructor(readonly address: string) {
    super(`Address ${address} is not a public address`);
    this.name = 'AddressNotAllowedError';
  }
}

export function isAddressAllowed(address: string, policy: AddressPolicy): boolean {
  if (!ipaddr.isValid(address)) return false;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  const range = ip.range();
  if (range === 'unicast') return true;
  if (range === 'loopback') return policy.allowLoopback;
  return policy.allowedCidrs.some((cidr) => {
    const [net, bits] = ipaddr.parseCIDR(cidr);
    return net.kind() === ip.kind() && ip.match([net, bits] as [ipaddr.IPv4 | ipaddr.IPv6, number]);
  });
}

export function isLoopbackHost(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  return ipaddr.isValid(bare) && ipaddr.parse(bare).range() === 'loopback';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `dns.lookup` replacement for undici's connector that refuses addresses outside the policy. */
export function guardedLookup(policy: AddressPolicy) {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const refused = addresses.find((a) => !isAddressAllowed(a.address, policy));
      if (refused) return callback(new AddressNotAllowedError(refused.address) as NodeJS.ErrnoException, []);
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`No address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
