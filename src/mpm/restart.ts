// Restarts and shutdowns of the control thread: graceful (in place), hard (fresh children), stops.
import fs from "node:fs";
import { flushLogs, reopenLogs } from "../log/error-log.ts";
import { closeStaleLogWriters, startLogGeneration } from "../log/writer.ts";
import { HF } from "../scoreboard/layout.ts";
import { buildControlConfig } from "./build.ts";
import type { ControlConfig } from "./build.ts";
import type { ChildHandle } from "./children.ts";
import { ACK_MS, DRAIN_LINGER_MS } from "./control.ts";
import type { Control } from "./control.ts";
import { removePidFile } from "./pidfile.ts";

/** Builds the next configuration; on failure logs why and keeps the running one (Apache would exit). */
async function rebuild(c: Control): Promise<ControlConfig | undefined> {
  startLogGeneration();
  try {
    // ServerLimit/ThreadLimit stay fixed for the run, unless the MPM itself changes.
    return await buildControlConfig(c.opts, (m) => c.log("warn", m, "core"), (mpm) => (mpm === c.settings.mpm ? c.retained : undefined));
  } catch (e) {
    const text = (e as { format?: () => string }).format?.() ?? (e as Error).message;
    c.log("error", `AH00000: configuration reload failed, still serving generation ${c.generation}: ${text.replace(/\n/g, " ")}`);
    return undefined;
  }
}

function commit(c: Control, next: ControlConfig): void {
  if (next.settings.mpm !== c.settings.mpm) c.retained = { serverLimit: next.settings.serverLimit, threadLimit: next.settings.threadLimit };
  c.cc = next;
  for (const w of next.warnings) c.log("warn", w.text);
  c.generation++;
  c.mpmGeneration++;
  reopenLogs();
  void closeStaleLogWriters();
  try {
    c.resolvePorts();
  } catch (e) {
    c.log("error", `AH00000: ${(e as Error).message.replace(/\n/g, " ")}`);
  }
}

/** USR1: new config in place in every child (server.reload, zero loss); children leave only when they must. */
export async function graceful(c: Control): Promise<void> {
  c.log("notice", "AH00493: SIGUSR1 received.  Doing graceful restart");
  const prevMpm = c.settings.mpm;
  const next = await rebuild(c);
  if (!next) return;
  commit(c, next);
  c.maint.holdOff = 10;
  if (next.settings.mpm !== prevMpm) {
    await replaceAll(c, false);
  } else {
    c.writeHeader();
    const acks: Promise<void>[] = [];
    for (const child of c.children) {
      if (child && child.state === "ready") acks.push(c.sendReload(child));
    }
    await withTimeout(Promise.all(acks), ACK_MS);
    // Fewer children allowed now: retire the extra ones (highest slots first).
    const live = c.children.filter((ch): ch is ChildHandle => !!ch && (ch.state === "ready" || ch.state === "starting"));
    for (const ch of live.slice(c.settings.activeDaemonsLimit)) c.retire(ch, false);
  }
  c.logStarted();
}

/** HUP: a fresh scoreboard and fresh children; the old ones are cut (in-flight requests end). */
export async function restart(c: Control): Promise<void> {
  c.log("notice", "AH00494: SIGHUP received.  Attempting to restart");
  const next = await rebuild(c);
  if (!next) return;
  commit(c, next);
  await replaceAll(c, true);
  c.sb.f64[HF.restartTime] = Date.now();
  c.logStarted();
}

/**
 * New children on a new scoreboard first (no refused connections), then the old ones leave:
 * cut at once for a hard restart, drained for an MPM change.
 */
async function replaceAll(c: Control, hard: boolean): Promise<void> {
  const old = c.children.filter((ch): ch is ChildHandle => !!ch);
  const oldBoard = c.sb;
  for (const ch of old) c.leaving.add(ch);
  c.sb = c.createBoard(c.settings);
  // The new board keeps the server's start time, and its restart time unless this is a hard restart.
  c.sb.f64[HF.startTime] = oldBoard.f64[HF.startTime]!;
  if (!hard) c.sb.f64[HF.restartTime] = oldBoard.f64[HF.restartTime]!;
  c.children = new Array(c.sb.serverLimit).fill(undefined);
  const fresh = c.spawnMany(c.settings.startServers);
  await withTimeout(Promise.all(fresh.map((ch) => c.waitReady(ch))), ACK_MS);
  const timeoutMs = c.settings.gracefulShutdownTimeout * 1000;
  for (const ch of old) {
    if (ch.state === "dead") continue;
    ch.state = hard ? "stopping" : "draining";
    if (hard) ch.send({ t: "stop", force: true, timeoutMs: 0 });
    else ch.send({ t: "drain", lingerMs: DRAIN_LINGER_MS, timeoutMs });
  }
  if (hard) {
    await withTimeout(Promise.all(old.map((ch) => ch.exited)), 3000);
    for (const ch of old) ch.kill();
  }
  if (oldBoard.file && oldBoard.file !== c.sb.file) {
    void Promise.all(old.map((ch) => ch.exited)).then(() => fs.rmSync(oldBoard.file!, { force: true }));
  }
}

/**
 * Stops every child: `force` cuts in-flight requests (TERM), otherwise listeners close and
 * in-flight requests finish within `timeoutMs` (WINCH; 0 = wait as long as they take).
 */
export async function shutdown(c: Control, force: boolean, timeoutMs: number, log: boolean): Promise<void> {
  c.stopping = true;
  for (const t of c.timers) clearInterval(t);
  const all = [...c.children.filter((ch): ch is ChildHandle => !!ch), ...c.leaving];
  if (log && !force) {
    removePidFile(c.pidFile, c.cfg.main);
    c.log("notice", "AH00492: caught SIGWINCH, shutting down gracefully");
  }
  for (const ch of all) {
    ch.state = "stopping";
    ch.send({ t: "stop", force, timeoutMs });
  }
  const grace = force ? 3000 : timeoutMs > 0 ? timeoutMs + 2000 : 0;
  if (grace > 0) await withTimeout(Promise.all(all.map((ch) => ch.exited)), grace);
  else await Promise.all(all.map((ch) => ch.exited));
  for (const ch of all) ch.kill();
  await withTimeout(Promise.all(all.map((ch) => ch.exited)), 2000);
  if (log && force) {
    removePidFile(c.pidFile, c.cfg.main);
    c.log("notice", "AH00491: caught SIGTERM, shutting down");
  } else if (!log) removePidFile(c.pidFile, c.cfg.main);
  if (c.sb.file) fs.rmSync(c.sb.file, { force: true });
  await flushLogs().catch(() => {});
}

/** `p`, or undefined once `ms` have passed. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms))),
  ]);
}
