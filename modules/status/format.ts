// Number, byte and time formats of mod_status, as APR's printf and mod_status.c produce them.
import { strftime } from "../../src/log/time.ts";

/**
 * APR's `%g` (apr_gcvt): `precision` significant digits, trailing zeros dropped and, unlike C's printf,
 * no leading zero before the point (`.0769231`). E-style only when the exponent is beyond APR's own
 * thresholds (`1.e+5`, `1e-05` differ from glibc on purpose: monitoring parsers have seen these).
 * @example aprG(1 / 13) // ".0769231"
 */
export function aprG(value: number, precision = 6): string {
  if (!Number.isFinite(value)) return value > 0 ? "inf" : value < 0 ? "-inf" : "nan";
  const neg = value < 0;
  const abs = Math.abs(value);
  let digits: string;
  let decpt: number;
  if (abs === 0) {
    digits = "0".repeat(precision);
    decpt = 0;
  } else {
    // apr_ecvt: `precision` significant digits, rounded half up; decpt = position of the point.
    const [mant, exp] = abs.toExponential(precision - 1).split("e") as [string, string];
    digits = mant.replace(".", "");
    decpt = Number(exp) + 1;
  }
  let nd = precision;
  while (nd > 1 && digits[nd - 1] === "0") nd--;
  let out = neg ? "-" : "";
  if ((decpt >= 0 && decpt - nd > 4) || decpt < -3) {
    let e = decpt - 1;
    out += digits[0] + "." + digits.slice(1, nd) + "e";
    if (e < 0) {
      e = -e;
      out += "-";
    } else out += "+";
    if (Math.floor(e / 100) > 0) out += String(Math.floor(e / 100));
    if (Math.floor(e / 10) > 0) out += String(Math.floor((e % 100) / 10));
    return out + String(e % 10);
  }
  if (decpt <= 0) {
    if (digits[0] !== "0") out += ".";
    out += "0".repeat(-decpt);
  }
  for (let i = 1; i <= nd; i++) {
    out += digits[i - 1];
    if (i === decpt) out += ".";
  }
  if (nd < decpt) out += "0".repeat(decpt - nd) + ".";
  return out.endsWith(".") ? out.slice(0, -1) : out;
}

/** C `(float)` arithmetic: mod_status computes its rates in single precision. */
export const f32 = Math.fround;

/** `%.Nf` (APR keeps the leading zero here: `Load15: 0.45`). */
export function fixed(value: number, decimals: number): string {
  return value.toFixed(decimals);
}

const KBYTE = 1024;
const MBYTE = 1048576;
const GBYTE = 1073741824;

/** mod_status format_byte_out: `N B`, `%.1f kB`, `%.1f MB`, `%.1f GB`. */
export function formatByteOut(bytes: number): string {
  if (bytes < 5 * KBYTE) return `${Math.trunc(bytes)} B`;
  if (bytes < MBYTE / 2) return `${fixed(f32(bytes) / KBYTE, 1)} kB`;
  if (bytes < GBYTE / 2) return `${fixed(f32(bytes) / MBYTE, 1)} MB`;
  return `${fixed(f32(bytes) / GBYTE, 1)} GB`;
}

/** mod_status format_kbyte_out: `N kB`, `%.1f MB`, `%.1f GB`. */
export function formatKbyteOut(kbytes: number): string {
  if (kbytes < KBYTE) return `${Math.trunc(kbytes)} kB`;
  if (kbytes < MBYTE) return `${fixed(f32(kbytes) / KBYTE, 1)} MB`;
  return `${fixed(f32(kbytes) / MBYTE, 1)} GB`;
}

/**
 * mod_status show_time: ` 1 day 2 hours 3 minutes 4 seconds`, zero parts left out, each part with a
 * leading space (so `ServerUptime:` is bare at 0 and the HTML shows two spaces after the colon).
 */
export function showTime(seconds: number): string {
  let t = Math.max(0, Math.floor(seconds));
  const secs = t % 60;
  t = Math.floor(t / 60);
  const mins = t % 60;
  t = Math.floor(t / 60);
  const hrs = t % 24;
  const days = Math.floor(t / 24);
  let out = "";
  if (days) out += ` ${days} day${days === 1 ? "" : "s"}`;
  if (hrs) out += ` ${hrs} hour${hrs === 1 ? "" : "s"}`;
  if (mins) out += ` ${mins} minute${mins === 1 ? "" : "s"}`;
  if (secs) out += ` ${secs} second${secs === 1 ? "" : "s"}`;
  return out;
}

/** The last few formatted seconds: the zone name costs an Intl lookup, and a page formats two times. */
const timeCache = new Map<number, string>();

/** DEFAULT_TIME_FORMAT of mod_status in local time: `Sunday, 22-Nov-2026 22:04:56 UTC`. */
export function statusTime(ms: number): string {
  const sec = Math.floor(ms / 1000);
  let out = timeCache.get(sec);
  if (out === undefined) {
    out = strftime("%A, %d-%b-%Y %H:%M:%S %Z", new Date(sec * 1000));
    if (timeCache.size >= 8) timeCache.clear();
    timeCache.set(sec, out);
  }
  return out;
}

/** ap_escape_html: `& < > "` (mod_status escapes client, vhost, protocol and request). */
export function escapeHtml(s: string): string {
  if (!/[&<>"]/.test(s)) return s;
  return s.replace(/[&<>"]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&quot;"));
}
