// LogFormat strings compiled once into closures over the request (mod_log_config.c parse_log_string).
import type { Request } from "../../src/http/request.ts";
import { HANDLERS } from "./items.ts";
import type { ItemFn, LogCtx } from "./items.ts";

export type { LogCtx } from "./items.ts";

type Part = string | ((ctx: LogCtx) => string);

/** A compiled format: render() builds the line, newline included. */
export interface LogFormat {
  readonly source: string;
  render(ctx: LogCtx): string;
}

/** The per-transaction context: the final request, the one the client sent, a lazily fixed end time. */
export function createLogCtx(r: Request): LogCtx {
  return { r, o: r.main, endMs: 0, durUs: -1 };
}

/** Literal text: `\\`, `\r`, `\n`, `\t` are unescaped; any other backslash stays. */
function misc(s: string, pos: number): [string, number] {
  let out = "";
  let i = pos;
  while (i < s.length && s[i] !== "%") {
    const c = s[i]!;
    if (c !== "\\") {
      out += c;
      i++;
      continue;
    }
    const n = s[i + 1];
    if (n === "\\" || n === "r" || n === "n" || n === "t") {
      out += n === "\\" ? "\\" : n === "r" ? "\r" : n === "n" ? "\n" : "\t";
      i += 2;
    } else {
      out += "\\";
      i++;
    }
  }
  return [out, i];
}

interface ItemSpec {
  fn: ItemFn;
  orig: boolean;
  conds: number[] | undefined;
  negate: boolean;
}

/** One `%...x` item at `pos` (just after the `%`): modifiers, `{arg}`, then the letter. */
function parseItem(s: string, pos: number): [ItemSpec | string, number] | string {
  let i = pos;
  if (s[i] === "%") return ["%", i + 1];
  let negate = false;
  let orig: boolean | undefined;
  let conds: number[] | undefined;
  let arg = "";
  while (i < s.length) {
    const c = s[i]!;
    if (c === "!") {
      negate = !negate;
      i++;
    } else if (c === "<" || c === ">") {
      orig = c === "<";
      i++;
    } else if (c === ",") {
      i++;
    } else if (c === "{") {
      const end = s.indexOf("}", i + 1);
      arg = s.slice(i + 1, end < 0 ? s.length : end);
      i = end < 0 ? s.length : end + 1;
    } else if (c >= "0" && c <= "9") {
      let n = 0;
      while (i < s.length && s[i]! >= "0" && s[i]! <= "9") n = n * 10 + Number(s[i++]);
      (conds ??= []).push(n);
    } else {
      const three = c === "^" ? HANDLERS[s.slice(i, i + 3)] : undefined;
      const h = three ?? HANDLERS[c];
      if (!h) return `Unrecognized LogFormat directive %${c}`;
      i += three ? 3 : 1;
      return [{ fn: h.compile(arg), orig: orig ?? h.orig, conds, negate }, i];
    }
  }
  return "Ran off end of LogFormat parsing args to some directive";
}

/** Wraps an item: the status filter, the original/final request, `-` for a missing value. */
function itemClosure(spec: ItemSpec): (ctx: LogCtx) => string {
  const { fn, orig, conds, negate } = spec;
  if (conds) {
    return (ctx) => {
      // %400,501{..}i logs only for those statuses; %!200,304{..}i for all others.
      if (conds.includes(ctx.r.status) === negate) return "-";
      return fn(orig ? ctx.o : ctx.r, ctx, orig) ?? "-";
    };
  }
  if (orig) return (ctx) => fn(ctx.o, ctx, true) ?? "-";
  return (ctx) => fn(ctx.r, ctx, false) ?? "-";
}

/**
 * Compiles a LogFormat string, or returns Apache's error text. Adjacent literals are merged, so a
 * line costs one closure call per `%` item and one string concatenation per part.
 * @example compileLogFormat('%h %l %u %t "%r" %>s %b').render(createLogCtx(r))
 */
export function compileLogFormat(source: string): LogFormat | string {
  const parts: Part[] = [];
  const push = (p: Part): void => {
    const last = parts[parts.length - 1];
    if (typeof p === "string" && typeof last === "string") parts[parts.length - 1] = last + p;
    else if (p !== "") parts.push(p);
  };
  let i = 0;
  while (i < source.length) {
    if (source[i] !== "%") {
      const [text, next] = misc(source, i);
      push(text);
      i = next;
      continue;
    }
    const res = parseItem(source, i + 1);
    if (typeof res === "string") return res;
    const [spec, next] = res;
    push(typeof spec === "string" ? spec : itemClosure(spec));
    i = next;
  }
  push("\n");
  const frozen = parts.slice();
  return {
    source,
    render(ctx) {
      let line = "";
      for (let k = 0; k < frozen.length; k++) {
        const p = frozen[k]!;
        line += typeof p === "string" ? p : p(ctx);
      }
      return line;
    },
  };
}
