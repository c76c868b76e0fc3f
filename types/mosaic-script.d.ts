// Types for mosaic scripts (mod_script): `import type { ScriptRequest } from "mosaic-script"`.
// Point your editor at this file, e.g. tsconfig `"paths": { "mosaic-script": ["<mosaic>/types/mosaic-script.d.ts"] }`.

/** mod_lua's apache2.OK: the response is what the script wrote. */
export declare const OK: 0;
/** Not mine: the next handler or hook gets its turn. */
export declare const DECLINED: -1;
/** Finished: send what was written (for a hook: end the request with it). */
export declare const DONE: -2;

/** Results of a `ScriptAuthzProvider` function (Apache's authz_status). */
export declare const AUTHZ_DENIED: 0;
export declare const AUTHZ_GRANTED: 1;
export declare const AUTHZ_NEUTRAL: 2;
export declare const AUTHZ_GENERAL_ERROR: 3;
/** Denied because nobody is authenticated yet: authentication is asked for. */
export declare const AUTHZ_DENIED_NO_USER: 4;

export type HandlerCode = typeof OK | typeof DECLINED | typeof DONE;
export type AuthzResult = 0 | 1 | 2 | 3 | 4;

/**
 * A request table (headers_in, headers_out, err_headers_out, notes, subprocess_env): names are
 * case-insensitive as in Apache's apr_table. Assign `undefined` (or `delete`) to remove a name. At run
 * time an array sends a header several times (`t[k] = ["a", "b"] as unknown as string`); reading a
 * repeated name gives the values joined by ", ".
 */
export interface Table {
  [name: string]: string | undefined;
}

/** `r.setcookie()`; `expires` is in seconds since the epoch, as in mod_lua. */
export interface CookieSpec {
  key: string;
  value?: string;
  expires?: number;
  path?: string;
  domain?: string;
  samesite?: "Strict" | "Lax" | "None";
  secure?: boolean;
  httponly?: boolean;
}

/** Values of a query or form: the last value of each name, and every value of each name. */
export type Params = [single: Record<string, string>, all: Record<string, string[]>];

type LogFn = (...message: unknown[]) => void;

/** The request, as mod_lua's `r` (field names included). Fields not listed as writable are read-only. */
export interface ScriptRequest {
  readonly method: string;
  /** The decoded path (writable, like mod_lua's). */
  uri: string;
  readonly unparsed_uri: string;
  /** The query string, still escaped (writable). */
  args: string;
  path_info: string;
  /** The file the URI maps to (writable: a translate_name hook sets it). */
  filename: string;
  readonly canonical_filename: string;
  readonly hostname: string;
  readonly protocol: string;
  readonly the_request: string;
  readonly useragent_ip: string;
  readonly useragent_port: number;
  readonly is_https: boolean;
  readonly is_initial_req: boolean;
  /** The response status (writable: set it and return OK to send your body with it). */
  status: number;
  content_type: string | null;
  user: string | null;
  readonly ap_auth_type: string | null;
  handler: string | null;
  readonly document_root: string;
  readonly server_name: string;
  readonly port: number;
  /** Request time, seconds since the epoch. */
  readonly started: number;
  /** The Server banner. */
  readonly banner: string;

  readonly headers_in: Table;
  readonly headers_out: Table;
  /** Sent with error responses too. */
  readonly err_headers_out: Table;
  readonly notes: Table;
  readonly subprocess_env: Table;

  /** Writes each argument (strings as UTF-8). */
  puts(...parts: unknown[]): void;
  /** Writes a string or bytes; returns the length written. */
  write(data: string | Uint8Array): number;
  /**
   * Sends what was written so far. The first flush sends the status and headers as they are then
   * (later changes are ignored) and streams the body; without it the response is buffered and sent
   * with a Content-Length when the handler returns.
   */
  flush(): void;
  /** The query string's values. Unlike mod_lua, the second table keeps every value of a repeated name. */
  parseargs(): Params;
  /** A urlencoded or multipart body's values (file parts as text); refuses bodies over `max` bytes (8192). */
  parsebody(max?: number): Promise<Params>;
  /** The request body as text (`max` bytes at most; 0 = no limit). */
  requestbody(max?: number): Promise<string>;
  getcookie(name: string): string | undefined;
  cookies(): Record<string, string>;
  setcookie(cookie: CookieSpec): void;
  /** Sets Location and returns the status: `return r.redirect("/new", 301)`. */
  redirect(url: string, status?: number): number;
  /** Serves another local URI in place of this one (Apache's ap_internal_redirect): `return r.internal_redirect("/x")`. */
  internal_redirect(uri: string): typeof OK;
  /** Form-style escaping (`a b&c` → `a+b%26c`), as mod_lua's. */
  escape(s: string): string;
  unescape(s: string): string;
  escape_html(s: string): string;
  base64_encode(s: string): string;
  base64_decode(s: string): string;
  md5(s: string): string;
  sha1(s: string): string;
  sha256(s: string): string;
  /** Microseconds since the epoch. */
  clock(): number;
  sleep(ms: number): Promise<void>;
  usleep(us: number): Promise<void>;
  construct_url(path: string): string;

  /** Error-log lines at each level, tagged `[script:level]` and `file(line):`. */
  emerg: LogFn;
  alert: LogFn;
  crit: LogFn;
  err: LogFn;
  error: LogFn;
  warn: LogFn;
  notice: LogFn;
  info: LogFn;
  debug: LogFn;
  trace1: LogFn;
  trace2: LogFn;
  trace3: LogFn;
  trace4: LogFn;
  trace5: LogFn;
  trace6: LogFn;
  trace7: LogFn;
  trace8: LogFn;
}

/** A small Fetch-style Response a handler may return instead of writing to `r`. */
export declare class Response {
  constructor(body?: string | Uint8Array | null, init?: { status?: number; headers?: Record<string, string> | [string, string][] });
  readonly body: string | Uint8Array | null;
  readonly status: number;
  readonly headers: Record<string, string> | [string, string][];
  static json(data: unknown, init?: { status?: number; headers?: Record<string, string> }): Response;
  static redirect(url: string, status?: number): Response;
}

/** What a handler may return. */
export type HandlerResult = HandlerCode | number | string | Response | void;

export type Handler = (r: ScriptRequest) => HandlerResult | Promise<HandlerResult>;
export type Hook = (r: ScriptRequest) => HandlerResult | Promise<HandlerResult>;
export type AuthzProvider = (r: ScriptRequest, ...args: string[]) => AuthzResult | Promise<AuthzResult>;
/** An output filter: text chunks in, text chunks out (or one string). */
export type OutputFilter = (
  r: ScriptRequest,
  chunks: AsyncIterable<string>,
) => AsyncIterable<string> | Iterable<string> | string | Promise<string>;

export declare function sleep(ms: number): Promise<void>;

/** With `ScriptAllow fetch`: http(s) only; the body is read whole. */
export interface FetchResponse {
  status: number;
  statusText: string;
  ok: boolean;
  headers: Record<string, string>;
  url: string;
  text(): Promise<string>;
  json(): Promise<unknown>;
}
export declare const fetch:
  | ((url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => Promise<FetchResponse>)
  | undefined;

/** With `ScriptAllow env`: a frozen copy of the child's environment. */
export declare const env: Readonly<Record<string, string>> | undefined;

/** With `ScriptAllow files`: paths relative to the script's folder. */
export declare const files:
  | {
      read(path: string): Promise<string>;
      write(path: string, data: string): Promise<void>;
      stat(path: string): Promise<{ size: number; mtime: number; isFile: boolean; isDirectory: boolean }>;
      list(path: string): Promise<string[]>;
    }
  | undefined;

/** The `mosaic` global (also this module's default export). */
export interface MosaicApi {
  readonly OK: typeof OK;
  readonly DECLINED: typeof DECLINED;
  readonly DONE: typeof DONE;
  readonly AUTHZ_DENIED: typeof AUTHZ_DENIED;
  readonly AUTHZ_GRANTED: typeof AUTHZ_GRANTED;
  readonly AUTHZ_NEUTRAL: typeof AUTHZ_NEUTRAL;
  readonly AUTHZ_GENERAL_ERROR: typeof AUTHZ_GENERAL_ERROR;
  readonly AUTHZ_DENIED_NO_USER: typeof AUTHZ_DENIED_NO_USER;
  readonly Response: typeof Response;
  readonly sleep: typeof sleep;
  readonly fetch: typeof fetch;
  readonly env: typeof env;
  readonly files: typeof files;
}
declare const api: MosaicApi;
export default api;

declare global {
  /** The same values as the module's exports, as globals (handy in scripts without imports). */
  const OK: 0;
  const DECLINED: -1;
  const DONE: -2;
  const AUTHZ_DENIED: 0;
  const AUTHZ_GRANTED: 1;
  const AUTHZ_NEUTRAL: 2;
  const AUTHZ_GENERAL_ERROR: 3;
  const AUTHZ_DENIED_NO_USER: 4;
  const mosaic: MosaicApi;
}
export type InputFilter = OutputFilter;
