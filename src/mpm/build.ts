// The control thread's configuration: loaded, postConfig run (no childInit: children do that), MPM sized.
import core from "../../modules/core/index.ts";
import { MPM_MODULES } from "../../modules/mpm/index.ts";
import { loadConfig } from "../config/load.ts";
import type { LoadedConfig, LoadOptions } from "../config/load.ts";
import type { LifecycleContext } from "../module.ts";
import { resolveMpm } from "./limits.ts";
import type { MpmName, MpmSettings, MpmWarning, RetainedLimits } from "./limits.ts";

export interface ControlConfig {
  cfg: LoadedConfig;
  settings: MpmSettings;
  warnings: MpmWarning[];
  /** Listen addresses in order (host, port). */
  listens: { host: string; port: number }[];
  pidFile: string | undefined;
}

/**
 * Reads and checks the whole configuration in the control thread, as Apache's parent does before
 * touching any child: a failure here (ConfigError, a log that cannot open) leaves everything running.
 */
export async function buildControlConfig(
  opts: LoadOptions,
  warn: (m: string) => void,
  retainedFor: (mpm: MpmName) => RetainedLimits | undefined = () => undefined,
): Promise<ControlConfig> {
  const cfg = loadConfig({ ...opts, warn });
  const ctx: LifecycleContext = { servers: [cfg.main, ...cfg.vhosts], main: cfg.main, serverRoot: cfg.serverRoot, warn };
  for (const m of cfg.modules) await m.postConfig?.(ctx);
  const mpm = cfg.mpm as MpmName;
  const mod = MPM_MODULES.find((m) => m.name === `mpm_${mpm}`)!;
  const { settings, warnings } = resolveMpm(mpm, mod.serverConf(cfg.main) ?? {}, retainedFor(mpm));
  const cs = core.serverConf(cfg.main);
  return {
    cfg,
    settings,
    warnings,
    listens: cs.listens.map((l) => ({ host: l.host, port: l.port })),
    pidFile: cs.pidFile,
  };
}

function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * Binds each Listen address once without SO_REUSEPORT, then lets go. Children bind with reusePort,
 * which would happily share a port with another server started the same way; this keeps Apache's
 * "Address already in use" at startup. Port 0 resolves to the port the kernel picked.
 */
export function probeListeners(listens: { host: string; port: number }[]): number[] {
  return listens.map(({ host, port }) => {
    try {
      const s = Bun.listen({ hostname: host, port, socket: { data() {} } });
      const actual = s.port;
      s.stop(true);
      return actual;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const os = code === "EACCES" ? "(13)Permission denied" : code === "EADDRNOTAVAIL" ? "(99)Cannot assign requested address" : "(98)Address already in use";
      throw new Error(`${os}: AH00072: make_sock: could not bind to address ${hostPort(host, port)}\nAH00451: no listening sockets available, shutting down\nAH00015: Unable to open logs`);
    }
  });
}
