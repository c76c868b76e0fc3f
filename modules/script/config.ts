// mod_script's per-server and per-directory configuration, and how sections merge (LuaInherit).
import type { CodeCache, PoolSpec, ScopeKind } from "../../src/script/protocol.ts";

/** `ScriptMapHandler regex file [function]`: `$0..$9` are filled in from the match. */
export interface MapEntry {
  re: RegExp;
  file: string;
  fn: string;
  /** Whether file or fn mention `$n` (else they are used as written). */
  refs: boolean;
}

/** `ScriptHook* file function [early|late]`. */
export interface HookEntry {
  file: string;
  fn: string;
  when: "early" | "middle" | "late";
}

/** The phases a script can hook: Apache's, plus mod_lua's quick handler and log hook. */
export type ScriptPhase =
  | "quick_handler"
  | "translate_name"
  | "map_to_storage"
  | "header_parser"
  | "access_checker"
  | "check_user_id"
  | "auth_checker"
  | "type_checker"
  | "fixups"
  | "log_transaction";

export type Inherit = "none" | "parent-first" | "parent-last";

export interface ScriptDir {
  root?: string;
  scope?: { kind: ScopeKind; min: number; max: number };
  cache?: CodeCache;
  maps?: readonly MapEntry[];
  hooks?: Partial<Record<ScriptPhase, readonly HookEntry[]>>;
  /** ScriptTimeout in ms. */
  timeout?: number;
  /** ScriptMemoryLimit in bytes (0 = none). */
  memory?: number;
  /** ScriptAllow bits (protocol.ts ALLOW). */
  allow?: number;
  inherit?: Inherit;
  /** ScriptSetOutputFilter (deprecated; core's SetOutputFilter wins where both apply), by name. */
  outputFilters?: readonly string[];
}

/** A registered `ScriptAuthzProvider` / `ScriptOutputFilter` / `ScriptInputFilter`. */
export interface NamedScript {
  file: string;
  fn: string;
}

export interface ScriptServer {
  /** Unique per server per configuration: contexts are keyed by it, so vhosts and reloads never share. */
  id: number;
  pool: Partial<PoolSpec>;
  authz: ReadonlyMap<string, NamedScript>;
  /** ScriptOutputFilter, by lower-cased name. */
  filters: ReadonlyMap<string, NamedScript>;
  /** ScriptInputFilter, by lower-cased name (Apache keeps input and output filter names apart). */
  inputFilters: ReadonlyMap<string, NamedScript>;
  /** ScriptWorkers (main server only). */
  workers?: number;
}

/** Defaults: 10 s per call; 512 MB of resident growth while scripts run. */
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MEMORY = 512 * 1024 * 1024;

let nextServerId = 1;

export function createScriptServer(): ScriptServer {
  return { id: nextServerId++, pool: {}, authz: new Map(), filters: new Map(), inputFilters: new Map() };
}

export function mergeScriptServer(base: ScriptServer, add: ScriptServer): ScriptServer {
  return {
    id: add.id,
    pool: { ...base.pool, ...add.pool },
    authz: new Map([...base.authz, ...add.authz]),
    filters: new Map([...base.filters, ...add.filters]),
    inputFilters: new Map([...base.inputFilters, ...add.inputFilters]),
    workers: base.workers,
  };
}

export function createScriptDir(): ScriptDir {
  return {};
}

/** LuaInherit semantics for handlers and hooks; every other setting: the deeper section wins. */
export function mergeScriptDir(base: ScriptDir, add: ScriptDir): ScriptDir {
  const inherit = add.inherit ?? base.inherit ?? "parent-first";
  const join = <T>(a: readonly T[] | undefined, b: readonly T[] | undefined): readonly T[] | undefined => {
    if (inherit === "none") return b;
    if (!a) return b;
    if (!b) return a;
    return inherit === "parent-first" ? [...a, ...b] : [...b, ...a];
  };
  let hooks = base.hooks;
  if (add.hooks || inherit === "none") {
    const out: Partial<Record<ScriptPhase, readonly HookEntry[]>> = {};
    const phases = new Set([...Object.keys(base.hooks ?? {}), ...Object.keys(add.hooks ?? {})]) as Set<ScriptPhase>;
    for (const p of phases) {
      const v = join(base.hooks?.[p], add.hooks?.[p]);
      if (v) out[p] = v;
    }
    hooks = out;
  }
  return {
    root: add.root ?? base.root,
    scope: add.scope ?? base.scope,
    cache: add.cache ?? base.cache,
    maps: join(base.maps, add.maps),
    hooks,
    timeout: add.timeout ?? base.timeout,
    memory: add.memory ?? base.memory,
    allow: add.allow ?? base.allow,
    inherit: add.inherit ?? base.inherit,
    outputFilters: add.outputFilters ?? base.outputFilters,
  };
}

/** Apache's ap_timeout_parameter_parse: a number with an optional ms/s/mi/h unit, seconds by default. */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d+)(ms|s|mi|h)?$/i.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? "s").toLowerCase();
  return unit === "ms" ? n : unit === "s" ? n * 1000 : unit === "mi" ? n * 60_000 : n * 3_600_000;
}

/** `512M`, `1G`, `65536` (bytes), `0` (no limit). */
export function parseSize(s: string): number | undefined {
  const m = /^(\d+)([KMG])?B?$/i.exec(s);
  if (!m) return undefined;
  const mult = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? "").toLowerCase() as "k"] ?? 1;
  return Number(m[1]) * mult;
}
