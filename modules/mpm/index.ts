// The MPM modules' directives (event, worker, prefork) with Apache's defaults; one is always loaded.
import { defineModule } from "../../src/module.ts";
import type { DirectiveDef } from "../../src/module.ts";

export type MpmName = "event" | "worker" | "prefork";

/** Raw MPM settings as configured; undefined means "Apache's default for this MPM". */
export interface MpmConfig {
  startServers?: number;
  serverLimit?: number;
  threadLimit?: number;
  threadsPerChild?: number;
  maxRequestWorkers?: number;
  minSpareThreads?: number;
  maxSpareThreads?: number;
  minSpareServers?: number;
  maxSpareServers?: number;
  maxConnectionsPerChild?: number;
  asyncRequestWorkerFactor?: number;
  listenBacklog?: number;
  gracefulShutdownTimeout?: number;
  scoreBoardFile?: string;
}

type Key = keyof MpmConfig;
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

function directivesFor(mpm: MpmName): DirectiveDef<MpmConfig, undefined>[] {
  const list: DirectiveDef<MpmConfig, undefined>[] = NUMERIC.filter(([, , , m]) => m.includes(mpm)).map(
    ([name, key, help]) => ({
      name,
      args: [1, 1],
      contexts: ["server"],
      help,
      apply({ args, server }) {
        if (!/^\d+$/.test(args[0]!)) return `${name} must be a non-negative integer`;
        (server as Record<string, number>)[key] = Number(args[0]);
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
        const n = Number(args[0]);
        if (!(n > 0)) return "AsyncRequestWorkerFactor argument must be a positive number";
        server.asyncRequestWorkerFactor = n;
      },
    });
  }
  return list;
}

function mpmModule(mpm: MpmName) {
  return defineModule<MpmConfig, undefined>({
    name: `mpm_${mpm}`,
    description: `${mpm} MPM`,
    directives: directivesFor(mpm),
    createServerConfig: () => ({}),
  });
}

export const mpmEvent = mpmModule("event");
export const mpmWorker = mpmModule("worker");
export const mpmPrefork = mpmModule("prefork");
export const MPM_MODULES = [mpmEvent, mpmWorker, mpmPrefork];
