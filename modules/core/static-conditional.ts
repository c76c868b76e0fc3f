// Conditional requests (RFC 9110 §13): HTTP dates, entity-tag comparison, precondition evaluation.

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};

// The three forms a recipient must accept (RFC 9110 §5.6.7), as apr_date_parse_http does.
const IMF_FIXDATE = /^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850 = /^[A-Za-z]{6,9}, (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME = /^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

let lastText = "";
let lastValue = NaN;

/**
 * Seconds since the epoch for an HTTP-date, NaN when it is not one. Browsers send the same validator
 * again and again, so the last answer is remembered.
 * @example parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT") // 784111777
 */
export function parseHttpDate(text: string): number {
  if (text === lastText) return lastValue;
  let v = NaN;
  let m = IMF_FIXDATE.exec(text);
  if (m) v = utc(m[3]!, m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  else if ((m = RFC850.exec(text))) {
    // Two-digit years: 00-69 are 20xx, as APR does.
    const yy = Number(m[3]);
    v = utc(String(yy < 70 ? 2000 + yy : 1900 + yy), m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  } else if ((m = ASCTIME.exec(text))) v = utc(m[6]!, m[1]!, m[2]!.trim(), m[3]!, m[4]!, m[5]!);
  lastText = text;
  lastValue = v;
  return v;
}

function utc(y: string, mon: string, d: string, h: string, mi: string, s: string): number {
  const month = MONTHS[mon.toLowerCase()];
  const day = Number(d);
  const hour = Number(h);
  const min = Number(mi);
  const sec = Number(s);
  if (month === undefined || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return NaN;
  return Date.UTC(Number(y), month, day, hour, min, sec) / 1000;
}

/** An IMF-fixdate for a time in milliseconds (what Last-Modified and Date carry). */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/**
 * Whether an If-Match / If-None-Match list names `etag`. Weak comparison (If-None-Match) ignores the
 * `W/` prefixes; strong comparison (If-Match) never matches a weak tag (RFC 9110 §8.8.3.2).
 */
export function etagListMatches(list: string, etag: string, weak: boolean): boolean {
  const isWeak = etag.charCodeAt(0) === 87; // "W"
  if (isWeak && !weak) return false;
  const opaque = isWeak ? etag.slice(2) : etag;
  if (list === etag || list === opaque) return true;
  const n = list.length;
  let i = 0;
  while (i < n) {
    const c = list.charCodeAt(i);
    if (c === 32 || c === 9 || c === 44) {
      i++;
      continue;
    }
    let tagWeak = false;
    if (c === 87 && list.charCodeAt(i + 1) === 47) {
      tagWeak = true;
      i += 2;
    }
    if (list.charCodeAt(i) !== 34) {
      // not an entity-tag: skip to the next list member
      const comma = list.indexOf(",", i);
      if (comma < 0) break;
      i = comma + 1;
      continue;
    }
    const close = list.indexOf('"', i + 1);
    if (close < 0) break;
    if (close + 1 - i === opaque.length && list.startsWith(opaque, i) && (weak || !tagWeak)) return true;
    i = close + 1;
  }
  return false;
}

/** What the preconditions decide: go on (0), 304 Not Modified, or 412 Precondition Failed. */
export type Precondition = 0 | 304 | 412;

/**
 * Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since in the order of RFC 9110
 * §13.2.2 against the representation's ETag (undefined under `FileETag None`) and Last-Modified (in
 * seconds). Date comparisons are in whole seconds, and an If-Modified-Since later than the request time
 * is ignored, as in Apache's ap_meets_conditions.
 */
export function evaluatePreconditions(
  h: Headers,
  getOrHead: boolean,
  etag: string | undefined,
  lastModified: number,
  now: number,
): Precondition {
  const im = h.get("if-match");
  if (im !== null) {
    if (im.charCodeAt(0) !== 42 && (etag === undefined || !etagListMatches(im, etag, false))) return 412;
  } else {
    const ius = h.get("if-unmodified-since");
    if (ius !== null) {
      const t = parseHttpDate(ius);
      if (t === t && lastModified > t) return 412;
    }
  }
  const inm = h.get("if-none-match");
  if (inm !== null) {
    if (inm.charCodeAt(0) === 42 || (etag !== undefined && etagListMatches(inm, etag, true))) {
      return getOrHead ? 304 : 412;
    }
  } else if (getOrHead) {
    const ims = h.get("if-modified-since");
    if (ims !== null) {
      const t = parseHttpDate(ims);
      if (t >= lastModified && t <= now) return 304;
    }
  }
  return 0;
}

/**
 * If-Range (RFC 9110 §13.1.5): the Range applies only when the validator still matches: an entity-tag
 * must equal the current strong ETag exactly, a date must equal Last-Modified.
 */
export function ifRangeHolds(h: Headers, etag: string | undefined, lastModified: number): boolean {
  const ir = h.get("if-range");
  if (ir === null) return true;
  if (ir.charCodeAt(0) === 34) return etag !== undefined && ir === etag;
  return parseHttpDate(ir) === lastModified;
}
