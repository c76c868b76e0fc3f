// alias: Alias, AliasMatch, ScriptAlias, Redirect and RedirectMatch (Apache's mod_alias).
import { HttpError } from "../../src/http/errors.ts";
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { DECLINED, defineModule } from "../../src/module.ts";
import type { HookResult } from "../../src/module.ts";
import { createAliasDir, createAliasServer, mergeAliasDir, mergeAliasServer } from "./config.ts";
import type { AliasDir, AliasServer } from "./config.ts";
import { aliasDirectives } from "./directives.ts";
import { fixupRedirect, translate } from "./match.ts";

export type { AliasDir, AliasEntry, AliasServer } from "./config.ts";

/**
 * mod_alias. Redirects are tried before aliases, the first match in config order wins, and a
 * vhost's rules come before the main server's. An alias only changes `r.filename`: the core still
 * applies <Directory> sections to the target afterwards.
 *
 * ScriptAlias maps like Alias and forces the `cgi-script` handler. mosaic runs no CGI, so unless a
 * module takes that handler, a request there is refused with 403 (404 when the script is missing)
 * instead of Apache's behaviour without mod_cgi, which serves the script's source as a file.
 */
const alias = defineModule<AliasServer, AliasDir>({
  name: "alias",
  description: "Mapping URLs to filesystem paths, and URL redirection",
  directives: aliasDirectives,
  createServerConfig: createAliasServer,
  mergeServerConfig: mergeAliasServer,
  createDirConfig: createAliasDir,
  mergeDirConfig: mergeAliasDir,
  hooks: {
    translate_name: {
      fn: (r: Request): HookResult =>
        translate(r, alias.serverConf(r.server), alias.index) ? undefined : DECLINED,
      order: "middle",
      before: ["userdir", "vhost_alias"],
    },
    fixups: (r: Request): void => {
      const d = alias.dirConf(r);
      if (d.redirectSet || d.redirects.length) fixupRedirect(r, d);
    },
    handler: { fn: refuseScript, order: "last" },
  },
});
export default alias;

/** The cgi-script handler ScriptAlias forced, when no module ran it. */
function refuseScript(r: Request): HookResult {
  if (r.handler !== "cgi-script" || r.notes.get("alias-forced-type") !== "cgi-script") return DECLINED;
  if (!r.finfo) {
    logError(r, "error", "alias", `AH02811: script not found or unable to stat: ${r.filename}`);
    throw new HttpError(404);
  }
  logError(r, "error", "alias", `AH00000: not serving ${r.filename}: mosaic does not run CGI scripts`);
  throw new HttpError(403);
}
