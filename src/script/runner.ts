// The script runner: runs calls in sandboxed contexts and answers with results. It lives in a worker
// thread (worker.ts), or on the serving thread itself with `ScriptWorkers 0`.
import fs from "node:fs";
import path from "node:path";
import { compileScript, locate } from "./compile.ts";
import type { CompileOutcome, Compiled } from "./compile.ts";
import { ContextStore, createCtx, enter } from "./contexts.ts";
import type { Ctx } from "./contexts.ts";
import { asyncOp } from "./worker-ops.ts";
import { ALLOW, encodeDone, OP } from "./protocol.ts";
import type { CallResult, FromWorker, ScriptSpec, ToWorker } from "./protocol.ts";
import type { HostFn } from "./sandbox.ts";

interface CallState {
  id: number;
  msg: Extract<ToWorker, { t: "call" }>;
  spec: ScriptSpec;
  deadline: number;
  timer: ReturnType<typeof setTimeout>;
  ctx: Ctx | undefined;
  /** Body written so far (r.write of bytes flushes the text before it here). */
  parts: (string | Uint8Array)[];
  done: boolean;
  /** Error-log lines written by this call. */
  logged: number;
}

const MAX_LOG_LINES = 1000;

/**
 * A runner: `handle` takes messages from the main thread; `post` sends results back (batched by the
 * caller). All its state (compiled files, contexts, calls) lives in this closure.
 */
export function createRunner(post: (m: string | FromWorker) => void): (m: ToWorker) => void {
  const store = new ContextStore();
  const cache = new Map<string, Compiled>();
  const compiling = new Map<string, Promise<CompileOutcome>>();
  const calls = new Map<number, CallState>();
  /** Which call each context entered last: console.* and r.sleep() belong to it. */
  const current = new WeakMap<Ctx, number>();
  const bodyWaiters = new Map<number, ((m: Extract<ToWorker, { t: "body" }>) => void)[]>();
  let nextOp = 1;

  const specs = new Map<number, ScriptSpec>();

  function handle(m: ToWorker): void {
    switch (m.t) {
      case "spec":
        specs.set(m.id, m.spec);
        break;
      case "forgetSpecs":
        specs.clear();
        break;
      case "call":
        void runCall(m);
        break;
      case "body": {
        const list = bodyWaiters.get(m.id);
        bodyWaiters.delete(m.id);
        for (const fn of list ?? []) fn(m);
        break;
      }
      case "endRequest":
        store.endRequest(m.reqKey);
        break;
      case "dropServer":
        store.dropServer(m.server);
        break;
      case "setup":
        setInterval(() => store.sweep(m.connIdleMs), Math.max(1000, m.connIdleMs / 2)).unref();
        break;
    }
  }

  /** The compiled file per LuaCodeCache semantics: stat (re-stat each use), forever, never. */
  async function getCompiled(file: string, mode: ScriptSpec["cache"]): Promise<CompileOutcome> {
    if (mode !== "never") {
      const c = cache.get(file);
      if (c) {
        if (mode === "forever") return c;
        const st = fs.statSync(file, { throwIfNoEntry: false });
        if (st && st.mtimeMs === c.mtimeMs && st.size === c.size) return c;
      }
    }
    let p = compiling.get(file);
    if (!p) {
      p = compileScript(file).finally(() => compiling.delete(file));
      compiling.set(file, p);
    }
    const out = await p;
    if ("script" in out && mode !== "never") cache.set(file, out);
    return out;
  }

  async function runCall(m: Extract<ToWorker, { t: "call" }>): Promise<void> {
    const spec = specs.get(m.specId)!;
    const cs: CallState = {
      id: m.id,
      msg: m,
      spec,
      deadline: performance.now() + m.timeout,
      timer: setTimeout(() => finish(cs, { timedOut: true, body: [] }), m.timeout),
      ctx: undefined,
      parts: [],
      done: false,
      logged: 0,
    };
    calls.set(m.id, cs);
    const comp = await getCompiled(spec.file, spec.cache);
    if (cs.done) return;
    if ("notFound" in comp) return finish(cs, { notFound: true, body: [] });
    if ("error" in comp) return finish(cs, { error: comp.error, body: [] });
    const create = () => createCtx(comp, spec, makeHost, Math.max(1, cs.deadline - performance.now()));
    let ctx: Ctx;
    try {
      ctx = await store.acquire(spec, comp, m.reqKey, m.connKey, m.newConn, create);
    } catch (e) {
      // createCtx throws a string: the load error as `file:line: message`, or why it failed.
      const why = typeof e === "string" ? e : String(e);
      return finish(cs, { error: why.includes(": ") ? why : `${spec.file}: ${why}`, body: [] });
    }
    if (cs.done) {
      store.release(ctx, create);
      return;
    }
    cs.ctx = ctx;
    ctx.active++;
    ctx.uses++;
    current.set(ctx, m.id);
    const how = enter(ctx, m.input, cs.deadline - performance.now());
    if (how !== "ok") killContextCalls(ctx, how);
  }

  /** A context overran or broke: every call still running in it ends with that error. */
  function killContextCalls(ctx: Ctx, how: "timeout" | "broken"): void {
    ctx.dead = true;
    for (const cs of calls.values()) {
      if (cs.ctx !== ctx) continue;
      const broke = `${ctx.spec.file}: the script context broke down`;
      finish(cs, how === "timeout" ? { timedOut: true, body: [] } : { error: broke, body: [] });
    }
  }

  /** Ends a call with a result decided here, or (`json`) with the sandbox's own answer. */
  function finish(cs: CallState, res: CallResult | undefined, json?: string): void {
    if (cs.done) return;
    cs.done = true;
    clearTimeout(cs.timer);
    calls.delete(cs.id);
    bodyWaiters.delete(cs.id);
    if (json !== undefined && cs.parts.length === 0) post(encodeDone(cs.id, json));
    else post({ t: "done", id: cs.id, res, json, parts: cs.parts.length ? cs.parts : undefined });
    const ctx = cs.ctx;
    if (!ctx) return;
    ctx.active--;
    // A context interrupted by the vm timeout was marked dead (killContextCalls); one whose call only
    // waited too long (a promise that never settles) is whole, and its scope keeps it.
    if (ctx.spec.scope === "once") ctx.dead = true;
    store.release(ctx, () => createCtx(ctx.compiled, ctx.spec, makeHost, cs.msg.timeout));
  }

  /** The call of this context that a host call with `id` may act for. */
  function own(ctx: Ctx, id: unknown): CallState | undefined {
    const cs = typeof id === "number" ? calls.get(id === 0 ? (current.get(ctx) ?? -1) : id) : undefined;
    return cs && cs.ctx === ctx && !cs.done ? cs : undefined;
  }

  /**
   * The sandbox's DONE. A failure (its JSON starts with the `error` key) is mapped to `file:line` here,
   * where the source map is; anything else goes to the main thread as is and is checked there.
   */
  function onDone(ctx: Ctx, id: unknown, json: unknown): void {
    const cs = own(ctx, id);
    if (!cs || typeof json !== "string") return;
    if (!json.startsWith('{"error":')) return finish(cs, undefined, json);
    const d = JSON.parse(json) as { error: unknown; stack: unknown };
    const at = locate(ctx.compiled, typeof d.stack === "string" ? d.stack : "");
    finish(cs, { error: `${at ? `${at[0]}:${at[1]}` : ctx.spec.file}: ${String(d.error)}`, body: [] });
  }

  const TA_PROTO = Object.getPrototypeOf(Uint8Array.prototype) as object;
  const taGet = (name: string) => Object.getOwnPropertyDescriptor(TA_PROTO, name)!.get!;
  const getBuffer = taGet("buffer");
  const getOffset = taGet("byteOffset");
  const getLength = taGet("byteLength");

  /**
   * Copies a typed array handed over by a script, through the host realm's own getters: a Proxy or an
   * overridden `buffer` getter on the context's prototypes never runs here.
   */
  function copyView(v: unknown): Uint8Array | undefined {
    if (!ArrayBuffer.isView(v)) return undefined;
    try {
      const buf = getBuffer.call(v) as ArrayBuffer;
      return new Uint8Array(buf, getOffset.call(v) as number, getLength.call(v) as number).slice();
    } catch {
      return undefined;
    }
  }

  function logLine(ctx: Ctx, id: unknown, level: unknown, msg: unknown, stack: unknown): void {
    if (typeof level !== "string" || typeof msg !== "string") return;
    const cs = own(ctx, id === 0 ? 0 : id);
    // A script logging in a loop must not flood the error log: a call gets MAX_LOG_LINES lines.
    if (cs && ++cs.logged > MAX_LOG_LINES) {
      if (cs.logged === MAX_LOG_LINES + 1) {
        post({ t: "log", id: cs.id, level: "warn", msg: "further log lines of this call dropped" });
      }
      return;
    }
    const at = typeof stack === "string" ? locate(ctx.compiled, stack) : undefined;
    const where = at ? `${path.basename(at[0])}(${at[1]})` : path.basename(ctx.spec.file);
    post({ t: "log", id: cs ? cs.id : 0, level, msg: `${where}: ${msg.length > 8000 ? msg.slice(0, 8000) : msg}` });
  }

  /**
   * The host function of one context. It checks every argument's type, returns primitives only and
   * never throws: a host error caught in the context would carry the host's Function constructor.
   */
  function makeHost(ctx: Ctx): HostFn {
    return (op, a, b, c, d) => {
      try {
        switch (op) {
          case OP.INPUT: {
            const s = ctx.input;
            ctx.input = undefined;
            return s;
          }
          case OP.DONE:
            onDone(ctx, a, b);
            return undefined;
          case OP.FLUSH: {
            const cs = own(ctx, a);
            if (!cs) return undefined;
            const parts = cs.parts;
            if (typeof c === "string" && c) parts.push(c);
            cs.parts = [];
            post({ t: "flush", id: cs.id, json: typeof b === "string" ? b : undefined, parts });
            return undefined;
          }
          case OP.TEXT: {
            const cs = own(ctx, a);
            if (cs && typeof b === "string") cs.parts.push(b);
            return undefined;
          }
          case OP.BYTES: {
            const cs = own(ctx, a);
            const u = copyView(b);
            if (!cs || !u) return undefined;
            cs.parts.push(u);
            return u.length;
          }
          case OP.LOG:
            logLine(ctx, a, b, c, d);
            return undefined;
          case OP.HASH:
            if ((a === "md5" || a === "sha1" || a === "sha256") && typeof b === "string") {
              return new Bun.CryptoHasher(a).update(b).digest("hex");
            }
            return undefined;
          case OP.B64ENC:
            return typeof a === "string" ? Buffer.from(a, "utf8").toString("base64") : undefined;
          case OP.B64DEC:
            return typeof a === "string" ? Buffer.from(a, "base64").toString("utf8") : undefined;
          case OP.ASYNC:
            return startOp(ctx, a, b, c);
          case OP.ALLOWED:
            return (a === "fetch" || a === "env" || a === "files") && (ctx.spec.allow & ALLOW[a]) !== 0;
          case OP.ENV:
            return ctx.spec.allow & ALLOW.env ? JSON.stringify(process.env) : undefined;
          case OP.LOADERR: {
            const at = typeof b === "string" ? locate(ctx.compiled, b) : undefined;
            ctx.loadError = `${at ? `${at[0]}:${at[1]}` : ctx.spec.file}: ${typeof a === "string" ? a : "load failed"}`;
            return undefined;
          }
        }
      } catch {
        // Nothing may cross into the context but primitives.
      }
      return undefined;
    };
  }

  /** Starts r.sleep / r.parsebody / fetch / files; the id comes back to the context with the outcome. */
  function startOp(ctx: Ctx, callId: unknown, kind: unknown, argJson: unknown): number | undefined {
    const cs = own(ctx, callId);
    if (!cs || typeof kind !== "string" || typeof argJson !== "string") return undefined;
    const work = asyncOp(kind, JSON.parse(argJson), ctx.spec, (max) => requestBody(cs, max));
    if (!work) return undefined;
    const id = nextOp++;
    work.then(
      (v) => settle(ctx, cs, id, true, v === undefined ? undefined : JSON.stringify(v)),
      (e) => settle(ctx, cs, id, false, e instanceof Error ? e.message : String(e)),
    );
    return id;
  }

  function settle(ctx: Ctx, cs: CallState, id: number, ok: boolean, v: string | undefined): void {
    if (cs.done || ctx.dead) return;
    const how = enter(ctx, JSON.stringify({ k: "settle", id, ok, v }), cs.deadline - performance.now());
    if (how !== "ok") killContextCalls(ctx, how);
  }

  function requestBody(cs: CallState, max: number): Promise<Extract<ToWorker, { t: "body" }>> {
    return new Promise((resolve) => {
      const list = bodyWaiters.get(cs.id);
      if (list) list.push(resolve);
      else {
        bodyWaiters.set(cs.id, [resolve]);
        post({ t: "needBody", id: cs.id, max });
      }
    });
  }

  return handle;
}
