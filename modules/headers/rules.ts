// mod_headers rules: parsing Header/RequestHeader arguments and value formats at config time (header_inout_cmd).
import type { ConfigNode } from "../../src/config/node.ts";
import { parseExpr, parseStringExpr } from "../../src/expr/index.ts";
import type { BoolExpr, StringExpr } from "../../src/expr/index.ts";
import { compileRegex, compileSubst } from "../../src/http/regsub.ts";
import type { Subst } from "../../src/http/regsub.ts";

const ACTION_LIST = ["set", "setifempty", "append", "add", "merge", "unset", "echo", "note", "edit", "edit*"] as const;
export type Action = (typeof ACTION_LIST)[number];
const ACTIONS = new Set<string>(ACTION_LIST);

/** One piece of a value: literal text, or a `%t %D %{VAR}e %{VAR}s` specifier. */
export type FormatPart = string | { tag: "t" | "D" | "e" | "s"; arg: string };

export interface HeaderRule {
  action: Action;
  /** The header name as written (a trailing colon dropped), and lower-cased for lookups. */
  header: string;
  lname: string;
  /** False when the name is not an RFC 9110 token: Apache fails such responses at output (AH02429). */
  nameValid: boolean;
  /**
   * The compiled value (set, add, append, merge, setifempty, note) or, for edit/edit*, the
   * replacement before `$N` substitution: Apache processes tags first, then runs ap_pregsub.
   */
  format: FormatPart[] | undefined;
  /** A value written `expr=...`: an ap_expr string expression instead of a format. */
  valueExpr: StringExpr | undefined;
  /** The value when it has no specifier, and whether it holds characters a header may not carry. */
  constant: string | undefined;
  constantValid: boolean;
  /** edit/edit*: the pattern and replacement; echo: the pattern over request header names. */
  regex: RegExp | undefined;
  /** edit/edit*: the replacement compiled once, when it is the same for every request. */
  subst: Subst | undefined;
  /** `env=[!]var`. */
  envVar: string | undefined;
  envNegate: boolean;
  /** `expr=...`: the rule applies only when the condition holds. */
  cond: BoolExpr | undefined;
}

/** Which table a rule acts on: request headers, response headers (onsuccess) or always. */
export type Table = "in" | "out" | "err";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field content may hold VCHAR, obs-text, SP and HTAB (RFC 9110 §5.5); other controls are refused. */
export const INVALID_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Literal text with mod_headers' escapes: `\n \r \t \\`; any other backslash stays (parse_misc_string). */
function literal(s: string, start: number, out: FormatPart[]): number {
  let text = "";
  let i = start;
  while (i < s.length && s[i] !== "%") {
    const c = s[i]!;
    if (c !== "\\") {
      text += c;
      i++;
      continue;
    }
    const n = s[i + 1];
    if (n === "\\") text += "\\";
    else if (n === "r") text += "\r";
    else if (n === "n") text += "\n";
    else if (n === "t") text += "\t";
    else {
      text += "\\";
      i++;
      continue;
    }
    i += 2;
  }
  if (text) out.push(text);
  return i;
}

/** parse_format_string: literal runs and `%` specifiers; `%%` and a trailing `%` are a literal `%`. */
export function compileFormat(s: string): FormatPart[] | string {
  const out: FormatPart[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] !== "%") {
      i = literal(s, i, out);
      continue;
    }
    i++;
    if (i >= s.length || s[i] === "%") {
      out.push("%");
      i++;
      continue;
    }
    let arg = "";
    if (s[i] === "{") {
      const close = s.indexOf("}", i + 1);
      arg = s.slice(i + 1, close < 0 ? s.length : close);
      i = close < 0 ? s.length : close + 1;
    }
    const tag = s[i] ?? "";
    if (tag !== "t" && tag !== "D" && tag !== "e" && tag !== "s") return `Unrecognized header format %${tag}`;
    out.push({ tag, arg });
    i++;
  }
  // Adjacent literals (e.g. around an escape) are joined so a constant value is one string.
  const merged: FormatPart[] = [];
  for (const p of out) {
    const last = merged[merged.length - 1];
    if (typeof p === "string" && typeof last === "string") merged[merged.length - 1] = last + p;
    else merged.push(p);
  }
  return merged;
}

/** A parsed value: a format (maybe a constant) or a string expression. */
interface Value {
  format: FormatPart[] | undefined;
  valueExpr: StringExpr | undefined;
  constant: string | undefined;
}

/**
 * parse_format_string: a value (or edit replacement) starting with `expr=` (case matters: Apache
 * compares with strncmp) is a string expression; anything else a format of literals and `%` tags.
 */
function parseValue(s: string, node: ConfigNode): Value | string {
  if (s.startsWith("expr=")) {
    const e = parseStringExpr(s.slice(5), node, { module: "headers" });
    if (typeof e === "string") return `Can't parse value expression : ${e}`;
    const constant = e.constant;
    return { format: undefined, valueExpr: constant === undefined ? e : undefined, constant };
  }
  const f = compileFormat(s);
  if (typeof f === "string") return f;
  const constant = f.length === 0 ? "" : f.length === 1 && typeof f[0] === "string" ? f[0] : undefined;
  return { format: f, valueExpr: undefined, constant };
}

/**
 * Parses `Header [always|onsuccess] action header [value] [replacement] [early|env=[!]var|expr=...]`
 * or the RequestHeader form into a rule and its table, with Apache's error messages. `node` is the
 * directive, named by the error log when an expression fails at request time.
 */
export function parseHeaderArgs(
  directive: "Header" | "RequestHeader",
  args: string[],
  node: ConfigNode,
): { rule: HeaderRule; table: Table; early: boolean } | string {
  const words = [...args];
  let table: Table = directive === "Header" ? "out" : "in";
  if (directive === "Header" && words.length && /^(always|onsuccess)$/i.test(words[0]!)) {
    if (words.shift()!.toLowerCase() === "always") table = "err";
  }
  const actionWord = (words.shift() ?? "").toLowerCase();
  let header = words.shift() ?? "";
  let value: string | undefined = words.shift();
  let subs: string | undefined = words.shift();
  let envclause: string | undefined = words.shift();
  if (words.length) return `${directive} has too many arguments`;
  if (!ACTIONS.has(actionWord)) {
    return (
      "first argument must be 'add', 'set', 'setifempty', 'append', 'merge', " +
      "'unset', 'echo', 'note', 'edit', or 'edit*'."
    );
  }
  const action = actionWord as Action;
  const edit = action === "edit" || action === "edit*";
  let regex: RegExp | undefined;
  if (edit) {
    if (subs === undefined || value === undefined) return "Header edit requires a match and a substitution";
    regex = compileRegex(value);
    if (!regex) return "Header edit regex could not be compiled";
    // The replacement is the value Apache processes tags (or the expression) of.
    value = subs;
  } else {
    if (envclause !== undefined) return "Too many arguments to directive";
    envclause = subs;
  }
  if (action === "unset" || action === "echo") {
    if (value !== undefined) {
      if (envclause !== undefined) {
        return action === "unset" ? "header unset takes two arguments" : "Header echo takes two arguments";
      }
      envclause = value;
      value = undefined;
    }
    if (action === "echo") {
      if (table === "in") return "Header echo only valid on Header directives";
      // Fetch lower-cases request header names, so the name pattern has to ignore case.
      regex = compileRegex(header, "i");
      if (!regex) return "Header echo regex could not be compiled";
    }
  } else if (action === "note" && table === "in") {
    return "RequestHeader does not support the 'note' action";
  } else if (value === undefined) {
    return "Header requires three arguments";
  }
  let early = false;
  let envVar: string | undefined;
  let envNegate = false;
  let cond: BoolExpr | undefined;
  if (envclause !== undefined) {
    const lower = envclause.toLowerCase();
    if (lower === "early") early = true;
    else if (lower.startsWith("env=")) {
      envVar = envclause.slice(4);
      if (envVar.startsWith("!")) {
        envNegate = true;
        envVar = envVar.slice(1);
      }
      if (!envVar) {
        return "error: missing environment variable name. envclause should be in the form env=envar ";
      }
    } else if (lower.startsWith("expr=")) {
      // Conditions do not add the headers they read to Vary (AP_EXPR_FLAG_DONT_VARY).
      const e = parseExpr(envclause.slice(5), node, { module: "headers", dontVary: true });
      if (typeof e === "string") return `Can't parse envclause/expression: ${e}`;
      cond = e;
    } else return `Unknown parameter: ${envclause}`;
  }
  const colon = header.indexOf(":");
  if (colon >= 0) header = header.slice(0, colon);
  let v: Value = { format: undefined, valueExpr: undefined, constant: undefined };
  if (value !== undefined) {
    const parsed = parseValue(value, node);
    if (typeof parsed === "string") return parsed;
    v = parsed;
  }
  const rule: HeaderRule = {
    action,
    header,
    lname: header.toLowerCase(),
    nameValid: action === "echo" || TOKEN.test(header),
    format: v.format,
    valueExpr: v.valueExpr,
    // An edit's replacement is checked after substitution, not as written.
    constant: edit ? undefined : v.constant,
    constantValid: edit || v.constant === undefined || !INVALID_VALUE.test(v.constant),
    regex,
    subst: edit && v.constant !== undefined ? compileSubst(v.constant) : undefined,
    envVar,
    envNegate,
    cond,
  };
  return { rule, table, early };
}
