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

export interface Peer {
  address: string;
  port: number;
}

/**
 * Serves one Fetch request: builds the record, runs the pipeline, filters, logs. Never throws: any
 * failure becomes a response, so no input takes the child down.
 */
export async function serveRequest(rt: Runtime, lv: ListenerVhosts | undefined, req: globalThis.Request, peer: Peer | null): Promise<Response> {
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
  let res: Response;
  try {
    const err = validate(rt, r);
    res = err ? await errorResponse(rt, r, err) : await processRequest(rt, r);
    applyKeepAlivePolicy(r, keepAlives);
    res = await finishResponse(rt, r, res);
  } catch (e) {
    res = await finishResponse(rt, r, await errorResponse(rt, r, e));
  }
  if (r.closeConnection) conns.delete(key);
  return logWhenDone(rt, r, res);
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
  const hash = target.indexOf("#");
  const frag = hash >= 0;
  if (frag) target = target.slice(0, hash);
  const q = target.indexOf("?");
  const rawPath = q >= 0 ? target.slice(0, q) : target;
  const args = q >= 0 ? target.slice(q + 1) : "";
  const r = new Request(req, req.method, protocol, conn, server, rawPath, args, target, host || server.serverName);
  r.rt = rt;
  if (frag) r.notes.set("mosaic-fragment", "1");
  return r;
}

/** Apache's read_request_line / ap_parse_uri / header checks that Bun.serve leaves to us. */
function validate(rt: Runtime, r: Request): HttpError | undefined {
  const cs = core.serverConf(r.server);
  const cd = core.dirConf(r);
  const bad = (msg: string, log: string): HttpError => {
    logError(r, "debug", "core", log);
    return new HttpError(400, msg, undefined, true);
  };
  if (r.notes.has("mosaic-fragment")) return bad("Bad Request", `AH02421: URI must not contain a fragment`);
  const limitLine = cs.limitRequestLine ?? CORE_DEFAULTS.limitRequestLine;
  if (r.theRequest.length > limitLine + 1) {
    logError(r, "info", "core", `AH00565: request failed: client's request-line exceeds LimitRequestLine (longer than ${limitLine})`);
    return new HttpError(414, undefined, undefined, true);
  }
  const limitField = cs.limitRequestFieldSize ?? CORE_DEFAULTS.limitRequestFieldSize;
  const limitFields = cs.limitRequestFields ?? CORE_DEFAULTS.limitRequestFields;
  let count = 0;
  for (const [name, value] of r.headersIn) {
    count++;
    if (name.length + value.length + 2 > limitField) {
      logError(r, "info", "core", `AH00561: Request header exceeds LimitRequestFieldSize: ${name}`);
      return new HttpError(400, "Size of a request header field exceeds server limit.", undefined, true);
    }
  }
  if (limitFields > 0 && count > limitFields) {
    logError(r, "info", "core", "AH00563: request failed: error reading the headers");
    return new HttpError(400, "The number of request header fields exceeds this server's limit.", undefined, true);
  }
  const host = r.headersIn.get("host");
  if (host !== null && (!HOST_RE.test(host) || host.includes(","))) {
    return bad("Bad Request", `AH00550: Client sent malformed Host header: ${host}`);
  }
  const expect = r.headersIn.get("expect");
  if (expect !== null && expect.toLowerCase() !== "100-continue") {
    logError(r, "info", "core", `AH00570: client sent an unrecognized expectation value of Expect: ${expect}`);
    return new HttpError(417);
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
      return bad("Bad Request", `AH03454: URI incorrectly encoded: ${raw}`);
    }
    if (path.includes("\0")) return new HttpError(404);
  }
  if (path.charCodeAt(0) !== 47) return bad("Bad Request", `AH03450: Unable to parse URI: ${raw}`);
  if (cs.mergeSlashes !== false && path.includes("//")) path = path.replace(/\/{2,}/g, "/");
  if (path.includes("/.")) {
    const norm = removeDotSegments(path);
    if (norm === undefined) return bad("Bad Request", `AH10244: invalid URI path (${raw})`);
    path = norm;
  }
  r.uri = path;
  return undefined;
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
