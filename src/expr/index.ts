// ap_expr: Apache's expression language, parsed and compiled once at config time (util_expr_*.c).
import { ConfigError } from "../config/node.ts";
import type { ConfigNode } from "../config/node.ts";
import type { Request } from "../http/request.ts";
import { logError } from "../log/error-log.ts";
import { compileCond, compileWord } from "./compile.ts";
import type { CondFn, WordFn } from "./compile.ts";
import { registerCoreFunctions, registerCoreOperators } from "./funcs.ts";
import { ExprSyntaxError, parseCondition, parseString } from "./parser.ts";
import type { ParseOptions } from "./parser.ts";
import type { EvalCtx } from "./registry.ts";
import { registerCoreVariables } from "./vars.ts";

export {
  registerExprBinaryOp,
  registerExprFunction,
  registerExprListFunction,
  registerExprUnaryOp,
  registerExprVariable,
} from "./registry.ts";
export type { EvalCtx } from "./registry.ts";
export { ExprSyntaxError } from "./parser.ts";

registerCoreVariables();
registerCoreFunctions();
registerCoreOperators();

export interface ExprOptions extends ParseOptions {
  /** AP_EXPR_FLAG_DONT_VARY: request headers read do not go into Vary (mod_headers conditions). */
  dontVary?: boolean;
  /** The module that logs evaluation failures (the `[module:error]` of the line). */
  module?: string;
}

/** The regex match an evaluation left behind, for callers that substitute `$1` afterwards. */
export interface MatchOut {
  match: RegExpExecArray | null;
}

/** A compiled boolean expression. */
export interface BoolExpr {
  readonly source: string;
  /** Upper-cased %{VARIABLES} it reads (`Require expr` checks for REMOTE_USER). */
  readonly vars: ReadonlySet<string>;
  /**
   * ap_expr_exec: 1 true, 0 false, -1 when evaluation failed (logged as Apache does, at error level).
   * Request headers read are added to Vary unless compiled with `dontVary`.
   */
  exec(r: Request, out?: MatchOut): 1 | 0 | -1;
  /** exec() as a plain predicate: a failure counts as false. */
  test(r: Request): boolean;
}

/** A compiled string expression. */
export interface StringExpr {
  readonly source: string;
  readonly vars: ReadonlySet<string>;
  /** The value, or undefined when evaluation failed (logged). */
  exec(r: Request, match?: RegExpExecArray | null): string | undefined;
  /** Set when the expression has no variable part: the value itself. */
  readonly constant: string | undefined;
}

/** Words that are expression syntax on their own: operators and keywords (case as the scanner wants). */
const SYNTAX_WORDS = new Set([
  "==", "=", "!=", "<", "<=", ">", ">=", "=~", "!~", "&&", "||", "!", ".", "and", "or", "not",
  "eq", "ne", "lt", "le", "gt", "ge", "in", "true", "false",
]);

/**
 * Rebuilds expression text from directive words. The config tokenizer has already removed the quotes
 * that grouped words (`Require expr %{QUERY_STRING} == 'a b'` arrives as four words), so a word that
 * cannot be expression syntax by itself (a bare name, a path, an address, text with blanks) was a
 * quoted string: it is quoted again. Words that start like syntax (`%{`, `$1`, `-op`, a regex, a
 * call, a parenthesis, a number) are kept as they are. One word is the expression itself.
 */
export function exprFromWords(words: readonly string[]): string {
  if (words.length === 1) return words[0]!;
  return words
    .map((w) => {
      if (SYNTAX_WORDS.has(w) || /^(%\{|\$\d|-|[(){}!'",]|\/.*\/i?$|m[^\w\s].*[^\w\s]i?$|\d+$)/.test(w) || /[(),{}]/.test(w)) return w;
      return `'${w.replace(/[\\']/g, (c) => `\\${c}`)}'`;
    })
    .join(" ");
}

/** Contexts reused across evaluations; one per nesting level (an expression may cause a sub-request). */
const pool: EvalCtx[] = [];
let depth = 0;

function acquire(r: Request, trackVary: boolean): EvalCtx {
  let c = pool[depth];
  if (!c) pool[depth] = c = { r, match: null, vary: undefined, trackVary, err: undefined };
  else {
    c.r = r;
    c.match = null;
    c.vary = undefined;
    c.trackVary = trackVary;
    c.err = undefined;
  }
  depth++;
  return c;
}

/** Apache's fixup_vary result: tokens joined with ",", each once (case-insensitively). */
export function mergeVary(headers: Headers, add: string): void {
  const cur = headers.get("vary");
  // The common cases cost one lookup: nothing there yet, or the same list again.
  if (cur === null) {
    headers.set("Vary", add);
    return;
  }
  if (cur === add) return;
  const seen = new Set<string>();
  const out: string[] = [];
  for (const t of `${cur ?? ""},${add}`.split(",")) {
    const v = t.trim();
    if (v && !seen.has(v.toLowerCase())) {
      seen.add(v.toLowerCase());
      out.push(v);
    }
  }
  headers.set("Vary", out.join(","));
}

/** "file:line" of the node, as Apache's evaluation errors name the expression. */
const where = (node: Pick<ConfigNode, "file" | "line">) => `${node.file}:${node.line}`;

function makeBool(source: string, fn: CondFn, vars: Set<string>, node: ConfigNode, opts: ExprOptions): BoolExpr {
  const module = opts.module ?? "core";
  const track = !opts.dontVary;
  const exec = (r: Request, out?: MatchOut): 1 | 0 | -1 => {
    const c = acquire(r, track);
    let v: boolean;
    try {
      v = fn(c);
    } finally {
      depth--;
    }
    if (out) out.match = c.match;
    if (c.err !== undefined) {
      logError(r, "error", module, `Evaluation of expression from ${where(node)} failed: ${c.err}`);
      return -1;
    }
    if (c.vary !== undefined) mergeVary(r.headersOut, c.vary);
    return v ? 1 : 0;
  };
  return { source, vars, exec, test: (r) => exec(r) === 1 };
}

/**
 * Parses a boolean expression, returning the compiled form or Apache's error text (with the column
 * appended), for directives that word their own errors ("Cannot parse expression in require line: ").
 * @example
 * const e = parseExpr("%{REQUEST_URI} =~ m#^/admin#", node);
 * if (typeof e === "string") return `Cannot parse expression in require line: ${e}`;
 */
export function parseExpr(text: string, node: ConfigNode, opts: ExprOptions = {}): BoolExpr | string {
  try {
    const { root, vars } = parseCondition(text, opts);
    return makeBool(text, compileCond(root), vars, node, opts);
  } catch (e) {
    if (e instanceof ExprSyntaxError) return `${e.message} (column ${e.column})`;
    throw e;
  }
}

/**
 * Compiles a boolean expression for modules that use ap_expr conditions (`Header ... expr=`,
 * `SetEnvIfExpr`, `CustomLog ... expr=`, `LogMessage ... expr=`). A syntax error is a ConfigError
 * at the directive's file:line, worded like Apache's plus the column.
 * @example
 * const cond = compileExpr("req('X-Debug') == 'on'", cmd.node, { module: "headers", dontVary: true });
 * if (cond.test(r)) ...
 */
export function compileExpr(text: string, node: ConfigNode, opts: ExprOptions & { prefix?: string } = {}): BoolExpr {
  const e = parseExpr(text, node, opts);
  if (typeof e === "string") throw ConfigError.at(node, `${opts.prefix ?? "Cannot parse expression: "}${e}`);
  return e;
}

/** Like parseExpr, for a string expression (Apache's AP_EXPR_FLAG_STRING_RESULT). */
export function parseStringExpr(text: string, node: ConfigNode, opts: ExprOptions = {}): StringExpr | string {
  let root;
  let vars;
  try {
    ({ root, vars } = parseString(text, opts));
  } catch (e) {
    if (e instanceof ExprSyntaxError) return `${e.message} (column ${e.column})`;
    throw e;
  }
  const fn: WordFn = compileWord(root);
  const module = opts.module ?? "core";
  const constant = root.k === "lit" ? root.v : undefined;
  return {
    source: text,
    vars,
    constant,
    exec(r, match) {
      if (constant !== undefined) return constant;
      const c = acquire(r, false);
      if (match) c.match = match;
      let v: string;
      try {
        v = fn(c);
      } finally {
        depth--;
      }
      if (c.err === undefined) return v;
      logError(r, "error", module, `Evaluation of string expression from ${where(node)} failed: ${c.err}`);
      return undefined;
    },
  };
}

/** compileExpr for string expressions (`Header set X "expr=%{md5:...}"`, LogMessage text). */
export function compileStringExpr(text: string, node: ConfigNode, opts: ExprOptions & { prefix?: string } = {}): StringExpr {
  const e = parseStringExpr(text, node, opts);
  if (typeof e === "string") throw ConfigError.at(node, `${opts.prefix ?? "Cannot parse expression: "}${e}`);
  return e;
}

/** Compiles an `<If>` condition once at config time into a predicate over the request. */
export function compileCondition(expr: string, node: ConfigNode): (r: Request) => boolean {
  const e = compileExpr(expr, node, { prefix: "Cannot parse condition clause: " });
  return (r) => {
    const rc = e.exec(r);
    if (rc < 0) logError(r, "error", "core", `AH00039: Failed to evaluate <If > condition`);
    return rc === 1;
  };
}
