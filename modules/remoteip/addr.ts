// Address tests of mod_remoteip: trusted proxy lists and the addresses an external proxy may not claim.
import { matchSubnets } from "../authz_host/ip.ts";
import type { Addr, Subnets } from "../authz_host/ip.ts";

/** One RemoteIPTrustedProxy (internal: false) or RemoteIPInternalProxy (internal: true) entry. */
export interface Proxy {
  nets: Subnets;
  internal: boolean;
}

/** The first list entry that covers `a`, or undefined when the address is no trusted proxy. */
export function matchProxy(list: readonly Proxy[], a: Addr): Proxy | undefined {
  for (const p of list) if (matchSubnets(p.nets, a)) return p;
  return undefined;
}

/**
 * What only an internal proxy may present (RFC 3330 private and local IPv4 networks; IPv6 outside
 * global unicast 2000::/3): from anyone else such an address is a forgery or a mistake.
 */
export function privateOrNonsensical(a: Addr): boolean {
  if (a.family === 4) {
    const b0 = a.v4 >>> 24;
    const b1 = (a.v4 >>> 16) & 0xff;
    return b0 === 10 || b0 === 127 || (b0 === 169 && b1 === 254) || (b0 === 172 && (b1 & 0xf0) === 16) || (b0 === 192 && b1 === 168);
  }
  return (a.v6[0]! >>> 29) !== 1;
}
