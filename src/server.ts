// One in-process server: load a config, run postConfig/childInit, listen; reload gracefully in place.
import type { LoadedConfig, LoadOptions } from "./config/load.ts";
import { loadConfig } from "./config/load.ts";
import type { LifecycleContext } from "./module.ts";
import { createRuntime } from "./runtime.ts";
import type { Runtime } from "./runtime.ts";
import { startListening } from "./serve.ts";
import type { Listening, ServeOptions } from "./serve.ts";

export interface RunningServer {
  readonly runtime: Runtime;
  readonly ports: number[];
  /** Re-reads the config; if it fails, the old one keeps serving and the error is thrown. */
  reload(opts?: Partial<LoadOptions>): Promise<void>;
  stop(force?: boolean): Promise<void>;
}

/** Builds a configuration and runs every module's postConfig and childInit over it. */
export async function prepare(opts: LoadOptions, generation: number, warn: (m: string) => void): Promise<Runtime> {
  const cfg: LoadedConfig = loadConfig({ ...opts, warn });
  const ctx: LifecycleContext = { servers: [cfg.main, ...cfg.vhosts], main: cfg.main, serverRoot: cfg.serverRoot, warn };
  for (const m of cfg.modules) await m.postConfig?.(ctx);
  for (const m of cfg.modules) await m.childInit?.(ctx);
  return createRuntime(cfg, generation);
}

export async function startServer(
  opts: LoadOptions,
  serve: ServeOptions = {},
  warn: (m: string) => void = (m) => console.warn(m),
): Promise<RunningServer> {
  let current = await prepare(opts, 1, warn);
  let base = opts;
  const listening: Listening = startListening(current, serve);
  return {
    get runtime() {
      return current;
    },
    get ports() {
      return listening.ports;
    },
    async reload(more = {}) {
      base = { ...base, ...more };
      const next = await prepare(base, current.generation + 1, warn);
      current = next;
      listening.reload(next);
    },
    stop: (force) => listening.stop(force),
  };
}
