// collectSnapshot(): the MPM's shared scoreboard (src/scoreboard) read into a StatusSnapshot.
import os from "node:os";
import { snapshot } from "../../src/scoreboard/index.ts";
import type { ScoreboardSnapshot, WorkerRow as SbWorker } from "../../src/scoreboard/index.ts";
import { BUILT, SERVER_DESCRIPTION } from "../../src/version.ts";
import type { CpuTimes, DurationHistogram, HistoryPoint, ProcessRow, SlotChar, StatusSnapshot, VhostCounters, WorkerRow } from "./snapshot.ts";

/** What the request contributes: names as this request sees them, and mosaic's own counters. */
export interface SnapshotContext {
  serverName: string;
  localIp: string;
  /** The configuration generation serving the request (an old-generation child reports its own, as Apache's). */
  configGeneration: number;
  extended: boolean;
  now: number;
  vhosts: VhostCounters[];
  histogram: DurationHistogram;
  history: HistoryPoint[];
}

/**
 * Reads this thread's scoreboard (every process and worker slot) and builds the snapshot; undefined
 * when the thread has none (nothing has served a request here yet).
 */
export function collectSnapshot(ctx: SnapshotContext): StatusSnapshot | undefined {
  const sb = snapshot(true);
  return sb ? buildSnapshot(sb, ctx) : undefined;
}

const NO_CPU: CpuTimes = { user: 0, system: 0, childrenUser: 0, childrenSystem: 0 };

/**
 * Builds the snapshot as mod_status's handler walks the scoreboard: slot characters (dead slots beyond
 * MaxRequestWorkers' children or ThreadsPerChild are "disabled" and never printed), totals over the
 * slots that served or are busy, the rows of the per-worker table. Process and worker rows carry
 * configuration generations (1 at start); Apache prints MPM generations (0 at start), hence the `- 1`.
 * The generations printed are the ones this child serves (as an Apache child reports its own), while
 * "old gen" is judged against the scoreboard's current generation.
 */
export function buildSnapshot(sb: ScoreboardSnapshot, ctx: SnapshotContext): StatusSnapshot {
  const g = sb.globals;
  const tpc = Math.max(1, g.threadsPerChild);
  const maxServers = Math.max(1, Math.floor(g.maxRequestWorkers / tpc));
  const now = ctx.now;
  const processes: ProcessRow[] = sb.processes.map((p) => ({
    slot: p.slot,
    pid: p.pid,
    generation: Math.max(0, p.generation - 1),
    quiescing: p.quiescing,
    accepting: p.accepting,
    connections: p.connections,
    // Apache's wait-io counts connections parked for I/O by a module (TLS, tunnels): none here.
    waitIo: 0,
    writing: p.writing,
    keepAlive: p.keepAlive,
    closing: p.closing,
    waiting: p.waiting,
  }));
  const workers: WorkerRow[] = [];
  let slots = "";
  let accesses = 0;
  let bytes = 0;
  let duration = 0;
  for (const w of sb.workers) {
    const ch = w.state as SlotChar;
    slots += ch === "." && (w.process >= maxServers || w.thread >= tpc) ? " " : ch;
    if (w.slotAccess === 0 && (ch === "_" || ch === ".")) continue;
    accesses += w.slotAccess;
    bytes += w.bytesSlot;
    duration += w.totalDuration;
    if (ctx.extended) workers.push(workerRow(w, sb.processes[w.process], now));
  }
  const cpu = g.kernel.sampledAt > 0 ? serverCpu(sb) : ownCpu();
  const load = os.loadavg();
  return {
    source: "scoreboard",
    serverName: ctx.serverName,
    localIp: ctx.localIp,
    serverVersion: SERVER_DESCRIPTION,
    mpm: g.mpm,
    isAsync: g.mpm === "event",
    built: BUILT,
    now,
    restartTime: g.restartTime,
    configGeneration: ctx.configGeneration,
    mpmGeneration: Math.max(0, ctx.configGeneration - 1),
    // Rows carry configuration generations; the scoreboard's own is their reference (a one-process
    // scoreboard of an in-process server sets only that one).
    boardGeneration: Math.max(0, g.configGeneration - 1),
    uptime: Math.max(0, Math.floor((now - g.restartTime) / 1000)),
    load: [load[0] ?? 0, load[1] ?? 0, load[2] ?? 0],
    extended: ctx.extended,
    serverLimit: g.serverLimit,
    threadLimit: g.threadLimit,
    threadsPerChild: tpc,
    maxServers,
    slots,
    processes,
    workers,
    // Apache carries whole KiB as it adds slots (kbcount += bcount >> 10; bcount &= 0x3ff): the floor.
    totals: { accesses, bytes, kbytes: Math.floor(bytes / 1024), durationMs: duration },
    cpu: ctx.extended ? ticks(cpu) : NO_CPU,
    connectionsMeasured: g.kernel.measured,
    vhosts: ctx.vhosts,
    histogram: ctx.histogram,
    history: ctx.history,
  };
}

/**
 * The server's CPU as Apache adds it up (the parent's times plus each child's): thread children are
 * already inside the server process's own times; prefork children are processes of their own.
 */
function serverCpu(sb: ScoreboardSnapshot): CpuTimes {
  const c = { ...sb.globals.cpu };
  if (sb.globals.mpm !== "prefork") return c;
  for (const p of sb.processes) {
    if (p.pid === 0) continue;
    c.user += p.cpuUser;
    c.system += p.cpuSystem;
  }
  return c;
}

/**
 * Without a control thread (a server run in-process) nobody samples CPU into the scoreboard; the
 * serving process is this one, so its own getrusage is the measurement.
 */
function ownCpu(): CpuTimes {
  const u = process.cpuUsage();
  return { user: u.user / 1e6, system: u.system / 1e6, childrenUser: 0, childrenSystem: 0 };
}

/** Apache's CPU figures are clock ticks (1/100 s) over the tick: keep that resolution. */
function ticks(c: CpuTimes): CpuTimes {
  const t = (s: number) => Math.floor(s * 100) / 100;
  return { user: t(c.user), system: t(c.system), childrenUser: t(c.childrenUser), childrenSystem: t(c.childrenSystem) };
}

function workerRow(w: SbWorker, p: ScoreboardSnapshot["processes"][number] | undefined, now: number): WorkerRow {
  // Apache's last_used moves at a request's start and end; its Req is stop - start, 0 while one runs.
  const lastUsed = Math.max(w.lastUsed, w.stopTime);
  const running = w.stopTime < w.lastUsed;
  const cpuUser = p?.cpuUser ?? 0;
  const cpuSystem = p?.cpuSystem ?? 0;
  return {
    process: w.process,
    thread: w.thread,
    generation: Math.max(0, w.generation - 1),
    pid: w.state === "." ? 0 : w.pid,
    state: w.state as SlotChar,
    accessConn: w.connAccess,
    accessChild: w.childAccess,
    accessSlot: w.slotAccess,
    cpu: { user: cpuUser, system: cpuSystem, childrenUser: 0, childrenSystem: 0 },
    secondsSinceUse: lastUsed > 0 ? Math.max(0, Math.floor((now - lastUsed) / 1000)) : 0,
    reqMs: running || w.lastUsed === 0 ? 0 : Math.trunc(w.lastDuration),
    durationMs: w.totalDuration,
    bytesConn: w.bytesConn,
    bytesChild: w.bytesChild,
    bytesSlot: w.bytesSlot,
    client: w.client,
    protocol: w.protocol,
    vhost: w.vhost,
    request: w.request,
  };
}
