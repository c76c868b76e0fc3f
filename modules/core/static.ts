// The default handler (Apache's default_handler in core.c): static files, validators, conditionals, ranges.
import { HttpError } from "../../src/http/errors.ts";
import type { Request } from "../../src/http/request.ts";
import { logEnabled, logError } from "../../src/log/error-log.ts";
import type { DECLINED } from "../../src/module.ts";
import type { CoreDir } from "./config.ts";
import core from "./index.ts";
import { bytesBody, fileChunks, iteratorStream, READ_MAX, readInto, sendfileSafe } from "./static-body.ts";
import { etagOf, fileEntry } from "./static-cache.ts";
import type { FileEntry } from "./static-cache.ts";
import { evaluatePreconditions, httpDate, ifRangeHolds } from "./static-conditional.ts";
import { BOUNDARY, buildMultipart, multipartChunks, multipartLength, parseRange } from "./static-range.ts";
import type { ByteRange } from "./static-range.ts";

// The methods the default handler allows (ap_allow_standard_methods GET, OPTIONS, POST; HEAD comes
// with GET), plus TRACE unless `TraceEnable Off`, as Apache's make_allow adds it per server.
const ALLOW = "GET,POST,OPTIONS,HEAD";
const ALLOW_TRACE = `${ALLOW},TRACE`;

/**
 * Serves the file the request maps to, like Apache's default handler, whatever `r.handler` says: a
 * handler name no module claimed falls through to the file itself, as in Apache. GET, HEAD and POST get
 * the file; OPTIONS gets the Allow list; anything else is 405.
 * @example handler: { fn: (r) => defaultHandler(r), order: "reallyLast" }
 */
export function defaultHandler(r: Request): Response | typeof DECLINED {
  const m = r.method;
  if (m === "GET" || m === "HEAD" || m === "POST") return serveFile(r);
  const allow = core.serverConf(r.server).traceEnable === "off" ? ALLOW : ALLOW_TRACE;
  if (m === "TRACE") return trace(r);
  if (m === "OPTIONS") {
    // ap_send_http_options: 200, the Allow list, an empty body (the type still goes out, as Apache's).
    const h = r.headersOut;
    h.set("Allow", allow);
    h.set("Content-Length", "0");
    const ct = contentType(r.contentType, core.dirConf(r).addDefaultCharset);
    if (ct !== undefined) h.set("Content-Type", ct);
    return new Response(null, { status: 200, headers: h });
  }
  throw new HttpError(405, undefined, { Allow: allow });
}

/**
 * TRACE (RFC 9110 §9.3.8) when TraceEnable is on: the request as received, as message/http (Apache's
 * ap_send_http_trace). A request body is refused unless TraceEnable is extended.
 */
function trace(r: Request): Response {
  const mode = core.serverConf(r.server).traceEnable ?? "on";
  const hasBody = r.headersIn.has("content-length") || r.headersIn.has("transfer-encoding");
  if (hasBody && mode !== "extended") {
    throw new HttpError(413, "TRACE with a request body is not allowed");
  }
  let text = `${r.theRequest}\r\n`;
  r.headersIn.forEach((value, name) => {
    text += `${name}: ${value}\r\n`;
  });
  r.contentType = "message/http";
  return r.respond(`${text}\r\n`);
}

function serveFile(r: Request): Response {
  const st = r.finfo;
  if (st === null) {
    if (logEnabled(r, "info", "core")) logError(r, "info", "core", `AH00128: File does not exist: ${r.filename}${r.pathInfo}`);
    throw new HttpError(404);
  }
  if (st.isDirectory()) {
    // What mod_autoindex answers when mod_dir found no index and Options lack Indexes.
    const names = r.notes.get("dir-index-names") ?? "none";
    logError(
      r,
      "error",
      "autoindex",
      `AH01276: Cannot serve directory ${r.filename}: No matching DirectoryIndex (${names}) found, ` +
        "and server-generated directory index forbidden by Options directive",
    );
    throw new HttpError(403);
  }
  if (!st.isFile()) {
    // A FIFO or device would block or never end; Apache's open would fail on most of them too.
    logError(r, "error", "core", `AH00132: file permissions deny server access: ${r.filename}`);
    throw new HttpError(403);
  }
  const d = core.dirConf(r);
  // AcceptPathInfo Default leaves it to the handler, and the default handler refuses trailing path info.
  if (r.pathInfo !== "" && d.acceptPathInfo !== "on") {
    logError(r, "info", "core", `AH00130: File does not exist: ${r.filename}${r.pathInfo}`);
    throw new HttpError(404);
  }
  const e = fileEntry(r, st);
  const now = r.requestTime;
  const etag = etagOf(e, d.fileETag, now);
  let lastModified = e.lastModified;
  let lastModifiedSec = e.lastModifiedSec;
  if (e.modifiedMs > now) {
    // ap_rationalize_mtime: a file dated in the future is announced as modified now.
    lastModified = httpDate(now);
    lastModifiedSec = Math.floor(now / 1000);
  }
  const hi = r.headersIn;
  const pre = r.conditional ? evaluatePreconditions(hi, r.method !== "POST", etag, lastModifiedSec, Math.floor(now / 1000)) : 0;
  const ct = contentType(r.contentType, d.addDefaultCharset);
  if (pre === 0 && e.body !== null && lastModified === e.lastModified) {
    const fast = fromTemplate(r, e, ct, etag, hi);
    if (fast !== undefined) return fast;
  }
  const h = r.headersOut;
  h.set("Last-Modified", lastModified);
  if (etag !== undefined) h.set("ETag", etag);
  h.set("Accept-Ranges", "bytes");
  // 304 keeps the validators but no entity headers (RFC 9110 §15.4.5); Apache sends 412 with every
  // header and an empty body, not as an error document.
  if (pre === 304) return new Response(null, { status: 304, headers: h });
  if (pre === 412) {
    entityHeaders(r, h, "0", undefined, ct);
    return new Response(null, { status: 412, headers: h });
  }
  // Request-Range is the pre-RFC 2616 spelling (Netscape 2-3); Apache still honours it.
  const range = r.conditional ? (hi.get("range") ?? hi.get("request-range")) : null;
  let ranges: ByteRange[] | null | undefined;
  if (range !== null && ifRangeHolds(hi, etag, lastModifiedSec)) ranges = parseRange(range, e.size);
  if (ranges === null) throw new HttpError(416, undefined, { "Content-Range": `bytes */${e.size}` });
  if (ranges === undefined) return whole(r, e, d, ct, range !== null);
  if (ranges.length === 1) return single(r, e, d, ct, ranges[0]!);
  return multipart(r, e, ct, ranges);
}

/**
 * The whole cached file as a clone of a per-file template response, when nothing request-specific goes
 * into it: no Range, not HEAD, no header set by an earlier phase, no encoding or language.
 */
function fromTemplate(
  r: Request,
  e: FileEntry,
  ct: string | undefined,
  etag: string | undefined,
  hi: Headers,
): Response | undefined {
  if (r.isHead || r.hasHeadersOut || r.contentEncoding || r.contentLanguage || ct === undefined) return undefined;
  if (r.conditional && (hi.has("range") || hi.has("request-range"))) return undefined;
  const banner = r.rt.banner;
  const key = `${ct}\0${etag ?? ""}\0${banner}`;
  let t = e.template;
  if (t === undefined || t.key !== key) {
    const headers: Record<string, string> = { "Last-Modified": e.lastModified };
    if (etag !== undefined) headers.ETag = etag;
    headers["Accept-Ranges"] = "bytes";
    headers["Content-Length"] = e.contentLength;
    headers["Content-Type"] = ct;
    headers.Server = banner;
    t = e.template = { key, res: new Response(e.body, { status: 200, headers }) };
  }
  const res = t.res.clone() as Response;
  r.prebuilt = res;
  r.prebuiltLength = e.size;
  return res;
}

/** 200 with the whole file. */
function whole(r: Request, e: FileEntry, d: CoreDir, ct: string | undefined, hadRange: boolean): Response {
  const h = r.headersOut;
  entityHeaders(r, h, e.contentLength, undefined, ct);
  if (r.isHead) return new Response(null, { status: 200, headers: h });
  // Bun ranges a 200 file body itself when the request has a Range header: no sendfile then.
  return new Response(fileBody(e, d, ct, 0, e.size - 1, !hadRange), { status: 200, headers: h });
}

/** 206 with one range and its Content-Range (which keeps Bun's own range logic away). */
function single(r: Request, e: FileEntry, d: CoreDir, ct: string | undefined, rg: ByteRange): Response {
  const h = r.headersOut;
  entityHeaders(r, h, String(rg.end - rg.start + 1), `bytes ${rg.start}-${rg.end}/${e.size}`, ct);
  if (r.isHead) return new Response(null, { status: 206, headers: h });
  return new Response(fileBody(e, d, ct, rg.start, rg.end, true), { status: 206, headers: h });
}

/**
 * Bytes [start, end] of the file as a body Bun sends unchanged: the cached bytes; sendfile through
 * Bun.file when allowed (EnableSendfile, a type Bun adds no content-disposition to); a read into memory
 * up to READ_MAX; else a stream.
 */
function fileBody(
  e: FileEntry,
  d: CoreDir,
  ct: string | undefined,
  start: number,
  end: number,
  sendfile: boolean,
): Bun.BodyInit {
  const typed = ct !== undefined;
  const all = start === 0 && end === e.size - 1;
  if (e.body !== null) return bytesBody(all ? e.body : e.body.subarray(start, end + 1), typed);
  if (sendfile && typed && d.enableSendfile !== false && sendfileSafe(ct)) {
    return all ? Bun.file(e.path) : Bun.file(e.path).slice(start, end + 1);
  }
  if (end - start + 1 <= READ_MAX) return bytesBody(readRange(e, start, end), typed);
  return iteratorStream(fileChunks(e.path, start, end));
}

/**
 * 206 multipart/byteranges with one part per range; multipart/x-byteranges when the client sent
 * Request-Range, whose browsers knew only that name (Apache's use_range_x).
 */
function multipart(r: Request, e: FileEntry, ct: string | undefined, ranges: ByteRange[]): Response {
  const h = r.headersOut;
  const len = multipartLength(ranges, ct, e.size);
  const x = r.headersIn.has("request-range") ? "x-" : "";
  const mct = `multipart/${x}byteranges; boundary=${BOUNDARY}`;
  entityHeaders(r, h, String(len), undefined, mct);
  if (r.isHead) return new Response(null, { status: 206, headers: h });
  let body: Bun.BodyInit;
  const cached = e.body;
  if (cached !== null) {
    body = buildMultipart(ranges, ct, e.size, (rg, into) => into.set(cached.subarray(rg.start, rg.end + 1)));
  } else if (len <= READ_MAX) {
    body = buildMultipart(ranges, ct, e.size, (rg, into) => readInto(e.path, rg.start, into));
  } else {
    body = iteratorStream(multipartChunks(ranges, ct, e.size, (rg) => fileChunks(e.path, rg.start, rg.end)));
  }
  return new Response(body, { status: 206, headers: h });
}

function readRange(e: FileEntry, start: number, end: number): Uint8Array {
  const buf = new Uint8Array(end - start + 1);
  readInto(e.path, start, buf);
  return buf;
}

/** Content-Length, Content-Range, then mod_mime's type, encoding and language, in Apache's order. */
function entityHeaders(
  r: Request,
  h: Headers,
  length: string,
  contentRange: string | undefined,
  ct: string | undefined,
): void {
  h.set("Content-Length", length);
  if (contentRange !== undefined) h.set("Content-Range", contentRange);
  if (ct !== undefined) h.set("Content-Type", ct);
  if (r.contentEncoding) h.set("Content-Encoding", r.contentEncoding);
  if (r.contentLanguage) h.set("Content-Language", r.contentLanguage);
}

/**
 * Apache's ap_make_content_type: AddDefaultCharset appends its charset to text/plain and text/html
 * types that name none. An empty type means none (DefaultType none): no Content-Type at all.
 */
export function contentType(type: string | undefined, charset: string | undefined): string | undefined {
  if (!type) return undefined;
  if (!charset || !type.includes("text/")) return type;
  const lower = type.toLowerCase();
  if (lower.includes("charset=")) return type;
  if (!lower.includes("text/plain") && !lower.includes("text/html")) return type;
  return `${type}; charset=${charset}`;
}
