// mod_script: JavaScript/TypeScript handlers, hooks, filters and Require providers in sandboxed
// contexts, like mod_lua (see docs/scripting.md).
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { defineModule } from "../../src/module.ts";
import type { ServerRec } from "../../src/server-rec.ts";
import { engine } from "../../src/script/engine.ts";
import core from "../core/index.ts";
import mime from "../mime/index.ts";
import type { MimeDir } from "../mime/config.ts";
import { findAuthzProvider, registerAuthzProvider } from "../authz_core/providers.ts";
import type { AuthzStatus } from "../authz_core/providers.ts";
import { createScriptDir, createScriptServer, mergeScriptDir, mergeScriptServer } from "./config.ts";
import type { ScriptDir, ScriptPhase, ScriptServer } from "./config.ts";
import { levelOf, setBodyFilter } from "./bridge.ts";
import { authzRegistrations, scriptDirectives } from "./directives.ts";
import { checkAuthz, makeHandler, makeLogHook, makePhaseHook } from "./hooks.ts";
import { makeInputFilter, makeOutputFilter } from "./filters.ts";
import type { Confs } from "./hooks.ts";

const confs: Confs = {
  dir: (r: Request) => script.dirConf(r) as ScriptDir | undefined,
  server: (r: Request) => script.serverConf(r.server),
  filterNames,
};

/**
 * Filters named for the request, as Apache's chain orders them: mod_mime adds those of every extension
 * of the file name (find_ct, in type_checker), then core_insert_filter those of Set{Output,Input}Filter.
 * ScriptSetOutputFilter is the deprecated stand-in for SetOutputFilter, read where that is not set.
 * Only called when the server has script filters of that kind.
 */
function filterNames(r: Request, which: "input" | "output"): string[] {
  const out: string[] = [];
  const ext = (mime.dirConf(r) as MimeDir | undefined)?.extensions;
  if (ext && r.filename) {
    const base = r.filename.slice(r.filename.lastIndexOf("/") + 1).replace(/^\.+/, "");
    const field = which === "output" ? "outputFilters" : "inputFilters";
    for (const part of base.split(".").slice(1)) {
      const names = ext.get(part.toLowerCase())?.[field];
      if (names) for (const n of names.split(";")) if (n) out.push(n);
    }
  }
  const cd = core.dirConf(r);
  const set = which === "output" ? (cd.outputFilters ?? script.dirConf(r)?.outputFilters) : cd.inputFilters;
  if (set) out.push(...set);
  return out;
}

/** When a configuration is collected (after a reload), its contexts are dropped in the workers. */
const gone = new FinalizationRegistry<number>((id) => engine.dropServer(id));

/** Script phase hooks are only called where some ScriptHook* for that phase applies. */
function hasHooks(phase: ScriptPhase): (c: { perDir: unknown[] }) => boolean {
  return (c) => ((script.dirConf(c) as ScriptDir | undefined)?.hooks?.[phase]?.length ?? 0) > 0;
}

const script = defineModule<ScriptServer, ScriptDir>({
  name: "script",
  description: "JavaScript and TypeScript handlers, hooks and filters in sandboxed contexts",
  directives: scriptDirectives,
  createServerConfig: createScriptServer,
  mergeServerConfig: mergeScriptServer,
  createDirConfig: createScriptDir,
  mergeDirConfig: mergeScriptDir,
  hooks: {
    post_read_request: { fn: makePhaseHook(confs, "quick_handler", false), enabled: hasHooks("quick_handler") },
    translate_name: { fn: makePhaseHook(confs, "translate_name", true), enabled: hasHooks("translate_name") },
    map_to_storage: { fn: makePhaseHook(confs, "map_to_storage", true), enabled: hasHooks("map_to_storage") },
    header_parser: { fn: makePhaseHook(confs, "header_parser", false), enabled: hasHooks("header_parser") },
    access_checker: { fn: makePhaseHook(confs, "access_checker", false), enabled: hasHooks("access_checker") },
    check_user_id: { fn: makePhaseHook(confs, "check_user_id", true), enabled: hasHooks("check_user_id") },
    auth_checker: { fn: makePhaseHook(confs, "auth_checker", true), enabled: hasHooks("auth_checker") },
    type_checker: { fn: makePhaseHook(confs, "type_checker", true), enabled: hasHooks("type_checker") },
    fixups: { fn: makePhaseHook(confs, "fixups", false), enabled: hasHooks("fixups") },
    handler: makeHandler(confs),
    output_filter: makeOutputFilter(confs),
    log_transaction: makeLogHook(confs),
  },
  postConfig({ main, servers }) {
    const workers = script.serverConf(main).workers ?? 1;
    if (workers > 0) engine.ensureWorkers(workers);
    const ka = core.serverConf(main).keepAliveTimeout ?? 5;
    engine.connIdleMs = (ka + 5) * 1000;
    engine.onProblem = (msg) => logError(main, "error", "script", `AH01470: ${msg}`);
    engine.onLog = (level, msg) => logError(main, levelOf(level), "script", msg);
    for (const s of servers) gone.register(script.serverConf(s), script.serverConf(s).id);
  },
});
export default script;
setBodyFilter(makeInputFilter(confs));

/** Names this module registered with authz_core (a name taken by another module is refused). */
const providers = new Set<string>();

authzRegistrations.push((name, serverRec) => {
  if (providers.has(name)) return;
  if (findAuthzProvider(name, serverRec as ServerRec)) {
    return `ScriptAuthzProvider: an authorization provider named '${name}' already exists`;
  }
  providers.add(name);
  registerAuthzProvider<{ args: string[] }>(name, {
    parse: (args) => ({ args: [...args] }),
    check: (r, p) => checkAuthz(confs, name, r, p.args) as Promise<AuthzStatus>,
    module: script,
  });
});
