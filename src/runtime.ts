// A configuration made ready to serve: vhost lookup per listener, banner, effective core limits.
import core from "../modules/core/index.ts";
import { CORE_DEFAULTS } from "../modules/core/config.ts";
import type { ListenSpec } from "../modules/core/config.ts";
import type { BuiltConfig } from "./config/build.ts";
import type { ServerRec } from "./server-rec.ts";
import { serverBanner } from "./version.ts";

/** The servers that may answer on one listener, in the order Apache would consider them. */
export interface ListenerVhosts {
  listen: ListenSpec;
  /** Name-based candidates; the first is the default for this address. Empty → main server. */
  candidates: ServerRec[];
}

export interface Runtime {
  cfg: BuiltConfig;
  /** ParentServerConfigGeneration: 1 at start, +1 per (graceful) restart. */
  generation: number;
  banner: string;
  listeners: ListenerVhosts[];
  /** Largest LimitRequestBody anywhere (Bun's maxRequestBodySize is per server, not per directory). */
  maxBody: number;
  /** Server-wide effective limits of the main server (Bun applies some per listener). */
  keepAliveTimeout: number;
  timeout: number;
}

export function createRuntime(cfg: BuiltConfig, generation: number): Runtime {
  const mainCore = core.serverConf(cfg.main);
  const listeners = mainCore.listens.map((listen) => ({
    listen,
    candidates: vhostsFor(cfg.vhosts, listen),
  }));
  const maxBody = largestBodyLimit(cfg);
  return {
    cfg,
    generation,
    banner: serverBanner(mainCore.serverTokens),
    listeners,
    maxBody,
    keepAliveTimeout: mainCore.keepAliveTimeout ?? CORE_DEFAULTS.keepAliveTimeout,
    timeout: mainCore.timeout ?? CORE_DEFAULTS.timeout,
  };
}

/**
 * Apache's vhost address matching: vhosts naming this listener's exact IP win over `*` ones, which win
 * over `_default_`; among them the Host header picks by name, the first being the default.
 */
function vhostsFor(vhosts: ServerRec[], listen: ListenSpec): ServerRec[] {
  const portOk = (p: number) => p === 0 || p === listen.port;
  const exact = vhosts.filter((v) => v.addrs.some((a) => !a.isDefault && a.host !== "*" && a.host === listen.host && portOk(a.port)));
  if (exact.length) return exact;
  const wild = vhosts.filter((v) =>
    v.addrs.some((a) => !a.isDefault && portOk(a.port) && (a.host === "*" || isWildcardListen(listen.host))),
  );
  if (wild.length) return wild;
  return vhosts.filter((v) => v.addrs.some((a) => a.isDefault && portOk(a.port)));
}

function isWildcardListen(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "*";
}

/** Picks the server for a Host name among a listener's candidates (ServerName, then ServerAlias). */
export function selectServer(rt: Runtime, lv: ListenerVhosts | undefined, host: string): ServerRec {
  const list = lv?.candidates;
  if (!list || list.length === 0) return rt.cfg.main;
  if (host) {
    for (const s of list) {
      if (s.serverName === host) return s;
      for (const a of s.aliases) if (a === host) return s;
      for (const re of s.aliasPatterns) if (re.test(host)) return s;
    }
  }
  return list[0]!;
}

/**
 * Bun's maxRequestBodySize is one number per listener, but LimitRequestBody is per directory: size it
 * to the largest limit anywhere in the config (0 = unlimited wins); the exact per-directory limit is
 * enforced by mosaic as the body is read (src/http/front.ts).
 */
function largestBodyLimit(cfg: BuiltConfig): number {
  const limits: number[] = [];
  const limitOf = (vec: unknown[]) => (vec[core.index] as { limitRequestBody?: number } | undefined)?.limitRequestBody;
  const visit = (vec: unknown[]) => {
    const n = limitOf(vec);
    if (n !== undefined) limits.push(n);
  };
  const sections = (list: import("./server-rec.ts").Section[]): void => {
    for (const sec of list) {
      visit(sec.config);
      sections(sec.nested);
    }
  };
  for (const s of [cfg.main, ...cfg.vhosts]) {
    limits.push(limitOf(s.lookupDefaults) ?? CORE_DEFAULTS.limitRequestBody);
    const set = s.sections;
    for (const list of [set.dirs, set.dirMatches, set.files, set.locations, set.ifs]) sections(list);
  }
  if (limits.includes(0)) return Number.MAX_SAFE_INTEGER;
  // Never below the default: over Bun's limit Bun answers a bare, unlogged 413 itself, while under it
  // mosaic answers Apache's 413 (checked against Content-Length first, so the body is not read).
  return Math.max(CORE_DEFAULTS.limitRequestBody, ...limits);
}
