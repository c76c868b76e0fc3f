// mod_headers rules: parsing Header/RequestHeader arguments and value formats at config time (header_inout_cmd).
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
  /** The compiled value (set, add, append, merge, setifempty, note). */
  format: FormatPart[] | undefined;
  /** The value when it has no specifier, and whether it holds characters a header may not carry. */
  constant: string | undefined;
  constantValid: boolean;
  /** edit/edit*: the pattern and replacement; echo: the pattern over request header names. */
  regex: RegExp | undefined;
  subst: Subst | undefined;
  /** `env=[!]var`. */
  envVar: string | undefined;
  envNegate: boolean;
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

const EXPR_ERROR = "expressions (expr=) are not supported by mosaic yet";

/**
 * Parses `Header [always|onsuccess] action header [value] [replacement] [early|env=[!]var|expr=...]`
 * or the RequestHeader form into a rule and its table, with Apache's error messages.
 */
export function parseHeaderArgs(
  directive: "Header" | "RequestHeader",
  args: string[],
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
  let regex: RegExp | undefined;
  let subst: Subst | undefined;
  if (action === "edit" || action === "edit*") {
    if (subs === undefined || value === undefined) return "Header edit requires a match and a substitution";
    regex = compileRegex(value);
    if (!regex) return "Header edit regex could not be compiled";
    subst = compileSubst(subs);
    value = undefined;
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
  } else if (value === undefined && action !== "edit" && action !== "edit*") {
    return "Header requires three arguments";
  }
  let early = false;
  let envVar: string | undefined;
  let envNegate = false;
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
    } else if (lower.startsWith("expr=")) return `Can't parse envclause/expression: ${EXPR_ERROR}`;
    else return `Unknown parameter: ${envclause}`;
  }
  const colon = header.indexOf(":");
  if (colon >= 0) header = header.slice(0, colon);
  let format: FormatPart[] | undefined;
  let constant: string | undefined;
  if (value !== undefined) {
    if (/^expr=/i.test(value)) return `Can't parse value expression: ${EXPR_ERROR}`;
    const f = compileFormat(value);
    if (typeof f === "string") return f;
    format = f;
    if (f.length === 0) constant = "";
    else if (f.length === 1 && typeof f[0] === "string") constant = f[0];
  }
  const rule: HeaderRule = {
    action,
    header,
    lname: header.toLowerCase(),
    nameValid: action === "echo" || TOKEN.test(header),
    format,
    constant,
    constantValid: constant === undefined || !INVALID_VALUE.test(constant),
    regex,
    subst,
    envVar,
    envNegate,
  };
  return { rule, table, early };
}
