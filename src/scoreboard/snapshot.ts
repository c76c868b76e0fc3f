// A consistent-enough copy of the scoreboard for readers (mod_status): globals, process and worker rows.
import { H, HF, MPM_NAMES, P, PF, PS, W, WF, WS, WT } from "./layout.ts";
import type { Scoreboard } from "./scoreboard.ts";

/** Server-wide figures. Times are ms since the epoch. */
export interface ScoreboardGlobals {
  mpm: "event" | "worker" | "prefork";
  serverLimit: number;
  threadLimit: number;
  threadsPerChild: number;
  maxRequestWorkers: number;
  /** ParentServerConfigGeneration: 1 at start, +1 per restart. */
  configGeneration: number;
  /** ParentServerMPMGeneration: 0 at start, +1 per restart. */
  mpmGeneration: number;
  /** Last start or hard restart (unchanged by graceful restarts). */
  restartTime: number;
  /** First start of this control process. */
  startTime: number;
  parentPid: number;
  /** CPU seconds of the whole server process (threads share one process) and of its child processes. */
  cpu: { user: number; system: number; childrenUser: number; childrenSystem: number };
  /** Kernel-measured connection figures for the listening ports (see docs/mpm.md); `sampledAt` 0: never. */
  kernel: {
    sampledAt: number;
    measured: boolean;
    connections: number;
    established: number;
    closing: number;
    synRecv: number;
    acceptQueue: number;
    /** Established connections no child has seen a request on yet. */
    unattributed: number;
    listeners: number;
    /** net.ipv4.tcp_migrate_req: -1 unknown, 0 off, 1 on. */
    tcpMigrateReq: number;
    /** Connections the table could not record (it was full). */
    overflow: number;
  };
}

/** One process slot (Apache's process_score). */
export interface ProcessRow {
  slot: number;
  /** 0 when the slot is free. */
  pid: number;
  /** OS thread id of a thread child (= pid for a prefork child). */
  tid: number;
  generation: number;
  state: "free" | "starting" | "ready" | "draining" | "stopping";
  quiescing: boolean;
  accepting: boolean;
  threadsPerChild: number;
  /** Connection counts, refreshed once a second from the kernel's socket table. */
  connections: number;
  keepAlive: number;
  closing: number;
  writing: number;
  /** Requests (event) or connections (worker) waiting for a worker slot right now. */
  waiting: number;
  /** Connections since the child started (MaxConnectionsPerChild). */
  totalConnections: number;
  startedAt: number;
  cpuUser: number;
  cpuSystem: number;
  busy: number;
  idle: number;
  graceful: number;
}

/** One worker slot (Apache's worker_score). Durations in ms, times ms since the epoch. */
export interface WorkerRow {
  process: number;
  thread: number;
  /** Scoreboard character: `_ S R W K L D C G I .` */
  state: string;
  generation: number;
  pid: number;
  connAccess: number;
  childAccess: number;
  slotAccess: number;
  bytesConn: number;
  bytesChild: number;
  bytesSlot: number;
  lastUsed: number;
  stopTime: number;
  lastDuration: number;
  totalDuration: number;
  request: string;
  client: string;
  vhost: string;
  protocol: string;
}

export interface ScoreboardSnapshot {
  globals: ScoreboardGlobals;
  /** Every process slot, free ones included (index = slot). */
  processes: ProcessRow[];
  /** Every worker slot of every process slot: `workers[slot * threadLimit + thread]`. */
  workers: WorkerRow[];
}

const STATE_NAMES: ProcessRow["state"][] = ["free", "starting", "ready", "draining", "stopping"];

/** Busy as mod_status counts it: any state but `_ . S I G` (and only in non-quiescing processes). */
export function isBusy(ch: number): boolean {
  return ch !== WS.READY && ch !== WS.DEAD && ch !== WS.STARTING && ch !== WS.IDLE_KILL && ch !== WS.GRACEFUL;
}

/** Reads the whole scoreboard. Costs one pass over every slot; meant for status pages, not per request. */
export function readSnapshot(sb: Scoreboard, withWorkers = true): ScoreboardSnapshot {
  const i = sb.i32;
  const f = sb.f64;
  const globals: ScoreboardGlobals = {
    mpm: MPM_NAMES[i[H.mpm]!] ?? "event",
    serverLimit: sb.serverLimit,
    threadLimit: sb.threadLimit,
    threadsPerChild: i[H.threadsPerChild]!,
    maxRequestWorkers: i[H.maxRequestWorkers]!,
    configGeneration: i[H.configGeneration]!,
    mpmGeneration: i[H.mpmGeneration]!,
    restartTime: f[HF.restartTime]!,
    startTime: f[HF.startTime]!,
    parentPid: i[H.parentPid]!,
    cpu: { user: f[HF.cpuUser]!, system: f[HF.cpuSystem]!, childrenUser: f[HF.cpuChildrenUser]!, childrenSystem: f[HF.cpuChildrenSystem]! },
    kernel: {
      sampledAt: f[HF.sampleTime]!,
      measured: i[H.sampled] === 1,
      connections: i[H.kConns]!,
      established: i[H.kEstablished]!,
      closing: i[H.kClosing]!,
      synRecv: i[H.kSynRecv]!,
      acceptQueue: i[H.kAcceptQueue]!,
      unattributed: i[H.kUnattributed]!,
      listeners: i[H.kListeners]!,
      tcpMigrateReq: i[H.tcpMigrateReq]!,
      overflow: i[H.connOverflow]!,
    },
  };
  const processes: ProcessRow[] = [];
  const workers: WorkerRow[] = [];
  for (let s = 0; s < sb.serverLimit; s++) {
    const p = sb.proc(s);
    const pf = p >> 1;
    const quiescing = i[p + P.quiescing] === 1;
    const row: ProcessRow = {
      slot: s,
      pid: i[p + P.pid]!,
      tid: i[p + P.tid]!,
      generation: i[p + P.generation]!,
      state: STATE_NAMES[i[p + P.state]!] ?? "free",
      quiescing,
      accepting: i[p + P.state] === PS.READY && i[p + P.notAccepting] === 0,
      threadsPerChild: i[p + P.threadsPerChild]!,
      connections: i[p + P.connections]!,
      keepAlive: i[p + P.keepAlive]!,
      closing: i[p + P.closing]!,
      writing: i[p + P.writing]!,
      waiting: i[p + P.waiting]!,
      totalConnections: i[p + P.newConns]!,
      startedAt: f[pf + PF.startedAt]!,
      cpuUser: f[pf + PF.cpuUser]!,
      cpuSystem: f[pf + PF.cpuSystem]!,
      busy: 0,
      idle: 0,
      graceful: 0,
    };
    for (let t = 0; t < sb.threadLimit; t++) {
      const w = sb.worker(s, t);
      const ch = i[w + W.state]!;
      if (row.pid !== 0 && !quiescing) {
        if (ch === WS.READY) row.idle++;
        else if (ch === WS.GRACEFUL) row.graceful++;
        else if (isBusy(ch)) row.busy++;
      }
      if (!withWorkers) continue;
      const fw = w >> 1;
      workers.push({
        process: s,
        thread: t,
        state: String.fromCharCode(ch || WS.DEAD),
        generation: i[w + W.generation]!,
        pid: row.pid,
        connAccess: i[w + W.connAccess]!,
        childAccess: i[w + W.childAccess]!,
        slotAccess: i[w + W.slotAccess]!,
        bytesConn: f[fw + WF.bytesConn]!,
        bytesChild: f[fw + WF.bytesChild]!,
        bytesSlot: f[fw + WF.bytesSlot]!,
        lastUsed: f[fw + WF.startTime]!,
        stopTime: f[fw + WF.stopTime]!,
        lastDuration: f[fw + WF.lastDuration]!,
        totalDuration: f[fw + WF.totalDuration]!,
        request: sb.readText(w, WT.request),
        client: sb.readText(w, WT.client),
        vhost: sb.readText(w, WT.vhost),
        protocol: sb.readText(w, WT.protocol),
      });
    }
    processes.push(row);
  }
  return { globals, processes, workers };
}

/**
 * The `Scoreboard:` string of mod_status: one character per slot, skipping dead slots beyond
 * MaxRequestWorkers' processes or ThreadsPerChild, as status_handler does.
 */
export function scoreboardString(snap: ScoreboardSnapshot): string {
  const g = snap.globals;
  const maxProcs = Math.ceil(g.maxRequestWorkers / Math.max(1, g.threadsPerChild));
  let out = "";
  for (const w of snap.workers) {
    if ((w.process >= maxProcs || w.thread >= g.threadsPerChild) && w.state === ".") continue;
    out += w.state;
  }
  return out;
}
