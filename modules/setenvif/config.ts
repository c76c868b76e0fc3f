// SetEnvIf conditions: parsing at config time (add_setenvif_core) and matching per request (match_headers).
import type { ConfigNode } from "../../src/config/node.ts";
import { parseExpr } from "../../src/expr/index.ts";
import type { BoolExpr, MatchOut } from "../../src/expr/index.ts";
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

/** One SetEnvIf/BrowserMatch/SetEnvIfExpr line (Apache's sei_entry). */
export interface Condition {
  /** The attribute as written, for header and environment lookups ("" for SetEnvIfExpr). */
  name: string;
  special: Special | undefined;
  /** Set when the attribute is itself a pattern over request header names. */
  nameRegex: RegExp | undefined;
  /** The pattern over the attribute; undefined for SetEnvIfExpr. */
  regex: RegExp | undefined;
  /** SetEnvIfExpr: the expression, whose last regex match fills `$1`..`$9`. */
  expr: BoolExpr | undefined;
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
  const features = parseFeatures(directive, rest.slice(1), isSimplePattern(pattern));
  if (typeof features === "string") return features;
  return { name: attribute, special, nameRegex, regex, expr: undefined, features };
}

/**
 * add_envvars: `var=value`, `var` (= "1") and `!var` (removes it). A value that starts with `!`
 * removes the variable too, as Apache tests the first character of the stored value.
 * `literal`: the pattern has no regex syntax, so the value is not a `$N` template.
 */
function parseFeatures(
  directive: string,
  words: readonly string[],
  literal: boolean,
): Feature[] | string {
  const features: Feature[] = [];
  for (const word of words) {
    if (!word) continue;
    const eq = word.indexOf("=");
    const name = eq >= 0 ? word.slice(0, eq) : word;
    const value = eq >= 0 ? word.slice(eq + 1) : "";
    if (value.startsWith("!")) features.push({ name, value: undefined });
    else if (value) features.push({ name, value: literal ? value : compileSubst(value) });
    else if (name.startsWith("!")) features.push({ name: name.slice(1), value: undefined });
    else features.push({ name, value: "1" });
  }
  if (features.length === 0) return `Missing envariable expression for ${directive}`;
  return features;
}

/**
 * add_setenvifexpr: `SetEnvIfExpr expr [!]var[=value]...`, returning Apache's error message on
 * failure (the expression's parse error with its column). Headers it reads go into Vary.
 */
export function parseExprCondition(words: readonly string[], node: ConfigNode): Condition | string {
  const text = words[0];
  if (!text) return "Missing expression for SetEnvIfExpr";
  const expr = parseExpr(text, node, { module: "setenvif" });
  if (typeof expr === "string") return `Could not parse expression "${text}": ${expr}`;
  const features = parseFeatures("SetEnvIfExpr", words.slice(1), false);
  if (typeof features === "string") return features;
  return { name: "", special: undefined, nameRegex: undefined, regex: undefined, expr, features };
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

/** Where SetEnvIfExpr reads the expression's last match; reused, as evaluation is synchronous. */
const out: MatchOut = { match: null };
/** `$N` when the expression matched no regex: every group is "" (Apache substitutes from ""). */
const NO_MATCH = Object.assign([""], { index: 0, input: "" }) as RegExpExecArray;

/** The match that fills the condition's `$N`, or null when the condition does not hold. */
function evaluate(r: Request, c: Condition): RegExpExecArray | null {
  if (c.expr) {
    // -1 (the engine logged why) counts as false, as ap_expr_exec_re's result <= 0 does.
    if (c.expr.exec(r, out) !== 1) return null;
    return out.match ?? NO_MATCH;
  }
  // A missing attribute counts as "", so `^$` can test for absence (Apache does the same).
  return c.regex!.exec(attributeValue(r, c) ?? "");
}

/** match_headers: each matching condition sets or removes its variables, in order. */
export function runConditions(r: Request, list: readonly Condition[]): void {
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    const m = evaluate(r, c);
    if (!m) continue;
    for (const f of c.features) {
      if (f.value === undefined) r.subprocessEnv.delete(f.name);
      else r.subprocessEnv.set(f.name, typeof f.value === "string" ? f.value : substitute(f.value, m));
    }
  }
}
