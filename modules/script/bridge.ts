// Between the Request record and a script call: the snapshot a script sees, the engine call, and how
// a call's result flows back into the request (fields, tables, status, body).
import path from "node:path";
import core from "../core/index.ts";
import { HttpError, STATUS_TEXT } from "../../src/http/errors.ts";
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import type { Level } from "../../src/log/error-log.ts";
import { engine } from "../../src/script/engine.ts";
import type { CallSite } from "../../src/script/engine.ts";
import type { CallKind, CallResult, PoolSpec, RequestData, ScriptSpec } from "../../src/script/protocol.ts";
import { DEFAULT_MEMORY, DEFAULT_TIMEOUT_MS } from "./config.ts";
import type { ScriptDir, ScriptServer } from "./config.ts";

function pairs(it: Iterable<[string, string]>): string[] {
  const out: string[] = [];
  for (const [k, v] of it) out.push(k, v);
  return out;
}

/** The request as the script's `r` shows it (mod_lua's field names and values). */
export function snapshot(r: Request): RequestData {
  return {
    method: r.method,
    uri: r.uri,
    unparsed_uri: r.unparsedUri,
    args: r.args,
    path_info: r.pathInfo,
    filename: r.filename,
    canonical_filename: r.filename,
    hostname: r.hostname,
    protocol: r.protocol,
    the_request: r.theRequest,
    useragent_ip: r.conn.remoteAddr,
    useragent_port: r.conn.remotePort,
    is_https: r.conn.secure,
    is_initial_req: r.prev === undefined,
    status: r.status,
    content_type: r.contentType ?? null,
    user: r.user ?? null,
    ap_auth_type: r.authType ?? null,
    handler: r.handler ?? null,
    document_root: core.serverConf(r.server).documentRoot ?? "",
    server_name: r.server.serverName || r.hostname,
    port: r.server.port || r.conn.localPort,
    started: Math.floor(r.requestTime / 1000),
    banner: r.rt.banner,
    headers_in: pairs(r.headersIn),
    headers_out: pairs(r.headersOut),
    err_headers_out: r.hasErrHeaders ? pairs(r.errHeadersOut) : [],
    notes: pairs(r.notes),
    subprocess_env: pairs(r.subprocessEnv),
  };
}

const reqKeys = new WeakMap<Request, number>();
const connSeen = new WeakSet<Request>();
/** The worker each request used for its request-scope contexts, to end them with the request. */
const requestSlots = new WeakMap<Request, number>();
/** A request body as a script reads it; `error` makes r.requestbody()/parsebody() throw. */
export interface BodyRead {
  data: ArrayBuffer | null;
  type: string;
  error?: string;
}
/** Per main request: the body as read off the connection, and as scripts see it (input-filtered). */
const rawBodies = new WeakMap<Request, Promise<BodyRead>>();
const bodies = new WeakMap<Request, Promise<BodyRead>>();
let bodyFilter: ((r: Request, raw: Promise<BodyRead>) => Promise<BodyRead> | undefined) | undefined;

/**
 * Installs the input-filter stage (filters.ts): given the request and its raw body, the filtered body,
 * or undefined when no script input filter applies. Set once, when the module loads.
 */
export function setBodyFilter(f: NonNullable<typeof bodyFilter>): void {
  bodyFilter = f;
}

/** The body off the connection, read once per main request (internal redirects share it). */
export function rawBody(r: Request): Promise<BodyRead> {
  const main = r.main;
  let b = rawBodies.get(main);
  if (!b) {
    const type = r.headersIn.get("content-type") ?? "";
    const raw = main.raw;
    b = raw.body ? raw.arrayBuffer().then((data) => ({ data, type })) : Promise.resolve({ data: null, type });
    rawBodies.set(main, b);
  }
  return b;
}
let nextReqKey = 1;

const LEVELS = new Set(["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"]);

/** The sandbox's level names (mod_lua's: `err`, not `error`) as the error log's. */
export function levelOf(l: string): Level {
  if (l === "err") return "error";
  return (LEVELS.has(l) || l.startsWith("trace") ? l : "info") as Level;
}

/** Resolves a script path: absolute as is, else against ScriptRoot, else ServerRoot. */
export function scriptPath(r: Request, d: ScriptDir, file: string): string {
  return path.isAbsolute(file) ? file : path.join(d.root ?? r.rt.cfg.serverRoot, file);
}

/** Pool sizing: ScriptInterp* win over `ScriptScope server min max` (mod_lua: min 1, max = min). */
function poolOf(d: ScriptDir, s: ScriptServer): PoolSpec {
  const p = s.pool;
  const min = d.scope?.min ?? 1;
  const start = p.start ?? min;
  const max = Math.max(start, p.max ?? d.scope?.max ?? min);
  return { start, max, minSpare: p.minSpare ?? 0, maxSpare: p.maxSpare ?? max, maxRequests: p.maxRequests ?? 0 };
}

/** Specs are made once per (section config, server, file, function): the engine sends each once. */
const specs = new WeakMap<ScriptDir, Map<string, ScriptSpec>>();

function specFor(d: ScriptDir, s: ScriptServer, file: string, fn: string): ScriptSpec {
  let m = specs.get(d);
  if (!m) specs.set(d, (m = new Map()));
  const key = `${s.id}\0${file}\0${fn}`;
  let spec = m.get(key);
  if (!spec) {
    const scope = d.scope?.kind ?? "once";
    spec = { file, fn, scope, cache: d.cache ?? "stat", server: s.id, pool: poolOf(d, s), allow: d.allow ?? 0 };
    // A map handler with $n can name any number of files: keep the cache bounded.
    if (m.size > 1000) m.clear();
    m.set(key, spec);
  }
  return spec;
}

/** Runs one script function for `r` and waits for its result (never throws). */
export function callScript(
  r: Request,
  d: ScriptDir,
  s: ScriptServer,
  kind: CallKind,
  file: string,
  fn: string,
  args: string[] = [],
  onFlush?: CallSite["flush"],
): Promise<CallResult> {
  const main = r.main;
  let reqKey = reqKeys.get(main);
  if (reqKey === undefined) reqKeys.set(main, (reqKey = nextReqKey++));
  const spec = specFor(d, s, file, fn);
  const scope = spec.scope;
  const connKey = `${r.conn.remoteAddr}:${r.conn.remotePort}`;
  const newConn = r.conn.keepAlives === 0 && !connSeen.has(main);
  connSeen.add(main);
  const local = s.workers === 0;
  let slot: number;
  if (scope === "request") {
    slot = requestSlots.get(main) ?? engine.pick(undefined, local);
    requestSlots.set(main, slot);
  } else slot = engine.pick(scope === "conn" ? r.conn.remotePort : undefined, local);
  const site: CallSite = {
    log: (level, msg) => logError(r, levelOf(level), "script", msg),
    body: () => {
      // A filter reads the body as it came (an input filter asking for the filtered body would wait
      // for itself); everything else reads it through the input filters, as Apache's handlers do.
      if (kind === "filter") return rawBody(r);
      let b = bodies.get(main);
      if (!b) {
        const raw = rawBody(r);
        b = bodyFilter?.(r, raw) ?? raw;
        bodies.set(main, b);
      }
      return b;
    },
    flush: onFlush,
  };
  return engine.call(
    slot,
    {
      kind, spec, req: snapshot(r), args, timeout: d.timeout ?? DEFAULT_TIMEOUT_MS, memory: d.memory ?? DEFAULT_MEMORY,
      reqKey, connKey, newConn,
    },
    site,
  );
}

/** At the end of a request: its request-scope contexts go. */
export function endRequest(r: Request): void {
  const slot = requestSlots.get(r);
  const key = reqKeys.get(r);
  if (slot !== undefined && key !== undefined) engine.endRequest(slot, key);
}

/**
 * Logs a failed call as mod_lua does (AH01471 at warn, `file:line: message`) and gives the status to
 * answer with; undefined when the call did not fail.
 */
export function failure(r: Request, res: CallResult, file: string): number | undefined {
  if (res.timedOut) {
    const why = res.error ?? `${file}: no result within ScriptTimeout`;
    logError(r, "error", "script", `AH10471: Script timed out: ${why}`);
    return 500;
  }
  if (res.error !== undefined) {
    logError(r, "warn", "script", `AH01471: Script error: ${res.error}`);
    return 500;
  }
  if (res.notFound) {
    logError(r, "error", "script", `AH01481: Script file not found: ${file}`);
    return 500;
  }
  return undefined;
}

/** Copies what the script changed back into the request record. */
export function applyResult(r: Request, res: CallResult): void {
  if (res.status !== undefined && res.status >= 100 && res.status <= 999) r.status = res.status;
  if (res.content_type !== undefined) r.contentType = res.content_type ?? undefined;
  if (res.filename !== undefined) r.filename = res.filename;
  if (res.uri !== undefined) r.uri = res.uri;
  if (res.args !== undefined) r.args = res.args;
  if (res.path_info !== undefined) r.pathInfo = res.path_info;
  if (res.handler !== undefined) r.handler = res.handler ?? undefined;
  if (res.user !== undefined) r.user = res.user ?? undefined;
  try {
    if (res.headers_out) fillHeaders(r.headersOut, res.headers_out);
    if (res.err_headers_out) fillHeaders(r.errHeadersOut, res.err_headers_out);
  } catch (e) {
    logError(r, "error", "script", `AH01471: Script error: invalid response header: ${(e as Error).message}`);
    throw new HttpError(500);
  }
  if (res.notes) fillMap(r.notes, res.notes);
  if (res.subprocess_env) fillMap(r.subprocessEnv, res.subprocess_env);
}

/** The request's tables are replaced in place: other modules may hold them. */
function fillHeaders(h: Headers, list: string[]): void {
  for (const k of [...h.keys()]) h.delete(k);
  for (let i = 0; i + 1 < list.length; i += 2) h.append(list[i]!, list[i + 1]!);
}

function fillMap(m: Map<string, string>, list: string[]): void {
  m.clear();
  for (let i = 0; i + 1 < list.length; i += 2) m.set(list[i]!, list[i + 1]!);
}

/**
 * The response a handler built with r.puts/r.write (or returned): status, headers, body. The body is
 * buffered, so Content-Length is known and sent, as mod_lua's responses have it. (err_headers_out are
 * added by the core on the way out.)
 */
export function builtResponse(r: Request, res: CallResult): Response {
  const headers = new Headers(r.headersOut);
  if (r.contentType) headers.set("Content-Type", r.contentType);
  const b = res.body;
  // Bytes, not strings: a string body would make the Response invent a text/plain Content-Type.
  let body: Uint8Array | Blob | null = null;
  if (b.length === 1 && typeof b[0] === "string") body = encoder.encode(b[0]);
  else if (b.length === 1) body = b[0] as Uint8Array;
  else if (b.length > 1) body = new Blob(b as Uint8Array[]);
  const length = body === null ? 0 : body instanceof Blob ? body.size : body.byteLength;
  headers.set("Content-Length", String(length));
  // Bun labels a bare byte body application/octet-stream; Apache sends no type when none was set.
  if (!r.contentType && body !== null) return new Response(untyped(body), { status: r.status, headers });
  return new Response(body, { status: r.status, headers });
}

function untyped(body: Uint8Array | Blob): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async start(c) {
      c.enqueue(body instanceof Blob ? new Uint8Array(await body.arrayBuffer()) : body);
      c.close();
    },
  });
}

const encoder = new TextEncoder();

/**
 * A handler that calls r.flush() answers before it returns: the first flush sends the head (as set
 * then) and starts a streamed body; later writes follow it; the call's end closes it. A script error
 * after the head went out can only cut the response short (Apache aborts the connection too).
 */
export function streaming(r: Request): {
  onFlush: NonNullable<CallSite["flush"]>;
  started: Promise<Response>;
  finish(res: CallResult, file: string): void;
} {
  let ctl: ReadableStreamDefaultController<Uint8Array> | undefined;
  let start!: (res: Response) => void;
  const started = new Promise<Response>((resolve) => (start = resolve));
  const push = (parts: (string | Uint8Array)[]) => {
    for (const p of parts) ctl!.enqueue(typeof p === "string" ? encoder.encode(p) : p);
  };
  return {
    started,
    onFlush(head, parts) {
      if (!ctl) {
        if (head) applyResult(r, head);
        const headers = new Headers(r.headersOut);
        if (r.contentType) headers.set("Content-Type", r.contentType);
        const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) });
        start(new Response(body, { status: r.status, headers }));
      }
      push(parts);
    },
    finish(res, file) {
      if (!ctl) return;
      if (failure(r, res, file)) ctl.error(new Error("the script failed after its response started"));
      else {
        push(res.body);
        ctl.close();
      }
    },
  };
}

/**
 * A returned HTTP status becomes Apache's error document for it. As in mod_lua on 2.4, a code Apache
 * has no reason phrase for (418, for one) is answered as 500. A redirect keeps its Location.
 */
export function statusError(r: Request, code: number): HttpError {
  if (!(code in STATUS_TEXT) || code === 418 || code < 100) return new HttpError(500);
  const loc = code >= 300 && code < 400 ? r.headersOut.get("Location") : null;
  return new HttpError(code, undefined, loc ? { Location: loc } : undefined);
}
