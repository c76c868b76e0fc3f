// The scoreboard API: what children record per request and what mod_status reads (see docs/mpm.md).
import type { Request } from "../http/request.ts";
import { H, P, PF, PS } from "./layout.ts";
import { Recorder } from "./record.ts";
import type { RecorderOptions } from "./record.ts";
import { Scoreboard } from "./scoreboard.ts";
import { readSnapshot } from "./snapshot.ts";
import type { ScoreboardSnapshot } from "./snapshot.ts";

export { Scoreboard } from "./scoreboard.ts";
export { Recorder } from "./record.ts";
export type { RecorderOptions } from "./record.ts";
export { readSnapshot, scoreboardString, isBusy } from "./snapshot.ts";
export type { ProcessRow, ScoreboardGlobals, ScoreboardSnapshot, WorkerRow } from "./snapshot.ts";

/** The scoreboard this thread was given (a child of the control thread, or -X). */
let attached: Recorder | undefined;
/** In-process servers (no control thread): one scoreboard per server, the last one that served. */
let local: Recorder | undefined;
const locals = new WeakMap<object, Recorder>();

/** Makes `sb` this thread's scoreboard, recording into process slot `opts.slot` (children call this). */
export function attachRecorder(sb: Scoreboard, opts: RecorderOptions): Recorder {
  attached = new Recorder(sb, opts);
  attached.open();
  return attached;
}

/** This thread's recorder: the attached one, else the in-process server that served last. */
export function currentRecorder(): Recorder | undefined {
  return attached ?? local;
}

/** The recorder given by the control thread (or -X), if any. */
export function attachedRecorder(): Recorder | undefined {
  return attached;
}

export function detachRecorder(): void {
  attached = undefined;
}

/**
 * The scoreboard of a server run without the control thread (in-process tests, embedding), created
 * on its first request so mod_status always has something to read. `rt` identifies the server's
 * configuration; a graceful reload (generation > 1) continues the scoreboard of the server that
 * served last, a fresh start gets its own, so servers in one test process do not count each other.
 */
export function localRecorderFor(rt: object, mpm: "event" | "worker" | "prefork", threadsPerChild: number, generation: number): Recorder {
  let rec = locals.get(rt);
  if (!rec) {
    rec = generation > 1 && local ? local : createLocal(mpm, threadsPerChild, generation);
    rec.reconfigure(generation, rec.tpc, rec.connectionBound, 0);
    rec.sb.set(H.configGeneration, generation);
    locals.set(rt, rec);
  }
  local = rec;
  return rec;
}

function createLocal(mpm: "event" | "worker" | "prefork", threadsPerChild: number, generation: number): Recorder {
  // A small connection table: a test process may start hundreds of these.
  const sb = Scoreboard.create({ serverLimit: 1, threadLimit: threadsPerChild, mpm, connCapacity: 4096 });
  const p = sb.proc(0);
  sb.set(p + P.pid, process.pid);
  sb.set(p + P.tid, process.pid);
  sb.set(p + P.state, PS.READY);
  sb.set(p + P.serial, 1);
  sb.f64[(p >> 1) + PF.startedAt] = Date.now();
  sb.set(H.threadsPerChild, threadsPerChild);
  sb.set(H.maxRequestWorkers, threadsPerChild);
  sb.set(H.activeDaemonsLimit, 1);
  const rec = new Recorder(sb, { slot: 0, generation, threadsPerChild, connectionBound: mpm === "worker", maxConnections: 0, selfManaged: true });
  rec.open();
  return rec;
}

/**
 * Records the start of a request: takes a worker slot (W), notes the request line, client and vhost.
 * Returns a promise only when the child has no free worker slot and the request must wait.
 * @example hooks: { post_read_request: { fn: beginRequest, order: "reallyFirst" } }
 */
export function beginRequest(r: Request): void | Promise<void> {
  return currentRecorder()?.begin(r);
}

/** Records the end of a request: counts, bytes, duration; releases the slot (log_transaction). */
export function endRequest(r: Request): void {
  currentRecorder()?.end(r);
}

/**
 * Everything the scoreboard holds, read from shared memory: globals (MPM, limits, generations,
 * restart time, kernel connection figures), one row per process slot, one per worker slot.
 * Undefined when this thread has no scoreboard.
 * @example const s = snapshot(); s?.processes.filter((p) => p.pid).length
 */
export function snapshot(withWorkers = true): ScoreboardSnapshot | undefined {
  const rec = currentRecorder();
  return rec ? readSnapshot(rec.sb, withWorkers) : undefined;
}
