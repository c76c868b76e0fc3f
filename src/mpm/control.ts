// The control thread: config, signals, PidFile, scoreboard and children; it never serves a request.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { LoadedConfig, LoadOptions } from "../config/load.ts";
import { logError } from "../log/error-log.ts";
import type { Level } from "../log/error-log.ts";
import { H, P, PS, W, WS } from "../scoreboard/layout.ts";
import { tcpMigrateReq } from "../scoreboard/proc-net.ts";
import { Scoreboard } from "../scoreboard/scoreboard.ts";
import { BUILT, SERVER_DESCRIPTION } from "../version.ts";
import { buildControlConfig, probeListeners } from "./build.ts";
import type { ControlConfig } from "./build.ts";
import { SIGNAL_NAMES, spawnProcess, spawnThread } from "./children.ts";
import type { ChildHandle } from "./children.ts";
import type { MpmSettings, RetainedLimits } from "./limits.ts";
import { createMaintenanceState } from "./maintenance.ts";
import { pidFilePath, writePidFile } from "./pidfile.ts";
import { childLoadOptions } from "./protocol.ts";
import { writeRelayed } from "../log/writer.ts";
import type { FromChild } from "./protocol.ts";
import { graceful, restart, shutdown } from "./restart.ts";
import { maintenance, watchdog } from "./watch.ts";

/** A child that misses heartbeats this long is hung (a busy loop in a handler): it is replaced. */
export const HANG_MS = 1000;
/** A starting child gets longer: loading the bundle and building the config happen before it beats. */
export const START_HANG_MS = 15_000;
/** How long a retiring child keeps answering with Connection: close before it closes idle connections. */
export const DRAIN_LINGER_MS = 500;
/** How long a restart waits for children to report ready or reloaded. */
export const ACK_MS = 15_000;

type Ready = { ok: true } | { ok: false; error: string };

/**
 * The control thread of one mosaic server. `start()` returns once the first children serve; after
 * that everything is driven by signals (or the methods the signals call) and two timers.
 */
export class Control {
  cc: ControlConfig;
  sb: Scoreboard;
  generation = 1;
  mpmGeneration = 0;
  retained: RetainedLimits;
  children: (ChildHandle | undefined)[];
  /** Children of an earlier scoreboard (hard restart, MPM change) still finishing. */
  readonly leaving = new Set<ChildHandle>();
  private serial = 0;
  readonly maint = createMaintenanceState();
  private readonly readyWaits = new Map<ChildHandle, (r: Ready) => void>();
  private readonly reloadWaits = new Map<ChildHandle, () => void>();
  pidFile: string | undefined;
  ports = new Set<number>();
  private resolvedPorts = new Map<string, number>();
  timers: ReturnType<typeof setInterval>[] = [];
  ops: Promise<void> = Promise.resolve();
  private queued = { graceful: false, restart: false };
  opRunning = false;
  successiveKills = 0;
  nextSample = 0;
  stopping = false;

  private constructor(
    readonly opts: LoadOptions,
    readonly commandLine: string,
    cc: ControlConfig,
  ) {
    this.cc = cc;
    this.retained = { serverLimit: cc.settings.serverLimit, threadLimit: cc.settings.threadLimit };
    this.sb = this.createBoard(cc.settings);
    this.children = new Array(cc.settings.serverLimit).fill(undefined);
  }

  get cfg(): LoadedConfig {
    return this.cc.cfg;
  }

  get settings(): MpmSettings {
    return this.cc.settings;
  }

  private get module(): string {
    return `mpm_${this.settings.mpm}`;
  }

  /**
   * Reads the config (errors throw: the caller prints them and exits 1), binds-checks the Listen
   * addresses, writes the PidFile, starts StartServers children and waits until they serve.
   */
  static async start(opts: LoadOptions, commandLine: string, warn: (m: string) => void): Promise<Control> {
    const cc = await buildControlConfig(opts, warn);
    for (const w of cc.warnings) process.stderr.write(`${w.text}\n`);
    const c = new Control(opts, commandLine, cc);
    c.resolvePorts();
    const pf = pidFilePath(cc.pidFile, cc.cfg.serverRoot);
    c.pidFile = writePidFile(pf.file, pf.explicit, cc.cfg.main);
    c.noteMigrateReq();
    // Signals are ours from now on: a stop during startup stops cleanly, restarts wait for the start.
    let startedUp!: () => void;
    c.ops = new Promise<void>((r) => (startedUp = r));
    c.installSignals();
    const started = c.spawnMany(c.settings.startServers);
    // Apache logs AH00489 once it has forked the children, before they serve.
    c.logStarted();
    const results = await Promise.all(started.map((ch) => c.waitReady(ch)));
    if (c.stopping) return c;
    const failed = results.find((r): r is { ok: false; error: string } => !r.ok);
    if (failed) {
      await shutdown(c, true, 0, false);
      throw new Error(failed.error);
    }
    startedUp();
    // A bug in a timer must not take the control thread (and with it every child) down.
    const guard = (fn: (c: Control) => void) => () => {
      try {
        fn(c);
      } catch (e) {
        c.log("error", `AH00000: ${fn.name} failed: ${(e as Error).stack ?? e}`);
      }
    };
    c.timers.push(setInterval(guard(watchdog), 250), setInterval(guard(maintenance), 1000));
    return c;
  }

  createBoard(s: MpmSettings): Scoreboard {
    // Threads share a SharedArrayBuffer; processes (prefork) need a shared mapping of a file, in
    // /dev/shm unless ScoreBoardFile names one (then threads map it too, so other tools can read it).
    let file = s.scoreBoardFile;
    if (!file && s.mpm === "prefork") {
      const dir = fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
      file = path.join(dir, `mosaic-${process.pid}-${Date.now()}.scoreboard`);
    }
    const sb = Scoreboard.create({ serverLimit: this.retained.serverLimit, threadLimit: s.mpm === "prefork" ? 1 : this.retained.threadLimit, mpm: s.mpm }, file);
    this.writeHeader(sb);
    return sb;
  }

  writeHeader(sb = this.sb): void {
    const s = this.settings;
    sb.set(H.mpm, ["event", "worker", "prefork"].indexOf(s.mpm));
    sb.set(H.threadsPerChild, s.threadsPerChild);
    sb.set(H.maxRequestWorkers, s.maxRequestWorkers);
    sb.set(H.activeDaemonsLimit, s.activeDaemonsLimit);
    sb.set(H.workerFactor16, Math.round(s.asyncRequestWorkerFactor * 16));
    sb.set(H.configGeneration, this.generation);
    sb.set(H.mpmGeneration, this.mpmGeneration);
  }

  /** Port 0 in a Listen resolves once (every child must bind the same port); sampling needs the ports. */
  resolvePorts(): number[] {
    const listens = this.cc.listens;
    const todo = listens.filter((l, i) => !this.resolvedPorts.has(`${i}|${l.host}|${l.port}`));
    const got = probeListeners(todo);
    todo.forEach((l, i) => this.resolvedPorts.set(`${listens.indexOf(l)}|${l.host}|${l.port}`, got[i]!));
    const ports = listens.map((l, i) => this.resolvedPorts.get(`${i}|${l.host}|${l.port}`)!);
    this.ports = new Set(ports);
    return ports;
  }

  private listenPorts(): number[] {
    return this.cc.listens.map((l, i) => this.resolvedPorts.get(`${i}|${l.host}|${l.port}`) ?? l.port);
  }

  private noteMigrateReq(): void {
    const v = tcpMigrateReq();
    this.sb.set(H.tcpMigrateReq, v);
    if (v === 0) {
      this.log("info", `AH00000: net.ipv4.tcp_migrate_req is 0: connections still queued on a retiring child's listener are reset when it closes; set it to 1 to hand them to the remaining children`);
    } else if (v === 1) {
      this.log("info", "AH00000: net.ipv4.tcp_migrate_req is 1: connections queued on a retiring child's listener move to the remaining children");
    }
  }

  log(level: Level, text: string, module = this.module): void {
    logError(this.cfg.main, level, module, text);
  }

  logStarted(): void {
    this.log("notice", `AH00489: ${SERVER_DESCRIPTION} configured -- resuming normal operations`);
    this.log("info", `AH00490: Server built: ${BUILT}`);
    this.log("notice", `AH00094: Command line: '${this.commandLine}'`, "core");
  }

  // ---- children ----------------------------------------------------------------------------

  /** Starts up to `n` children in the lowest free process slots (startup_children / make_child). */
  spawnMany(n: number): ChildHandle[] {
    const out: ChildHandle[] = [];
    const limit = this.settings.mpm === "prefork" ? this.settings.maxRequestWorkers : this.sb.serverLimit;
    for (let slot = 0; slot < Math.min(limit, this.sb.serverLimit) && out.length < n; slot++) {
      if (this.children[slot]) continue;
      out.push(this.spawn(slot));
    }
    return out;
  }

  private spawn(slot: number): ChildHandle {
    const sb = this.sb;
    const s = this.settings;
    const serial = ++this.serial;
    sb.resetProcess(slot, WS.DEAD);
    const p = sb.proc(slot);
    sb.set(p + P.serial, serial);
    sb.set(p + P.state, PS.STARTING);
    sb.set(p + P.generation, this.generation);
    for (let t = 0; t < s.threadsPerChild; t++) sb.set(sb.worker(slot, t) + W.state, WS.STARTING);
    const init = {
      t: "init" as const,
      opts: childLoadOptions(this.opts),
      generation: this.generation,
      slot,
      serial,
      settings: s,
      board: sb.file ?? (sb.buffer as SharedArrayBuffer),
      ports: this.listenPorts(),
    };
    const hooks = { onMessage: (c: ChildHandle, m: FromChild) => this.onMessage(c, m, sb), onExit: (c: ChildHandle, code: number) => this.onExit(c, code, sb) };
    const child = s.mpm === "prefork" ? spawnProcess(init, hooks) : spawnThread(init, hooks);
    // Visible at once (the child fills in its thread id when it starts).
    sb.set(p + P.pid, child.pid);
    this.children[slot] = child;
    return child;
  }

  waitReady(child: ChildHandle): Promise<Ready> {
    if (child.state !== "starting") return Promise.resolve(child.state === "dead" ? { ok: false, error: child.lastError ?? "child died" } : { ok: true });
    return new Promise((resolve) => this.readyWaits.set(child, resolve));
  }

  private settle(child: ChildHandle, r: Ready): void {
    const w = this.readyWaits.get(child);
    this.readyWaits.delete(child);
    w?.(r);
  }

  private onMessage(child: ChildHandle, m: FromChild, board: Scoreboard): void {
    switch (m.t) {
      case "log":
        writeRelayed(m.key, m.data);
        return;
      case "ready":
        child.tid = m.tid;
        this.log("debug", `AH00000: child pid ${child.pid} tid ${m.tid} started in slot ${child.slot} (generation ${child.generation})`);
        if (child.state === "starting") child.state = "ready";
        this.settle(child, { ok: true });
        // It was started before a graceful restart finished: bring it to the current generation.
        if (board === this.sb && child.generation < this.generation && !this.stopping) this.sendReload(child);
        return;
      case "fatal":
        child.lastError = m.error;
        this.settle(child, { ok: false, error: m.error });
        return;
      case "reloaded":
        child.generation = m.generation;
        this.reloadWaits.get(child)?.();
        this.reloadWaits.delete(child);
        return;
      case "reload-failed":
        this.log("error", `AH00000: child pid ${child.pid} (slot ${child.slot}) could not load generation ${m.generation}, replacing it: ${m.error.replace(/\n/g, " ")}`);
        this.reloadWaits.get(child)?.();
        this.reloadWaits.delete(child);
        this.retire(child, true);
        return;
      case "recycle":
        // MaxConnectionsPerChild: start the replacement first, then retire this child.
        if (child.state !== "ready" || this.stopping || board !== this.sb) return;
        this.log("debug", `AH00000: child pid ${child.pid} (slot ${child.slot}) reached MaxConnectionsPerChild ${this.settings.maxConnectionsPerChild}: retiring it`);
        this.retire(child, true);
        return;
      case "stopped":
        return;
    }
  }

  private onExit(child: ChildHandle, code: number, board: Scoreboard): void {
    const expected = child.state === "draining" || child.state === "stopping";
    const wasReady = child.state !== "starting";
    child.state = "dead";
    this.settle(child, { ok: false, error: child.lastError ?? `child exited with status ${code}` });
    this.reloadWaits.get(child)?.();
    this.reloadWaits.delete(child);
    this.leaving.delete(child);
    if (board === this.sb && this.children[child.slot] === child) {
      this.children[child.slot] = undefined;
      board.resetProcess(child.slot, WS.DEAD);
      board.dropConnections(child.slot);
    }
    if (this.stopping || expected || board !== this.sb) return;
    if (!child.killedFor) {
      const why = child.kind === "process" && code > 128
        ? `AH00052: child pid ${child.pid} exit signal ${SIGNAL_NAMES[code - 128] ?? "Unknown"} (${code - 128})`
        : `AH00000: child ${child.kind === "thread" ? `thread ${child.tid || "?"} of pid ${child.pid}` : `pid ${child.pid}`} (slot ${child.slot}) exited unexpectedly with status ${code}${child.lastError ? `: ${child.lastError}` : ""}`;
      this.log("error", why);
    }
    if (!wasReady) return;
    // Apache restarts children that died abnormally at once, up to 3 in a row (AH10392).
    if (child.killedFor !== "hung" && ++this.successiveKills >= 3) {
      if (this.successiveKills % 10 === 3) this.log("warn", "AH10392: children are killed successively!");
      return;
    }
    this.spawn(child.slot);
  }

  /**
   * Retires a child gracefully: its replacement first (when asked), then Connection: close for a
   * moment, idle connections closed, listeners closed, in-flight requests finished.
   */
  retire(child: ChildHandle, replace: boolean): void {
    if (child.state !== "ready" && child.state !== "starting") return;
    let next: ChildHandle | undefined;
    if (replace) {
      next = this.spawnMany(1)[0];
      if (!next) {
        // Every process slot is taken (children still draining): keep serving and try again at the
        // next maintenance cycle rather than leave the port with fewer (or no) listeners.
        child.retirePending = true;
        return;
      }
    }
    child.retirePending = false;
    child.state = "draining";
    this.sb.set(this.sb.proc(child.slot) + P.quiescing, 1);
    const drain = () => child.send({ t: "drain", lingerMs: DRAIN_LINGER_MS, timeoutMs: this.settings.gracefulShutdownTimeout * 1000 });
    if (next) void this.waitReady(next).then(drain);
    else drain();
  }

  sendReload(child: ChildHandle): Promise<void> {
    const done = new Promise<void>((resolve) => this.reloadWaits.set(child, resolve));
    child.send({ t: "reload", opts: childLoadOptions(this.opts), generation: this.generation, settings: this.settings, ports: this.listenPorts() });
    return done;
  }

  // ---- signals and restarts ----------------------------------------------------------------

  private installSignals(): void {
    process.on("SIGUSR1", () => this.request("graceful"));
    process.on("SIGHUP", () => this.request("restart"));
    process.on("SIGTERM", () => this.request("stop"));
    process.on("SIGINT", () => this.request("stop"));
    process.on("SIGWINCH", () => this.request("graceful-stop"));
  }

  /**
   * Queues an operation. Restarts run one at a time and coalesce: a storm of 20 gracefuls a second
   * leaves one running and one queued, so the children always end up on one consistent generation.
   */
  request(op: "graceful" | "restart" | "stop" | "graceful-stop"): Promise<void> {
    if (this.stopping) return this.ops;
    if (op === "stop" || op === "graceful-stop") {
      this.stopping = true;
      for (const t of this.timers) clearInterval(t);
      const graceful = op === "graceful-stop";
      // A stop does not wait for a restart in progress: Apache's shutdown_pending wins at once.
      return (this.ops = shutdown(this, !graceful, this.settings.gracefulShutdownTimeout * 1000, true).then(() => process.exit(0)));
    }
    if (this.queued[op]) return this.ops;
    this.queued[op] = true;
    this.ops = this.ops.then(async () => {
      this.queued[op] = false;
      if (this.stopping) return;
      this.opRunning = true;
      try {
        await (op === "graceful" ? graceful(this) : restart(this));
      } catch (e) {
        this.log("error", `AH00000: ${op} failed: ${(e as Error).stack ?? e}`);
      } finally {
        this.opRunning = false;
      }
    });
    return this.ops;
  }
}
