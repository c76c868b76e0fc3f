// SetEnvIf conditions: parsing at config time (add_setenvif_core) and matching per request (match_headers).
import type { Request } from "../../src/http/request.ts";
import { compileRegex, compileSubst, substitute } from "../../src/http/regsub.ts";
import type { Subst } from "../../src/http/regsub.ts";

const SPECIAL_LIST = [
  "remote_addr",
  "remote_host",
  "server_addr",
  "request_uri",
  "request_method",
  "request_protocol",
] as const;
type Special = (typeof SPECIAL_LIST)[number];
const SPECIALS = new Set<string>(SPECIAL_LIST);

interface Feature {
  name: string;
  /** undefined: `!name` removes the variable. A Subst when the pattern is a real regex ($1..$9). */
  value: string | Subst | undefined;
}

/** One SetEnvIf/BrowserMatch line (Apache's sei_entry). */
export interface Condition {
  /** The attribute as written, for header and environment lookups. */
  name: string;
  special: Special | undefined;
  /** Set when the attribute is itself a pattern over request header names. */
  nameRegex: RegExp | undefined;
  regex: RegExp;
  features: Feature[];
}

export interface SetEnvIfConf {
  conditions: Condition[];
}

export function createConf(): SetEnvIfConf {
  return { conditions: [] };
}

/** merge_setenvif_config: the parent's conditions, then the deeper scope's. */
export function mergeConf(base: SetEnvIfConf, add: SetEnvIfConf): SetEnvIfConf {
  if (add.conditions.length === 0) return base;
  if (base.conditions.length === 0) return add;
  return { conditions: [...base.conditions, ...add.conditions] };
}

/** non_regex_pattern: no unescaped metacharacter means a plain substring match without captures. */
function isSimplePattern(s: string): boolean {
  let esc = false;
  for (const c of s) {
    if ("^.$|()[]*+?{}".includes(c)) {
      if (!esc) return false;
      esc = false;
    } else if (c === "\\") esc = !esc;
    else if (esc) return false;
  }
  return true;
}

/**
 * Builds a condition from `attribute regex [!]var[=value]...` (the attribute already taken off),
 * returning Apache's error message on failure.
 */
export function parseCondition(
  directive: string,
  attribute: string,
  rest: string[],
  icase: boolean,
): Condition | string {
  const pattern = rest[0];
  if (!pattern) return `Missing regular expression for ${directive}`;
  const regex = compileRegex(pattern, icase ? "i" : "");
  if (!regex) return `${directive} regex could not be compiled.`;
  const lower = attribute.toLowerCase();
  const special = SPECIALS.has(lower) ? (lower as Special) : undefined;
  let nameRegex: RegExp | undefined;
  if (!special && !/^[-A-Za-z0-9_]*$/.test(attribute)) {
    // Fetch lower-cases request header names, so name patterns always ignore case.
    nameRegex = compileRegex(attribute, "i");
    if (!nameRegex) return `${directive}Header name regex could not be compiled.`;
  }
  const simple = isSimplePattern(pattern);
  const features: Feature[] = [];
  for (const word of rest.slice(1)) {
    if (!word) continue;
    const eq = word.indexOf("=");
    const name = eq >= 0 ? word.slice(0, eq) : word;
    const value = eq >= 0 ? word.slice(eq + 1) : "";
    if (value) features.push({ name, value: simple ? value : compileSubst(value) });
    else if (name.startsWith("!")) features.push({ name: name.slice(1), value: undefined });
    else features.push({ name, value: "1" });
  }
  if (features.length === 0) return `Missing envariable expression for ${directive}`;
  return { name: attribute, special, nameRegex, regex, features };
}

function attributeValue(r: Request, c: Condition): string | undefined {
  switch (c.special) {
    case "remote_addr":
      return r.conn.remoteAddr;
    case "remote_host":
      // HostnameLookups are not supported: Apache then answers with the address, too.
      return r.conn.remoteAddr;
    case "server_addr":
      return r.conn.localAddr;
    case "request_uri":
      return r.uri;
    case "request_method":
      return r.method;
    case "request_protocol":
      return r.protocol;
  }
  if (c.nameRegex) {
    // The last request header whose name matches, as Apache iterates headers_in.
    let val: string | undefined;
    for (const [k, v] of r.headersIn) if (c.nameRegex.test(k)) val = v;
    return val;
  }
  return r.headersIn.get(c.name) ?? r.subprocessEnv.get(c.name);
}

/** match_headers: each matching condition sets or removes its variables, in order. */
export function runConditions(r: Request, list: readonly Condition[]): void {
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    // A missing attribute counts as "", so `^$` can test for absence (Apache does the same).
    const m = c.regex.exec(attributeValue(r, c) ?? "");
    if (!m) continue;
    for (const f of c.features) {
      if (f.value === undefined) r.subprocessEnv.delete(f.name);
      else r.subprocessEnv.set(f.name, typeof f.value === "string" ? f.value : substitute(f.value, m));
    }
  }
}
