// mod_alias at request time: prefix and regex matching, redirects, aliases (translate_alias_redir, fixup_redir).
import { HttpError } from "../../src/http/errors.ts";
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import type { Section, ServerRec } from "../../src/server-rec.ts";
import type { AliasDir, AliasEntry, AliasServer } from "./config.ts";
import { substitute } from "../../src/http/regsub.ts";
import { constructUrl, escapePath, isUrl } from "../../src/http/url.ts";

/** What a rule produced: a path (alias) or a URL ("" for gone), with the status and handler. */
interface Hit {
  target: string;
  status: number;
  handler: string | undefined;
}

/**
 * Apache's alias_matches: the URL-path prefix matches whole segments (`/icons` matches `/icons` and
 * `/icons/a` but not `/iconsx`); any run of slashes in one matches any run in the other. Returns how
 * many characters of the URI matched, or 0.
 */
export function aliasMatches(uri: string, fake: string): number {
  if (!fake) return 0;
  let a = 0;
  let u = 0;
  while (a < fake.length) {
    if (fake.charCodeAt(a) === 47) {
      if (uri.charCodeAt(u) !== 47) return 0;
      do a++;
      while (fake.charCodeAt(a) === 47);
      do u++;
      while (uri.charCodeAt(u) === 47);
    } else if (uri.charCodeAt(u++) !== fake.charCodeAt(a++)) return 0;
  }
  if (fake.charCodeAt(a - 1) !== 47 && u < uri.length && uri.charCodeAt(u) !== 47) return 0;
  return u;
}

/** A RedirectMatch result: the path part escaped, query and fragment kept as written (apr_uri_unparse). */
function escapeTarget(s: string): string {
  const hash = s.indexOf("#");
  const qm = s.indexOf("?");
  const hasQuery = qm >= 0 && (hash < 0 || qm < hash);
  const pathEnd = hasQuery ? qm : hash >= 0 ? hash : s.length;
  let out = escapePath(s.slice(0, pathEnd));
  if (hasQuery) out += "?" + s.slice(qm + 1, hash >= 0 ? hash : s.length);
  if (hash >= 0) out += "#" + s.slice(hash + 1);
  return out;
}

/** try_alias_list: the first entry (in list order) that matches the URI. */
function tryList(r: Request, list: readonly AliasEntry[], isRedirect: boolean): Hit | undefined {
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    let target: string;
    if (e.regex) {
      const m = e.regex.exec(r.uri);
      if (!m) continue;
      target = e.subst ? substitute(e.subst, m) : "";
      if (isRedirect && e.subst) target = escapeTarget(target);
    } else {
      const l = aliasMatches(r.uri, e.fake);
      if (l <= 0) continue;
      // The URI is decoded and dot-segment free already, so the remainder cannot climb out of `real`.
      target = isRedirect ? e.real + escapePath(r.uri.slice(l)) : e.real + r.uri.slice(l);
    }
    return { target, status: e.status, handler: e.handler };
  }
  return undefined;
}

/** try_redirect: a one-argument Redirect of a section. */
function tryRedirect(d: AliasDir | undefined): Hit | undefined {
  if (!d?.redirectSet) return undefined;
  const target = d.redirect ? escapeTarget(d.redirect) : "";
  return { target, status: d.redirectStatus, handler: undefined };
}

/** Has the client sent a `?`, even with nothing after it (Apache then appends a bare `?`)? */
function hasQuery(r: Request): boolean {
  return r.args !== "" || r.unparsedUri.includes("?");
}

/** Answers a matched redirect rule: Location for 3xx (made absolute, query appended), else the status. */
function answer(r: Request, hit: Hit, ids: readonly [string, string]): never {
  let url = hit.target;
  const status = hit.status;
  if (status >= 300 && status < 400) {
    if (url.startsWith("/")) {
      const orig = url;
      url = constructUrl(r, url);
      const msg = `incomplete redirection target of '${orig}' for URI '${r.uri}' modified to '${url}'`;
      logError(r, "debug", "alias", `${ids[0]}: ${msg}`);
    }
    if (!isUrl(url)) {
      const msg = `cannot redirect '${r.uri}' to '${url}'; target is not a valid absoluteURI or abs_path`;
      logError(r, "error", "alias", `${ids[1]}: ${msg}`);
      throw new HttpError(500);
    }
    // Append the client's query only when the target has none of its own.
    if (hasQuery(r) && !url.includes("?")) url += "?" + r.args;
    throw new HttpError(status, undefined, { Location: url });
  }
  throw new HttpError(status);
}

const sectionsCache = new WeakMap<ServerRec, Section[]>();

/** The <Location> sections carrying one-argument Alias/Redirect, computed once per server. */
function locationRules(s: ServerRec, index: number): Section[] {
  let list = sectionsCache.get(s);
  if (!list) {
    list = s.sections.locations.filter((sec) => {
      const d = sec.config[index] as AliasDir | undefined;
      return d !== undefined && (d.aliasSet || d.redirectSet);
    });
    sectionsCache.set(s, list);
  }
  return list;
}

/**
 * Apache walks <Location> once before translate_name, so one-argument Alias/Redirect there can act
 * on the URL. The core walks sections after map_to_storage, so this replays that walk for our rules.
 */
function preTranslateDir(r: Request, index: number): { alias?: AliasDir; redirect?: AliasDir } | undefined {
  const rules = locationRules(r.server, index);
  if (rules.length === 0) return undefined;
  const out: { alias?: AliasDir; redirect?: AliasDir } = {};
  const uri = r.uri;
  for (const sec of rules) {
    const p = sec.path;
    const matches = sec.regex
      ? sec.regex.test(uri)
      : uri.startsWith(p) && (uri.length === p.length || p.endsWith("/") || uri.charCodeAt(p.length) === 47);
    if (!matches) continue;
    // Later (deeper or later in the file) sections replace earlier ones, as merge_alias_dir_config does.
    const d = sec.config[index] as AliasDir;
    if (d.aliasSet) out.alias = d;
    if (d.redirectSet) out.redirect = d;
  }
  return out;
}

/** translate_name: section redirect, server redirects, section alias, server aliases, in that order. */
export function translate(r: Request, server: AliasServer, index: number): boolean {
  if (r.uri.charCodeAt(0) !== 47) return false;
  const loc = preTranslateDir(r, index);
  const hit = tryRedirect(loc?.redirect) ?? tryList(r, server.redirects, true);
  if (hit) answer(r, hit, ["AH00673", "AH00674"]);
  const la = loc?.alias;
  const alias =
    la?.alias !== undefined
      ? { target: la.alias, status: 0, handler: la.aliasHandler }
      : tryList(r, server.aliases, false);
  if (!alias) return false;
  r.filename = alias.target;
  if (alias.handler) {
    // Like Apache, leave a note so a CGI module knows the handler was forced by ScriptAlias.
    r.handler = alias.handler;
    r.notes.set("alias-forced-type", alias.handler);
  }
  return true;
}

/** fixups: redirects configured inside <Directory>/<Location> sections, now that they are merged. */
export function fixupRedirect(r: Request, d: AliasDir): void {
  const hit = tryRedirect(d) ?? tryList(r, d.redirects, true);
  if (hit) answer(r, hit, ["AH00675", "AH00676"]);
}
