import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';

/**
 * Which addresses this node may call when it talks to another node (destination probe,
 * acceptance, polling). The URLs come from admins and from invitation codes, so without this
 * rule a node could be made to call its own cloud metadata service or an internal admin page.
 * An IPv6 address that embeds an IPv4 one (mapped, compatible, NAT64, 6to4, Teredo) is judged by
 * the IPv4 address it embeds.
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
  const ip = ipaddr.parse(address);
  if (inAllowedRange(ip, policy)) return true;
  if (ip.kind() === 'ipv6') {
    // An IPv6 address that stands for an IPv4 one is what that one is: ::127.0.0.1 is loopback.
    const embedded = embeddedIPv4((ip as ipaddr.IPv6).parts);
    if (embedded === 'not-public') return false;
    if (embedded) return embedded.every((v4) => isAddressAllowed(v4, policy));
  }
  const range = ip.range();
  if (range === 'unicast') return true;
  if (range === 'loopback') return policy.allowLoopback;
  return false;
}

function inAllowedRange(ip: ipaddr.IPv4 | ipaddr.IPv6, policy: AddressPolicy): boolean {
  return policy.allowedCidrs.some((cidr) => {
    const [net, bits] = ipaddr.parseCIDR(cidr);
    return net.kind() === ip.kind() && ip.match([net, bits] as [ipaddr.IPv4 | ipaddr.IPv6, number]);
  });
}

/**
 * The IPv4 addresses an IPv6 address carries, by its form (its eight 16-bit parts), or undefined
 * when it is a plain IPv6 address. `not-public` for a form whose IPv4 part is a local network's own.
 * - IPv4-mapped ::ffff:a.b.c.d, and SIIT ::ffff:0:a.b.c.d (RFC 6145);
 * - IPv4-compatible ::a.b.c.d (deprecated; :: and ::1 are themselves);
 * - NAT64 64:ff9b::a.b.c.d (RFC 6052); the local-use prefix 64:ff9b:1::/48 (RFC 8215) is a site's own;
 * - 6to4 2002:AABB:CCDD::/16 (RFC 3056): a.b.c.d is AABB:CCDD;
 * - Teredo 2001:0::/32 (RFC 4380): the server's address, and the client's, stored inverted.
 */
export function embeddedIPv4(parts: number[]): string[] | 'not-public' | undefined {
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zero = (from: number, to: number) => parts.slice(from, to).every((p) => p === 0);
  const [p0, p1, p2, p3, , p5, p6, p7] = parts as [number, number, number, number, number, number, number, number];
  if (zero(0, 5) && p5 === 0xffff) return [v4(p6, p7)];
  if (zero(0, 4) && parts[4] === 0xffff && p5 === 0) return [v4(p6, p7)];
  if (zero(0, 6) && !(p6 === 0 && (p7 === 0 || p7 === 1))) return [v4(p6, p7)];
  if (p0 === 0x64 && p1 === 0xff9b && zero(2, 6)) return [v4(p6, p7)];
  if (p0 === 0x64 && p1 === 0xff9b && p2 === 1) return 'not-public';
  if (p0 === 0x2002) return [v4(p1, p2)];
  if (p0 === 0x2001 && p1 === 0) return [v4(p2, p3), v4(~p6 & 0xffff, ~p7 & 0xffff)];
  return undefined;
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
