// setenvif: SetEnvIf, SetEnvIfNoCase, BrowserMatch, BrowserMatchNoCase (Apache's mod_setenvif).
import type { Request } from "../../src/http/request.ts";
import { defineModule } from "../../src/module.ts";
import type { DirectiveCmd } from "../../src/module.ts";
import { createConf, mergeConf, parseCondition, parseExprCondition, runConditions } from "./config.ts";
import type { Condition, SetEnvIfConf } from "./config.ts";

export type { Condition, SetEnvIfConf } from "./config.ts";

type Cmd = DirectiveCmd<SetEnvIfConf, SetEnvIfConf>;

/** Server-level lines go to the server config (post_read_request), section lines to the section's. */
function add(
  cmd: Cmd,
  directive: string,
  attribute: string | undefined,
  rest: string[],
  icase: boolean,
): string | void {
  if (!attribute) return `Missing header-field name for ${directive}`;
  return push(cmd, parseCondition(directive, attribute, rest, icase));
}

function push(cmd: Cmd, c: Condition | string): string | void {
  if (typeof c === "string") return c;
  (cmd.section ? cmd.dir : cmd.server).conditions.push(c);
}

/**
 * mod_setenvif. Conditions at server or vhost level run in post_read_request, before the URL is
 * mapped; those in sections run in header_parser with the merged section config, as in Apache.
 * Attributes: a request header (or a pattern over header names), Remote_Host, Remote_Addr,
 * Server_Addr, Request_Method, Request_Protocol, Request_URI, or else an earlier set variable.
 * SetEnvIfExpr lines take an ap_expr condition instead, in the same order and places.
 */
const setenvif = defineModule<SetEnvIfConf, SetEnvIfConf>({
  name: "setenvif",
  description: "Sets environment variables based on characteristics of the request",
  directives: [
    {
      name: "SetEnvIf",
      args: "raw",
      help: "A header-name, regex and a list of variables.",
      apply: (cmd) => add(cmd, "SetEnvIf", cmd.args[0], cmd.args.slice(1), false),
    },
    {
      name: "SetEnvIfNoCase",
      args: "raw",
      help: "a header-name, regex and a list of variables.",
      apply: (cmd) => add(cmd, "SetEnvIfNoCase", cmd.args[0], cmd.args.slice(1), true),
    },
    {
      name: "BrowserMatch",
      args: "raw",
      help: "A browser regex and a list of variables.",
      apply: (cmd) => add(cmd, "BrowserMatch", "User-Agent", cmd.args, false),
    },
    {
      name: "BrowserMatchNoCase",
      args: "raw",
      help: "A browser regex and a list of variables.",
      apply: (cmd) => add(cmd, "BrowserMatchNoCase", "User-Agent", cmd.args, true),
    },
    {
      name: "SetEnvIfExpr",
      args: "raw",
      help: "an expression and a list of variables.",
      apply: (cmd) => push(cmd, parseExprCondition(cmd.args, cmd.node)),
    },
  ],
  createServerConfig: createConf,
  mergeServerConfig: mergeConf,
  createDirConfig: createConf,
  mergeDirConfig: mergeConf,
  hooks: {
    post_read_request: {
      fn: (r: Request): void => {
        const list = setenvif.serverConf(r.server).conditions;
        if (list.length) runConditions(r, list);
      },
      enabled: (c): boolean => setenvif.serverConf(c).conditions.length > 0,
    },
    header_parser: {
      fn: (r: Request): void => {
        const list = setenvif.dirConf(r).conditions;
        if (list.length) runConditions(r, list);
      },
      enabled: (c): boolean => setenvif.dirConf(c).conditions.length > 0,
    },
  },
});
export default setenvif;
