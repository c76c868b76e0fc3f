// log_debug: LogMessage, an expression logged at a chosen request phase (Apache's mod_log_debug).
import type { ConfigNode } from "../../src/config/node.ts";
import { parseExpr, parseStringExpr } from "../../src/expr/index.ts";
import type { BoolExpr, StringExpr } from "../../src/expr/index.ts";
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { DEBUG, effectiveLevel } from "../../src/log/levels.ts";
import { DECLINED, defineModule } from "../../src/module.ts";
import type { HookFn, Phase } from "../../src/module.ts";
import { authzNeedsUser } from "../authz_core/index.ts";
import core from "../core/index.ts";

/** Apache's hook names and the mosaic phase each one runs in. */
const HOOKS: Record<string, Phase | "log_transaction"> = {
  translate_name: "translate_name",
  type_checker: "type_checker",
  quick_handler: "post_read_request",
  map_to_storage: "map_to_storage",
  check_access: "access_checker",
  check_access_ex: "access_checker",
  insert_filter: "fixups",
  check_authn: "check_user_id",
  check_authz: "auth_checker",
  fixups: "fixups",
  handler: "handler",
  log_transaction: "log_transaction",
};

interface Entry {
  hook: string;
  msg: StringExpr;
  condition: BoolExpr | undefined;
  node: ConfigNode;
}

export interface LogDebugDir {
  entries: readonly Entry[];
}

const logDebug = defineModule<undefined, LogDebugDir>({
  name: "log_debug",
  description: "LogMessage: log an expression at a request phase",
  directives: [
    {
      name: "LogMessage",
      args: [1, 3],
      contexts: ["directory"],
      help: "Log a debug message to the error log if this config block is used for  a request",
      apply(cmd) {
        const [text, ...rest] = cmd.args as [string, ...string[]];
        const msg = parseStringExpr(text, cmd.node, { module: "log_debug", dontVary: true });
        if (typeof msg === "string") return `Could not parse message expression '${text}': ${msg}`;
        let hook = "log_transaction";
        let condition: BoolExpr | undefined;
        for (const a of rest) {
          if (/^hook=/i.test(a)) {
            hook = a.slice(5).toLowerCase();
            if (hook !== "all" && !(hook in HOOKS)) return `Invalid hook name: ${a.slice(5)}`;
          } else if (/^expr=/i.test(a)) {
            const c = parseExpr(a.slice(5), cmd.node, { module: "log_debug", dontVary: true });
            if (typeof c === "string") return `Could not parse expression '${a.slice(5)}': ${c}`;
            condition = c;
          } else return `Invalid argument ${a}`;
        }
        cmd.dir.entries = [...cmd.dir.entries, { hook, msg, condition, node: cmd.node }];
      },
    },
  ],
  createDirConfig: () => ({ entries: [] }),
  mergeDirConfig: (base, add) => ({ entries: [...base.entries, ...add.entries] }),
  // Called only where a LogMessage applies (HookSpec.enabled is asked once per merged configuration).
  hooks: {
    post_read_request: { fn: (r) => log(r, "quick_handler"), order: "reallyFirst", enabled: configured },
    translate_name: { fn: run("translate_name"), order: "reallyFirst", enabled: configured },
    map_to_storage: { fn: run("map_to_storage"), order: "reallyFirst", enabled: configured },
    access_checker: { fn: (r) => log(r, "check_access", "check_access_ex"), order: "reallyFirst", enabled: configured },
    check_user_id: { fn: (r) => (authzNeedsUser(r) ? run("check_authn")(r) : DECLINED), order: "reallyFirst", enabled: configured },
    auth_checker: { fn: (r) => (authzNeedsUser(r) ? run("check_authz")(r) : DECLINED), order: "reallyFirst", enabled: configured },
    type_checker: { fn: run("type_checker"), order: "reallyFirst", enabled: configured },
    fixups: { fn: (r) => log(r, "fixups", "insert_filter"), order: "reallyFirst", enabled: configured },
    handler: { fn: run("handler"), order: "reallyFirst", enabled: configured },
    log_transaction: (r) => log(r, "log_transaction"),
  },
});
export default logDebug;

/** Whether any LogMessage applies under this merged configuration. */
function configured(c: { perDir: unknown[] }): boolean {
  return (logDebug.dirConf(c)?.entries.length ?? 0) > 0;
}

/** A run-first phase: log, then let the real hooks have it. */
function run(hook: string): HookFn {
  return (r) => {
    log(r, hook);
    return DECLINED;
  };
}

/** do_debug_log: every entry for this hook (or `all`) whose condition holds, at info level. */
function log(r: Request, hook: string, alias?: string): void {
  const d = logDebug.dirConf(r);
  if (!d || d.entries.length === 0) return;
  for (const e of d.entries) {
    if (e.hook !== hook && e.hook !== alias && e.hook !== "all") continue;
    if (e.condition) {
      const rc = e.condition.exec(r);
      if (rc === 0) continue;
      if (rc < 0) {
        logError(r, "error", "log_debug", "AH00640: Can't evaluate condition");
        continue;
      }
    }
    const msg = e.msg.exec(r);
    if (msg === undefined) logError(r, "error", "log_debug", "AH00641: Can't evaluate message expression");
    if (debugOn(r)) {
      logError(r, "info", "log_debug", `AH00642: ${msg ?? ""} (${hook} hook, ${e.node.file}:${e.node.line})`);
    } else logError(r, "info", "log_debug", `AH00643: ${msg ?? ""}`);
  }
}

function debugOn(r: Request): boolean {
  const srv = core.serverConf(r.server).log.level;
  const dir = core.dirConf(r).logLevel;
  return (dir ? effectiveLevel(dir, "log_debug", srv) : effectiveLevel(srv, "log_debug")) >= DEBUG;
}
