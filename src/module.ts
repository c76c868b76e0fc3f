// The module API: a module is a value declaring directives, config constructors/mergers and ordered hooks.
import type { ConfigNode } from "./config/node.ts";
import type { Request } from "./http/request.ts";
import type { ServerRec } from "./server-rec.ts";

/** A hook's "not mine" answer; the next hook of a run-first phase gets its turn. */
export const DECLINED = Symbol.for("mosaic.DECLINED");
export type Declined = typeof DECLINED;

/** Response: done (the response to send). DECLINED: not mine. undefined: OK, carry on. */
export type HookResult = Response | Declined | void;
export type HookFn = (r: Request) => HookResult | Promise<HookResult>;
/** An output filter rewrites (or replaces) the response on its way out, in order. */
export type FilterFn = (r: Request, res: Response) => Response | void | Promise<Response | void>;
/** Log hooks see the finished request; they never change the response. */
export type LogFn = (r: Request) => void;

/**
 * Request phases in the order the core runs them, as in Apache 2.4's request.c / http_request.c.
 * run-first phases stop at the first hook that does not return DECLINED; run-all phases run every hook
 * until one returns a Response or throws.
 */
export const PHASES = [
  "post_read_request",
  "translate_name",
  "map_to_storage",
  "header_parser",
  "access_checker",
  "check_user_id",
  "auth_checker",
  "type_checker",
  "fixups",
  "handler",
] as const;
export type Phase = (typeof PHASES)[number];

export const RUN_FIRST: ReadonlySet<Phase> = new Set<Phase>([
  "translate_name",
  "map_to_storage",
  "check_user_id",
  "auth_checker",
  "type_checker",
  "handler",
]);

/** APR_HOOK_REALLY_FIRST .. APR_HOOK_REALLY_LAST. */
export type HookOrder = "reallyFirst" | "first" | "middle" | "last" | "reallyLast";
export const ORDER_VALUE: Record<HookOrder, number> = {
  reallyFirst: -10,
  first: 0,
  middle: 10,
  last: 20,
  reallyLast: 30,
};

export interface HookSpec<F> {
  fn: F;
  order?: HookOrder;
  /** Module names this hook must run before / after (when they are loaded). */
  before?: string[];
  after?: string[];
  /**
   * Whether the hook can do anything under a merged configuration (the per-directory vector and the
   * server). Asked once per distinct merged configuration, never per request: a hook that is not enabled
   * is not called at all there. Absent: always called.
   * @example enabled: (c) => (logDebug.dirConf(c).entries.length > 0)
   */
  enabled?: (cfg: { perDir: unknown[]; moduleConfig: unknown[] }) => boolean;
  /** Handler phase: the handler names this hook serves; it is only called when `r.handler` is one. */
  handles?: readonly string[];
}
type HookEntry<F> = F | HookSpec<F>;

/** Where a directive may appear. "directory" covers <Directory>, <Files>, <Location> and <If> sections. */
export type Context = "server" | "vhost" | "directory";

/** Argument count: Apache's TAKE1..ITERATE as [min, max]; "flag" is On|Off; "raw" takes anything. */
export type Arity = "flag" | "raw" | readonly [number, number];

export interface DirectiveCmd<S, D> {
  /** Arguments after `${VAR}` expansion and unquoting. */
  args: string[];
  /** For "flag" directives: On → true. */
  flag: boolean;
  node: ConfigNode;
  /** This module's per-server config of the server (main or vhost) being configured. */
  server: S;
  /** This module's per-directory config of the enclosing section (or the server's defaults). */
  dir: D;
  /** The enclosing section kind ("Directory", "Location", ...) or undefined at server/vhost level. */
  section: string | undefined;
  /** The server (main or vhost) the directive belongs to. */
  serverRec: ServerRec;
  /** Resolves a path relative to ServerRoot (Apache's ap_server_root_relative). */
  resolvePath(path: string): string;
  /** Warn at config time (written to the error log / stderr). */
  warn(message: string): void;
}

export interface DirectiveDef<S, D> {
  name: string;
  args: Arity;
  /** Defaults to every context. */
  contexts?: readonly Context[];
  /** Section kinds a "directory" directive still may not appear in (e.g. ["Location"]). */
  notIn?: readonly string[];
  help: string;
  /** A section directive (its children are handed over raw in cmd.node.children). */
  section?: boolean;
  /** Returns an error message (reported with file:line) or nothing. */
  apply(cmd: DirectiveCmd<S, D>): string | void;
}

export interface LifecycleContext {
  servers: readonly ServerRec[];
  main: ServerRec;
  serverRoot: string;
  warn(message: string): void;
}

export interface ModuleDef<S, D> {
  /** Apache's name without `mod_`: "headers" → identifier `headers_module`, source `mod_headers.c`. */
  name: string;
  /** One line for `-M`, `-L` and /server-info. */
  description?: string;
  /** Apache's source file name when it is not `mod_<name>.c` (`core.c`, `event.c`). */
  sourceName?: string;
  directives?: DirectiveDef<S, D>[];
  createServerConfig?(): S;
  /** Never mutate base or add. Absent: the vhost's config replaces the main server's. */
  mergeServerConfig?(base: S, add: S): S;
  createDirConfig?(): D;
  /** Never mutate base or add. Absent: the deeper section's config replaces. */
  mergeDirConfig?(base: D, add: D): D;
  hooks?: Partial<Record<Phase, HookEntry<HookFn>>> & {
    output_filter?: HookEntry<FilterFn>;
    log_transaction?: HookEntry<LogFn>;
  };
  /** After the whole config is read: validate, open files, compile. Throw ConfigError to refuse it. */
  postConfig?(ctx: LifecycleContext): void | Promise<void>;
  /** In each child, before it serves (open per-child resources). */
  childInit?(ctx: LifecycleContext): void | Promise<void>;
}

/** A registered module: the definition plus its slot in the config vectors. */
export interface Module<S = unknown, D = unknown> extends ModuleDef<S, D> {
  readonly identifier: string;
  readonly sourceName: string;
  /** Index in ServerRec.moduleConfig and in per-directory config vectors; set by the registry. */
  index: number;
  /** This module's merged per-directory config for the request. */
  dirConf(r: { perDir: unknown[] }): D;
  /** This module's per-server config for a server. */
  serverConf(s: { moduleConfig: unknown[] }): S;
}

/**
 * Declares a module. The returned value is what `modules/index.ts` lists and what other code uses to
 * reach the module's config with full types.
 * @example
 * export default defineModule<HeadersServer, HeadersDir>({ name: "headers", directives: [...], hooks: {...} });
 */
export function defineModule<S = undefined, D = undefined>(def: ModuleDef<S, D>): Module<S, D> {
  const mod: Module<S, D> = {
    ...def,
    identifier: `${def.name}_module`,
    sourceName: def.sourceName ?? `mod_${def.name}.c`,
    index: -1,
    dirConf(r) {
      return r.perDir[mod.index] as D;
    },
    serverConf(s) {
      return s.moduleConfig[mod.index] as S;
    },
  };
  return mod;
}

/** Identity helper so directive tables get contextual types inside a module file. */
export function defineDirectives<S, D>(list: DirectiveDef<S, D>[]): DirectiveDef<S, D>[] {
  return list;
}

export function hookSpec<F>(entry: HookEntry<F>): HookSpec<F> {
  return typeof entry === "function" ? { fn: entry as F } : (entry as HookSpec<F>);
}
