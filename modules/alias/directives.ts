// mod_alias directives: Alias, AliasMatch, ScriptAlias(Match), Redirect, RedirectMatch, RedirectTemp/Permanent.
import path from "node:path";
import { defineDirectives } from "../../src/module.ts";
import type { DirectiveCmd } from "../../src/module.ts";
import type { AliasDir, AliasEntry, AliasServer } from "./config.ts";
import { aliasMatches } from "./match.ts";
import { compileRegex, compileSubst } from "../../src/http/regsub.ts";
import { isUrl } from "../../src/http/url.ts";

type Cmd = DirectiveCmd<AliasServer, AliasDir>;

const DIR_SECTIONS = new Set(["Directory", "DirectoryMatch", "Files", "FilesMatch"]);

/**
 * The one-argument forms take an ap_expr string in Apache. mosaic has no expression engine yet, so
 * only literal strings (no `%{...}`) are accepted; a literal string expression is the string itself.
 */
function literalExpr(kind: string, s: string): string | undefined {
  if (s.includes("%{")) {
    return (
      `Cannot parse ${kind} expression '${s}': expressions (%{...}) are not supported by mosaic yet, ` +
      "only literal values"
    );
  }
  return undefined;
}

/** A ServerRoot-relative target, as ap_server_root_relative resolves it (AliasMatch: before substitution). */
function rootRelative(cmd: Cmd, real: string): string {
  return path.isAbsolute(real) ? real : `${cmd.resolvePath(".")}/${real}`;
}

/** add_alias / add_alias_regex: two-argument forms go to the server, one-argument ones to a <Location>. */
function addAlias(cmd: Cmd, name: string, handler: string | undefined, useRegex: boolean): string | void {
  const [fake, real] = cmd.args as [string, string | undefined];
  if (real === undefined) {
    if (cmd.section && DIR_SECTIONS.has(cmd.section)) {
      return `${name} cannot occur within <${cmd.section}> section`;
    }
    if (!cmd.section) return `${name} must have two arguments when used globally`;
    const err = literalExpr("alias", fake);
    if (err) return err;
    cmd.dir.alias = rootRelative(cmd, fake);
    cmd.dir.aliasHandler = handler;
    cmd.dir.aliasSet = true;
    return;
  }
  if (cmd.section) return `${name} cannot occur within directory context`;
  const list = cmd.server.aliases;
  const entry: AliasEntry = { fake, real, subst: undefined, regex: undefined, handler, status: 0 };
  if (useRegex) {
    entry.regex = compileRegex(fake);
    if (!entry.regex) return "Regular expression could not be compiled.";
    entry.subst = compileSubst(rootRelative(cmd, real));
  } else {
    entry.real = rootRelative(cmd, real);
    // AH00671: an Alias under an earlier, shorter one can never be reached (first match wins).
    const prev = list.find((a) => (a.regex ? a.regex.test(fake) : aliasMatches(fake, a.fake) > 0));
    if (prev) {
      const earlier = `${prev.handler ? "Script" : ""}Alias${prev.regex ? "Match" : ""}`;
      cmd.warn(
        `AH00671: The ${name} directive in ${cmd.node.file} at line ${cmd.node.line} will probably never ` +
          `match because it overlaps an earlier ${earlier}.`,
      );
    }
  }
  list.push(entry);
}

/** add_redirect_internal, with the 2.4.19+ one-argument forms inside sections. */
function addRedirect(cmd: Cmd, defaultStatus: number, useRegex: boolean): string | void {
  const [arg1, arg2, arg3] = cmd.args as [string, string | undefined, string | undefined];
  let status = defaultStatus;
  let grok = true;
  const a1 = arg1.toLowerCase();
  if (a1 === "permanent") status = 301;
  else if (a1 === "temp") status = 302;
  else if (a1 === "seeother") status = 303;
  else if (a1 === "gone") status = 410;
  else if (/^\d/.test(arg1)) status = Number.parseInt(arg1, 10);
  else grok = false;
  if (arg3 !== undefined && !grok) return "Redirect: invalid first argument (of three)";

  if (cmd.section) {
    // One-argument forms (a status and/or a target) apply to the whole section.
    let target: string | undefined;
    if (grok && arg2 !== undefined && arg3 === undefined && status !== 410) target = arg2;
    else if (grok && arg2 === undefined && status === 410) target = "";
    else if (!grok && arg2 === undefined) target = arg1;
    if (target !== undefined) {
      const err = target ? literalExpr("redirect", target) : undefined;
      if (err) return err;
      cmd.dir.redirect = target;
      cmd.dir.redirectStatus = status;
      cmd.dir.redirectSet = true;
      return;
    }
  }

  let fake = arg2;
  let url = arg3;
  if (arg3 === undefined && !grok) {
    fake = arg1;
    url = arg2;
  }
  let regex: RegExp | undefined;
  if (useRegex) {
    regex = compileRegex(fake ?? "");
    if (!regex) return "Regular expression could not be compiled.";
  }
  if (status >= 300 && status < 400) {
    if (!url) return "URL to redirect to is missing";
    // PR#35314: a path is allowed and becomes a full URL per request.
    if (!useRegex && !isUrl(url) && !url.startsWith("/")) return "Redirect to non-URL";
  } else if (url !== undefined) {
    return "Redirect URL not valid for this status";
  }
  const entry: AliasEntry = {
    fake: fake ?? "",
    real: url ?? "",
    subst: useRegex && url !== undefined ? compileSubst(url) : undefined,
    regex,
    handler: undefined,
    status,
  };
  (cmd.section ? cmd.dir.redirects : cmd.server.redirects).push(entry);
}

const ALIAS_HELP = "a fakename and a realname, or a realname in a Location";

export const aliasDirectives = defineDirectives<AliasServer, AliasDir>([
  {
    name: "Alias",
    args: [1, 2],
    help: ALIAS_HELP,
    apply: (cmd) => addAlias(cmd, "Alias", undefined, false),
  },
  {
    name: "ScriptAlias",
    args: [1, 2],
    help: ALIAS_HELP,
    apply: (cmd) => addAlias(cmd, "ScriptAlias", "cgi-script", false),
  },
  {
    name: "AliasMatch",
    args: [2, 2],
    contexts: ["server", "vhost"],
    help: "a regular expression and a filename",
    apply: (cmd) => addAlias(cmd, "AliasMatch", undefined, true),
  },
  {
    name: "ScriptAliasMatch",
    args: [2, 2],
    contexts: ["server", "vhost"],
    help: "a regular expression and a filename",
    apply: (cmd) => addAlias(cmd, "ScriptAliasMatch", "cgi-script", true),
  },
  {
    name: "Redirect",
    args: [1, 3],
    help: "an optional status, then document to be redirected and destination URL",
    apply: (cmd) => addRedirect(cmd, 302, false),
  },
  {
    name: "RedirectMatch",
    args: [2, 3],
    help: "an optional status, then a regular expression and destination URL",
    apply: (cmd) => addRedirect(cmd, 302, true),
  },
  {
    name: "RedirectTemp",
    args: [2, 2],
    help: "a document to be redirected, then the destination URL",
    apply: (cmd) => addRedirect(cmd, 302, false),
  },
  {
    name: "RedirectPermanent",
    args: [2, 2],
    help: "a document to be redirected, then the destination URL",
    apply: (cmd) => addRedirect(cmd, 301, false),
  },
]);
