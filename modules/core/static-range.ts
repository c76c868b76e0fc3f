// Byte ranges as Apache 2.4's byterange filter (byterange_filter.c) parses, merges and limits them.

/** One satisfiable range, both ends inclusive (RFC 9110 §14.1.2). */
export interface ByteRange {
  start: number;
  end: number;
}

/** Apache's compiled-in defaults for MaxRanges, MaxRangeOverlaps and MaxRangeReversals. */
const MAX_RANGES = 200;
const MAX_OVERLAPS = 20;
const MAX_REVERSALS = 20;

/**
 * Parses a Range header value against a representation of `size` bytes the way ap_set_byterange does:
 * `undefined` means ignore the header and send 200 (not `bytes=`, any malformed spec, an empty file, the
 * ranges adding up to more than the file, or too many ranges/overlaps/reversals); `null` means none is
 * satisfiable (416); otherwise the ranges in request order, overlapping and adjacent neighbours merged.
 * @example parseRange("bytes=0-4,3-9", 56) // [{ start: 0, end: 9 }]
 */
export function parseRange(value: string, size: number): ByteRange[] | null | undefined {
  if (size <= 0 || value.length < 7 || value.slice(0, 6).toLowerCase() !== "bytes=") return undefined;
  const out: ByteRange[] = [];
  let unsatisfiable = false;
  let inMerge = false;
  let ostart = 0;
  let oend = 0;
  let sum = 0;
  let overlaps = 0;
  let reversals = 0;
  let pos = 6;
  while (pos < value.length) {
    let comma = value.indexOf(",", pos);
    if (comma < 0) comma = value.length;
    const spec = value.slice(pos, comma);
    pos = comma + 1;
    // ap_getword stops at the first empty element ("bytes=1-2,,3-4" is just 1-2).
    if (spec === "") break;
    const dash = spec.indexOf("-");
    if (dash < 0) return undefined;
    let start: number;
    let end: number;
    if (dash === 0) {
      // suffix-byte-range-spec "-N": the last N bytes; "-0" is invalid (RFC 9110 §14.1.1)
      const n = digits(spec, 1, spec.length);
      if (n === undefined || n < 1) return undefined;
      start = size - n;
      end = size - 1;
    } else {
      const s = digits(spec, 0, dash);
      if (s === undefined) return undefined;
      start = s;
      if (dash + 1 < spec.length) {
        const e = digits(spec, dash + 1, spec.length);
        if (e === undefined || start > e) return undefined;
        end = e;
      } else {
        end = size - 1;
        // "0-" asks for everything: Apache drops every other range and answers one 0-(size-1) part.
        if (start === 0) {
          out.length = 0;
          sum = 0;
          inMerge = true;
          ostart = 0;
          oend = end;
          break;
        }
      }
    }
    if (start < 0) start = 0;
    if (start >= size) {
      unsatisfiable = true;
      continue;
    }
    if (end >= size) end = size - 1;
    if (!inMerge) {
      ostart = start;
      oend = end;
      inMerge = true;
      continue;
    }
    inMerge = false;
    if (start >= ostart && end <= oend) inMerge = true;
    if (start < ostart && end >= ostart - 1) {
      ostart = start;
      reversals++;
      inMerge = true;
    }
    if (end >= oend && start <= oend + 1) {
      oend = end;
      inMerge = true;
    }
    if (inMerge) {
      overlaps++;
      continue;
    }
    out.push({ start: ostart, end: oend });
    sum += oend - ostart + 1;
    inMerge = true;
    ostart = start;
    oend = end;
  }
  if (inMerge) {
    out.push({ start: ostart, end: oend });
    sum += oend - ostart + 1;
  } else if (out.length === 0) {
    return unsatisfiable ? null : undefined;
  }
  if (sum > size) return undefined;
  if (out.length > MAX_RANGES || overlaps > MAX_OVERLAPS || reversals > MAX_REVERSALS) return undefined;
  return out;
}

/** A run of ASCII digits as a number; anything else (sign, space, empty) is undefined, as Apache 2.4.71. */
function digits(s: string, from: number, to: number): number | undefined {
  if (from >= to) return undefined;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  return n;
}

/** Apache's ap_multipart_boundary: random per process, so every multipart answer shares it. */
export const BOUNDARY = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) =>
  b.toString(16).padStart(2, "0"),
).join("");

const encoder = new TextEncoder();

/** The header block before one part: CRLF--boundary, Content-type (when known), Content-range. */
function partHead(ct: string | undefined, r: ByteRange, size: number): string {
  const type = ct ? `\r\nContent-type: ${ct}` : "";
  return `\r\n--${BOUNDARY}${type}\r\nContent-range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`;
}

const TAIL = `\r\n--${BOUNDARY}--\r\n`;

/** The Content-Length of a multipart/byteranges body, without building it (HEAD). */
export function multipartLength(ranges: readonly ByteRange[], ct: string | undefined, size: number): number {
  let n = TAIL.length;
  for (const r of ranges) n += partHead(ct, r, size).length + (r.end - r.start + 1);
  return n;
}

/**
 * Builds a multipart/byteranges body (RFC 9110 §14.6) in Apache's exact byte layout; `read` copies the
 * bytes of one range into the target.
 */
export function buildMultipart(
  ranges: readonly ByteRange[],
  ct: string | undefined,
  size: number,
  read: (r: ByteRange, into: Uint8Array) => void,
): Uint8Array {
  const out = new Uint8Array(multipartLength(ranges, ct, size));
  let at = 0;
  for (const r of ranges) {
    at += encoder.encodeInto(partHead(ct, r, size), out.subarray(at)).written;
    const len = r.end - r.start + 1;
    read(r, out.subarray(at, at + len));
    at += len;
  }
  encoder.encodeInto(TAIL, out.subarray(at));
  return out;
}

/** The same body piece by piece, for ranges too large to hold in memory; `chunks` yields one range. */
export async function* multipartChunks(
  ranges: readonly ByteRange[],
  ct: string | undefined,
  size: number,
  chunks: (r: ByteRange) => AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  for (const r of ranges) {
    yield encoder.encode(partHead(ct, r, size));
    yield* chunks(r);
  }
  yield encoder.encode(TAIL);
}
