// `mosaic -k start|restart|graceful|graceful-stop|stop`: httpd's ap_signal_server, through the PidFile.
import core from "../../modules/core/index.ts";
import type { CliOptions } from "../cli.ts";
import { USAGE } from "../cli.ts";
import { loadConfig } from "../config/load.ts";
import type { LoadOptions } from "../config/load.ts";
import { ConfigError } from "../config/node.ts";
import { COMMAND_LINE_ENV, DAEMON_ENV } from "../run.ts";
import { selfCommand } from "./children.ts";
import { isAlive, pidFilePath, readPid } from "./pidfile.ts";

const SIGNAL: Record<string, NodeJS.Signals> = {
  stop: "SIGTERM",
  "graceful-stop": "SIGWINCH",
  restart: "SIGHUP",
  graceful: "SIGUSR1",
};

/** How long `-k start` waits for the detached server to report that it serves. */
const START_WAIT_MS = 30_000;

/**
 * Parses the whole config first (a broken one is refused with AH00526 and exit 1, before any signal
 * is sent), then signals the running server, or starts one detached.
 */
export async function runCtl(cli: CliOptions, opts: LoadOptions): Promise<never> {
  const action = cli.k!;
  if (action !== "start" && !(action in SIGNAL)) {
    process.stderr.write(USAGE);
    process.exit(1);
  }
  let cfg;
  try {
    cfg = loadConfig({ ...opts, warn: () => {} });
  } catch (e) {
    process.stderr.write(`${e instanceof ConfigError ? e.format() : (e as Error).message}\n`);
    process.exit(1);
  }
  const { file } = pidFilePath(core.serverConf(cfg.main).pidFile, cfg.serverRoot);
  let pid: number | undefined;
  try {
    pid = readPid(file);
  } catch {
    process.stderr.write(`AH00058: Error retrieving pid file ${file}\nAH00059: Remove it before continuing if it is corrupted.\n`);
    process.exit(1);
  }
  const running = pid !== undefined && isAlive(pid);
  const say = (s: string) => process.stdout.write(`${s}\n`);
  if (action === "start") {
    if (running) {
      say(`mosaic (pid ${pid}) already running`);
      process.exit(0);
    }
    return startDetached();
  }
  if (!running) {
    if (action === "restart" || action === "graceful") {
      say("mosaic not running, trying to start");
      return startDetached();
    }
    say(pid === undefined ? "mosaic (no pid file) not running" : `mosaic (pid ${pid}?) not running`);
    process.exit(0);
  }
  process.kill(pid!, SIGNAL[action]!);
  process.exit(0);
}

/** The command line without `-k ACTION`: what the detached server runs. */
function argsWithoutK(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "-k") i++;
    else if (!argv[i]!.startsWith("-k")) out.push(argv[i]!);
  }
  return out;
}

/**
 * Starts the server detached (its own session, stdio on /dev/null, as apr_proc_detach does) and
 * waits for it to report over IPC that the children serve, or why it could not start.
 */
async function startDetached(): Promise<never> {
  const argv = process.argv.slice(2);
  let settle!: (m: { t: string; error?: string }) => void;
  const reported = new Promise<{ t: string; error?: string }>((r) => (settle = r));
  const proc = Bun.spawn(selfCommand(argsWithoutK(argv)), {
    detached: true,
    stdio: ["ignore", "ignore", "ignore"],
    ipc: (m) => settle(m as { t: string; error?: string }),
    env: { ...process.env, [DAEMON_ENV]: "1", [COMMAND_LINE_ENV]: ["mosaic", ...argv].join(" ") },
  });
  const exited = proc.exited.then((code) => ({ t: "exited", error: `mosaic: the server exited during startup (status ${code})` }));
  const timeout = Bun.sleep(START_WAIT_MS).then(() => ({ t: "timeout", error: "mosaic: no word from the server after 30 seconds" }));
  const r = await Promise.race([reported, exited, timeout]);
  if (r.t === "started") {
    proc.unref();
    try {
      proc.disconnect();
    } catch {
      // Already disconnected by the server.
    }
    process.exit(0);
  }
  if (r.t !== "failed" && r.t !== "exited") proc.unref();
  process.stderr.write(`${r.error}\n`);
  process.exit(1);
}
