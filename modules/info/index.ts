// info: /server-info as Apache's mod_info, read from the configuration tree the server already holds.
import { signature } from "../../src/http/pipeline.ts";
import type { Request } from "../../src/http/request.ts";
import { DECLINED, defineModule } from "../../src/module.ts";
import type { HookResult, Module } from "../../src/module.ts";
import { handlerLocation } from "../status/handler.ts";
import { activeHooks, configTree, moduleBlock, serverSettings, sourceName } from "./render.ts";

/** AddModuleInfo entries: module source name → HTML. */
export interface InfoServerConfig {
  moreInfo: [string, string][];
}

/**
 * mod_info. `SetHandler server-info` answers GET (and HEAD) with the loaded modules, their directives
 * as configured (file:line), the hooks of every phase in run order and the server and MPM settings.
 * It shows the whole configuration: keep it behind `Require local` or authentication.
 * @example
 * <Location /server-info>
 *   SetHandler server-info
 *   Require local
 * </Location>
 */
const info: Module<InfoServerConfig, undefined> = defineModule<InfoServerConfig, undefined>({
  name: "info",
  description: "Server configuration overview: /server-info (?config, ?hooks, ?list, ?server, ?mod_x.c)",
  directives: [
    {
      name: "AddModuleInfo",
      args: [2, 2],
      contexts: ["server", "vhost"],
      help: "a module name and additional information on that module",
      apply({ args, server }) {
        server.moreInfo.push([args[0]!, args[1]!]);
      },
    },
  ],
  createServerConfig: () => ({ moreInfo: [] }),
  // merge_info_config: the vhost's entries first, then the main server's.
  mergeServerConfig: (base, add) => ({ moreInfo: [...add.moreInfo, ...base.moreInfo] }),
  hooks: { handler: { fn: displayInfo, handles: ["server-info"] } },
});
export default info;

const HEAD =
  '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n' +
  '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n' +
  '<html xmlns="http://www.w3.org/1999/xhtml">\n<head>\n  <title>Server Information</title>\n' +
  '  <meta name="viewport" content="width=device-width, initial-scale=1" />\n' +
  "  <style>body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;padding:.75rem;max-width:80rem}" +
  "tt{font-family:ui-monospace,monospace;overflow-wrap:anywhere}dd{margin-left:1.5rem}</style>\n</head>\n";

/** The page, section by section as display_info writes it; the query is matched whole, ignoring case. */
function displayInfo(r: Request): HookResult {
  if (r.handler !== "server-info") return DECLINED;
  if (r.method !== "GET" && r.method !== "HEAD") return DECLINED;
  r.contentType = "text/html; charset=ISO-8859-1";
  const args = r.args ? r.args.toLowerCase() : undefined;
  const cfg = r.rt.cfg;
  const out: string[] = [HEAD, '<body><h1 style="text-align: center">Apache Server Information</h1>\n'];
  const status = handlerLocation(r.server, "server-status");
  if (status) out.push(`<p><a href="${status}">Server status</a></p>\n`);
  if (args !== "list") {
    if (args === undefined) {
      out.push(
        "<dl><dt><tt>Subpages:<br />",
        '<a href="?config">Configuration Files</a>, <a href="?server">Server Settings</a>, ' +
          '<a href="?list">Module List</a>,  <a href="?hooks">Active Hooks</a>',
        "</tt></dt></dl><hr />",
        "<dl><dt><tt>Sections:<br />",
        '<a href="#server">Server Settings</a>, <a href="#startup_hooks">Startup Hooks</a>, ' +
          '<a href="#request_hooks">Request Hooks</a>',
        "</tt></dt></dl><hr />",
        "<dl><dt><tt>Loaded Modules: <br />",
        cfg.modules.map((m) => `<a href="#${sourceName(m)}">${sourceName(m)}</a>`).join(", "),
        "</tt></dt></dl><hr />",
      );
    }
    if (args === undefined || args === "server") out.push(serverSettings(r));
    if (args === undefined || args === "hooks") out.push(activeHooks(r, args === "hooks"));
    if (args === "config") out.push(configTree(r));
    else {
      const more = info.serverConf(r.server)?.moreInfo ?? [];
      let found = false;
      for (const m of cfg.modules) {
        const name = sourceName(m);
        if (args !== undefined && name.toLowerCase() !== args) continue;
        found = true;
        out.push(moduleBlock(r, m, more.find(([n]) => n === name)?.[1]));
        if (args !== undefined) break;
      }
      if (!found && args !== undefined && args !== "server" && args !== "hooks") {
        out.push("<p><b>No such module</b></p>\n");
      }
    }
  } else {
    out.push("<dl><dt>Server Module List</dt>");
    for (const m of cfg.modules) out.push(`<dd>${sourceName(m)}</dd>`);
    out.push("</dl><hr />");
  }
  out.push(signature(r), "</body></html>\n");
  return r.respond(out.join(""));
}
