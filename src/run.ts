// Running in the foreground: start serving, answer signals as httpd does, reload without losing requests.
import { consola } from "consola";
import type { CliOptions } from "./cli.ts";
import type { LoadOptions } from "./config/load.ts";
import { ConfigError } from "./config/node.ts";
import { flushLogs, logError, reopenLogs } from "./log/error-log.ts";
import { startServer } from "./server.ts";
import type { RunningServer } from "./server.ts";
import { SERVER_DESCRIPTION, BUILT } from "./version.ts";

export async function runForeground(cli: CliOptions, opts: LoadOptions): Promise<void> {
  let server: RunningServer;
  const warn = (m: string) => consola.warn(m);
  try {
    server = await startServer(opts, {}, warn);
  } catch (e) {
    if (e instanceof ConfigError) process.stderr.write(e.format() + "\n");
    else process.stderr.write(`mosaic: could not start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const mpm = "mpm_event";
  const started = () => {
    logError(server.runtime.cfg.main, "notice", mpm, `AH00489: ${SERVER_DESCRIPTION} configured -- resuming normal operations`);
    logError(server.runtime.cfg.main, "info", mpm, `AH00490: Server built: ${BUILT}`);
    logError(server.runtime.cfg.main, "notice", "core", `AH00094: Command line: '${["mosaic", ...process.argv.slice(2)].join(" ")}'`);
  };
  started();
  let reloading = Promise.resolve();
  const reload = (signal: string, id: string, text: string) => {
    reloading = reloading.then(async () => {
      logError(server.runtime.cfg.main, "notice", mpm, `${id}: ${signal} received.  ${text}`);
      try {
        await server.reload();
        reopenLogs();
        started();
      } catch (e) {
        const msg = e instanceof ConfigError ? e.format() : (e as Error).message;
        logError(server.runtime.cfg.main, "error", mpm, `AH00000: configuration reload failed, still serving generation ${server.runtime.generation}: ${msg.replace(/\n/g, " ")}`);
      }
    });
  };
  const stop = async (signal: string, id: string, graceful: boolean) => {
    logError(server.runtime.cfg.main, "notice", mpm, `${id}: caught ${signal}, shutting down${graceful ? " gracefully" : ""}`);
    await server.stop(!graceful);
    await flushLogs();
    process.exit(0);
  };
  process.on("SIGUSR1", () => reload("SIGUSR1", "AH00493", "Doing graceful restart"));
  process.on("SIGHUP", () => reload("SIGHUP", "AH00494", "Attempting to restart"));
  process.on("SIGTERM", () => void stop("SIGTERM", "AH00491", false));
  process.on("SIGINT", () => void stop("SIGINT", "AH00491", false));
  process.on("SIGWINCH", () => void stop("SIGWINCH", "AH00492", true));
  void cli;
}
