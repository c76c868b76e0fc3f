// Script contexts in a worker: creation (null-prototype global, no code generation, own microtask
// queue), and their lifetimes per ScriptScope: once, request, conn, thread, or a server pool.
import util from "node:util";
import vm from "node:vm";
import type { Compiled } from "./compile.ts";
import { OP } from "./protocol.ts";
import type { ScriptSpec } from "./protocol.ts";
import { sandboxMain } from "./sandbox.ts";
import { defineRequest } from "./sandbox-request.ts";
import type { HostFn } from "./sandbox.ts";

/** One script context: a vm context holding the sandbox runtime and one version of one file. */
export interface Ctx {
  vm: vm.Context;
  compiled: Compiled;
  spec: ScriptSpec;
  /** The next input of the sandbox's entry point; read (and cleared) through OP.INPUT. */
  input: string | undefined;
  /** Calls started in this context and not finished. */
  active: number;
  uses: number;
  dead: boolean;
  lastUsed: number;
  /** Where it is kept: a map key (request/conn/thread), or its pool (server). */
  key: string | undefined;
  pool: Pool | undefined;
  reqKey: number;
  /** Set while the script's top level runs: the error it threw, if any. */
  loadError: string | undefined;
}

export interface Pool {
  idle: Ctx[];
  total: number;
  waiters: (() => void)[];
}

// The directive is repeated here: Bun drops "use strict" from a module's function source.
const BOOT = new vm.Script(`"use strict"; [${sandboxMain.toString()}, ${defineRequest.toString()}]`, {
  filename: "mosaic:sandbox",
});
const ENTRY = new vm.Script("__mosaic()", { filename: "mosaic:entry" });
const OPS_JSON = JSON.stringify(OP);
const CONTEXT_OPTIONS = {
  // afterEvaluate: promise jobs run inside runInContext, so under its timeout (bun.md §7).
  microtaskMode: "afterEvaluate",
  codeGeneration: { strings: false, wasm: false },
} as const;

/** True for the vm timeout (a host error); never runs script code, even for a Proxy or a getter. */
export function isTimeout(e: unknown): boolean {
  if (typeof e !== "object" || e === null || util.types.isProxy(e)) return false;
  return Object.getOwnPropertyDescriptor(e, "code")?.value === "ERR_SCRIPT_EXECUTION_TIMEOUT";
}

/**
 * Creates a context and loads `compiled` into it. Throws a string (the reason) when the script's top
 * level fails or overruns `timeout`.
 */
export function createCtx(compiled: Compiled, spec: ScriptSpec, makeHost: (ctx: Ctx) => HostFn, timeout: number): Ctx {
  const ctx: Ctx = {
    vm: vm.createContext(Object.create(null), CONTEXT_OPTIONS),
    compiled,
    spec,
    input: undefined,
    active: 0,
    uses: 0,
    dead: false,
    lastUsed: performance.now(),
    key: undefined,
    pool: undefined,
    reqKey: 0,
    loadError: undefined,
  };
  const [main, defineReq] = BOOT.runInContext(ctx.vm) as [typeof sandboxMain, typeof defineRequest];
  main(makeHost(ctx), OPS_JSON, defineReq);
  timeout = Math.max(1, Math.ceil(timeout));
  try {
    compiled.script.runInContext(ctx.vm, { timeout });
  } catch (e) {
    throw isTimeout(e) ? `the script's top level ran longer than ${timeout} ms` : "the script's top level failed";
  }
  if (ctx.loadError !== undefined) throw ctx.loadError;
  ctx.input = '{"k":"bind"}';
  ENTRY.runInContext(ctx.vm, { timeout });
  return ctx;
}

/** Runs the sandbox entry with `input`; false when it overran `timeout` or broke (the context is dead). */
export function enter(ctx: Ctx, input: string, timeout: number): "ok" | "timeout" | "broken" {
  ctx.input = input;
  try {
    ENTRY.runInContext(ctx.vm, { timeout: Math.max(1, Math.ceil(timeout)) });
    return "ok";
  } catch (e) {
    ctx.dead = true;
    return isTimeout(e) ? "timeout" : "broken";
  } finally {
    ctx.input = undefined;
  }
}

/** Contexts kept between calls, by scope. */
export class ContextStore {
  private byKey = new Map<string, Ctx>();
  private byRequest = new Map<number, Ctx[]>();
  private pools = new Map<string, Pool>();

  /**
   * The context for a call, creating it when the scope has none (or only a stale one). For `server`
   * it may wait for a free context of the pool.
   */
  async acquire(
    spec: ScriptSpec,
    compiled: Compiled,
    reqKey: number,
    connKey: string,
    newConn: boolean,
    create: () => Ctx,
  ): Promise<Ctx> {
    // What a context may reach is fixed when it is made: contexts differ by ScriptAllow too.
    const base = `${spec.server}|${spec.file}|a${spec.allow}`;
    switch (spec.scope) {
      case "once":
        return create();
      case "server":
        return this.fromPool(base, spec, compiled, create);
      case "request":
      case "conn":
      case "thread": {
        const key =
          spec.scope === "request" ? `${base}|r${reqKey}` : spec.scope === "conn" ? `${base}|c${connKey}` : `${base}|t`;
        let ctx = this.byKey.get(key);
        if (ctx && (ctx.dead || ctx.compiled !== compiled || (newConn && spec.scope === "conn"))) {
          this.byKey.delete(key);
          ctx = undefined;
        }
        if (!ctx) {
          ctx = create();
          ctx.key = key;
          this.byKey.set(key, ctx);
          if (spec.scope === "request") {
            ctx.reqKey = reqKey;
            const list = this.byRequest.get(reqKey);
            if (list) list.push(ctx);
            else this.byRequest.set(reqKey, [ctx]);
          }
        }
        return ctx;
      }
    }
  }

  private async fromPool(base: string, spec: ScriptSpec, compiled: Compiled, create: () => Ctx): Promise<Ctx> {
    let pool = this.pools.get(base);
    if (!pool) {
      pool = { idle: [], total: 0, waiters: [] };
      this.pools.set(base, pool);
      // ScriptInterpStart: the pool starts with this many contexts (more are made up to the max).
      for (let i = 0; i < spec.pool.start && i < spec.pool.max; i++) this.addIdle(pool, create);
    }
    for (;;) {
      while (pool.idle.length) {
        const ctx = pool.idle.pop()!;
        if (!ctx.dead && ctx.compiled === compiled) return ctx;
        pool.total--;
      }
      if (pool.total < spec.pool.max) {
        const ctx = create();
        ctx.pool = pool;
        pool.total++;
        return ctx;
      }
      await new Promise<void>((resolve) => pool.waiters.push(resolve));
    }
  }

  private addIdle(pool: Pool, create: () => Ctx): void {
    try {
      const ctx = create();
      ctx.pool = pool;
      pool.total++;
      pool.idle.push(ctx);
    } catch {
      // The first real call reports the load error.
    }
  }

  /** After a call: back to the pool (or retired: MaxRequestsPerInterp, MaxSpare), or kept by key. */
  release(ctx: Ctx, create: () => Ctx): void {
    ctx.lastUsed = performance.now();
    const pool = ctx.pool;
    if (!pool) {
      if (ctx.dead && ctx.key !== undefined && this.byKey.get(ctx.key) === ctx) this.byKey.delete(ctx.key);
      return;
    }
    const p = ctx.spec.pool;
    if (ctx.dead || (p.maxRequests > 0 && ctx.uses >= p.maxRequests) || pool.idle.length >= p.maxSpare) {
      pool.total--;
    } else pool.idle.push(ctx);
    // ScriptInterpMinSpare: keep that many idle contexts ready (made after the response, not during).
    while (pool.idle.length < p.minSpare && pool.total < p.max && !ctx.dead) this.addIdle(pool, create);
    pool.waiters.shift()?.();
  }

  /** The request ended: its request-scope contexts go. */
  endRequest(reqKey: number): void {
    const list = this.byRequest.get(reqKey);
    if (!list) return;
    this.byRequest.delete(reqKey);
    for (const ctx of list) {
      if (ctx.key !== undefined && this.byKey.get(ctx.key) === ctx) this.byKey.delete(ctx.key);
    }
  }

  /** Connections have no close event here: conn contexts idle longer than the keep-alive go. */
  sweep(connIdleMs: number): void {
    const now = performance.now();
    for (const [k, ctx] of this.byKey) {
      if (ctx.spec.scope === "conn" && ctx.active === 0 && now - ctx.lastUsed > connIdleMs) this.byKey.delete(k);
    }
  }

  /** A configuration went away (reload, or a server stopped): its contexts go with it. */
  dropServer(server: number): void {
    const prefix = `${server}|`;
    for (const k of this.byKey.keys()) if (k.startsWith(prefix)) this.byKey.delete(k);
    for (const k of this.pools.keys()) if (k.startsWith(prefix)) this.pools.delete(k);
  }
}
