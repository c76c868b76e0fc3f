// allowmethods: AllowMethods, refusing other request methods with 405 (Apache's mod_allowmethods).
import { HttpError } from "../../src/http/errors.ts";
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { defineModule } from "../../src/module.ts";
import { methodBit } from "../authz_core/builtin.ts";
import core from "../core/index.ts";

export interface AllowMethodsDir {
  /** Bit mask of allowed method numbers; 0 (after `reset`) allows everything. undefined: not set. */
  allowed: number | undefined;
}

const allowMethods = defineModule<undefined, AllowMethodsDir>({
  name: "allowmethods",
  description: "Restricts the HTTP methods a location accepts (AllowMethods)",
  directives: [
    {
      name: "AllowMethods",
      args: [1, Infinity],
      contexts: ["directory"],
      help: "only allow specific methods",
      apply(cmd) {
        // `reset` alone goes back to "anything"; among method names it is just an unknown method.
        if (cmd.args.length === 1 && cmd.args[0] === "reset") {
          cmd.dir.allowed = 0;
          return;
        }
        let mask = 0;
        for (const m of cmd.args) {
          const bit = methodBit(m);
          if (bit === 0) return `AllowMethods: Invalid Method '${m}'`;
          mask |= bit;
        }
        cmd.dir.allowed = mask;
      },
    },
  ],
  createDirConfig: () => ({ allowed: undefined }),
  mergeDirConfig: (base, add) => ({ allowed: add.allowed ?? base.allowed }),
  hooks: {
    // am_check_access runs APR_HOOK_REALLY_FIRST among the access checkers.
    access_checker: { fn: checkMethod, order: "reallyFirst", enabled: (c): boolean => allowMethods.dirConf(c).allowed !== undefined },
  },
});
export default allowMethods;

/**
 * A method outside the list is a 405. HEAD shares GET's method number, so `AllowMethods GET` admits
 * it too. Apache's 405 here carries `Allow: TRACE` (no handler filled in r->allowed yet), or an empty
 * Allow when TraceEnable is off.
 */
function checkMethod(r: Request): void {
  const allowed = allowMethods.dirConf(r)?.allowed;
  if (!allowed || allowed & methodBit(r.method)) return;
  const what = r.filename ? r.filename : `uri ${r.uri}`;
  logError(r, "error", "allowmethods", `AH01623: client method denied by server configuration: '${r.method}' to ${what}`);
  throw new HttpError(405, undefined, { Allow: traceAllowed(r) ? "TRACE" : "" });
}

function traceAllowed(r: Request): boolean {
  return (core.serverConf(r.server).traceEnable ?? "on") !== "off";
}
