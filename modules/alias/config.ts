// mod_alias configuration: per-server Alias/Redirect lists and per-directory redirects (mod_alias.c).
import type { Subst } from "../../src/http/regsub.ts";

/** One Alias, AliasMatch, ScriptAlias, Redirect or RedirectMatch (Apache's alias_entry). */
export interface AliasEntry {
  /** The URL prefix (plain forms) or the pattern source (Match forms). */
  fake: string;
  /** Target path (aliases, absolute after ServerRoot resolution) or URL (redirects); "" for gone. */
  real: string;
  /** The compiled target for Match forms ($1..$9). */
  subst: Subst | undefined;
  regex: RegExp | undefined;
  /** "cgi-script" for ScriptAlias. */
  handler: string | undefined;
  /** Redirect status (301, 302, 303, 410, ...); 0 for aliases. */
  status: number;
}

export interface AliasServer {
  aliases: AliasEntry[];
  redirects: AliasEntry[];
}

/** Per-directory: path-form Redirects inside sections, and the one-argument forms (2.4.19+). */
export interface AliasDir {
  redirects: AliasEntry[];
  /** One-argument Alias/ScriptAlias in a <Location>: the whole URL maps to this path. */
  alias: string | undefined;
  aliasHandler: string | undefined;
  aliasSet: boolean;
  /** One-argument Redirect in a section: the target URL ("" for gone) and status. */
  redirect: string | undefined;
  redirectStatus: number;
  redirectSet: boolean;
}

export function createAliasServer(): AliasServer {
  return { aliases: [], redirects: [] };
}

/** Apache's merge_alias_config: the vhost's entries first, then the main server's. */
export function mergeAliasServer(base: AliasServer, add: AliasServer): AliasServer {
  return {
    aliases: [...add.aliases, ...base.aliases],
    redirects: [...add.redirects, ...base.redirects],
  };
}

export function createAliasDir(): AliasDir {
  return {
    redirects: [],
    alias: undefined,
    aliasHandler: undefined,
    aliasSet: false,
    redirect: undefined,
    redirectStatus: 0,
    redirectSet: false,
  };
}

/** merge_alias_dir_config: the deeper section's redirects first; one-argument forms replace. */
export function mergeAliasDir(base: AliasDir, add: AliasDir): AliasDir {
  return {
    redirects: add.redirects.length ? [...add.redirects, ...base.redirects] : base.redirects,
    alias: add.aliasSet ? add.alias : base.alias,
    aliasHandler: add.aliasSet ? add.aliasHandler : base.aliasHandler,
    aliasSet: add.aliasSet || base.aliasSet,
    redirect: add.redirectSet ? add.redirect : base.redirect,
    redirectStatus: add.redirectSet ? add.redirectStatus : base.redirectStatus,
    redirectSet: add.redirectSet || base.redirectSet,
  };
}
