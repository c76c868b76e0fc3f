// Cached double-reverse and forward lookups for `Require host` / `Require forward-dns`.
import dns from "node:dns";
import net from "node:net";
import { createAddr, parseAddr, sameAddr } from "./ip.ts";
import type { Addr } from "./ip.ts";

/**
 * Latency: the first request from an address (or the first after TTL_MS) waits for getnameinfo plus
 * getaddrinfo through the system resolver (/etc/hosts, then DNS): well under a millisecond for
 * /etc/hosts names, up to the resolver's timeout (often 5 s per try) when DNS is slow or down. Apache
 * pays this on every connection (it caches per connection only); here results, failures included, are
 * kept TTL_MS per address or name and concurrent lookups for the same key share one query. Rules that
 * do not need DNS (`ip`, `local`) never wait: list them first in a RequireAny to skip the lookup.
 */
export const TTL_MS = 60_000;
/** Bound on cached entries, so a flood of distinct clients cannot grow memory without end. */
const MAX_ENTRIES = 4096;

interface Entry<T> {
  value: T;
  expires: number;
  pending: Promise<T> | undefined;
}

class LookupCache<T> {
  private map = new Map<string, Entry<T>>();

  constructor(private lookup: (key: string) => Promise<T>) {}

  /** The cached value (synchronously) when fresh, else a Promise of the looked-up one. */
  get(key: string, now = Date.now()): T | Promise<T> {
    const e = this.map.get(key);
    if (e && e.expires > now) return e.value;
    if (e?.pending) return e.pending;
    if (this.map.size >= MAX_ENTRIES) this.map.clear();
    const entry: Entry<T> = e ?? { value: undefined as T, expires: 0, pending: undefined };
    const p = this.lookup(key).then((value) => {
      entry.value = value;
      entry.expires = Date.now() + TTL_MS;
      entry.pending = undefined;
      return value;
    });
    entry.pending = p;
    this.map.set(key, entry);
    return p;
  }

  clear(): void {
    this.map.clear();
  }
}

/**
 * Apache's REMOTE_DOUBLE_REV: the client address's name (getnameinfo), accepted only when a forward
 * lookup of that name gives the address back; lower-cased. null when either step fails.
 */
async function doubleReverse(ip: string): Promise<string | null> {
  try {
    const { hostname } = await dns.promises.lookupService(ip, 0);
    if (!hostname || net.isIP(hostname)) return null;
    const client = parseAddr(ip, createAddr());
    const addrs = await dns.promises.lookup(hostname, { all: true, verbatim: true });
    for (const a of addrs) {
      if (sameAddr(parseAddr(a.address, createAddr()), client)) return hostname.toLowerCase();
    }
    return null;
  } catch {
    return null;
  }
}

/** Every address a name resolves to, or null when it does not resolve (AH03356 is logged per request). */
async function forward(name: string): Promise<Addr[] | null> {
  try {
    const addrs = await dns.promises.lookup(name, { all: true, verbatim: true });
    return addrs.map((a) => parseAddr(a.address, createAddr()));
  } catch {
    return null;
  }
}

const reverseCache = new LookupCache(doubleReverse);
const forwardCache = new LookupCache(forward);

/** The double-reverse name of `ip` (an IPv4-mapped address is looked up as IPv4). */
export function remoteHost(ip: string): string | null | Promise<string | null> {
  return reverseCache.get(ip);
}

export function forwardAddrs(name: string): Addr[] | null | Promise<Addr[] | null> {
  return forwardCache.get(name);
}

/** Forgets every cached lookup (tests, or a graceful restart that wants fresh DNS). */
export function clearDnsCache(): void {
  reverseCache.clear();
  forwardCache.clear();
}
