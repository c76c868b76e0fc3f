// The MPM modules (event, worker, prefork): their directives, and the scoreboard hooks every child runs.
import type { LoadedConfig } from "../../src/config/load.ts";
import type { Request } from "../../src/http/request.ts";
import { DECLINED, defineModule } from "../../src/module.ts";
import type { DirectiveDef, Module } from "../../src/module.ts";
import { resolveMpm } from "../../src/mpm/limits.ts";
import type { MpmConfig, MpmName } from "../../src/mpm/limits.ts";
import { attachedRecorder, localRecorderFor } from "../../src/scoreboard/index.ts";
import type { Recorder } from "../../src/scoreboard/index.ts";
import { faultHandler } from "./fault.ts";

export type { MpmConfig, MpmName, MpmSettings } from "../../src/mpm/limits.ts";

type Key = Exclude<keyof MpmConfig, "scoreBoardFile" | "asyncRequestWorkerFactor">;
const NUMERIC: [string, Key, string, MpmName[]][] = [
  ["StartServers", "startServers", "Number of child processes launched at server startup", ["event", "worker", "prefork"]],
  ["ServerLimit", "serverLimit", "Maximum number of child processes for this run of Apache", ["event", "worker", "prefork"]],
  ["ThreadLimit", "threadLimit", "Maximum number of worker threads per child process for this run of Apache - Upper limit for ThreadsPerChild", ["event", "worker"]],
  ["ThreadsPerChild", "threadsPerChild", "Number of threads each child creates", ["event", "worker"]],
  ["MaxRequestWorkers", "maxRequestWorkers", "Maximum number of threads alive at the same time", ["event", "worker", "prefork"]],
  ["MaxClients", "maxRequestWorkers", "Deprecated name of MaxRequestWorkers", ["event", "worker", "prefork"]],
  ["MinSpareThreads", "minSpareThreads", "Minimum number of idle threads, to handle request spikes", ["event", "worker"]],
  ["MaxSpareThreads", "maxSpareThreads", "Maximum number of idle threads", ["event", "worker"]],
  ["MinSpareServers", "minSpareServers", "Minimum number of idle children, to handle request spikes", ["prefork"]],
  ["MaxSpareServers", "maxSpareServers", "Maximum number of idle children", ["prefork"]],
  ["MaxConnectionsPerChild", "maxConnectionsPerChild", "Maximum number of connections a particular child serves before dying.", ["event", "worker", "prefork"]],
  ["MaxRequestsPerChild", "maxConnectionsPerChild", "Deprecated name of MaxConnectionsPerChild", ["event", "worker", "prefork"]],
  ["ListenBacklog", "listenBacklog", "Maximum length of the queue of pending connections, as used by listen(2)", ["event", "worker", "prefork"]],
  ["GracefulShutdownTimeout", "gracefulShutdownTimeout", "Maximum time in seconds to wait for child processes to complete transactions during shutdown", ["event", "worker", "prefork"]],
];

/** C's atoi, as the MPMs read their numbers: leading digits, else 0 (so `0`/`-3` reach the clamping). */
function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

function directivesFor(mpm: MpmName): DirectiveDef<MpmConfig, undefined>[] {
  const list: DirectiveDef<MpmConfig, undefined>[] = NUMERIC.filter(([, , , m]) => m.includes(mpm)).map(
    ([name, key, help]) => ({
      name,
      args: [1, 1],
      contexts: ["server"],
      help,
      apply({ args, server }) {
        const n = atoi(args[0]!);
        // listen.c: "ListenBacklog must be > 0".
        if (key === "listenBacklog" && n < 1) return "ListenBacklog must be > 0";
        server[key] = n;
      },
    }),
  );
  list.push({
    name: "ScoreBoardFile",
    args: [1, 1],
    contexts: ["server"],
    help: "A file for Apache to maintain runtime process management information",
    apply({ args, server, resolvePath }) {
      server.scoreBoardFile = resolvePath(args[0]!);
    },
  });
  if (mpm === "event") {
    list.push({
      name: "AsyncRequestWorkerFactor",
      args: [1, 1],
      contexts: ["server"],
      help: "How many additional connects will be accepted per idle worker thread",
      apply({ args, server }) {
        if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(args[0]!)) return "error parsing value";
        const n = Number(args[0]);
        if (!(n > 0)) return "AsyncRequestWorkerFactor argument must be a positive number";
        // event.c keeps it in 1/16 units and never below 1.
        server.asyncRequestWorkerFactor = Math.max(1, Math.floor(n * 16) / 16);
      },
    });
  }
  return list;
}

/**
 * post_read_request, really first: the request takes a worker slot of this child's scoreboard row.
 * A server run without the control thread (in-process) gets a one-process scoreboard on first use.
 */
function begin(r: Request): void | Promise<void> {
  return (attachedRecorder() ?? localRecorder(r)).begin(r);
}

/** log_transaction, really last (after the access log, as Apache's SERVER_BUSY_LOG comes first). */
function end(r: Request): void {
  (attachedRecorder() ?? localRecorder(r)).end(r);
}

let lastRt: object | undefined;
let lastRec: Recorder | undefined;

/** The in-process server's own scoreboard (one identity check per request in the common case). */
function localRecorder(r: Request): Recorder {
  if (r.rt === lastRt) return lastRec!;
  const cfg = r.rt.cfg as Partial<LoadedConfig> & LoadedConfig;
  const mpm = (cfg.mpm ?? "event") as MpmName;
  const mod = MPM_MODULES.find((m) => m.name === `mpm_${mpm}`)!;
  const { settings } = resolveMpm(mpm, mod.serverConf(cfg.main) ?? {});
  lastRec = localRecorderFor(r.rt, mpm, settings.threadsPerChild, r.rt.generation);
  lastRt = r.rt;
  return lastRec;
}

function mpmModule(mpm: MpmName) {
  return defineModule<MpmConfig, undefined>({
    name: `mpm_${mpm}`,
    sourceName: `${mpm}.c`,
    description: `${mpm} MPM`,
    directives: directivesFor(mpm),
    createServerConfig: () => ({}),
    hooks: {
      post_read_request: { fn: begin, order: "reallyFirst" },
      log_transaction: { fn: end, order: "reallyLast" },
      handler: { fn: (r: Request) => (r.handler?.startsWith("mosaic-fault-") ? faultHandler(r) : DECLINED), order: "first" },
    },
  });
}

export const mpmEvent = mpmModule("event");
export const mpmWorker = mpmModule("worker");
export const mpmPrefork = mpmModule("prefork");
export const MPM_MODULES: Module<MpmConfig, undefined>[] = [mpmEvent, mpmWorker, mpmPrefork];
