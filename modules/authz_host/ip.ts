// IP addresses and subnets as APR parses and tests them (apr_ipsubnet_create / apr_ipsubnet_test).

/** A parsed address: IPv4 as one uint32, IPv6 as four; IPv4-mapped IPv6 counts as IPv4. */
export interface Addr {
  family: 0 | 4 | 6;
  v4: number;
  v6: Uint32Array;
}

export function createAddr(): Addr {
  return { family: 0, v4: 0, v6: new Uint32Array(4) };
}

/** APR's inet_pton4: exactly four decimal octets; leading zeros allowed (`010` is 10). -1 if invalid. */
export function parseIPv4(s: string, start = 0, end = s.length): number {
  let value = 0;
  let octet = 0;
  let octets = 0;
  let sawDigit = false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      if (!sawDigit) {
        if (++octets > 4) return -1;
        sawDigit = true;
      }
    } else if (c === 46 && sawDigit) {
      if (octets === 4) return -1;
      value = value * 256 + octet;
      octet = 0;
      sawDigit = false;
    } else return -1;
  }
  if (octets < 4 || !sawDigit) return -1;
  return value * 256 + octet;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Scratch 16-bit groups for parseIPv6, so request-time parsing allocates nothing. */
const groups = new Uint16Array(8);

/**
 * APR's inet_pton6 (from BIND): hex groups of at most 0xffff, one `::`, an optional dotted IPv4 tail.
 * Writes four words into `out`; false if invalid. No zone ids (`fe80::1%eth0` is invalid, as in APR).
 */
export function parseIPv6(s: string, out: Uint32Array, start = 0, end = s.length): boolean {
  let i = start;
  if (i < end && s.charCodeAt(i) === 58) {
    if (i + 1 >= end || s.charCodeAt(i + 1) !== 58) return false;
    i++;
  }
  groups.fill(0);
  let n = 0;
  let gap = -1;
  let tok = i;
  let val = 0;
  let sawHex = false;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    const h = hexValue(c);
    if (h >= 0) {
      val = val * 16 + h;
      if (val > 0xffff) return false;
      sawHex = true;
      continue;
    }
    if (c === 58) {
      tok = i + 1;
      if (!sawHex) {
        if (gap >= 0) return false;
        gap = n;
        continue;
      }
      if (n >= 8) return false;
      groups[n++] = val;
      sawHex = false;
      val = 0;
      continue;
    }
    if (c === 46 && n <= 6) {
      const v4 = parseIPv4(s, tok, end);
      if (v4 < 0) return false;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      sawHex = false;
      i = end;
      break;
    }
    return false;
  }
  if (sawHex) {
    if (n >= 8) return false;
    groups[n++] = val;
  }
  if (gap >= 0) {
    if (n === 8) return false;
    const tail = n - gap;
    for (let k = 1; k <= tail; k++) {
      groups[8 - k] = groups[gap + tail - k]!;
      groups[gap + tail - k] = 0;
    }
    n = 8;
  }
  if (n !== 8) return false;
  for (let k = 0; k < 4; k++) out[k] = ((groups[2 * k]! << 16) | groups[2 * k + 1]!) >>> 0;
  return true;
}

function isV4Mapped(w: Uint32Array): boolean {
  return w[0] === 0 && w[1] === 0 && w[2] === 0xffff;
}

/**
 * Parses a peer address as the socket layer reports it (`127.0.0.1`, `::1`, `::ffff:10.0.0.1`,
 * `fe80::1%eth0`) into `a`. An IPv4-mapped IPv6 address becomes IPv4, so v4 rules match a dual-stack
 * listener's clients (apr_ipsubnet_test does the same). family 0 when it is no address at all.
 */
export function parseAddr(s: string, a: Addr): Addr {
  a.family = 0;
  if (s.indexOf(":") < 0) {
    const v = parseIPv4(s);
    if (v >= 0) {
      a.family = 4;
      a.v4 = v;
    }
    return a;
  }
  const pct = s.indexOf("%");
  if (!parseIPv6(s, a.v6, 0, pct < 0 ? s.length : pct)) return a;
  if (isV4Mapped(a.v6)) {
    a.family = 4;
    a.v4 = a.v6[3]!;
  } else a.family = 6;
  return a;
}

/** Same host: v4 equal, or v6 equal word for word (v4-mapped already folded into v4). */
export function sameAddr(a: Addr, b: Addr): boolean {
  if (a.family === 0 || a.family !== b.family) return false;
  if (a.family === 4) return a.v4 === b.v4;
  return a.v6[0] === b.v6[0] && a.v6[1] === b.v6[1] && a.v6[2] === b.v6[2] && a.v6[3] === b.v6[3];
}

/**
 * Compiled `Require ip` arguments: IPv4 rules as (network, mask) pairs, IPv6 rules as eight words each
 * (four of network, four of mask). Non-contiguous masks (`255.0.255.0`) are legal in APR, so these
 * stay masks rather than ranges; a test is one AND and one compare per word.
 */
export interface Subnets {
  v4: Uint32Array;
  v6: Uint32Array;
}

type SubnetError = "inval" | "badip" | "badmask";

/** Legacy partial form: `10.1` is 10.1.0.0/16, `10.` is 10.0.0.0/8 (APR's parse_network). */
function parseNetwork(s: string): [number, number] | undefined {
  if (s.length >= 16) return undefined;
  let net = 0;
  let mask = 0;
  let shift = 24;
  let i = 0;
  while (i < s.length) {
    const startDigits = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === startDigits) return undefined;
    const octet = Number(s.slice(startDigits, i));
    if (i < s.length) {
      if (s.charCodeAt(i) !== 46) return undefined;
      i++;
    }
    if (shift < 0 || octet > 255) return undefined;
    net += octet * 2 ** shift;
    mask += 255 * 2 ** shift;
    shift -= 8;
  }
  return [net >>> 0, mask >>> 0];
}

/** Mask bits as strtol reads them: optional blanks and `+`, decimal digits, nothing after. */
const BITS_RE = /^[\t\n\v\f\r ]*\+?\d+$/;

/**
 * One `Require ip` argument into `v4`/`v6` arrays (apr_ipsubnet_create). Errors: "inval" for words
 * that look nothing like an address, "badip", "badmask" (which Apache words differently).
 */
export function parseSubnet(word: string, v4: number[], v6: number[]): SubnetError | undefined {
  const slash = word.indexOf("/");
  const ip = slash < 0 ? word : word.slice(0, slash);
  const maskText = slash < 0 ? undefined : word.slice(slash + 1);
  if (ip === "" || (ip.indexOf(":") < 0 && !/^[\d.]+$/.test(ip))) return "inval";
  const w = new Uint32Array(4);
  let family: 4 | 6;
  let net = 0;
  let mask = 0xffffffff;
  if (parseIPv6(ip, w)) {
    // APR refuses ::ffff:a.b.c.d so that one rule never has two spellings.
    if (isV4Mapped(w)) return "badip";
    family = 6;
  } else {
    const v = parseIPv4(ip);
    if (v >= 0) net = v;
    else if (maskText !== undefined) return "badip";
    else {
      const partial = parseNetwork(ip);
      if (!partial) return "badip";
      [net, mask] = partial;
    }
    family = 4;
  }
  const m6 = new Uint32Array([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
  if (maskText !== undefined) {
    const max = family === 6 ? 128 : 32;
    // APR wants 1..32 (1..128) bits: 0.0.0.0/0 is "The specified network mask is invalid" [obs].
    const bits = BITS_RE.test(maskText) ? Number(maskText.trim()) : 0;
    if (bits > 0 && bits <= max) {
      if (family === 4) mask = bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
      else for (let k = 0; k < 4; k++) m6[k] = prefixWord(bits - 32 * k);
    } else if (family === 4 && parseIPv4(maskText) >= 0) {
      mask = parseIPv4(maskText);
    } else return "badmask";
  }
  if (family === 4) v4.push((net & mask) >>> 0, mask);
  else for (let k = 0; k < 4; k++) v6.push((w[k]! & m6[k]!) >>> 0);
  if (family === 6) for (let k = 0; k < 4; k++) v6.push(m6[k]!);
  return undefined;
}

function prefixWord(bits: number): number {
  if (bits >= 32) return 0xffffffff;
  if (bits <= 0) return 0;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/** apr_ipsubnet_test over every compiled rule. */
export function matchSubnets(s: Subnets, a: Addr): boolean {
  if (a.family === 4) {
    const r = s.v4;
    for (let i = 0; i < r.length; i += 2) if (((a.v4 & r[i + 1]!) >>> 0) === r[i]) return true;
    return false;
  }
  if (a.family === 6) {
    const r = s.v6;
    const w = a.v6;
    for (let i = 0; i < r.length; i += 8) {
      if (
        ((w[0]! & r[i + 4]!) >>> 0) === r[i] &&
        ((w[1]! & r[i + 5]!) >>> 0) === r[i + 1] &&
        ((w[2]! & r[i + 6]!) >>> 0) === r[i + 2] &&
        ((w[3]! & r[i + 7]!) >>> 0) === r[i + 3]
      ) {
        return true;
      }
    }
  }
  return false;
}
