// The main thread's side of scripting: a few worker threads, calls with a wall-clock backstop, and a
// memory watchdog. A worker that overruns its limits is terminated and replaced (bun.md §7).
import { createRunner } from "./runner.ts";
import { parseResult } from "./result.ts";
import { decodeDone, encodeCall } from "./protocol.ts";
import type { CallKind, CallResult, FromWorker, RequestData, SandboxCall, ScriptSpec, ToWorker } from "./protocol.ts";

/** What the engine needs from the request a call belongs to. */
export interface CallSite {
  /** Error-log lines from the script (r.info(), console.log()). */
  log(level: string, msg: string): void;
  /** The request body, read once per request. */
  body(): Promise<{ data: ArrayBuffer | null; type: string; error?: string }>;
  /** r.flush(): the head (first time only) and body chunks, before the call's result. */
  flush?(head: CallResult | undefined, parts: (string | Uint8Array)[]): void;
}

export interface CallInput {
  kind: CallKind;
  spec: ScriptSpec;
  req: RequestData;
  args: string[];
  /** ScriptTimeout (ms) and ScriptMemoryLimit (bytes of RSS growth, 0 = none). */
  timeout: number;
  memory: number;
  reqKey: number;
  connKey: string;
  newConn: boolean;
}

interface Pending {
  site: CallSite;
  resolve(res: CallResult): void;
  timer: ReturnType<typeof setTimeout>;
  memory: number;
}

interface Slot {
  worker: Worker | undefined;
  /** `ScriptWorkers 0`: the runner on this thread (no kill switch, no postMessage). */
  local: ((m: ToWorker) => void) | undefined;
  inflight: Map<number, Pending>;
  /** Resident memory when the slot last went from idle to busy. */
  rssBase: number;
  /** Set when the worker failed before it ever answered: not respawned in a loop. */
  broken: string | undefined;
  ready: boolean;
  /** Messages waiting for this turn's postMessage. */
  outbox: ToWorker[];
  /** Spec ids this worker has been told about. */
  specs: Set<number>;
}

/**
 * Where the worker's code is: next to this file when run from source; inside the compiled binary the
 * bundle sits at /$bunfs/root and build.ts adds src/script/worker.ts as an entry point (script/worker.js).
 */
function workerUrl(): string {
  return import.meta.url.includes("/$bunfs/")
    ? new URL("./script/worker.js", import.meta.url).href
    : new URL("./worker.ts", import.meta.url).href;
}

/** Extra time past ScriptTimeout before the worker itself is terminated (its own limits come first). */
function grace(timeout: number): number {
  return Math.max(250, timeout / 4);
}

const WATCH_MS = 20;
const MAX_SPECS = 4096;

/**
 * One per process (a child): workers are shared by every configuration generation and vhost; the
 * contexts inside them are keyed by server config, so nothing is shared between those.
 */
export class ScriptEngine {
  private slots: Slot[] = [];
  private nextId = 1;
  private rr = 0;
  private specIds = new WeakMap<ScriptSpec, number>();
  private nextSpec = 1;
  private watch: ReturnType<typeof setInterval> | undefined;
  /** RSS as of the watchdog's last tick (sampling costs a /proc read: not once per call). */
  private lastRss = 0;
  /** Called when a worker fails (for the error log). */
  onProblem: (msg: string) => void = () => {};
  /** Lines a script logs outside any request (console.log at its top level). */
  onLog: (level: string, msg: string) => void = () => {};
  connIdleMs = 20_000;

  /** ScriptWorkers: worker slots are added on demand, none are removed while the process runs. */
  ensureWorkers(n: number): void {
    while (this.slots.length < Math.max(1, n)) this.slots.push(this.newSlot());
  }

  private newSlot(): Slot {
    return {
      worker: undefined, local: undefined, inflight: new Map(), rssBase: 0, broken: undefined, ready: false,
      outbox: [], specs: new Set(),
    };
  }

  private localSlot: Slot | undefined;

  /** The worker a call goes to: request and conn scopes stick to one, the rest go to the least busy. */
  /** `local`: the configuration says `ScriptWorkers 0` (the runner on this thread, slot -1). */
  pick(sticky: number | undefined, local = false): number {
    if (local) return -1;
    if (this.slots.length === 0) this.ensureWorkers(1);
    if (sticky !== undefined) return sticky % this.slots.length;
    let best = this.rr++ % this.slots.length;
    for (let i = 0; i < this.slots.length; i++) {
      if (this.slots[i]!.inflight.size < this.slots[best]!.inflight.size) best = i;
    }
    return best;
  }

  private slot(index: number): Slot | undefined {
    if (index >= 0) return this.slots[index];
    if (!this.localSlot) this.localSlot = this.newSlot();
    return this.localSlot;
  }

  call(slotIndex: number, input: CallInput, site: CallSite): Promise<CallResult> {
    const slot = this.slot(slotIndex)!;
    if (slot.broken) return Promise.resolve({ error: slot.broken, body: [] });
    if (slotIndex >= 0) this.worker(slot);
    else if (!slot.local) {
      slot.local = createRunner((m) => (typeof m === "string" ? this.done(slot, m) : this.message(slot, m)));
      slot.local({ t: "setup", connIdleMs: this.connIdleMs });
    }
    const id = this.nextId++;
    const call: SandboxCall = { k: "call", id, kind: input.kind, fn: input.spec.fn, req: input.req, args: input.args };
    return new Promise((resolve) => {
      const overrun = `a script ran past ScriptTimeout (${input.timeout} ms) and its worker was terminated`;
      const timer = setTimeout(() => this.kill(slot, overrun, true), input.timeout + grace(input.timeout));
      if (input.memory > 0) this.startWatch();
      if (slot.inflight.size === 0) slot.rssBase = this.lastRss;
      slot.inflight.set(id, { site, resolve, timer, memory: input.memory });
      let specId = this.specIds.get(input.spec);
      if (specId === undefined) this.specIds.set(input.spec, (specId = this.nextSpec++));
      if (!slot.specs.has(specId)) {
        // A map handler with $1 can name endless files: the worker's spec table is kept bounded.
        if (slot.specs.size >= MAX_SPECS) {
          slot.specs.clear();
          this.send(slot, { t: "forgetSpecs" });
        }
        slot.specs.add(specId);
        this.send(slot, { t: "spec", id: specId, spec: input.spec });
      }
      this.send(slot, {
        t: "call", id, specId, input: JSON.stringify(call), timeout: input.timeout,
        reqKey: input.reqKey, connKey: input.connKey, newConn: input.newConn,
      });
    });
  }

  /**
   * Queues a message; one postMessage per turn carries them all (it is the expensive part), as one
   * string when they are all text.
   */
  private send(slot: Slot, m: ToWorker): void {
    if (slot.local) return slot.local(m);
    if (slot.outbox.length === 0) {
      setImmediate(() => {
        const batch = slot.outbox.map((x) => (x.t === "call" ? encodeCall(x) : x));
        slot.outbox = [];
        slot.worker?.postMessage(batch.every((x) => typeof x === "string") ? batch.join("\n") : batch);
      });
    }
    slot.outbox.push(m);
  }

  /** The request is over: its request-scope contexts (in the worker it used) can go. */
  endRequest(slotIndex: number, reqKey: number): void {
    const slot = this.slot(slotIndex);
    if (slot?.worker || slot?.local) this.send(slot, { t: "endRequest", reqKey });
  }

  /** A server configuration is gone: drop its contexts everywhere. */
  dropServer(server: number): void {
    for (const s of [...this.slots, this.localSlot]) {
      if (s?.worker || s?.local) this.send(s, { t: "dropServer", server });
    }
  }

  private worker(slot: Slot): Worker {
    if (slot.worker) return slot.worker;
    const w = new Worker(workerUrl());
    w.unref();
    slot.worker = w;
    slot.ready = false;
    w.onmessage = (e: MessageEvent<string | (string | FromWorker)[]>) => {
      const d = e.data;
      if (typeof d === "string") for (const line of d.split("\n")) this.done(slot, line);
      else for (const m of d) typeof m === "string" ? this.done(slot, m) : this.message(slot, m);
    };
    w.onerror = (e: ErrorEvent) => {
      const msg = `the script worker failed: ${e.message}`;
      if (!slot.ready) slot.broken = msg;
      this.onProblem(msg);
      this.kill(slot, msg, false);
    };
    this.send(slot, { t: "setup", connIdleMs: this.connIdleMs });
    return w;
  }

  private done(slot: Slot, line: string): void {
    const { id, json } = decodeDone(line);
    this.message(slot, { t: "done", id, json });
  }

  private message(slot: Slot, m: FromWorker): void {
    switch (m.t) {
      case "ready":
        slot.ready = true;
        return;
      case "done": {
        const p = slot.inflight.get(m.id);
        if (!p) return;
        slot.inflight.delete(m.id);
        clearTimeout(p.timer);
        if (m.json !== undefined) p.resolve(parseResult(m.json, m.parts));
        else p.resolve({ ...m.res!, body: [...(m.parts ?? []), ...m.res!.body] });
        return;
      }
      case "flush": {
        const p = slot.inflight.get(m.id);
        p?.site.flush?.(m.json !== undefined ? parseResult(m.json, undefined) : undefined, m.parts);
        return;
      }
      case "log": {
        const p = slot.inflight.get(m.id);
        if (p) p.site.log(m.level, m.msg);
        else this.onLog(m.level, m.msg);
        return;
      }
      case "needBody": {
        const p = slot.inflight.get(m.id);
        if (!p) return;
        p.site.body().then(
          (b) => {
            const data = b.data ? b.data.slice(0) : null;
            this.send(slot, { t: "body", id: m.id, data, type: b.type, error: b.error });
          },
          (e: Error) => this.send(slot, { t: "body", id: m.id, data: null, type: "", error: e.message }),
        );
        return;
      }
    }
  }

  /**
   * Terminates a worker (every context in it goes) and answers its calls with an error; the next call
   * starts a fresh worker.
   */
  private kill(slot: Slot, reason: string, timedOut: boolean): void {
    const w = slot.worker;
    slot.worker = undefined;
    // A runner on this thread cannot be stopped: it is dropped, and its contexts with it.
    slot.local = undefined;
    slot.outbox = [];
    slot.specs = new Set();
    if (w) {
      w.onmessage = null;
      w.onerror = null;
      w.terminate();
    }
    for (const p of slot.inflight.values()) {
      clearTimeout(p.timer);
      p.resolve(timedOut ? { timedOut: true, error: reason, body: [] } : { error: reason, body: [] });
    }
    slot.inflight.clear();
  }

  /** ScriptMemoryLimit: sample RSS while limited calls run; over the limit, the worker goes. */
  private startWatch(): void {
    if (this.watch) return;
    this.lastRss = process.memoryUsage.rss();
    this.watch = setInterval(() => {
      let any = false;
      const rss = (this.lastRss = process.memoryUsage.rss());
      for (const slot of this.localSlot ? [...this.slots, this.localSlot] : this.slots) {
        let limit = Infinity;
        for (const p of slot.inflight.values()) if (p.memory > 0 && p.memory < limit) limit = p.memory;
        if (limit === Infinity) continue;
        any = true;
        if (rss - slot.rssBase > limit) {
          const mb = Math.round(limit / 1048576);
          this.kill(slot, `a script exceeded ScriptMemoryLimit (${mb} MB) and its worker was terminated`, false);
        }
      }
      if (!any && this.watch) {
        clearInterval(this.watch);
        this.watch = undefined;
      }
    }, WATCH_MS);
    this.watch.unref();
  }
}

/** The process's engine (each child has its own). */
export const engine = new ScriptEngine();
