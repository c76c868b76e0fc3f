// ap_expr grammar (Apache 2.4's util_expr_parse.y) as recursive descent, names resolved while parsing.
import { scan } from "./lexer.ts";
import type { Token, TokType } from "./lexer.ts";
import { findBinaryOp, findFunction, findListFunction, findUnaryOp, findVariable } from "./registry.ts";
import { pcreToJs } from "./ast.ts";
import type { CmpOp, CondNode, WordNode } from "./ast.ts";
import type { BinaryFn, OpDef, UnaryFn } from "./registry.ts";

export interface ParseOptions {
  /** AP_EXPR_FLAG_RESTRICTED: no file access (mod_include's context). */
  restricted?: boolean;
}

/** A parse failure: Apache's message and the 1-based column of the token at fault. */
export class ExprSyntaxError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
    this.name = "ExprSyntaxError";
  }
}

const CMP_OPS = new Set<TokType>([
  "T_OP_EQ", "T_OP_NE", "T_OP_LT", "T_OP_LE", "T_OP_GT", "T_OP_GE",
  "T_OP_STR_EQ", "T_OP_STR_NE", "T_OP_STR_LT", "T_OP_STR_LE", "T_OP_STR_GT", "T_OP_STR_GE",
]);

/** Tokens that may start a word (after a binary operator, inside a list or a call). */
const WORD_START = new Set<TokType>(["T_DIGIT", "T_STR_BEGIN", "T_VAR_BEGIN", "T_REGEX_BACKREF", "T_ID"]);

export interface Parsed<T> {
  root: T;
  /** Upper-cased names of the %{VARIABLES} the expression reads (Require expr looks for REMOTE_USER). */
  vars: Set<string>;
}

/** Parses a boolean expression (`<If>`, `Require expr`, `expr=` conditions). */
export function parseCondition(src: string, opts: ParseOptions = {}): Parsed<CondNode> {
  const p = new Parser(src, scan(src, false), opts);
  const root = p.cond();
  p.expect("$end", "expecting $end");
  return { root, vars: p.vars };
}

/** Parses a string expression (`Header set X "expr=..."` values, LogMessage text). */
export function parseString(src: string, opts: ParseOptions = {}): Parsed<WordNode> {
  const p = new Parser(src, scan(src, true), opts);
  const root = p.peek().t === "$end" ? ({ k: "lit", v: "", quoted: true } as WordNode) : p.string("$end");
  p.expect("$end", "expecting $end");
  return { root, vars: p.vars };
}

/** Nesting deeper than this is refused at parse time, long before the stack could overflow. */
const MAX_NESTING = 200;

class Parser {
  private i = 0;
  private depth = 0;
  readonly vars = new Set<string>();

  constructor(
    private src: string,
    private toks: Token[],
    private opts: ParseOptions,
  ) {}

  peek(): Token {
    return this.toks[this.i]!;
  }

  private next(): Token {
    const t = this.toks[this.i]!;
    if (t.t !== "$end" && t.t !== "T_ERROR") this.i++;
    return t;
  }

  /** Bison's "syntax error, unexpected X[, expecting Y]", with the scanner's reason for T_ERROR. */
  fail(expecting?: string, tok = this.peek()): never {
    let msg = `syntax error, unexpected ${tok.t}`;
    if (expecting) msg += `, ${expecting}`;
    if (tok.t === "T_ERROR") msg += `: ${tok.v}`;
    throw new ExprSyntaxError(msg, tok.pos + 1);
  }

  /** A T_ERROR where the grammar has an error rule (cond, string): the scanner's message alone. */
  private scanError(tok: Token): never {
    throw new ExprSyntaxError(tok.v, tok.pos + 1);
  }

  private error(message: string, pos: number): never {
    throw new ExprSyntaxError(message, pos + 1);
  }

  expect(t: TokType, expecting?: string): Token {
    if (this.peek().t !== t) this.fail(expecting);
    return this.next();
  }

  cond(): CondNode {
    this.enter();
    const first = this.andCond();
    if (this.peek().t !== "T_OP_OR") {
      this.depth--;
      return first;
    }
    const list = [first];
    while (this.peek().t === "T_OP_OR") {
      this.next();
      list.push(this.andCond());
    }
    this.depth--;
    return { k: "or", list };
  }

  private enter(): void {
    if (++this.depth > MAX_NESTING) this.error("Recursion limit reached", this.peek().pos);
  }

  private andCond(): CondNode {
    const first = this.notCond();
    if (this.peek().t !== "T_OP_AND") return first;
    const list = [first];
    while (this.peek().t === "T_OP_AND") {
      this.next();
      list.push(this.notCond());
    }
    return { k: "and", list };
  }

  private notCond(): CondNode {
    if (this.peek().t === "T_OP_NOT") {
      this.next();
      this.enter();
      const c: CondNode = { k: "not", c: this.notCond() };
      this.depth--;
      return c;
    }
    return this.primary();
  }

  private primary(): CondNode {
    const tok = this.peek();
    switch (tok.t) {
      case "T_TRUE":
      case "T_FALSE":
        this.next();
        return { k: "const", v: tok.t === "T_TRUE" };
      case "'('": {
        this.next();
        const c = this.cond();
        this.expect("')'", "expecting T_OP_OR or T_OP_AND or ')'");
        return c;
      }
      case "T_OP_UNARY": {
        this.next();
        const arg = this.word();
        const op = findUnaryOp(tok.v);
        if (!op) this.error(`Unary operator '-${tok.v}' does not exist`, tok.pos);
        return { k: "unary", op, arg, data: this.opData(op, tok, arg) };
      }
      case "T_ERROR":
        this.scanError(tok);
    }
    if (!WORD_START.has(tok.t)) this.fail();
    const a = this.word();
    const op = this.peek();
    if (CMP_OPS.has(op.t)) {
      this.next();
      return { k: "cmp", op: op.t as CmpOp, a, b: this.word() };
    }
    if (op.t === "T_OP_REG" || op.t === "T_OP_NRE") {
      this.next();
      return { k: "regex", neg: op.t === "T_OP_NRE", a, re: this.regex() };
    }
    if (op.t === "T_OP_IN") {
      this.next();
      return this.inList(a);
    }
    if (op.t === "T_OP_BINARY") {
      this.next();
      const b = this.word();
      const def = findBinaryOp(op.v);
      if (!def) this.error(`Binary operator '-${op.v}' does not exist`, op.pos);
      return { k: "binary", op: def, a, b, data: this.opData(def, op, b) };
    }
    return this.fail();
  }

  private opData(op: OpDef<unknown>, tok: Token, arg: WordNode): unknown {
    const prefix = tok.t === "T_OP_UNARY" || tok.t === "T_OP_BINARY" ? "-" : "";
    if (op.restricted && this.opts.restricted) {
      this.error(`${prefix}${tok.v} not available in restricted context`, tok.pos);
    }
    if (!op.parseArg) return undefined;
    const constant = arg.k === "lit" && arg.quoted ? arg.v : undefined;
    const res = op.parseArg(constant, tok.v);
    if (typeof res === "string") this.error(res, tok.pos);
    return res.data;
  }

  private regex(): RegExp {
    const tok = this.peek();
    if (tok.t !== "T_REGEX" && tok.t !== "T_REGEX_I") this.fail("expecting T_REGEX or T_REGEX_I");
    this.next();
    try {
      return new RegExp(pcreToJs(tok.v), tok.t === "T_REGEX_I" ? "i" : "");
    } catch {
      return this.error("Failed to compile regular expression", tok.pos);
    }
  }

  /** `-in {w, w}` or `-in listfunc(word)`. */
  private inList(a: WordNode): CondNode {
    const tok = this.peek();
    if (tok.t === "'{'") {
      this.next();
      const list = [this.word()];
      while (this.peek().t === "','") {
        this.next();
        list.push(this.word());
      }
      this.expect("'}'", "expecting '}' or ','");
      return { k: "in", a, list };
    }
    if (tok.t !== "T_ID") this.fail("expecting T_ID or '{'");
    this.next();
    this.expect("'('", "expecting '('");
    const arg = this.word();
    this.expect("')'", "expecting T_OP_CONCAT or ')'");
    const fn = findListFunction(tok.v);
    if (!fn) this.error(`List-returning function '${tok.v}' does not exist`, tok.pos);
    return { k: "inlist", a, fn, arg };
  }

  /** word ('.' word)*: concatenation is right-associative in Apache; the result is the same. */
  word(): WordNode {
    const first = this.atom();
    if (this.peek().t !== "T_OP_CONCAT") return first;
    const parts = [first];
    while (this.peek().t === "T_OP_CONCAT") {
      this.next();
      parts.push(this.atom());
    }
    return { k: "concat", parts };
  }

  private atom(): WordNode {
    const tok = this.peek();
    switch (tok.t) {
      case "T_DIGIT":
        this.next();
        return { k: "lit", v: tok.v, quoted: false };
      case "T_STR_BEGIN": {
        this.next();
        if (this.peek().t === "T_STR_END") {
          this.next();
          return { k: "lit", v: "", quoted: true };
        }
        const s = this.string("T_STR_END");
        this.next();
        return s;
      }
      case "T_VAR_BEGIN":
      case "T_REGEX_BACKREF":
        return this.variable();
      case "T_ID": {
        this.next();
        this.expect("'('", "expecting '('");
        this.enter();
        const arg = this.word();
        this.depth--;
        this.expect("')'", "expecting T_OP_CONCAT or ')'");
        return this.func(tok, arg);
      }
    }
    return this.fail();
  }

  private func(tok: Token, arg: WordNode): WordNode {
    const def = findFunction(tok.v);
    if (!def) this.error(`Function '${tok.v}' does not exist`, tok.pos);
    if (def.restricted && this.opts.restricted) {
      this.error(`${tok.v} not available in restricted context`, tok.pos);
    }
    return { k: "func", name: tok.v.toLowerCase(), def, arg };
  }

  /** `%{NAME}`, `%{func:string}` or `$N`. */
  private variable(): WordNode {
    const tok = this.next();
    if (tok.t === "T_REGEX_BACKREF") return { k: "backref", n: Number(tok.v) };
    const id = this.expect("T_ID", "expecting T_ID");
    const after = this.peek();
    if (after.t === "T_VAR_END") {
      this.next();
      const fn = findVariable(id.v);
      if (!fn) this.error(`Variable '${id.v}' does not exist`, id.pos);
      this.vars.add(id.v.toUpperCase());
      return { k: "var", name: id.v.toUpperCase(), fn };
    }
    if (after.t !== "':'") this.fail("expecting T_VAR_END or ':'");
    this.next();
    if (this.peek().t === "T_VAR_END") {
      this.fail("expecting T_ERROR or T_STRING or T_REGEX_BACKREF or T_VAR_BEGIN");
    }
    this.enter();
    const arg = this.string("T_VAR_END");
    this.depth--;
    this.next();
    return this.func(id, arg);
  }

  /** One or more string pieces up to `end` (not consumed): literal runs, variables, `$N`. */
  string(end: TokType): WordNode {
    const parts: WordNode[] = [];
    for (;;) {
      const tok = this.peek();
      if (tok.t === end) break;
      if (tok.t === "T_STRING") {
        this.next();
        parts.push({ k: "lit", v: tok.v, quoted: true });
      } else if (tok.t === "T_VAR_BEGIN" || tok.t === "T_REGEX_BACKREF") {
        parts.push(this.variable());
      } else if (tok.t === "T_ERROR") {
        this.scanError(tok);
      } else this.fail();
    }
    return parts.length === 1 ? parts[0]! : { k: "concat", parts };
  }
}
