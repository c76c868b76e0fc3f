// mod_script's request hooks: the handlers (script-handler, ScriptMapHandler), script hooks in every
// phase, the log hook and Require providers (filters are in filters.ts).
import { HttpError } from "../../src/http/errors.ts";
import { internalRedirect } from "../../src/http/pipeline.ts";
import type { Request } from "../../src/http/request.ts";
import { DECLINED } from "../../src/module.ts";
import type { HookFn, HookResult } from "../../src/module.ts";
import { CODE } from "../../src/script/protocol.ts";
import type { CallResult } from "../../src/script/protocol.ts";
import { applyResult, builtResponse, callScript, endRequest, failure, scriptPath, statusError, streaming } from "./bridge.ts";
import type { HookEntry, ScriptDir, ScriptPhase, ScriptServer } from "./config.ts";

/** The settings where no script directive applies (one object, so per-spec caches keep working). */
export const NO_DIR: ScriptDir = {};

/** What the hooks need from the module (index.ts passes its typed accessors; no import cycle). */
export interface Confs {
  dir(r: Request): ScriptDir | undefined;
  server(r: Request): ScriptServer;
  /**
   * The filter names that apply to the request, lower-cased, in Apache's order: mod_mime's
   * Add{Output,Input}Filter for the file's extensions, then core's Set{Output,Input}Filter.
   */
  filterNames(r: Request, which: "input" | "output"): string[];
}

/** `$0`..`$9` of a ScriptMapHandler match, as mod_lua interpolates them into the file and function. */
function expand(s: string, m: RegExpExecArray): string {
  return s.replace(/\$(\d)/g, (_, d: string) => m[Number(d)] ?? "");
}

function redirect(r: Request, to: string): Promise<Response> {
  const q = to.indexOf("?");
  return internalRedirect(r, q >= 0 ? to.slice(0, q) : to, q >= 0 ? to.slice(q + 1) : "");
}

/** A handler's result: mod_lua's OK/DONE send what was written, DECLINED passes, a status is an error. */
async function handlerOutcome(r: Request, res: CallResult, file: string): Promise<HookResult> {
  const st = failure(r, res, file);
  if (st) throw new HttpError(st);
  applyResult(r, res);
  if (res.redirect !== undefined) return redirect(r, res.redirect);
  const code = res.code ?? CODE.OK;
  if (code === CODE.OK || code === CODE.DONE) return builtResponse(r, res);
  if (code === CODE.DECLINED) return DECLINED;
  throw statusError(r, code);
}

/**
 * The `handler` phase: `SetHandler script-handler` runs the file's `handle`; else the first
 * ScriptMapHandler match. Synchronous (and free) for requests that are neither.
 */
export function makeHandler(c: Confs): HookFn {
  const run = async (r: Request, d: ScriptDir | undefined): Promise<HookResult> => {
    let file: string;
    let fn = "handle";
    if (r.handler === "script-handler") {
      // mod_lua's lua-script handler: a missing file or a directory declines; HEAD does not run the script.
      if (!r.finfo || r.finfo.isDirectory()) return DECLINED;
      if (r.isHead) return builtResponse(r, { body: [] });
      file = r.filename;
    } else {
      const maps = d!.maps!;
      let hit: RegExpExecArray | null = null;
      let i = 0;
      for (; i < maps.length; i++) if ((hit = maps[i]!.re.exec(r.uri))) break;
      if (!hit) return DECLINED;
      const m = maps[i]!;
      file = scriptPath(r, d!, m.refs ? expand(m.file, hit) : m.file);
      fn = m.refs ? expand(m.fn, hit) : m.fn;
      r.handler = "script-map-handler";
    }
    const live = streaming(r);
    const call = callScript(r, d ?? NO_DIR, c.server(r), "handler", file, fn, [], live.onFlush);
    const first = await Promise.race([call, live.started]);
    if (first instanceof Response) {
      void call.then((res) => live.finish(res, file));
      return first;
    }
    if (first.notFound && r.handler === "script-handler") return DECLINED;
    return handlerOutcome(r, first, file);
  };
  return (r) => {
    const d = c.dir(r);
    if (r.handler !== "script-handler" && !d?.maps) return DECLINED;
    return run(r, d);
  };
}

/**
 * A phase's script hooks in order (early, middle, late). run-first phases stop at the first hook that
 * does not decline; OK lets a run-all phase go on; DONE answers with what the hook wrote.
 */
export function makePhaseHook(c: Confs, phase: ScriptPhase, runFirst: boolean): HookFn {
  const run = async (r: Request, d: ScriptDir, list: readonly HookEntry[]): Promise<HookResult> => {
    for (const h of list) {
      const file = scriptPath(r, d, h.file);
      const res = await callScript(r, d, c.server(r), "hook", file, h.fn);
      const st = failure(r, res, file);
      if (st) throw new HttpError(st);
      applyResult(r, res);
      if (res.redirect !== undefined) return redirect(r, res.redirect);
      const code = res.code ?? CODE.OK;
      if (code === CODE.DECLINED) continue;
      // The quick handler answers the request when it returns OK (mod_lua's LuaQuickHandler).
      if (code === CODE.OK && phase !== "quick_handler") {
        if (runFirst) return undefined;
        continue;
      }
      if (code === CODE.OK || code === CODE.DONE) return builtResponse(r, res);
      throw statusError(r, code);
    }
    return DECLINED;
  };
  // Synchronous when the phase has no script hooks: most requests pay nothing for this module.
  return (r) => {
    const d = c.dir(r);
    const list = d?.hooks?.[phase];
    return d && list ? run(r, d, list) : DECLINED;
  };
}

/**
 * ScriptHookLog: runs after the response, never delaying it (so, unlike mod_lua, returning DONE cannot
 * suppress the access log line). Request-scope contexts end once the log hooks are done.
 */
export function makeLogHook(c: Confs): (r: Request) => void {
  return (r) => {
    const d = c.dir(r);
    const list = d?.hooks?.log_transaction;
    if (!d || !list) {
      endRequest(r);
      return;
    }
    const runs = list.map((h) => {
      const file = scriptPath(r, d, h.file);
      return callScript(r, d, c.server(r), "log", file, h.fn).then((res) => void failure(r, res, file));
    });
    void Promise.all(runs).finally(() => endRequest(r));
  };
}

/** A `Require name args...` provider backed by ScriptAuthzProvider: the function returns AUTHZ_*. */
export async function checkAuthz(c: Confs, name: string, r: Request, args: string[]): Promise<number> {
  const s = c.server(r);
  const spec = s.authz.get(name);
  const GENERAL_ERROR = 3;
  if (!spec) return GENERAL_ERROR;
  const d = c.dir(r) ?? NO_DIR;
  const file = scriptPath(r, d, spec.file);
  const res = await callScript(r, d, s, "authz", file, spec.fn, args);
  if (failure(r, res, file)) return GENERAL_ERROR;
  applyResult(r, res);
  const code = res.code ?? -99;
  return code >= 0 && code <= 4 ? code : GENERAL_ERROR;
}
