// headers: Header and RequestHeader (Apache's mod_headers).
import { HttpError } from "../../src/http/errors.ts";
import { errorResponse } from "../../src/http/pipeline.ts";
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { defineModule } from "../../src/module.ts";
import type { DirectiveCmd } from "../../src/module.ts";
import { InvalidHeader, runRules } from "./apply.ts";
import { parseHeaderArgs } from "./rules.ts";
import type { HeaderRule } from "./rules.ts";

export type { HeaderRule } from "./rules.ts";

/** Per-directory rules, in config order: request headers, onsuccess and always response headers. */
export interface HeadersDir {
  in: HeaderRule[];
  out: HeaderRule[];
  err: HeaderRule[];
  /** `early` rules, run in post_read_request only (so only the server's own ever run). */
  early: { in: HeaderRule[]; out: HeaderRule[]; err: HeaderRule[] };
}

const create = (): HeadersDir => ({ in: [], out: [], err: [], early: { in: [], out: [], err: [] } });
const EMPTY = create();

/** merge_headers_config: the parent's rules, then the deeper section's (never mutating either). */
function join<T>(a: T[], b: T[]): T[] {
  return b.length === 0 ? a : a.length === 0 ? b : [...a, ...b];
}

function merge(base: HeadersDir, add: HeadersDir): HeadersDir {
  return {
    in: join(base.in, add.in),
    out: join(base.out, add.out),
    err: join(base.err, add.err),
    early: {
      in: join(base.early.in, add.early.in),
      out: join(base.early.out, add.early.out),
      err: join(base.early.err, add.early.err),
    },
  };
}

function addRule(
  cmd: DirectiveCmd<undefined, HeadersDir>,
  directive: "Header" | "RequestHeader",
): string | void {
  const parsed = parseHeaderArgs(directive, cmd.args, cmd.node);
  if (typeof parsed === "string") return parsed;
  (parsed.early ? cmd.dir.early : cmd.dir)[parsed.table].push(parsed.rule);
}

/**
 * mod_headers. RequestHeader runs in fixups (`early` ones in post_read_request, from the server's
 * own config). Header runs as an output filter: `always` rules on every response, `onsuccess` (the
 * default) rules only on responses that did not come from the error path, that is 1xx/2xx and 304;
 * redirects and errors get `always` rules only, as Apache's err_headers_out vs headers_out split.
 * A rule may hold an ap_expr condition (`expr=...`, its headers kept out of Vary) and a value
 * written `expr=...` is a string expression; both are compiled at config time.
 *
 * Differences from Apache: both kinds act on one header table (so `Header always unset X` also removes
 * an X the handler set); an ErrorDocument served from a local URL gets only `always` rules, from the
 * original request's sections; header-name patterns (echo) ignore case, as Fetch lower-cases names.
 */
const headers = defineModule<undefined, HeadersDir>({
  name: "headers",
  description: "Customization of HTTP request and response headers",
  directives: [
    {
      name: "Header",
      args: "raw",
      help: "an optional condition, an action, header and value followed by optional env clause",
      apply: (cmd) => addRule(cmd, "Header"),
    },
    {
      name: "RequestHeader",
      args: "raw",
      help: "an action, header and value followed by optional env clause",
      apply: (cmd) => addRule(cmd, "RequestHeader"),
    },
  ],
  createDirConfig: create,
  mergeDirConfig: merge,
  hooks: {
    post_read_request: {
      fn: early,
      order: "first",
      enabled: (c): boolean => {
        const e = headers.dirConf(c).early;
        return e.in.length + e.err.length + e.out.length > 0;
      },
    },
    fixups: { fn: fixupIn, order: "last", enabled: (c): boolean => headers.dirConf(c).in.length > 0 },
    output_filter: { fn: filterOut },
  },
});
export default headers;

function dirOf(r: Request): HeadersDir {
  return headers.dirConf(r) ?? EMPTY;
}

/** ap_headers_early: `early` rules from the server config, before anything else looks at the request. */
function early(r: Request): void {
  const e = dirOf(r).early;
  if (e.in.length) runRules(r, r.headersIn, e.in, false);
  try {
    if (e.err.length) runRules(r, r.errHeadersOut, e.err, true);
    if (e.out.length) runRules(r, r.headersOut, e.out, true);
  } catch (err) {
    if (!(err instanceof InvalidHeader)) throw err;
    logInvalid(r, err);
    throw new HttpError(500);
  }
}

function fixupIn(r: Request): void {
  const d = dirOf(r);
  if (d.in.length) runRules(r, r.headersIn, d.in, false);
}

/** Responses Apache builds on the normal path, where headers_out survives (not ap_send_error_response). */
function isSuccess(status: number): boolean {
  return status < 300 || status === 304;
}

function filterOut(r: Request, res: Response): Promise<Response> | void {
  const d = dirOf(r);
  const success = isSuccess(res.status);
  if (d.err.length === 0 && (!success || d.out.length === 0)) return;
  try {
    if (d.err.length) runRules(r, res.headers, d.err, true);
    if (success && d.out.length) runRules(r, res.headers, d.out, true);
  } catch (e) {
    if (!(e instanceof InvalidHeader)) throw e;
    logInvalid(r, e);
    return refuse(r, d, success);
  }
}

/** Apache's header filter answers 500 instead; if that page fails the same check, an empty 500. */
async function refuse(r: Request, d: HeadersDir, success: boolean): Promise<Response> {
  if (success) {
    const page = await errorResponse(r.rt, r, new HttpError(500, undefined, undefined, true));
    try {
      if (d.err.length) runRules(r, page.headers, d.err, true);
      return page;
    } catch (e) {
      if (!(e instanceof InvalidHeader)) throw e;
      logInvalid(r, e);
    }
  }
  r.status = 500;
  return new Response(null, { status: 500, headers: { "Content-Length": "0" } });
}

/** The value goes to the log raw: the error log escapes control characters itself, as Apache's does. */
function logInvalid(r: Request, e: InvalidHeader): void {
  const msg =
    e.value === undefined
      ? `AH02429: Response header name '${e.header}' contains invalid characters, aborting request`
      : `AH02430: Response header '${e.header}' value of '${e.value}' contains invalid characters, ` +
        "aborting request";
  logError(r, "error", "http", msg);
}
