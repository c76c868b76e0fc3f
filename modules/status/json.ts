// `?json`: the status report as one JSON document (schema "mosaic-status/1", documented in docs/status.md).
import { countStatus } from "./snapshot.ts";
import type { StatusCounts, StatusSnapshot } from "./snapshot.ts";

/** The document `?json` returns. Numbers are raw (not Apache's rounded text); absent figures are null. */
export interface StatusJson {
  schema: "mosaic-status/1";
  source: StatusSnapshot["source"];
  server: {
    name: string;
    localIp: string;
    version: string;
    mpm: string;
    built: string;
    currentTime: string;
    restartTime: string;
    configGeneration: number;
    mpmGeneration: number;
    uptimeSeconds: number;
    load: [number, number, number];
  };
  extendedStatus: boolean;
  /** null without ExtendedStatus (Apache prints none of these then). */
  totals: { accesses: number; bytes: number; kBytes: number; durationMs: number } | null;
  cpu: { user: number; system: number; childrenUser: number; childrenSystem: number; loadPercent: number | null } | null;
  rates: { requestsPerSec: number | null; bytesPerSec: number | null; bytesPerReq: number | null; durationPerReqMs: number | null } | null;
  workers: { busy: number; graceful: number; idle: number };
  connections: { measured: boolean; total: number; waitIo: number; writing: number; keepAlive: number; closing: number };
  processes: {
    slot: number; pid: number; generation: number; stopping: boolean; oldGeneration: boolean; accepting: boolean;
    connections: number; busy: number; graceful: number; idle: number;
    waitIo: number; writing: number; keepAlive: number; closing: number;
  }[];
  scoreboard: { serverLimit: number; threadLimit: number; threadsPerChild: number; maxServers: number; slots: string };
  /** The per-worker table's rows (ExtendedStatus), `secondsSinceUse` is Apache's SS, `reqMs` its Req. */
  workerSlots: StatusSnapshot["workers"];
  vhosts: StatusSnapshot["vhosts"];
  durationHistogram: { bounds: readonly number[]; counts: number[]; count: number; sumSeconds: number };
  /** `?json&history` only: the last minutes, one point every 2 s. */
  history?: StatusSnapshot["history"];
  /** Lines appended by status hooks (`auto` format). */
  extensions: string[];
}

/** Builds the JSON document of a snapshot (same counting rules as `?auto`). */
export function toStatusJson(
  s: StatusSnapshot,
  opts: { history: boolean; extensions: string },
  c: StatusCounts = countStatus(s),
): StatusJson {
  const t = s.totals;
  const cpuSum = s.cpu.user + s.cpu.system + s.cpu.childrenUser + s.cpu.childrenSystem;
  const doc: StatusJson = {
    schema: "mosaic-status/1",
    source: s.source,
    server: {
      name: s.serverName,
      localIp: s.localIp,
      version: s.serverVersion,
      mpm: s.mpm,
      built: s.built,
      currentTime: new Date(s.now).toISOString(),
      restartTime: new Date(s.restartTime).toISOString(),
      configGeneration: s.configGeneration,
      mpmGeneration: s.mpmGeneration,
      uptimeSeconds: s.uptime,
      load: [s.load[0], s.load[1], s.load[2]],
    },
    extendedStatus: s.extended,
    totals: s.extended ? { accesses: t.accesses, bytes: t.bytes, kBytes: t.kbytes, durationMs: Math.trunc(t.durationMs) } : null,
    cpu: s.extended
      ? { ...s.cpu, loadPercent: cpuSum > 0 && s.uptime > 0 ? (cpuSum / s.uptime) * 100 : null }
      : null,
    rates: s.extended
      ? {
          requestsPerSec: s.uptime > 0 ? t.accesses / s.uptime : null,
          bytesPerSec: s.uptime > 0 ? t.bytes / s.uptime : null,
          bytesPerReq: t.accesses > 0 ? t.bytes / t.accesses : null,
          durationPerReqMs: t.accesses > 0 ? t.durationMs / t.accesses : null,
        }
      : null,
    workers: { busy: c.busy, graceful: c.graceful, idle: c.idle },
    connections: {
      measured: s.connectionsMeasured,
      total: c.connections,
      waitIo: c.waitIo,
      writing: c.writing,
      keepAlive: c.keepAlive,
      closing: c.closing,
    },
    processes: s.processes
      .filter((p) => p.pid !== 0)
      .map((p) => {
        const pp = c.perProcess[p.slot] ?? { busy: 0, graceful: 0, idle: 0 };
        return {
          slot: p.slot, pid: p.pid, generation: p.generation, stopping: p.quiescing,
          oldGeneration: p.generation !== s.boardGeneration, accepting: p.accepting, connections: p.connections,
          busy: pp.busy, graceful: pp.graceful, idle: pp.idle,
          waitIo: p.waitIo, writing: p.writing, keepAlive: p.keepAlive, closing: p.closing,
        };
      }),
    scoreboard: {
      serverLimit: s.serverLimit,
      threadLimit: s.threadLimit,
      threadsPerChild: s.threadsPerChild,
      maxServers: s.maxServers,
      slots: c.scoreboard,
    },
    workerSlots: s.workers,
    vhosts: s.vhosts,
    durationHistogram: s.histogram,
    extensions: opts.extensions ? opts.extensions.replace(/\n$/, "").split("\n") : [],
  };
  if (opts.history) doc.history = s.history;
  return doc;
}
