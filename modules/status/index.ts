// status: /server-status as Apache's mod_status (?auto, HTML, ?notable, ?refresh) plus ?json and ?metrics.
import type { Request } from "../../src/http/request.ts";
import { DECLINED, defineModule } from "../../src/module.ts";
import type { HookResult, Module } from "../../src/module.ts";
import { serveStatus, STATUS_MAGIC_TYPE } from "./handler.ts";
import { instanceFor } from "./state.ts";

export { registerStatusHook } from "./hooks.ts";
export type { StatusFormat, StatusHook, StatusHookFlags } from "./hooks.ts";
export type { StatusSnapshot } from "./snapshot.ts";

/** Per-server config; only the main server's counts (Apache keeps both as process-wide globals). */
export interface StatusServerConfig {
  extended: boolean | undefined;
  seeRequestTail: boolean | undefined;
}

/**
 * mod_status. `SetHandler server-status` answers GET and HEAD with the server's state; ExtendedStatus is
 * On by default once the module is loaded (its pre_config does that since 2.3.6).
 * @example
 * <Location /server-status>
 *   SetHandler server-status
 *   Require local
 * </Location>
 */
const status: Module<StatusServerConfig, undefined> = defineModule<StatusServerConfig, undefined>({
  name: "status",
  description: "Server activity and performance: /server-status (HTML, ?auto, ?json, ?metrics)",
  directives: [
    {
      name: "ExtendedStatus",
      args: "flag",
      contexts: ["server"],
      help: '"On" to track extended status information, "Off" to disable',
      apply({ flag, server }) {
        server.extended = flag;
      },
    },
    {
      name: "SeeRequestTail",
      args: "flag",
      contexts: ["server"],
      help: "For extended status, On: display last 63 chars of the request line, Off: the first 63",
      apply({ flag, server }) {
        server.seeRequestTail = flag;
      },
    },
  ],
  createServerConfig: () => ({ extended: undefined, seeRequestTail: undefined }),
  mergeServerConfig: (base, add) => ({
    extended: add.extended ?? base.extended,
    seeRequestTail: add.seeRequestTail ?? base.seeRequestTail,
  }),
  hooks: {
    // After the log hooks, as Apache counts a request (eor_bucket_cleanup: log_transaction, then the
    // scoreboard). The scoreboard itself is the MPM's (src/scoreboard); these are mosaic's extra counters.
    log_transaction: { fn: countRequest, order: "reallyLast" },
    handler: handleStatus,
  },
});
export default status;

const readConf = (s: { moduleConfig: unknown[] }) => status.serverConf(s) ?? {};

function countRequest(r: Request): void {
  const inst = instanceFor(r.rt, readConf);
  inst.counters.record(r);
  // One identity check per request; the first request of a child joins its siblings' sums.
  inst.shareCounters();
}

/** GET and HEAD only: any other method is DECLINED and ends as Apache's 404. */
function handleStatus(r: Request): HookResult {
  const h = r.handler;
  if (h !== "server-status" && h !== STATUS_MAGIC_TYPE) return DECLINED;
  if (r.method !== "GET" && r.method !== "HEAD") return DECLINED;
  return serveStatus(r, instanceFor(r.rt, readConf));
}
