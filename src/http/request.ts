// The request record: what every hook sees (Apache's request_rec, idiomatic in TypeScript).
import type { Stats } from "node:fs";
import type { Runtime } from "../runtime.ts";
import type { ServerRec } from "../server-rec.ts";

/** Facts about the connection a request arrived on (Apache's conn_rec). */
export interface ConnInfo {
  remoteAddr: string;
  remotePort: number;
  localAddr: string;
  localPort: number;
  /** Requests already served on this connection before this one (%k). */
  keepAlives: number;
  /** The TLS state once mosaic speaks TLS. */
  secure: boolean;
}

export class Request {
  /** The request line as received, e.g. `GET /a?b HTTP/1.1` (Apache's the_request). */
  theRequest: string;
  /** Path and query exactly as sent (before decoding). */
  unparsedUri: string;
  /** The decoded, normalised URL path (no query). */
  uri: string;
  /** The query string without `?`, or "" (Apache's args). */
  args: string;
  /** Host name from the Host header (port stripped, lower-cased), or the server name. */
  hostname: string;
  status = 200;
  /** Content-Type of the response (set by type_checker or handlers). */
  contentType: string | undefined = undefined;
  contentEncoding: string | undefined = undefined;
  contentLanguage: string | undefined = undefined;
  /** The handler name chosen for this request (SetHandler/AddHandler), or undefined for default. */
  handler: string | undefined = undefined;
  /** The file the URI maps to (after translate_name), and the rest of the path after it. */
  filename = "";
  pathInfo = "";
  /** stat() of filename after map_to_storage, or null when nothing is there. */
  finfo: Stats | null = null;
  /** Merged per-directory configuration vector (index by module.index; use module.dirConf(r)). */
  perDir: unknown[];
  private _headersOut: Headers | undefined = undefined;
  private _errHeadersOut: Headers | undefined = undefined;
  private _notes: Map<string, string> | undefined = undefined;
  private _env: Map<string, string> | undefined = undefined;
  /** Set once errHeadersOut were copied into the response (the error path does it). */
  errHeadersSent = false;
  /** The authenticated user and scheme, when authentication ran. */
  user: string | undefined = undefined;
  authType: string | undefined = undefined;
  /** Bytes of body sent (filled when the response is finalised). */
  bytesSent = 0;
  /** The status before ErrorDocument redirects (%s vs %>s). */
  originalStatus = 0;
  /** The request this one was internally redirected from (ErrorDocument, DirectoryIndex). */
  prev: Request | undefined = undefined;
  /** Which sections matched, for /server-info and debugging. */
  matchedSections = "";
  /** Wall clock at arrival (ms since epoch) and a high-resolution start (ms) for %D / %T. */
  readonly requestTime: number;
  readonly start: number;
  /** Set once the connection must close after this response (Connection: close). */
  closeConnection = false;
  /** The configuration generation serving this request (set by the front before any hook runs). */
  rt!: Runtime;

  constructor(
    /** The underlying Fetch request (headers, body, signal). */
    readonly raw: globalThis.Request,
    readonly method: string,
    readonly protocol: string,
    public conn: ConnInfo,
    public server: ServerRec,
    uri: string,
    args: string,
    unparsedUri: string,
    hostname: string,
  ) {
    this.uri = uri;
    this.args = args;
    this.unparsedUri = unparsedUri;
    this.hostname = hostname;
    this.theRequest = `${method} ${unparsedUri} ${protocol}`;
    this.perDir = server.lookupDefaults;
    this.requestTime = Date.now();
    this.start = performance.now();
  }

  /**
   * Builds the response from a body whose size is known: status, headersOut, the content type chosen for
   * the request and Content-Length (so the access log knows %b without streaming). Bodies of unknown
   * size may be returned as a plain `Response` with a stream; they are counted as they go out.
   * @example return r.respond("hello\n");
   */
  respond(body: string | Uint8Array | null, status = this.status): Response {
    const h = this.headersOut;
    if (this.contentType && !h.has("Content-Type")) h.set("Content-Type", this.contentType);
    const len = body === null ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
    h.set("Content-Length", String(len));
    this.status = status;
    return new Response(body, { status, headers: h });
  }

  /**
   * A finished response a handler built from cached parts (headers included), and its body length:
   * the pipeline then sends it without reading its headers back (see finishResponse).
   */
  prebuilt: Response | undefined = undefined;
  prebuiltLength = 0;
  /**
   * False when the request has none of the conditional or range headers (If-*, Range), as the front
   * found while checking the headers: the default handler then skips evaluating them.
   */
  conditional = true;
  /** True once the body length is known (Content-Length, HEAD, prebuilt): logged without counting. */
  sized = false;

  /** Response headers of a successful response (Apache's headers_out); created on first use. */
  get headersOut(): Headers {
    return (this._headersOut ??= this.prebuilt?.headers ?? new Headers());
  }

  set headersOut(h: Headers) {
    this._headersOut = h;
  }

  /** True once a module put something in headersOut (the static handler's fast path needs none). */
  get hasHeadersOut(): boolean {
    return this._headersOut !== undefined;
  }

  /** Headers kept on error responses too (Apache's err_headers_out); created on first use. */
  get errHeadersOut(): Headers {
    return (this._errHeadersOut ??= new Headers());
  }

  set errHeadersOut(h: Headers) {
    this._errHeadersOut = h;
  }

  /** True once something was put in errHeadersOut (saves creating it on the hot path). */
  get hasErrHeaders(): boolean {
    return this._errHeadersOut !== undefined;
  }

  /** Inter-module notes (Apache's r->notes); created on first use. */
  get notes(): Map<string, string> {
    return (this._notes ??= new Map());
  }

  set notes(m: Map<string, string>) {
    this._notes = m;
  }

  /** The environment table (SetEnv, SetEnvIf, ... : Apache's subprocess_env); created on first use. */
  get subprocessEnv(): Map<string, string> {
    return (this._env ??= new Map());
  }

  set subprocessEnv(m: Map<string, string>) {
    this._env = m;
  }

  get headersIn(): Headers {
    return this.raw.headers;
  }

  /** Walks back through internal redirects to the request the client sent. */
  get main(): Request {
    let r: Request = this;
    while (r.prev) r = r.prev;
    return r;
  }

  get isHead(): boolean {
    return this.method === "HEAD";
  }
}
