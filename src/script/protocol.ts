// The messages between the main thread and a script worker, and the sandbox's host-call numbers.

/** mod_lua's LuaScope values: how long one script context lives. */
export type ScopeKind = "once" | "request" | "conn" | "thread" | "server";
/** mod_lua's LuaCodeCache: re-stat the file on each use, compile once, or compile on each use. */
export type CodeCache = "stat" | "forever" | "never";
/** What kind of function a call runs; decides the arguments and how the result is read. */
export type CallKind = "handler" | "hook" | "authz" | "filter" | "log";

/** `ScriptAllow` bits: what a script may reach beyond its request. */
export const ALLOW = { fetch: 1, env: 2, files: 4 } as const;

/** Sizing of a `server`-scope pool (mod_perl's PerlInterp* directives, per worker thread). */
export interface PoolSpec {
  start: number;
  max: number;
  minSpare: number;
  maxSpare: number;
  /** Retire a context after this many calls; 0 = never. */
  maxRequests: number;
}

/** Which function of which file, in which lifetime, under which limits. */
export interface ScriptSpec {
  /** Absolute path of the script file. */
  file: string;
  fn: string;
  scope: ScopeKind;
  cache: CodeCache;
  /** Identity of the server configuration: contexts are never shared across vhosts or reloads. */
  server: number;
  pool: PoolSpec;
  allow: number;
}

/**
 * The request as a script sees it: only primitives and string arrays (headers as flat name/value
 * pairs), named as mod_lua names the fields of `r`.
 */
export interface RequestData {
  method: string;
  uri: string;
  unparsed_uri: string;
  args: string;
  path_info: string;
  filename: string;
  canonical_filename: string;
  hostname: string;
  protocol: string;
  the_request: string;
  useragent_ip: string;
  useragent_port: number;
  is_https: boolean;
  is_initial_req: boolean;
  status: number;
  content_type: string | null;
  user: string | null;
  ap_auth_type: string | null;
  handler: string | null;
  document_root: string;
  server_name: string;
  port: number;
  started: number;
  banner: string;
  headers_in: string[];
  headers_out: string[];
  err_headers_out: string[];
  notes: string[];
  subprocess_env: string[];
}

/** Main → worker. */
export type ToWorker =
  | { t: "spec"; id: number; spec: ScriptSpec }
  | { t: "forgetSpecs" }
  | {
      t: "call";
      id: number;
      /** A spec sent earlier to this worker (specs are sent once, calls name them). */
      specId: number;
      /** The sandbox's input, already JSON: `{ k: "call", id, kind, fn, req, args }` (see SandboxCall). */
      input: string;
      /** ScriptTimeout in ms (wall clock for the call, CPU for each synchronous slice). */
      timeout: number;
      /** The main request (request scope) and the connection (conn scope). */
      reqKey: number;
      connKey: string;
      newConn: boolean;
    }
  | { t: "body"; id: number; data: ArrayBuffer | null; type: string; error?: string }
  | { t: "cancel"; id: number }
  | { t: "endRequest"; reqKey: number }
  | { t: "dropServer"; server: number }
  | { t: "setup"; connIdleMs: number };

/** What a finished call reports (only fields a script changed are present). */
export interface CallResult {
  /** A script error, already `file:line: message`. */
  error?: string;
  timedOut?: boolean;
  /** The script file does not exist (script-handler declines, a map handler fails). */
  notFound?: boolean;
  /** OK 0, DECLINED -1, DONE -2, an HTTP status, or an AUTHZ_* value. */
  code?: number;
  status?: number;
  content_type?: string | null;
  filename?: string;
  uri?: string;
  args?: string;
  handler?: string | null;
  user?: string | null;
  path_info?: string;
  headers_out?: string[];
  err_headers_out?: string[];
  notes?: string[];
  subprocess_env?: string[];
  /** r.internal_redirect(uri). */
  redirect?: string;
  body: (string | Uint8Array)[];
}

/** What the sandbox's entry point reads for a call (serialised once, on the main thread). */
export interface SandboxCall {
  k: "call";
  id: number;
  kind: CallKind;
  fn: string;
  req: RequestData;
  /** Extra string arguments: Require arguments for authz, body chunks for filters. */
  args: string[];
}

/**
 * Worker → main. A finished call comes back as the sandbox's own JSON (checked on the main thread)
 * plus any byte chunks written before it, or as a CallResult when the worker decided the outcome.
 */
export type FromWorker =
  | { t: "done"; id: number; json?: string; res?: CallResult; parts?: (string | Uint8Array)[] }
  | { t: "log"; id: number; level: string; msg: string }
  /** r.flush(): the first carries the head (status, type, headers) as sandbox JSON; then body chunks. */
  | { t: "flush"; id: number; json?: string; parts: (string | Uint8Array)[] }
  | { t: "needBody"; id: number; max: number }
  | { t: "ready" };

type CallMsg = Extract<ToWorker, { t: "call" }>;

/**
 * The two hot messages travel as text (a string is cloned far faster than an object): calls as
 * `C id spec timeout reqKey newConn connKey input` and results as `D id json`, tab-separated. JSON
 * never holds a raw tab or newline, so a batch is the lines joined by "\n".
 */
export function encodeCall(m: CallMsg): string {
  return `C\t${m.id}\t${m.specId}\t${m.timeout}\t${m.reqKey}\t${m.newConn ? 1 : 0}\t${m.connKey}\t${m.input}`;
}

export function decodeCall(line: string): CallMsg {
  const f = line.split("\t", 7);
  const input = line.slice(f.reduce((n, x) => n + x.length + 1, 0));
  return {
    t: "call", id: Number(f[1]), specId: Number(f[2]), timeout: Number(f[3]), reqKey: Number(f[4]),
    newConn: f[5] === "1", connKey: f[6]!, input,
  };
}

export function encodeDone(id: number, json: string): string {
  return `D\t${id}\t${json}`;
}

export function decodeDone(line: string): { id: number; json: string } {
  const tab = line.indexOf("\t", 2);
  return { id: Number(line.slice(2, tab)), json: line.slice(tab + 1) };
}

/** Host-call numbers of the sandbox (passed to it as JSON, so both sides agree). */
export const OP = {
  INPUT: 1,
  DONE: 2,
  TEXT: 3,
  BYTES: 4,
  LOG: 5,
  HASH: 6,
  B64ENC: 7,
  B64DEC: 8,
  ASYNC: 9,
  ENV: 10,
  ALLOWED: 11,
  LOADERR: 12,
  FLUSH: 13,
} as const;

/** mod_lua's apache2.OK / DECLINED / DONE. */
export const CODE = { OK: 0, DECLINED: -1, DONE: -2 } as const;
