// The request pipeline: runs the phases over the hook table, then filters, finalises and logs.
import core from "../../modules/core/index.ts";
import { CORE_DEFAULTS } from "../../modules/core/config.ts";
import { logError } from "../log/error-log.ts";
import { DECLINED, PHASES, RUN_FIRST } from "../module.ts";
import type { HookResult, Phase } from "../module.ts";
import type { Runtime } from "../runtime.ts";
import { errorPage, HttpError, STATUS_TEXT } from "./errors.ts";
import { Request } from "./request.ts";
import { serverName, serverPort } from "./url.ts";
import { activeHooks } from "../hooks.ts";
import { walkSections } from "./walk.ts";

/** Phases in order, with the section walk between map_to_storage and header_parser. */
const WALK = "(walk)";
const ORDER: readonly (Phase | typeof WALK)[] = [
  ...PHASES.slice(0, PHASES.indexOf("map_to_storage") + 1),
  WALK,
  ...PHASES.slice(PHASES.indexOf("map_to_storage") + 1),
];
const WALK_INDEX = ORDER.indexOf(WALK);

/** Runs one phase. run-first: stop at the first non-DECLINED; run-all: stop only at a Response. */
export async function runPhase(rt: Runtime, r: Request, phase: Phase): Promise<Response | undefined> {
  const hooks = rt.cfg.hooks.phases[phase];
  const first = RUN_FIRST.has(phase);
  for (let i = 0; i < hooks.length; i++) {
    let res: HookResult | Promise<HookResult> = hooks[i]!.fn(r);
    if (res instanceof Promise) res = await res;
    if (res === DECLINED) continue;
    if (res instanceof Response) return res;
    if (first) return undefined;
  }
  return undefined;
}

/**
 * Runs phases from phase index `p`, hook index `i`, synchronously for as long as hooks answer
 * synchronously: a request whose hooks are all synchronous (a static file) allocates no promise here.
 * The first hook that returns a promise continues the run in `resume`.
 */
function run(rt: Runtime, r: Request, p: number, i: number): Response | Promise<Response> {
  // Before the walk the server's defaults decide which hooks are enabled, after it the merged config.
  let table = activeHooks(rt.cfg.hooks, p <= WALK_INDEX ? r.server.lookupDefaults : r.perDir, r.server.moduleConfig);
  for (; p < ORDER.length; p++, i = 0) {
    const phase = ORDER[p]!;
    if (phase === WALK) {
      walkSections(r, rt.cfg.modules);
      table = activeHooks(rt.cfg.hooks, r.perDir, r.server.moduleConfig);
      continue;
    }
    const hooks = table[phase];
    const first = RUN_FIRST.has(phase);
    for (; i < hooks.length; i++) {
      const h = hooks[i]!;
      if (h.handles !== undefined && (r.handler === undefined || !h.handles.includes(r.handler))) continue;
      const res = h.fn(r);
      if (res instanceof Promise) {
        const pp = p;
        const ii = i;
        return res.then((v) => resume(rt, r, pp, ii, v));
      }
      if (res === DECLINED) continue;
      if (res instanceof Response) return res;
      if (first) break;
    }
  }
  // No handler answered (the core's default handler declines only for handlers nobody claims).
  throw new HttpError(404);
}

function resume(rt: Runtime, r: Request, p: number, i: number, res: HookResult): Response | Promise<Response> {
  if (res instanceof Response) return res;
  if (res !== DECLINED && RUN_FIRST.has(ORDER[p] as Phase)) return run(rt, r, p + 1, 0);
  return run(rt, r, p, i + 1);
}

/**
 * Runs a request through every phase and returns the handler's (or an error's) response, before
 * output filters. Errors thrown as HttpError become error documents; anything else is a 500.
 */
export function processRequest(rt: Runtime, r: Request): Response | Promise<Response> {
  try {
    const res = run(rt, r, 0, 0);
    return res instanceof Promise ? res.catch((e: unknown) => errorResponse(rt, r, e)) : res;
  } catch (e) {
    return errorResponse(rt, r, e);
  }
}

/** Turns a thrown value into the error response (ErrorDocument, canned page), logging 500s. */
export function errorResponse(rt: Runtime, r: Request, e: unknown): Response | Promise<Response> {
  let err: HttpError;
  if (e instanceof HttpError) err = e;
  else {
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    logError(r, "error", "core", `AH00524: Handler for ${r.handler ?? "default-handler"} returned invalid result code: ${msg}`);
    err = new HttpError(500);
  }
  if (err.close) r.closeConnection = true;
  r.status = err.status;
  const headers = r.hasErrHeaders ? new Headers(r.errHeadersOut) : new Headers();
  r.errHeadersSent = true;
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) headers.set(k, v);
  const dir = core.dirConf(r);
  const doc = dir.errorDocuments?.get(err.status);
  if (doc !== undefined && doc !== "default" && !r.prev) {
    if (doc.startsWith('"')) {
      headers.set("Content-Type", "text/html; charset=iso-8859-1");
      headers.set("Content-Length", String(Buffer.byteLength(doc) - 1));
      return new Response(doc.slice(1), { status: err.status, headers });
    }
    if (doc.startsWith("/")) return errorDocumentRedirect(rt, r, doc, err.status, headers);
    r.status = 302;
    headers.set("Location", doc);
    return cannedResponse(rt, r, 302, headers, doc);
  }
  return cannedResponse(rt, r, err.status, headers, headers.get("Location") ?? undefined, err.message);
}

function cannedResponse(
  rt: Runtime,
  r: Request,
  status: number,
  headers: Headers,
  location?: string,
  detail?: string,
  additional?: number,
): Response {
  headers.set("Content-Type", "text/html; charset=iso-8859-1");
  const body = errorPage({
    status,
    method: r.method,
    uri: r.uri,
    location,
    serverAdmin: core.serverConf(r.server).serverAdmin,
    signature: signature(r),
    detail: (status === 400 || status === 417) && detail !== STATUS_TEXT[status] ? detail : undefined,
    additional,
  });
  headers.set("Content-Length", String(Buffer.byteLength(body)));
  return new Response(body, { status, headers });
}

/** ServerSignature's `<address>` line for server-generated pages. */
export function signature(r: Request): string {
  const rt = r.rt;
  const mode = core.dirConf(r).serverSignature ?? "off";
  if (mode === "off") return "";
  const cs = core.serverConf(r.server);
  const name = serverName(r);
  const host = mode === "email" && cs.serverAdmin ? `<a href="mailto:${cs.serverAdmin}">${name}</a>` : name;
  return `<address>${rt.banner} Server at ${host} Port ${serverPort(r)}</address>\n`;
}

/** ErrorDocument with a local path: an internal GET of that path that keeps the error status. */
async function errorDocumentRedirect(rt: Runtime, r: Request, uri: string, status: number, headers: Headers): Promise<Response> {
  const q = uri.indexOf("?");
  const nr = internalRequest(r, q >= 0 ? uri.slice(0, q) : uri, q >= 0 ? uri.slice(q + 1) : "", r.method === "HEAD" ? "HEAD" : "GET");
  nr.subprocessEnv.set("REDIRECT_STATUS", String(status));
  nr.subprocessEnv.set("REDIRECT_URL", r.uri);
  if (r.args) nr.subprocessEnv.set("REDIRECT_QUERY_STRING", r.args);
  const res = await processRequest(rt, nr);
  if (nr.status >= 400 && nr.status !== status) {
    // Apache appends "Additionally, a N error was encountered while trying to use an ErrorDocument".
    return cannedResponse(rt, r, status, headers, undefined, undefined, nr.status);
  }
  for (const [k, v] of headers) res.headers.set(k, v);
  r.filename = nr.filename;
  r.handler = nr.handler;
  return new Response(res.body, { status, headers: res.headers });
}

/** A new request for an internal redirect (ErrorDocument, DirectoryIndex, FallbackResource). */
export function internalRequest(r: Request, uri: string, args: string, method = r.method): Request {
  const nr = new Request(r.raw, method, r.protocol, r.conn, r.server, uri, args, args ? `${uri}?${args}` : uri, r.hostname);
  nr.prev = r;
  nr.rt = r.rt;
  nr.user = r.user;
  nr.authType = r.authType;
  for (const [k, v] of r.subprocessEnv) nr.subprocessEnv.set(`REDIRECT_${k}`, v);
  return nr;
}

/**
 * Serves `uri` in place of the current request (Apache's ap_internal_redirect): the new request runs
 * every phase; its status becomes the response's.
 */
export async function internalRedirect(r: Request, uri: string, args = r.args): Promise<Response> {
  const rt = r.rt;
  const nr = internalRequest(r, uri, args);
  let depth = 0;
  for (let p = nr.prev; p; p = p.prev) depth++;
  if (depth > 10) {
    logError(r, "error", "core", "AH00124: Request exceeded the limit of 10 internal redirects due to probable configuration error.");
    throw new HttpError(500);
  }
  const res = await processRequest(rt, nr);
  r.status = nr.status;
  r.filename = nr.filename;
  r.handler = nr.handler;
  r.user = nr.user;
  r.perDir = nr.perDir;
  for (const [k, v] of nr.headersOut) r.headersOut.set(k, v);
  return res;
}

/** Output filters (in hook order), then the Server header, Connection handling and HEAD. */
export function finishResponse(rt: Runtime, r: Request, res: Response, from = 0): Response | Promise<Response> {
  if (from === 0) {
    r.status = res.status;
    if (!r.originalStatus) r.originalStatus = r.status;
  }
  const filters = rt.cfg.hooks.output_filter;
  for (let i = from; i < filters.length; i++) {
    const out = filters[i]!.fn(r, res);
    if (out instanceof Promise) {
      return out.then((o) => finishResponse(rt, r, o ?? res, i + 1));
    }
    if (out) res = out;
  }
  if (res === r.prebuilt && !r.closeConnection && !r.hasErrHeaders) {
    // A handler's cached response already carries every header (Server included): reading its headers
    // back would cost more than the rest of this function.
    r.bytesSent = r.prebuiltLength;
    r.sized = true;
    return res;
  }
  const h = res.headers;
  // err_headers_out go out with every response, not only errors (Apache's ap_send_error_response and
  // basic_http_header both merge them); the error path has already copied them.
  if (!r.errHeadersSent && r.hasErrHeaders) for (const [k, v] of r.errHeadersOut) h.append(k, v);
  h.set("Server", rt.banner);
  if (r.closeConnection) h.set("Connection", "close");
  const len = h.get("Content-Length");
  r.bytesSent = r.isHead ? 0 : len === null ? r.bytesSent : Number(len);
  r.sized = r.isHead || len !== null;
  r.headersOut = h;
  if (r.isHead) {
    // Keep the GET's Content-Length on HEAD (RFC 9110 §9.3.2); Bun drops the body itself but also
    // sends no Date on HEAD responses, so add it.
    h.set("Date", httpDate());
    if (res.body !== null) return new Response(null, { status: res.status, headers: h });
  }
  return res;
}

let dateSecond = 0;
let dateString = "";
/** IMF-fixdate of now, formatted once per second. */
export function httpDate(): string {
  const now = Date.now();
  const sec = Math.floor(now / 1000);
  if (sec !== dateSecond) {
    dateSecond = sec;
    dateString = new Date(now).toUTCString();
  }
  return dateString;
}

/**
 * Runs the log hooks once the body size is known: at once when the response says its length (or has
 * no body), else when the streamed body ends — Apache logs after the response is sent.
 */
export function logWhenDone(rt: Runtime, r: Request, res: Response): Response {
  if (r.sized || res.body === null) {
    runLogHooks(rt, r);
    return res;
  }
  let sent = 0;
  let logged = false;
  const done = () => {
    if (logged) return;
    logged = true;
    r.bytesSent = sent;
    runLogHooks(rt, r);
  };
  const counted = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        sent += chunk.byteLength;
        ctl.enqueue(chunk);
      },
      flush: done,
    }),
  );
  r.raw.signal.addEventListener("abort", done, { once: true });
  return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers });
}

export function runLogHooks(rt: Runtime, r: Request): void {
  const hooks = rt.cfg.hooks.log_transaction;
  for (let i = 0; i < hooks.length; i++) {
    try {
      hooks[i]!.fn(r);
    } catch (e) {
      logError(r, "error", hooks[i]!.module, `AH00000: log hook failed: ${(e as Error).message}`);
    }
  }
}

export const DEFAULTS = CORE_DEFAULTS;
