// mod_script's directives: mod_lua's (Lua* → Script*), mod_perl's interpreter pool, and the limits.
import type { DirectiveDef } from "../../src/module.ts";
import { ALLOW } from "../../src/script/protocol.ts";
import type { PoolSpec, ScopeKind } from "../../src/script/protocol.ts";
import { parseDuration, parseSize } from "./config.ts";
import type { HookEntry, ScriptDir, ScriptPhase, ScriptServer } from "./config.ts";

type Def = DirectiveDef<ScriptServer, ScriptDir>;
const SERVER = ["server"] as const;
const SERVER_VHOST = ["server", "vhost"] as const;

/** Called for ScriptAuthzProvider (index.ts registers the provider with authz_core). */
export const authzRegistrations: ((name: string, serverRec: unknown) => string | void)[] = [];

interface HookOpts {
  /** Takes mod_lua's optional third argument, early or late. */
  when?: boolean;
  /** Server and virtual host only (the phase runs before any section applies). */
  serverOnly?: boolean;
}

function hookDirective(name: string, phase: ScriptPhase, what: string, opts: HookOpts = {}): Def {
  return {
    name,
    args: opts.when ? [2, 3] : [2, 2],
    contexts: opts.serverOnly ? SERVER_VHOST : undefined,
    help: `Provide a hook for the ${what} of request processing`,
    apply({ args, dir }) {
      const [file, fn, when] = args as [string, string, string | undefined];
      let w: HookEntry["when"] = "middle";
      if (when !== undefined) {
        const l = when.toLowerCase();
        if (l !== "early" && l !== "late") return `Third argument must be 'early' or 'late'`;
        w = l;
      }
      const list = [...(dir.hooks?.[phase] ?? []), { file, fn, when: w }];
      // early hooks run before the others of the phase, late ones after (mod_lua's FIRST/LAST).
      const rank = { early: 0, middle: 1, late: 2 };
      list.sort((a, b) => rank[a.when] - rank[b.when]);
      dir.hooks = { ...dir.hooks, [phase]: list };
    },
  };
}

function poolDirective(name: string, key: keyof PoolSpec, help: string): Def {
  return {
    name,
    args: [1, 1],
    contexts: SERVER_VHOST,
    help,
    apply({ args, server }) {
      const n = Number(args[0]);
      if (!/^\d+$/.test(args[0]!) || (key !== "maxRequests" && key !== "minSpare" && n < 1)) {
        return `${name} must be a ${key === "maxRequests" || key === "minSpare" ? "non-negative" : "positive"} integer`;
      }
      server.pool = { ...server.pool, [key]: n };
    },
  };
}

const SCOPES: readonly ScopeKind[] = ["once", "request", "conn", "thread", "server"];

export const scriptDirectives: Def[] = [
  {
    name: "ScriptRoot",
    args: [1, 1],
    help: "Base path for resolving relative paths for the script directives",
    apply({ args, dir, resolvePath }) {
      dir.root = resolvePath(args[0]!);
    },
  },
  {
    name: "ScriptScope",
    args: [1, 3],
    help: "One of once, request, conn, thread, server [min] [max]: how long a script context lives",
    apply({ args, dir }) {
      const kind = args[0]!.toLowerCase() as ScopeKind;
      if (!SCOPES.includes(kind)) {
        const ok = SCOPES.map((s) => `'${s}'`).join(", ");
        return `Invalid value for ScriptScope, '${args[0]}', acceptable values are: ${ok}`;
      }
      if (kind !== "server" && args.length > 1) return "ScriptScope takes min and max only with 'server'";
      // mod_lua: min defaults to 1 (0 means 1), max to min.
      const min = Math.max(1, Number(args[1] ?? 1) || 1);
      const max = Math.max(min, Number(args[2] ?? min) || min);
      dir.scope = { kind, min, max };
    },
  },
  {
    name: "ScriptCodeCache",
    args: [1, 1],
    help: "Configure the compiled code cache: stat, forever or never",
    apply({ args, dir }) {
      const v = args[0]!.toLowerCase();
      if (v !== "stat" && v !== "forever" && v !== "never") {
        return `Invalid value for ScriptCodeCache, '${args[0]}', acceptable values are: 'stat', 'forever', 'never'`;
      }
      dir.cache = v;
    },
  },
  {
    name: "ScriptMapHandler",
    args: [2, 3],
    help: "Map a URI pattern to a script file and function: ScriptMapHandler regex file [function]",
    apply({ args, dir }) {
      let re: RegExp;
      try {
        re = new RegExp(args[0]!);
      } catch (e) {
        return `Regular expression could not be compiled: ${(e as Error).message}`;
      }
      const file = args[1]!;
      const fn = args[2] ?? "handle";
      dir.maps = [...(dir.maps ?? []), { re, file, fn, refs: /\$\d/.test(file + fn) }];
    },
  },
  {
    name: "ScriptInherit",
    args: [1, 1],
    help: "How per-directory script hooks and handlers merge: none, parent-first or parent-last",
    apply({ args, dir }) {
      const v = args[0]!.toLowerCase();
      if (v !== "none" && v !== "parent-first" && v !== "parent-last") {
        return "ScriptInherit type of 'none', 'parent-first' or 'parent-last' expected";
      }
      dir.inherit = v;
    },
  },
  hookDirective("ScriptQuickHandler", "quick_handler", "quick handler", { serverOnly: true }),
  hookDirective("ScriptHookTranslateName", "translate_name", "translate name phase", { when: true, serverOnly: true }),
  hookDirective("ScriptHookMapToStorage", "map_to_storage", "map_to_storage phase"),
  hookDirective("ScriptHookHeaderParser", "header_parser", "header parser phase"),
  hookDirective("ScriptHookAccessChecker", "access_checker", "access checking phase", { when: true }),
  hookDirective("ScriptHookCheckUserID", "check_user_id", "check_user_id phase", { when: true }),
  hookDirective("ScriptHookAuthChecker", "auth_checker", "auth_checker phase", { when: true }),
  hookDirective("ScriptHookTypeChecker", "type_checker", "type_checker phase"),
  hookDirective("ScriptHookFixups", "fixups", "fixups phase"),
  hookDirective("ScriptHookLog", "log_transaction", "logging phase"),
  {
    name: "ScriptAuthzProvider",
    args: [3, 3],
    contexts: SERVER,
    help: "Provide an authorization provider: ScriptAuthzProvider name file function",
    apply({ args, server, serverRec }) {
      const [name, file, fn] = args as [string, string, string];
      for (const reg of authzRegistrations) {
        const err = reg(name, serverRec);
        if (err) return err;
      }
      server.authz = new Map([...server.authz, [name, { file, fn }]]);
    },
  },
  {
    name: "ScriptOutputFilter",
    args: [3, 3],
    contexts: SERVER,
    help: "Provide a script function as an output filter: ScriptOutputFilter NAME file function",
    apply({ args, server }) {
      const [name, file, fn] = args as [string, string, string];
      server.filters = new Map([...server.filters, [name.toLowerCase(), { file, fn }]]);
    },
  },
  {
    name: "ScriptInputFilter",
    args: [3, 3],
    contexts: SERVER,
    help: "Provide a script function as an input filter: ScriptInputFilter NAME file function",
    apply({ args, server }) {
      const [name, file, fn] = args as [string, string, string];
      server.inputFilters = new Map([...server.inputFilters, [name.toLowerCase(), { file, fn }]]);
    },
  },
  {
    name: "ScriptSetOutputFilter",
    args: [1, Infinity],
    help: "Deprecated: use SetOutputFilter. Script output filters to apply here, or none",
    apply({ args, dir }) {
      const names = args.flatMap((a) => a.split(";")).filter(Boolean).map((a) => a.toLowerCase());
      dir.outputFilters = names.length === 1 && names[0] === "none" ? [] : names;
    },
  },
  {
    name: "ScriptTimeout",
    args: [1, 1],
    help: "Longest a script call may run (wall clock; each synchronous slice is cut at the same limit)",
    apply({ args, dir }) {
      const ms = parseDuration(args[0]!);
      if (ms === undefined || ms <= 0) return "ScriptTimeout: invalid time value (e.g. 10, 500ms, 2mi)";
      dir.timeout = ms;
    },
  },
  {
    name: "ScriptMemoryLimit",
    args: [1, 1],
    help: "Resident memory a running script may add to the child (e.g. 256M) before its worker goes; 0: none",
    apply({ args, dir }) {
      const n = parseSize(args[0]!);
      if (n === undefined) return "ScriptMemoryLimit: invalid size (e.g. 65536, 64K, 256M, 1G)";
      dir.memory = n;
    },
  },
  {
    name: "ScriptAllow",
    args: [1, Infinity],
    help: "What scripts may reach beyond the request: none, or any of fetch, env, files",
    apply({ args, dir }) {
      let bits = 0;
      for (const a of args) {
        const v = a.toLowerCase();
        if (v === "none") continue;
        if (v !== "fetch" && v !== "env" && v !== "files") {
          return `ScriptAllow: unknown capability '${a}' (none, fetch, env, files)`;
        }
        bits |= ALLOW[v];
      }
      dir.allow = bits;
    },
  },
  poolDirective("ScriptInterpStart", "start", "Contexts a server-scope pool starts with"),
  poolDirective("ScriptInterpMax", "max", "Most contexts a server-scope pool may hold"),
  poolDirective("ScriptInterpMinSpare", "minSpare", "Fewest idle contexts a server-scope pool keeps ready"),
  poolDirective("ScriptInterpMaxSpare", "maxSpare", "Most idle contexts a server-scope pool keeps"),
  poolDirective("ScriptInterpMaxRequests", "maxRequests", "Calls after which a pooled context is retired (0 = never)"),
  {
    name: "ScriptWorkers",
    args: [1, 1],
    contexts: SERVER,
    help: "Worker threads that run scripts in each child (default 1; 0 runs them on the serving thread)",
    apply({ args, server }) {
      const n = Number(args[0]);
      if (!/^\d+$/.test(args[0]!) || n > 64) return "ScriptWorkers must be between 0 and 64";
      server.workers = n;
    },
  },
];
