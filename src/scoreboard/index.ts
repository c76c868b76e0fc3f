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

let recorder: Recorder | undefined;

/** Makes `sb` this thread's scoreboard, recording into process slot `opts.slot` (children call this). */
export function attachRecorder(sb: Scoreboard, opts: RecorderOptions): Recorder {
  recorder = new Recorder(sb, opts);
  recorder.open();
  return recorder;
}

/** This thread's recorder, if it serves requests under a scoreboard. */
export function currentRecorder(): Recorder | undefined {
  return recorder;
}

export function detachRecorder(): void {
  recorder = undefined;
}

/**
 * A one-process scoreboard for servers run without the control thread (in-process tests, embedding):
 * created on first use so mod_status always has something to read.
 */
export function ensureLocalRecorder(mpm: "event" | "worker" | "prefork", threadsPerChild: number, generation: number): Recorder {
  if (recorder) return recorder;
  const sb = Scoreboard.create({ serverLimit: 1, threadLimit: threadsPerChild, mpm });
  const p = sb.proc(0);
  sb.set(p + P.pid, process.pid);
  sb.set(p + P.tid, process.pid);
  sb.set(p + P.state, PS.READY);
  sb.set(p + P.serial, 1);
  sb.f64[(p >> 1) + PF.startedAt] = Date.now();
  sb.set(H.threadsPerChild, threadsPerChild);
  sb.set(H.maxRequestWorkers, threadsPerChild);
  sb.set(H.activeDaemonsLimit, 1);
  sb.set(H.configGeneration, generation);
  return attachRecorder(sb, { slot: 0, generation, threadsPerChild, connectionBound: mpm === "worker", maxConnections: 0 });
}

/**
 * Records the start of a request: takes a worker slot (W), notes the request line, client and vhost.
 * Returns a promise only when the child has no free worker slot and the request must wait.
 * @example hooks: { post_read_request: { fn: beginRequest, order: "reallyFirst" } }
 */
export function beginRequest(r: Request): void | Promise<void> {
  return recorder?.begin(r);
}

/** Records the end of a request: counts, bytes, duration; releases the slot (log_transaction). */
export function endRequest(r: Request): void {
  recorder?.end(r);
}

/**
 * Everything the scoreboard holds, read from shared memory: globals (MPM, limits, generations,
 * restart time, kernel connection figures), one row per process slot, one per worker slot.
 * Undefined when this thread has no scoreboard.
 * @example const s = snapshot(); s?.processes.filter((p) => p.pid).length
 */
export function snapshot(withWorkers = true): ScoreboardSnapshot | undefined {
  return recorder ? readSnapshot(recorder.sb, withWorkers) : undefined;
}
