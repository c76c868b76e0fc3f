// `mosaic -X`: one child in the foreground, in this very process, for debugging (Apache's ONE_PROCESS).
import { consola } from "consola";
import core from "../../modules/core/index.ts";
import { MPM_MODULES } from "../../modules/mpm/index.ts";
import type { CliOptions } from "../cli.ts";
import type { LoadedConfig, LoadOptions } from "../config/load.ts";
import { ConfigError } from "../config/node.ts";
import { flushLogs, logError, reopenLogs } from "../log/error-log.ts";
import { closeStaleLogWriters, startLogGeneration } from "../log/writer.ts";
import type { Runtime } from "../runtime.ts";
import { attachRecorder } from "../scoreboard/index.ts";
import { H, P, PF, PS } from "../scoreboard/layout.ts";
import { Scoreboard } from "../scoreboard/scoreboard.ts";
import { startListening } from "../serve.ts";
import type { Listening } from "../serve.ts";
import { prepare } from "../server.ts";
import { BUILT, SERVER_DESCRIPTION } from "../version.ts";
import { recorderOptions } from "./child-main.ts";
import { resolveMpm } from "./limits.ts";
import type { MpmName } from "./limits.ts";
import { pidFilePath, removePidFile, writePidFile } from "./pidfile.ts";

/**
 * Serves from the main thread with no control thread and no other child: one process slot on the
 * scoreboard. Signals still work: USR1/HUP reload in place, TERM/INT stop, WINCH stops gracefully.
 */
export async function runDebug(cli: CliOptions, opts: LoadOptions): Promise<void> {
  void cli;
  const warn = (m: string) => consola.warn(m);
  let rt: Runtime;
  try {
    rt = await prepare(opts, 1, warn);
  } catch (e) {
    process.stderr.write(`${e instanceof ConfigError ? e.format() : (e as Error).message}\n`);
    process.exit(1);
  }
  const mpm = ((rt.cfg as Partial<LoadedConfig>).mpm ?? "event") as MpmName;
  const settings = resolveMpm(mpm, MPM_MODULES.find((m) => m.name === `mpm_${mpm}`)!.serverConf(rt.cfg.main) ?? {}).settings;
  const sb = Scoreboard.create({ serverLimit: 1, threadLimit: settings.threadsPerChild, mpm });
  sb.set(H.threadsPerChild, settings.threadsPerChild);
  sb.set(H.maxRequestWorkers, settings.threadsPerChild);
  sb.set(H.configGeneration, 1);
  const p = sb.proc(0);
  sb.set(p + P.pid, process.pid);
  sb.set(p + P.tid, process.pid);
  sb.set(p + P.serial, 1);
  sb.set(p + P.state, PS.READY);
  sb.f64[(p >> 1) + PF.startedAt] = Date.now();
  // No control thread samples the kernel here: the child keeps its connection table itself.
  const rec = attachRecorder(sb, { ...recorderOptions(0, 1, { ...settings, maxConnectionsPerChild: 0 }), selfManaged: true });
  const main = () => rt.cfg.main;
  const log = (level: "notice" | "info" | "error", text: string, module = `mpm_${mpm}`) => logError(main(), level, module, text);
  let pidFile: string | undefined;
  let listening: Listening;
  try {
    const pf = pidFilePath(core.serverConf(rt.cfg.main).pidFile, rt.cfg.serverRoot);
    pidFile = writePidFile(pf.file, pf.explicit, rt.cfg.main);
    listening = startListening(rt);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
  const started = () => {
    log("notice", `AH00489: ${SERVER_DESCRIPTION} configured -- resuming normal operations`);
    log("info", `AH00490: Server built: ${BUILT}`);
    log("notice", `AH00094: Command line: '${["mosaic", ...process.argv.slice(2)].join(" ")}'`, "core");
  };
  started();
  let chain = Promise.resolve();
  const reload = (line: string) => {
    chain = chain.then(async () => {
      log("notice", line);
      startLogGeneration();
      try {
        const next = await prepare(opts, rt.generation + 1, (m) => log("notice", m, "core"));
        rt = next;
        listening.reload(next);
        rec.reconfigure(next.generation, rec.tpc, rec.connectionBound, 0);
        sb.set(H.configGeneration, next.generation);
        reopenLogs();
        void closeStaleLogWriters();
        started();
      } catch (e) {
        const msg = e instanceof ConfigError ? e.format() : (e as Error).message;
        log("error", `AH00000: configuration reload failed, still serving generation ${rt.generation}: ${msg.replace(/\n/g, " ")}`);
      }
    });
  };
  const stop = async (graceful: boolean) => {
    if (graceful) {
      removePidFile(pidFile, main());
      log("notice", "AH00492: caught SIGWINCH, shutting down gracefully");
    }
    await listening.stop(!graceful);
    if (!graceful) {
      removePidFile(pidFile, main());
      log("notice", "AH00491: caught SIGTERM, shutting down");
    }
    await flushLogs();
    process.exit(0);
  };
  process.on("SIGUSR1", () => reload("AH00493: SIGUSR1 received.  Doing graceful restart"));
  process.on("SIGHUP", () => reload("AH00494: SIGHUP received.  Attempting to restart"));
  process.on("SIGTERM", () => void stop(false));
  process.on("SIGINT", () => void stop(false));
  process.on("SIGWINCH", () => void stop(true));
}
