// Log levels and `LogLevel [module:]level ...` specs (Apache's log.c priorities, core.c set_loglevel).

export const LEVEL_NAMES = [
  "emerg",
  "alert",
  "crit",
  "error",
  "warn",
  "notice",
  "info",
  "debug",
  "trace1",
  "trace2",
  "trace3",
  "trace4",
  "trace5",
  "trace6",
  "trace7",
  "trace8",
] as const;
export type Level = (typeof LEVEL_NAMES)[number];

/** Level name → number (APLOG_EMERG 0 .. APLOG_TRACE8 15): higher is more verbose. */
export const LEVEL: Readonly<Record<Level, number>> = Object.fromEntries(
  LEVEL_NAMES.map((n, i) => [n, i]),
) as Record<Level, number>;

export const NOTICE = LEVEL.notice;
export const DEBUG = LEVEL.debug;
/** Apache's DEFAULT_LOGLEVEL. */
export const DEFAULT_LEVEL = LEVEL.warn;

/**
 * A LogLevel setting. `level` undefined means "not set here" (APLOG_UNSET): the enclosing scope's
 * applies. `modules` maps a short module name ("ssl", "authz_core") to its own level.
 */
export interface LogLevelSpec {
  level: number | undefined;
  modules: ReadonlyMap<string, number>;
}

const EMPTY_MODULES: ReadonlyMap<string, number> = new Map();

export function createLogLevelSpec(level?: number): LogLevelSpec {
  return { level, modules: EMPTY_MODULES };
}

/** Apache 2.4's ap_parse_log_level wording. */
export const LEVEL_KEYWORD_ERROR =
  "Log level keyword must be one of emerg/alert/crit/error/warn/notice/info/debug/trace1/.../trace8";

/** Level name (any case) → number, or undefined. */
export function levelNumber(name: string): number | undefined {
  return (LEVEL as Record<string, number>)[name.toLowerCase()];
}

/** `mod_ssl.c`, `ssl_module` and `ssl` all name the same module, as in Apache's find_module. */
export function normalizeModuleName(name: string): string {
  let n = name;
  if (n.startsWith("mod_") && n.endsWith(".c")) n = n.slice(4, -2);
  else if (n.endsWith("_module")) n = n.slice(0, -7);
  return n;
}

/**
 * Applies one `LogLevel` directive's arguments on top of `base` (earlier LogLevel lines of the same
 * scope) and returns the new spec, or Apache's error text. A bare level resets every module level.
 * `isModule` (optional) rejects unknown module names the way Apache does.
 * @example parseLogLevel(["info", "ssl:warn"]) // { level: 6, modules: Map { "ssl" => 4 } }
 */
export function parseLogLevel(
  args: string[],
  base?: LogLevelSpec,
  isModule?: (name: string) => boolean,
): LogLevelSpec | string {
  if (args.length === 0) return "LogLevel requires level keyword or module loglevel specifier";
  let level = base?.level;
  const modules = new Map(base?.modules ?? EMPTY_MODULES);
  for (const arg of args) {
    const colon = arg.lastIndexOf(":");
    if (colon < 0) {
      const n = levelNumber(arg);
      if (n === undefined) return LEVEL_KEYWORD_ERROR;
      level = n;
      modules.clear();
      continue;
    }
    const mod = arg.slice(0, colon);
    const lv = arg.slice(colon + 1);
    if (!lv) return `Module specifier '${mod}' must be followed by a log level keyword`;
    const n = levelNumber(lv);
    if (n === undefined) return `${mod}:${lv}: ${LEVEL_KEYWORD_ERROR}`;
    const name = normalizeModuleName(mod);
    if (isModule && !isModule(name)) return `Cannot find module ${mod}`;
    modules.set(name, n);
  }
  return { level, modules };
}

/**
 * Apache's ap_merge_log_config: a scope that sets a bare level ignores the outer module levels;
 * otherwise it inherits the level and overlays its module levels on the outer ones.
 */
export function mergeLogLevel(
  base: LogLevelSpec | undefined,
  add: LogLevelSpec | undefined,
): LogLevelSpec | undefined {
  if (!add) return base;
  if (!base || add.level !== undefined) return add;
  if (add.modules.size === 0) return { level: base.level, modules: base.modules };
  if (base.modules.size === 0) return { level: base.level, modules: add.modules };
  return { level: base.level, modules: new Map([...base.modules, ...add.modules]) };
}

/**
 * The level in force for `module` under `spec`, falling back to `outer` (the server's spec for a
 * per-directory one) without allocating, since this runs on every logError call.
 */
export function effectiveLevel(spec: LogLevelSpec, module: string, outer?: LogLevelSpec): number {
  const m = spec.modules.size ? spec.modules.get(module) : undefined;
  if (m !== undefined) return m;
  if (spec.level !== undefined) return spec.level;
  return outer ? effectiveLevel(outer, module) : DEFAULT_LEVEL;
}

/** True when a message of `level` from `module` passes `spec`. */
export function levelEnabled(spec: LogLevelSpec, module: string, level: Level | number): boolean {
  const n = typeof level === "number" ? level : LEVEL[level];
  return n <= effectiveLevel(spec, module);
}

/** `LogLevel` as written back (for -S style dumps and tests): `info ssl:warn`. */
export function formatLogLevel(spec: LogLevelSpec): string {
  const parts: string[] = [];
  if (spec.level !== undefined) parts.push(LEVEL_NAMES[spec.level]!);
  for (const [m, n] of spec.modules) parts.push(`${m}:${LEVEL_NAMES[n]}`);
  return parts.join(" ");
}
