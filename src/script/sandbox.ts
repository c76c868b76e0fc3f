// The runtime inside every script context: builds `r` from primitives, runs the script's functions
// and hands only primitives back. It is serialised with Function.prototype.toString and evaluated in
// the context, so it must not use anything from this module's scope.

import type { Call, RequestDeps, defineRequest as DefineRequest } from "./sandbox-request.ts";

type RequestApi = ReturnType<typeof DefineRequest>;

/** The one host function a context holds: primitives in, primitives out, never throws. */
export type HostFn = (op: number, a?: unknown, b?: unknown, c?: unknown, d?: unknown) => unknown;

/**
 * Evaluated inside a fresh `node:vm` context whose global has a null prototype (bun.md §7): every object
 * a script can touch is created here, from this context's intrinsics. `host` stays in this closure; the
 * wrappers below catch whatever it might throw (a stack overflow inside it is a host-realm RangeError)
 * and rethrow errors of this realm, so no host object is ever reachable from script code.
 */
export function sandboxMain(host: HostFn, opsJson: string, defineRequest: (deps: RequestDeps) => RequestApi): void {
  "use strict";
  const G: any = globalThis;
  const O = Object;
  const create = O.create;
  const defineProperty = O.defineProperty;
  const jsonParse = JSON.parse;
  const jsonStringify = JSON.stringify;
  const S = String;
  const E = Error;
  const TE = TypeError;
  const P = Promise;
  const promiseThen = P.prototype.then;
  const isArray = Array.isArray;
  const asyncIterator = Symbol.asyncIterator;
  const iterator = Symbol.iterator;
  const MapC = Map;
  const OP = jsonParse(opsJson);

  // Capabilities a script must not have: the host console, shared memory and blocking waits (which the
  // vm timeout cannot interrupt), Wasm, a second realm, and callbacks that run outside any evaluation.
  const banned = [
    "console", "WebAssembly", "SharedArrayBuffer", "Atomics", "ShadowRealm", "eval", "FinalizationRegistry",
  ];
  for (const k of banned) delete G[k];

  // Stack traces end where the sandbox was entered: the host frames below (file names of the server's
  // own code) are never shown. Fixed in place, so a script cannot install a formatter of its own and
  // read the host's call sites.
  defineProperty(E, "prepareStackTrace", {
    value(err: unknown, frames: any[]): string {
      let out: string;
      try {
        out = S(err);
      } catch {
        out = "Error";
      }
      for (const f of frames) {
        const file = S(f.getFileName());
        if (file.startsWith("mosaic:")) {
          if (file === "mosaic:entry") break;
          continue;
        }
        const fn = f.getFunctionName();
        const at = `${file}:${f.getLineNumber()}:${f.getColumnNumber()}`;
        out += `\n    at ${fn ? `${fn} (${at})` : at}`;
      }
      return out;
    },
    writable: false,
    configurable: false,
  });
  // JSC's own captureStackTrace ignores prepareStackTrace: this one builds the trace the same way.
  defineProperty(E, "captureStackTrace", {
    value(obj: any): void {
      const st = S(new E().stack);
      const nl = st.indexOf("\n");
      let head = "Error";
      try {
        head = obj instanceof E ? S(obj) : head;
      } catch {
        // A toString that throws leaves the generic header.
      }
      defineProperty(obj, "stack", { value: head + (nl >= 0 ? st.slice(nl) : ""), writable: true, configurable: true });
    },
    writable: false,
    configurable: false,
  });

  function call(op: number, a?: unknown, b?: unknown, c?: unknown, d?: unknown): any {
    let v: unknown;
    try {
      v = host(op, a, b, c, d);
    } catch {
      throw new E("mosaic: host call failed");
    }
    return v;
  }

  const OK = 0;
  const DECLINED = -1;
  const DONE = -2;
  const pending = new MapC<number, [(v: unknown) => void, (e: unknown) => void]>();
  let exportsObj: any = create(null);

  function asyncOp(c: Call | undefined, kind: string, arg: unknown): Promise<any> {
    return new P((res, rej) => {
      const id = call(OP.ASYNC, c ? c.id : 0, kind, jsonStringify(arg === undefined ? null : arg));
      if (typeof id !== "number") rej(new E(`mosaic: ${kind} is not allowed here (see ScriptAllow)`));
      else pending.set(id, [res, rej]);
    });
  }

  const { Req, calls, write, tableOf, flatten, log, TABLES } = defineRequest({
    call,
    asyncOp: asyncOp as RequestDeps["asyncOp"],
    ops: OP,
  });

  /** A small Fetch-style Response a handler may return instead of writing to `r`. */
  class Resp {
    body: unknown;
    status: number;
    headers: any;
    constructor(body?: unknown, init?: any) {
      this.body = body ?? null;
      this.status = init?.status ?? 200;
      this.headers = init?.headers ?? create(null);
    }
    static json(data: unknown, init?: any): Resp {
      const r = new Resp(jsonStringify(data), init);
      r.headers = { "Content-Type": "application/json", ...r.headers };
      return r;
    }
    static redirect(url: string, status?: number): Resp {
      return new Resp(null, { status: status ?? 302, headers: { Location: S(url) } });
    }
  }

  function finish(c: Call, v: unknown): void {
    if (c.done) return;
    let code = OK;
    if (v === undefined || v === null) code = OK;
    else if (typeof v === "number") code = v;
    else if (typeof v === "string") write(c, v);
    else if (v instanceof Resp) {
      const ho = tableOf(c, "headers_out").proxy;
      const h = v.headers;
      const pairs: unknown[][] = isArray(h) ? h : O.entries(h ?? {});
      for (const [k, val] of pairs) {
        if (S(k).toLowerCase() === "content-type") c.w.content_type = S(val);
        else ho[S(k)] = val;
      }
      c.w.status = v.status;
      if (v.body !== null) write(c, v.body);
    } else return fail(c, new TE("a script function must return a number, a string, a Response or nothing"));
    c.done = true;
    const out = c.w;
    out.code = code;
    out.body = c.text;
    if (c.redirect !== undefined) out.redirect = c.redirect;
    for (const name of TABLES) if (c.tables[name]) out[name] = flatten(c.tables[name]);
    call(OP.DONE, c.id, jsonStringify(out));
  }

  function describe(e: unknown): [string, string] {
    let msg = "unknown error";
    let stack = "";
    try {
      if (e instanceof E) {
        msg = S(e.message);
        stack = S(e.stack);
      } else msg = S(e);
    } catch {
      msg = "(the script threw something that cannot be printed)";
    }
    return [msg, stack];
  }

  function fail(c: Call, e: unknown): void {
    if (c.done) return;
    c.done = true;
    const [error, stack] = describe(e);
    call(OP.DONE, c.id, jsonStringify({ error, stack }));
  }

  async function runFilter(c: Call, fn: any, chunks: string[]): Promise<void> {
    const src = (async function* () {
      for (const x of chunks) yield x;
    })();
    const out = fn(c.r, src);
    if (typeof out === "string") write(c, out);
    else if (out && typeof out[asyncIterator] === "function") for await (const x of out) write(c, x);
    else if (out && typeof out[iterator] === "function") for (const x of out) write(c, x);
    else {
      const v = await out;
      if (typeof v === "string") write(c, v);
    }
  }

  function start(input: any): void {
    const r = new Req();
    const c: Call = {
      id: input.id, d: input.req, w: create(null), r, text: "", tables: create(null), done: false, flushed: false,
      redirect: undefined,
    };
    calls.set(r, c);
    let fn: any;
    try {
      fn = exportsObj[input.fn];
      if (typeof fn !== "function") fn = G[input.fn];
    } catch (e) {
      return fail(c, e);
    }
    if (typeof fn !== "function") return fail(c, new E(`function ${input.fn} is not defined`));
    let v: unknown;
    try {
      if (input.kind === "filter") v = runFilter(c, fn, input.args);
      else if (input.kind === "authz") v = fn(r, ...input.args);
      else v = fn(r);
    } catch (e) {
      return fail(c, e);
    }
    if (v !== null && (typeof v === "object" || typeof v === "function") && typeof (v as any).then === "function") {
      promiseThen.call(P.resolve(v), (x: unknown) => {
        try {
          finish(c, input.kind === "filter" ? undefined : x);
        } catch (e) {
          fail(c, e);
        }
      }, (e: unknown) => fail(c, e));
    } else {
      try {
        finish(c, v);
      } catch (e) {
        fail(c, e);
      }
    }
  }

  function settle(input: any): void {
    const p = pending.get(input.id);
    if (!p) return;
    pending.delete(input.id);
    if (input.ok) p[0](input.v === undefined ? undefined : jsonParse(input.v));
    else p[1](new E(S(input.v)));
  }

  /** The one entry point the worker evaluates: it reads its input once, so a script calling it does nothing. */
  function entry(): void {
    const s = call(OP.INPUT);
    if (typeof s !== "string") return;
    const input = jsonParse(s);
    if (input.k === "call") start(input);
    else if (input.k === "settle") settle(input);
    else if (input.k === "bind") {
      const m = G.module;
      exportsObj = m && typeof m === "object" && m.exports ? m.exports : create(null);
    }
  }

  const consts: Record<string, number> = {
    OK,
    DECLINED,
    DONE,
    AUTHZ_DENIED: 0,
    AUTHZ_GRANTED: 1,
    AUTHZ_NEUTRAL: 2,
    AUTHZ_GENERAL_ERROR: 3,
    AUTHZ_DENIED_NO_USER: 4,
  };
  const mosaic: any = create(null);
  for (const k of O.keys(consts)) {
    mosaic[k] = consts[k];
    // Plain (configurable) globals, so a script's own top-level `const OK` does not clash with them.
    G[k] = consts[k];
  }
  mosaic.Response = Resp;
  mosaic.sleep = (ms: number) => asyncOp(undefined, "sleep", Number(ms) || 0);
  if (call(OP.ALLOWED, "fetch") === true) {
    mosaic.fetch = G.fetch = async (url: string, init?: any) => {
      const res = await asyncOp(undefined, "fetch", {
        url: S(url), method: init?.method ? S(init.method) : "GET", headers: init?.headers ?? {},
        body: init?.body === undefined || init.body === null ? null : S(init.body),
      });
      const body: string = res.body;
      return {
        status: res.status, statusText: res.statusText, ok: res.status >= 200 && res.status < 300,
        headers: res.headers, url: res.url, text: async () => body, json: async () => jsonParse(body),
      };
    };
  }
  if (call(OP.ALLOWED, "env") === true) mosaic.env = G.env = O.freeze(jsonParse(call(OP.ENV)));
  if (call(OP.ALLOWED, "files") === true) {
    mosaic.files = G.files = O.freeze({
      read: (p: string) => asyncOp(undefined, "files", { op: "read", path: S(p) }),
      write: (p: string, data: string) => asyncOp(undefined, "files", { op: "write", path: S(p), data: S(data) }),
      stat: (p: string) => asyncOp(undefined, "files", { op: "stat", path: S(p) }),
      list: (p: string) => asyncOp(undefined, "files", { op: "list", path: S(p) }),
    });
  }
  G.mosaic = O.freeze(mosaic);
  G.Response = Resp;
  G.console = O.freeze({
    log: (...a: unknown[]) => log(undefined, "info", a),
    info: (...a: unknown[]) => log(undefined, "info", a),
    warn: (...a: unknown[]) => log(undefined, "warn", a),
    error: (...a: unknown[]) => log(undefined, "err", a),
    debug: (...a: unknown[]) => log(undefined, "debug", a),
  });
  G.module = { exports: create(null) };
  G.exports = G.module.exports;
  defineProperty(G, "__mosaicLoadFailed", {
    value: (e: unknown) => {
      const [msg, stack] = describe(e);
      call(OP.LOADERR, msg, stack);
    },
  });
  defineProperty(G, "__mosaic", { value: entry, writable: false, configurable: false, enumerable: false });
}
