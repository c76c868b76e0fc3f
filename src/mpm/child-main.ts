// One child (a worker thread or a prefork process): builds its own Runtime, listens, obeys the control thread.
import fs from "node:fs";
import { ConfigError } from "../config/node.ts";
import { flushLogs, logError, reopenLogs } from "../log/error-log.ts";
import { closeStaleLogWriters, setLogRelay, startLogGeneration } from "../log/writer.ts";
import type { Runtime } from "../runtime.ts";
import { attachRecorder } from "../scoreboard/index.ts";
import type { Recorder } from "../scoreboard/index.ts";
import { P, PF, PS } from "../scoreboard/layout.ts";
import { Scoreboard } from "../scoreboard/scoreboard.ts";
import { startListening } from "../serve.ts";
import type { Listening } from "../serve.ts";
import { prepare } from "../server.ts";
import type { MpmSettings } from "./limits.ts";
import type { FromChild, InitMessage, ToChild } from "./protocol.ts";

/** How a child talks to its control thread, whatever carries the messages. */
export interface ControlPort {
  post(msg: FromChild): void;
  onMessage(fn: (msg: ToChild) => void): void;
  /** Ends this child (worker thread or process) with `code`. */
  exit(code: number): never;
}

/** The heartbeat the control thread watches: a child that misses ~1 s of beats is hung. */
const BEAT_MS = 100;
const SWEEP_MS = 5000;
/** A retiring child closes its listener after this long without a new connection... */
const QUIET_MS = 100;
/** ...or after this long at most (steady new-connection traffic never goes quiet). */
const MAX_LINGER_MS = 2000;

/** This thread's OS thread id (from /proc/thread-self), or the pid where that is not available. */
function osThreadId(): number {
  try {
    return Number(fs.readlinkSync("/proc/thread-self").split("/").pop());
  } catch {
    return process.pid;
  }
}

function errorText(e: unknown): string {
  if (e instanceof ConfigError) return e.format();
  return (e as Error)?.message ?? String(e);
}

/**
 * Runs a child until the control thread stops it. Unhandled rejections are logged and survived;
 * an uncaught exception ends the child, and the control thread replaces it.
 */
export function runChild(port: ControlPort): void {
  let rt: Runtime | undefined;
  let listening: Listening | undefined;
  let rec: Recorder | undefined;
  let stopping = false;
  const quiet = () => {};

  process.on("unhandledRejection", (e) => {
    logError(rt?.cfg.main, "error", "core", `AH00000: unhandled rejection in child: ${(e as Error)?.stack ?? String(e)}`);
  });

  const finish = async (code: number): Promise<never> => {
    if (rec) {
      rec.sb.set(rec.p + P.state, PS.STOPPING);
    }
    await flushLogs().catch(() => {});
    port.post({ t: "stopped" });
    return port.exit(code);
  };

  const init = async (m: InitMessage) => {
    setLogRelay((key, data) => port.post({ t: "log", key, data }));
    const sb = typeof m.board === "string" ? Scoreboard.fromFile(m.board) : Scoreboard.fromBuffer(m.board);
    const p = sb.proc(m.slot);
    // Beat from the start: building the config is part of what must not hang.
    const beat = setInterval(() => Atomics.add(sb.i32, p + P.heartbeat, 1), BEAT_MS);
    beat.unref?.();
    const tid = osThreadId();
    sb.set(p + P.pid, process.pid);
    sb.set(p + P.tid, tid);
    try {
      rt = withPorts(await prepare({ ...m.opts }, m.generation, quiet), m.ports);
      rec = attachRecorder(sb, recorderOptions(m.slot, m.generation, m.settings, () => port.post({ t: "recycle" })));
      listening = startListening(rt, { reusePort: true });
    } catch (e) {
      port.post({ t: "fatal", error: errorText(e) });
      await flushLogs().catch(() => {});
      return port.exit(1);
    }
    sb.f64[(p >> 1) + PF.startedAt] = Date.now();
    sb.set(p + P.state, PS.READY);
    const sweep = setInterval(() => rec?.sweep(), SWEEP_MS);
    sweep.unref?.();
    port.post({ t: "ready", tid, ports: listening.ports });
  };

  const reload = async (m: Extract<ToChild, { t: "reload" }>) => {
    if (!listening || !rec || stopping) return;
    startLogGeneration();
    let next: Runtime;
    try {
      next = withPorts(await prepare({ ...m.opts }, m.generation, quiet), m.ports);
    } catch (e) {
      port.post({ t: "reload-failed", generation: m.generation, error: errorText(e) });
      return;
    }
    rt = next;
    listening.reload(next);
    const o = recorderOptions(rec.slot, m.generation, m.settings);
    rec.reconfigure(m.generation, o.threadsPerChild, o.connectionBound, o.maxConnections);
    reopenLogs();
    void closeStaleLogWriters();
    port.post({ t: "reloaded", generation: m.generation });
  };

  const drain = async (lingerMs: number, timeoutMs: number) => {
    if (!listening || stopping) return;
    stopping = true;
    rec?.startDraining();
    if (rec) rec.sb.set(rec.p + P.state, PS.DRAINING);
    // bun.md §4: answer with Connection: close for a moment so keep-alive clients move on cleanly,
    // then close what is idle, then stop (in-flight requests finish), bounded by the timeout.
    // Closing a reusePort listener resets what waits in its accept queue (tcp_migrate_req 0), so
    // it closes once no new connection has come for a while: clients sent away by the
    // Connection: close answers reconnect, and some land here again until they find another child.
    const start = Date.now();
    await Bun.sleep(lingerMs);
    while (rec && Date.now() - rec.lastNewConnection < QUIET_MS && Date.now() - start < MAX_LINGER_MS) await Bun.sleep(10);
    for (const s of listening.servers) s.closeIdleConnections?.();
    await stopWithin(listening, timeoutMs);
    return finish(0);
  };

  const stop = async (force: boolean, timeoutMs: number) => {
    if (stopping && !force) return;
    stopping = true;
    if (rec) rec.sb.set(rec.p + P.state, PS.STOPPING);
    if (listening) {
      if (force) await listening.stop(true);
      else {
        rec?.startDraining();
        await stopWithin(listening, timeoutMs);
      }
    }
    return finish(0);
  };

  port.onMessage((m) => {
    switch (m.t) {
      case "init":
        return void init(m);
      case "reload":
        return void reload(m);
      case "drain":
        return void drain(m.lingerMs, m.timeoutMs);
      case "stop":
        return void stop(m.force, m.timeoutMs);
      case "freed":
        return rec?.wake();
    }
  });
}

/** `Listen x:0` binds the port the control thread resolved, the same in every child. */
function withPorts(rt: Runtime, ports: number[]): Runtime {
  rt.listeners = rt.listeners.map((lv, i) => {
    const port = ports[i];
    return lv.listen.port === 0 && port ? { ...lv, listen: { ...lv.listen, port } } : lv;
  });
  return rt;
}

/** stop() lets in-flight requests finish; past `timeoutMs` (0: never) they are cut, as Apache's SIGKILL. */
async function stopWithin(listening: Listening, timeoutMs: number): Promise<void> {
  const graceful = listening.stop(false);
  if (timeoutMs <= 0) return graceful;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
  const res = await Promise.race([graceful.then(() => "done" as const), expired]);
  clearTimeout(timer);
  if (res === "timeout") await listening.stop(true);
}

/** The recorder settings one MPM implies (worker MPM: connections hold worker slots). */
export function recorderOptions(slot: number, generation: number, s: MpmSettings, onLimit?: () => void) {
  return {
    slot,
    generation,
    threadsPerChild: s.threadsPerChild,
    connectionBound: s.mpm === "worker",
    maxConnections: s.maxConnectionsPerChild,
    onLimit,
  };
}
