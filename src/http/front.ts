// From a Fetch request to a Request record: parse, validate as Apache's protocol.c does, pick the vhost.
import core from "../../modules/core/index.ts";
import { CORE_DEFAULTS } from "../../modules/core/config.ts";
import { logError } from "../log/error-log.ts";
import type { ListenerVhosts, Runtime } from "../runtime.ts";
import { selectServer } from "../runtime.ts";
import { HttpError } from "./errors.ts";
import { errorResponse, finishResponse, logWhenDone, processRequest } from "./pipeline.ts";
import { Request } from "./request.ts";
import type { ConnInfo } from "./request.ts";

/** Requests seen per connection (addr:port), for %k and MaxKeepAliveRequests; swept when idle. */
interface ConnCount {
  n: number;
  last: number;
}
const conns = new Map<string, ConnCount>();
let lastSweep = 0;

function sweep(now: number, idleMs: number): void {
  lastSweep = now;
  for (const [k, c] of conns) if (now - c.last > idleMs) conns.delete(k);
}

/** Host header syntax (RFC 9110 §7.2): reg-name / IPv4 / [IPv6], optional port. Underscores allowed, as Apache. */
const HOST_RE = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(?::\d*)?$/;

/** Requests whose target carried a `#fragment` (refused by validate, as Apache does). */
const fragments = new WeakSet<Request>();

export interface Peer {
  address: string;
  port: number;
}

/**
 * Serves one Fetch request: builds the record, runs the pipeline, filters, logs. Never throws: any
 * failure becomes a response, so no input takes the child down.
 */
export function serveRequest(rt: Runtime, lv: ListenerVhosts | undefined, req: globalThis.Request, peer: Peer | null): Response | Promise<Response> {
  const now = Date.now();
  const key = peer ? `${peer.address}:${peer.port}` : "";
  let cc = conns.get(key);
  if (!cc) {
    cc = { n: 0, last: now };
    conns.set(key, cc);
  }
  const keepAlives = cc.n++;
  cc.last = now;
  if (now - lastSweep > 5000) sweep(now, (rt.keepAliveTimeout + 10) * 1000);
  const conn: ConnInfo = {
    remoteAddr: peer?.address ?? "-",
    remotePort: peer?.port ?? 0,
    localAddr: lv?.listen.host ?? "127.0.0.1",
    localPort: lv?.listen.port ?? 0,
    keepAlives,
    secure: false,
  };
  const r = parseRequest(rt, lv, req, conn);
  // Synchronous all the way for requests whose hooks answer synchronously (static files): no promise
  // is made unless some step returns one.
  try {
    const err = validate(rt, r);
    const res = err ? errorResponse(rt, r, err) : processRequest(rt, r);
    if (res instanceof Promise) return res.then((x) => afterHandler(rt, r, req, key, keepAlives, x, !err)).catch((e: unknown) => failed(rt, r, key, e));
    return afterHandler(rt, r, req, key, keepAlives, res, !err);
  } catch (e) {
    return failed(rt, r, key, e);
  }
}

function afterHandler(
  rt: Runtime,
  r: Request,
  req: globalThis.Request,
  key: string,
  keepAlives: number,
  res: Response,
  handled: boolean,
): Response | Promise<Response> {
  if (handled && r.raw !== req) {
    return unreadBodyCheck(rt, r).then(async (tooLarge) => {
      if (tooLarge) res = await errorResponse(rt, r, tooLarge);
      applyKeepAlivePolicy(r, keepAlives);
      return done(rt, r, key, await finishResponse(rt, r, res));
    });
  }
  applyKeepAlivePolicy(r, keepAlives);
  const fin = finishResponse(rt, r, res);
  if (fin instanceof Promise) return fin.then((f) => done(rt, r, key, f));
  return done(rt, r, key, fin);
}

function done(rt: Runtime, r: Request, key: string, res: Response): Response {
  if (r.closeConnection) conns.delete(key);
  return logWhenDone(rt, r, res);
}

/** Anything that escaped the pipeline still becomes an answer (and a log line). */
async function failed(rt: Runtime, r: Request, key: string, e: unknown): Promise<Response> {
  return done(rt, r, key, await finishResponse(rt, r, await errorResponse(rt, r, e)));
}

function applyKeepAlivePolicy(r: Request, keepAlives: number): void {
  const cs = core.serverConf(r.server);
  if (cs.keepAlive === false) r.closeConnection = true;
  const max = cs.maxKeepAliveRequests ?? CORE_DEFAULTS.maxKeepAliveRequests;
  if (max > 0 && keepAlives + 1 >= max) r.closeConnection = true;
  if (r.protocol === "HTTP/1.0") r.closeConnection = true;
}

/** Splits req.url (absolute, or a bare path for HTTP/1.0 without Host) into path and query. */
function parseRequest(rt: Runtime, lv: ListenerVhosts | undefined, req: globalThis.Request, conn: ConnInfo): Request {
  const url = req.url;
  let pathStart = 0;
  if (url.charCodeAt(0) !== 47) {
    const scheme = url.indexOf("://");
    pathStart = url.indexOf("/", scheme + 3);
    if (pathStart < 0) pathStart = url.length;
  }
  let target = url.slice(pathStart) || "/";
  const hostHeader = req.headers.get("host");
  const protocol = hostHeader === null ? "HTTP/1.0" : "HTTP/1.1";
  let host = "";
  if (hostHeader) {
    host = hostHeader.toLowerCase();
    const close = host.lastIndexOf("]");
    const colon = host.lastIndexOf(":");
    if (colon > close) host = host.slice(0, colon);
    if (host.endsWith(".")) host = host.slice(0, -1);
  }
  const server = selectServer(rt, lv, host);
  // The request line as sent, for %r: a fragment is refused later but logged as Apache does, and
  // CONNECT's authority-form target is all Bun gives as its URL.
  const sent = req.method === "CONNECT" ? url : target;
  const hash = target.indexOf("#");
  const frag = hash >= 0;
  if (frag) target = target.slice(0, hash);
  const q = target.indexOf("?");
  const rawPath = q >= 0 ? target.slice(0, q) : target;
  const args = q >= 0 ? target.slice(q + 1) : "";
  // Only requests with a body pay for the LimitRequestBody guard (a new Request around a stream).
  const ref: { r?: Request } = {};
  const raw = req.body === null ? req : guardBody(req, () => ref.r!);
  const r = new Request(raw, req.method, protocol, conn, server, rawPath, args, sent, host || server.serverName);
  ref.r = r;
  r.rt = rt;
  if (frag) fragments.add(r);
  return r;
}

/** LimitRequestBody for this request: the per-directory value once the walk ran; 0 is unlimited. */
function bodyLimit(r: Request): number {
  return core.dirConf(r).limitRequestBody ?? CORE_DEFAULTS.limitRequestBody;
}

/** The declared body length, or -1 for a chunked body (Bun already refused malformed values). */
function declaredLength(req: globalThis.Request): number {
  const cl = req.headers.get("content-length");
  return cl === null ? -1 : Number(cl);
}

function tooLarge(r: Request, id: string, what: string, n: number, limit: number): HttpError {
  logError(r, "info", "http", `${id}: ${what} of ${n} is larger than the configured limit of ${limit}`);
  return new HttpError(413, undefined, undefined, true);
}

/**
 * Apache's HTTP_IN filter: the body reads through LimitRequestBody, taken from the per-directory
 * config when the handler first reads (so <Location> limits apply). A declared length over the limit
 * fails before any byte is read (AH01588); a chunked body fails once it passes the limit (AH01591).
 * Reading then rejects with HttpError(413), which the pipeline answers like any thrown error.
 */
function guardBody(req: globalThis.Request, rec: () => Request): globalThis.Request {
  const src = req.body!;
  const length = declaredLength(req);
  const open = () => src.getReader();
  let reader: ReturnType<typeof open> | undefined;
  let limit = 0;
  let seen = 0;
  // No read-ahead (highWaterMark 0): the first pull waits for a reader, after the walk set the limit.
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(ctrl) {
        if (!reader) {
          limit = bodyLimit(rec());
          if (limit > 0 && length > limit) {
            return ctrl.error(tooLarge(rec(), "AH01588", "Requested content-length", length, limit));
          }
          reader = open();
        }
        const { done, value } = await reader.read();
        if (done) return ctrl.close();
        seen += value.byteLength;
        if (limit > 0 && seen > limit) {
          void reader.cancel();
          return ctrl.error(tooLarge(rec(), "AH01591", "Read content length", seen, limit));
        }
        ctrl.enqueue(value);
      },
      cancel(reason) {
        return reader ? reader.cancel(reason) : src.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return new globalThis.Request(req, { body: stream, duplex: "half" } as RequestInit);
}

/**
 * A body the handler never read is still discarded through the limit, as Apache's default handler
 * does first thing (ap_discard_request_body): over the limit, the answer is 413 whatever the handler
 * said. Chunked bodies are drained only when the limit is below Bun's own maxRequestBodySize.
 */
async function unreadBodyCheck(rt: Runtime, r: Request): Promise<HttpError | undefined> {
  const body = r.raw.body;
  if (r.raw.bodyUsed || body === null || body.locked) return undefined;
  const limit = bodyLimit(r);
  if (limit === 0 || limit >= rt.maxBody) return undefined;
  const length = declaredLength(r.raw);
  if (length >= 0) {
    return length > limit ? tooLarge(r, "AH01588", "Requested content-length", length, limit) : undefined;
  }
  const reader = body.getReader();
  try {
    while (!(await reader.read()).done);
  } catch (e) {
    if (e instanceof HttpError) return e;
  }
  return undefined;
}

/** Apache's read_request_line / ap_parse_uri / header checks that Bun.serve leaves to us. */
function validate(rt: Runtime, r: Request): HttpError | undefined {
  const cs = core.serverConf(r.server);
  const cd = core.dirConf(r);
  const bad = (msg: string, log: string): HttpError => {
    logError(r, "debug", "core", log);
    return new HttpError(400, msg, undefined, true);
  };
  if (fragments.has(r)) return bad("Bad Request", `AH02421: URI must not contain a fragment`);
  const limitLine = cs.limitRequestLine ?? CORE_DEFAULTS.limitRequestLine;
  if (r.theRequest.length > limitLine + 1) {
    logError(r, "info", "core", `AH00565: request failed: client's request-line exceeds LimitRequestLine (longer than ${limitLine})`);
    return new HttpError(414, undefined, undefined, true);
  }
  const limitField = cs.limitRequestFieldSize ?? CORE_DEFAULTS.limitRequestFieldSize;
  const limitFields = cs.limitRequestFields ?? CORE_DEFAULTS.limitRequestFields;
  let count = 0;
  let tooLong: string | undefined;
  let host: string | null = null;
  let cl: string | null = null;
  let expect: string | null = null;
  let conditional = false;
  // forEach, not for-of: no iterator result per header on the hot path; the few headers the core
  // looks at are picked up on the way, instead of one native get() each.
  r.headersIn.forEach((value, name) => {
    count++;
    switch (name) {
      case "host":
        host = value;
        break;
      case "content-length":
        cl = value;
        break;
      case "expect":
        expect = value;
        break;
      case "if-match":
      case "if-none-match":
      case "if-modified-since":
      case "if-unmodified-since":
      case "if-range":
      case "range":
      case "request-range":
        conditional = true;
    }
    // Apache reads a field line into limit + 2 bytes: lines of up to limit + 1 characters pass
    // (observed: 8191 accepted, 8192 refused at the default 8190).
    if (tooLong === undefined && name.length + value.length + 2 > limitField + 1) tooLong = name;
  });
  if (tooLong !== undefined) {
    logError(r, "info", "core", `AH00561: Request header exceeds LimitRequestFieldSize: ${tooLong}`);
    return new HttpError(400, "Size of a request header field exceeds server limit.", undefined, true);
  }
  if (limitFields > 0 && count > limitFields) {
    logError(r, "info", "core", "AH00563: Number of request headers exceeds LimitRequestFields");
    return new HttpError(400, "The number of request header fields exceeds this server's limit.", undefined, true);
  }
  r.conditional = conditional;
  if (host !== null && (!HOST_RE.test(host) || (host as string).includes(","))) {
    return bad("Bad Request", `AH00550: Client sent malformed Host header: ${host}`);
  }
  // Bun refuses differing Content-Length values itself but joins equal ones ("2, 2"); Apache refuses both.
  if (cl !== null && (cl as string).includes(",")) {
    return bad("Bad Request", `AH10242: client sent invalid Content-Length (${cl}): ${r.uri}`);
  }
  if (expect !== null && (expect as string).toLowerCase() !== "100-continue") {
    logError(r, "info", "core", `AH00570: client sent an unrecognized expectation value of Expect: ${expect}`);
    // Observed on 2.4.71: the 417 is followed by a close (Apache sends no Connection header; Bun
    // can only close by announcing it).
    return new HttpError(417, expect, undefined, true);
  }
  if (r.method === "TRACE") {
    const mode = cs.traceEnable ?? CORE_DEFAULTS.traceEnable;
    if (mode === "off") return new HttpError(405, undefined, { Allow: "" });
  }
  if (r.method === "CONNECT") return new HttpError(405, undefined, { Allow: "OPTIONS,HEAD,GET,POST" });
  // Decode the path once: %2F and %00 stay refused (AllowEncodedSlashes), dot-segments re-resolved.
  const raw = r.uri;
  let path = raw;
  if (raw.includes("%")) {
    const slashes = cd.allowEncodedSlashes ?? "off";
    if (/%00/.test(raw) || (slashes === "off" && /%2f/i.test(raw))) {
      logError(r, "info", "core", `AH00026: found %2f (encoded '/') in URI path (${raw}), returning 404`);
      return new HttpError(404);
    }
    try {
      path = slashes === "nodecode" ? raw.split(/%2f/i).map(decodeURIComponent).join("%2F") : decodeURIComponent(raw);
    } catch {
      return invalidPath(r, raw);
    }
    if (path.includes("\0")) return new HttpError(404);
  }
  if (path.charCodeAt(0) !== 47) return bad("Bad Request", `AH03450: Unable to parse URI: ${raw}`);
  if (cs.mergeSlashes !== false && path.includes("//")) path = path.replace(/\/{2,}/g, "/");
  if (path.includes("/.")) {
    const norm = removeDotSegments(path);
    if (norm === undefined) return invalidPath(r, raw);
    path = norm;
  }
  r.uri = path;
  return undefined;
}

/** Apache's ap_normalize_path failure (bad %-escape, `..` above the root): 400, logged at error. */
function invalidPath(r: Request, raw: string): HttpError {
  logError(r, "error", "core", `AH10244: invalid URI path (${raw})`);
  return new HttpError(400, undefined, undefined, true);
}

/** RFC 3986 §5.2.4; undefined when the path climbs above the root (Apache answers 400). */
export function removeDotSegments(path: string): string | undefined {
  const out: string[] = [];
  const parts = path.split("/");
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    if (p === ".") {
      if (i === parts.length - 1) out.push("");
    } else if (p === "..") {
      if (out.length === 0) return undefined;
      out.pop();
      if (i === parts.length - 1) out.push("");
    } else out.push(p);
  }
  return "/" + out.join("/");
}
