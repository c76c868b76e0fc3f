// Once a second: the kernel's socket table joined with the connections children recorded, and CPU times.
import { C, CF, CS, H, HF, P, PF, W, WS } from "../scoreboard/layout.ts";
import { connKey, cpuTimes, sampleKernel, TCP } from "../scoreboard/proc-net.ts";
import type { Scoreboard } from "../scoreboard/scoreboard.ts";
import type { ChildHandle } from "./children.ts";

/** Per-child figures from one sample (index = process slot). */
export interface SampleResult {
  measured: boolean;
  /** Process slots that have connections waiting for worker slots which this sample released. */
  wake: number[];
}

/**
 * Samples /proc/net/tcp{,6} for the listening `ports` and updates the scoreboard:
 * - per child: connections (recorded by that child and still open), keep-alive (open, no request in
 *   progress), closing (FIN/CLOSE_WAIT states), writing (no request in progress, bytes still queued);
 * - globals: every socket on the ports, the accept queues, connections not yet attributed;
 * - entries whose connection is gone are freed, and (worker MPM) the slot such a connection held
 *   is released, so waiting connections can proceed.
 */
export function sampleConnections(
  sb: Scoreboard,
  ports: ReadonlySet<number>,
  children: readonly (Pick<ChildHandle, "slot"> | undefined)[],
  factor16: number,
  files?: string[],
): SampleResult {
  const since = sb.now();
  const k = sampleKernel(ports, files);
  const i32 = sb.i32;
  const result: SampleResult = { measured: k.ok, wake: [] };
  i32[H.sampled] = k.ok ? 1 : 0;
  sb.f64[HF.sampleTime] = Date.now();
  if (!k.ok) return result;
  const n = sb.serverLimit;
  const conns = new Int32Array(n);
  const ka = new Int32Array(n);
  const closing = new Int32Array(n);
  const writing = new Int32Array(n);
  /** Entries (+1) whose connection is gone or half-closed: a worker slot they hold is free. */
  const freed = new Set<number>();
  let attributedEstablished = 0;
  for (let e = 0; e < sb.connCapacity; e++) {
    const c = sb.conn(e);
    if (Atomics.load(i32, c + C.state) !== CS.LIVE) continue;
    const key = connKey(i32[c + C.addrKey]!, i32[c + C.port]!);
    const state = k.peers.get(key);
    const proc = i32[c + C.proc]!;
    if (state === undefined) {
      // Recorded after the kernel table was read: it may simply be too new to appear yet.
      if (i32[c + C.recordedAt]! >= since) continue;
      Atomics.store(i32, c + C.state, CS.FREE);
      freed.add(e + 1);
      continue;
    }
    if (proc < 0 || proc >= n) continue;
    conns[proc]!++;
    // The client sent its FIN (or we closed): no request can come on it any more.
    if (state !== TCP.ESTABLISHED) freed.add(e + 1);
    if (state === TCP.ESTABLISHED) {
      attributedEstablished++;
      const flags = i32[c + C.flags]!;
      if (flags & CF.BUSY) continue;
      if (k.txQueued.has(key)) writing[proc]!++;
      else if (flags & CF.CLOSING) closing[proc]!++;
      else ka[proc]!++;
    } else closing[proc]!++;
  }
  for (let s = 0; s < n; s++) {
    const p = sb.proc(s);
    const child = children[s];
    Atomics.store(i32, p + P.connections, conns[s]!);
    Atomics.store(i32, p + P.keepAlive, ka[s]!);
    Atomics.store(i32, p + P.closing, closing[s]!);
    Atomics.store(i32, p + P.writing, writing[s]!);
    if (!child) continue;
    let released = false;
    let idle = 0;
    for (let t = 0; t < sb.threadLimit; t++) {
      const w = sb.worker(s, t);
      const st = Atomics.load(i32, w + W.state);
      if (st === WS.KEEPALIVE && freed.has(Atomics.load(i32, w + W.connEntry))) {
        // Worker MPM: the connection that held this slot is closed or closing; Apache's thread
        // would be free now.
        if (Atomics.compareExchange(i32, w + W.state, WS.KEEPALIVE, WS.READY) === WS.KEEPALIVE) {
          Atomics.store(i32, w + W.connEntry, 0);
          released = true;
          idle++;
        }
      } else if (st === WS.READY) idle++;
    }
    if (released && Atomics.load(i32, p + P.waiting) > 0) result.wake.push(s);
    // event.c: a child stops accepting when (connections - lingering) >= ThreadsPerChild + idle * factor.
    const tpc = Atomics.load(i32, p + P.threadsPerChild);
    const over = conns[s]! - closing[s]! >= tpc + Math.floor((idle * factor16) / 16);
    const quiescing = Atomics.load(i32, p + P.quiescing) === 1;
    Atomics.store(i32, p + P.notAccepting, quiescing || over ? 1 : 0);
  }
  i32[H.kConns] = k.peers.size;
  i32[H.kEstablished] = k.established;
  i32[H.kClosing] = k.closing;
  i32[H.kSynRecv] = k.synRecv;
  i32[H.kAcceptQueue] = k.acceptQueue;
  i32[H.kListeners] = k.listeners;
  i32[H.kUnattributed] = Math.max(0, k.established - attributedEstablished);
  return result;
}

/** CPU seconds per child (thread: /proc/self/task/TID/stat; process: /proc/PID/stat) and of the server. */
export function sampleCpu(sb: Scoreboard, children: readonly (ChildHandle | undefined)[]): void {
  for (const child of children) {
    if (!child || !child.tid) continue;
    const t = cpuTimes(child.kind === "thread" ? `/proc/self/task/${child.tid}/stat` : `/proc/${child.pid}/stat`);
    if (!t) continue;
    const pf = sb.proc(child.slot) >> 1;
    sb.f64[pf + PF.cpuUser] = t[0];
    sb.f64[pf + PF.cpuSystem] = t[1];
  }
  const me = cpuTimes("/proc/self/stat");
  if (me) {
    sb.f64[HF.cpuUser] = me[0];
    sb.f64[HF.cpuSystem] = me[1];
    sb.f64[HF.cpuChildrenUser] = me[2];
    sb.f64[HF.cpuChildrenSystem] = me[3];
  }
}
