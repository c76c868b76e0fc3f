// mod_headers at request time: running rules over a header table (do_headers_fixup) and value formats.
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { compileSubst, substitute } from "../../src/http/regsub.ts";
import type { Subst } from "../../src/http/regsub.ts";
import { INVALID_VALUE } from "./rules.ts";
import type { FormatPart, HeaderRule } from "./rules.ts";

/** A rule produced a header Apache's header filter would refuse (AH02429 / AH02430). */
export class InvalidHeader extends Error {
  constructor(
    readonly header: string,
    readonly value: string | undefined,
  ) {
    super(value === undefined ? `invalid header name ${header}` : `invalid value for ${header}`);
  }
}

/** unwrap_header: line breaks in a variable become spaces so one variable cannot add a header. */
function unwrap(s: string): string {
  return s.includes("\n") || s.includes("\r") ? s.replace(/[\r\n]/g, " ") : s;
}

function formatPart(r: Request, p: Exclude<FormatPart, string>): string {
  switch (p.tag) {
    case "t":
      // Microseconds since the epoch when the request arrived (apr_time_t).
      return `t=${Math.floor((performance.timeOrigin + r.start) * 1000)}`;
    case "D":
      return `D=${Math.round((performance.now() - r.start) * 1000)}`;
    case "e": {
      const v = r.subprocessEnv.get(p.arg);
      return v === undefined ? "(null)" : unwrap(v);
    }
    case "s":
      // No TLS variables until mosaic speaks TLS: Apache prints (null) without mod_ssl.
      return "(null)";
  }
}

/**
 * process_tags: the format's text, or the value expression's. An expression that fails to evaluate
 * gives "" after AH02557, as Apache's does (the engine has logged why just before).
 */
function processTags(r: Request, rule: HeaderRule): string {
  if (rule.valueExpr) {
    const v = rule.valueExpr.exec(r);
    if (v !== undefined) return v;
    const msg = `AH02557: Can't evaluate value expression: ${rule.valueExpr.source}`;
    logError(r, "error", "headers", msg);
    return "";
  }
  let out = "";
  for (const p of rule.format!) out += typeof p === "string" ? p : formatPart(r, p);
  return out;
}

/** The rule's value for this request, checked for characters a header may not carry. */
function valueOf(r: Request, rule: HeaderRule): string {
  if (rule.constant !== undefined) {
    if (!rule.constantValid) throw new InvalidHeader(rule.header, rule.constant);
    return rule.constant;
  }
  const out = processTags(r, rule);
  if (INVALID_VALUE.test(out)) throw new InvalidHeader(rule.header, out);
  return out;
}

/**
 * process_regexp: replace the first match (edit) or every match (edit*), each on the remainder.
 * A replacement with tags or an expression is built per request, then read as a `$N` template.
 */
function editValue(r: Request, rule: HeaderRule, value: string): string {
  const re = rule.regex!;
  let subst: Subst | undefined = rule.subst;
  let out = "";
  let rest = value;
  for (;;) {
    const m = re.exec(rest);
    if (!m) return out + rest;
    subst ??= compileSubst(processTags(r, rule));
    out += rest.slice(0, m.index) + substitute(subst, m);
    let end = m.index + m[0].length;
    if (rule.action === "edit") return out + rest.slice(end);
    if (m[0].length === 0) {
      // An empty match would recurse forever in Apache; step over one character instead.
      if (end >= rest.length) return out + rest.slice(end);
      out += rest[end];
      end++;
    }
    rest = rest.slice(end);
    if (!rest) return out;
  }
}

/** hdr_merge: is `token` already one of the comma-separated values (quoted strings kept whole)? */
function hasToken(list: string, token: string): boolean {
  let i = 0;
  while (i < list.length) {
    while (i < list.length && (list[i] === " " || list[i] === "\t")) i++;
    const start = i;
    while (i < list.length && list[i] !== ",") {
      if (list[i++] === '"') {
        while (i < list.length) if (list[i++] === '"') break;
      }
    }
    if (list.slice(start, i) === token) return true;
    if (i < list.length) i++;
  }
  return false;
}

function checked(rule: HeaderRule, v: string): string {
  if (INVALID_VALUE.test(v)) throw new InvalidHeader(rule.header, v);
  return v;
}

/**
 * Runs rules over one table, in order. `response` marks response tables, where setting or editing
 * Content-Type also changes the request's content type. Response tables throw InvalidHeader for a
 * name or value Apache's header filter would refuse; request tables cannot hold one at all (Fetch
 * refuses it), so that rule is logged and skipped.
 */
export function runRules(r: Request, h: Headers, rules: readonly HeaderRule[], response: boolean): void {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (rule.cond !== undefined) {
      // do_headers_fixup: a condition that cannot be evaluated is ignored, so the rule applies.
      const rc = rule.cond.exec(r);
      if (rc === 0) continue;
      if (rc < 0) {
        const msg = `AH01501: Failed to evaluate expression (${rule.cond.source}) - ignoring`;
        logError(r, "error", "headers", msg);
      }
    } else if (rule.envVar !== undefined && r.subprocessEnv.has(rule.envVar) === rule.envNegate) {
      continue;
    }
    if (response) runRule(r, h, rule, true);
    else {
      try {
        runRule(r, h, rule, false);
      } catch (e) {
        if (!(e instanceof InvalidHeader)) throw e;
        logError(r, "warn", "headers", `AH00000: RequestHeader ${rule.action} ${rule.header}: ` +
          "the value holds characters a header may not carry; skipped");
      }
    }
  }
}

function runRule(r: Request, h: Headers, rule: HeaderRule, response: boolean): void {
  if (!rule.nameValid) throw new InvalidHeader(rule.header, undefined);
  const name = rule.header;
  switch (rule.action) {
    case "set": {
      const v = valueOf(r, rule);
      if (response && rule.lname === "content-type") r.contentType = v;
      h.set(name, v);
      break;
    }
    case "setifempty":
      if (!h.has(name)) h.set(name, valueOf(r, rule));
      break;
    case "add":
      h.append(name, valueOf(r, rule));
      break;
    case "append": {
      // apr_table_mergen: one field, values joined by ", ".
      const old = h.get(name);
      const v = valueOf(r, rule);
      h.set(name, old === null ? v : `${old}, ${v}`);
      break;
    }
    case "merge": {
      const old = h.get(name);
      const v = valueOf(r, rule);
      if (old === null) h.set(name, v);
      else if (!hasToken(old, v)) h.set(name, `${old}, ${v}`);
      break;
    }
    case "unset":
      h.delete(name);
      break;
    case "echo":
      for (const [k, v] of r.headersIn) if (rule.regex!.test(k)) h.append(k, v);
      break;
    case "note": {
      const v = h.get(name);
      if (v !== null) r.notes.set(valueOf(r, rule), v);
      break;
    }
    case "edit":
    case "edit*":
      if (response && rule.lname === "content-type" && r.contentType) {
        r.contentType = checked(rule, editValue(r, rule, r.contentType));
      }
      if (rule.lname === "set-cookie") {
        // Each Set-Cookie field is edited on its own, as Apache edits each table entry.
        const list = h.getSetCookie();
        if (list.length === 0) break;
        h.delete(name);
        for (const v of list) h.append(name, checked(rule, editValue(r, rule, v)));
      } else {
        const v = h.get(name);
        if (v !== null) h.set(name, checked(rule, editValue(r, rule, v)));
      }
      break;
  }
}
