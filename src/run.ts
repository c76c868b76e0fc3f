// Running in the foreground: the MPM's control thread starts the children and answers signals as httpd does.
import { consola } from "consola";
import type { CliOptions } from "./cli.ts";
import type { LoadOptions } from "./config/load.ts";
import { ConfigError } from "./config/node.ts";
import { Control } from "./mpm/control.ts";

/** Set by `-k start` for the detached server it spawns (see src/mpm/ctl.ts). */
export const DAEMON_ENV = "MOSAIC_DAEMON";
export const COMMAND_LINE_ENV = "MOSAIC_COMMAND_LINE";

/**
 * `mosaic -f conf`: stays in the foreground (containers, systemd Type=simple). The control thread
 * loads and checks the config, starts the children, and from then on only manages them.
 */
export async function runForeground(cli: CliOptions, opts: LoadOptions): Promise<void> {
  void cli;
  const daemon = process.env[DAEMON_ENV] === "1";
  const commandLine = process.env[COMMAND_LINE_ENV] ?? ["mosaic", ...process.argv.slice(2)].join(" ");
  delete process.env[DAEMON_ENV];
  delete process.env[COMMAND_LINE_ENV];
  try {
    await Control.start(opts, commandLine, (m) => consola.warn(m));
  } catch (e) {
    const text = e instanceof ConfigError ? e.format() : (e as Error).message;
    process.stderr.write(`${text}\n`);
    if (daemon) {
      tellStarter({ t: "failed", error: text });
      await Bun.sleep(100);
    }
    process.exit(1);
  }
  if (daemon) tellStarter({ t: "started", pid: process.pid });
}

/** Reports to the `-k start` process that is waiting for us, then lets it go. */
function tellStarter(msg: { t: "started"; pid: number } | { t: "failed"; error: string }): void {
  try {
    process.send?.(msg);
    setTimeout(() => process.disconnect?.(), 50).unref();
  } catch {
    // The starter gave up waiting; nothing to tell.
  }
}
