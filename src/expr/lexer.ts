// ap_expr scanner: the token stream Apache 2.4's util_expr_scan.l produces, with source columns.

/** Bison's token names, as Apache's "syntax error, unexpected T_ID" messages spell them. */
export type TokType =
  | "T_TRUE" | "T_FALSE" | "T_ERROR" | "T_DIGIT" | "T_ID" | "T_STRING"
  | "T_REGEX" | "T_REGEX_I" | "T_REGEX_BACKREF" | "T_OP_UNARY" | "T_OP_BINARY"
  | "T_STR_BEGIN" | "T_STR_END" | "T_VAR_BEGIN" | "T_VAR_END"
  | "T_OP_EQ" | "T_OP_NE" | "T_OP_LT" | "T_OP_LE" | "T_OP_GT" | "T_OP_GE"
  | "T_OP_REG" | "T_OP_NRE" | "T_OP_IN"
  | "T_OP_STR_EQ" | "T_OP_STR_NE" | "T_OP_STR_LT" | "T_OP_STR_LE" | "T_OP_STR_GT" | "T_OP_STR_GE"
  | "T_OP_CONCAT" | "T_OP_OR" | "T_OP_AND" | "T_OP_NOT"
  | "'('" | "')'" | "'{'" | "'}'" | "','" | "':'" | "$end";

export interface Token {
  t: TokType;
  /** Identifier, literal text, regex pattern, operator name or error message. */
  v: string;
  /** 0-based offset of the token in the expression text. */
  pos: number;
}

/** Delimiters allowed after `m` in `m#re#` (REG_SEP). */
const REG_SEP = "/#$%^|?!'\",;:._-";

const OPERATORS: [string, TokType][] = [
  ["==", "T_OP_STR_EQ"], ["!=", "T_OP_STR_NE"], ["<=", "T_OP_STR_LE"], [">=", "T_OP_STR_GE"],
  ["=~", "T_OP_REG"], ["!~", "T_OP_NRE"], ["&&", "T_OP_AND"], ["||", "T_OP_OR"],
  ["=", "T_OP_STR_EQ"], ["<", "T_OP_STR_LT"], [">", "T_OP_STR_GT"], ["!", "T_OP_NOT"],
  [".", "T_OP_CONCAT"], ["(", "'('"], [")", "')'"], ["{", "'{'"], ["}", "'}'"], [",", "','"],
];

/** Words flex matches before the generic identifier rule (same length: the earlier rule wins). */
const KEYWORDS: Record<string, TokType> = {
  true: "T_TRUE", false: "T_FALSE", and: "T_OP_AND", or: "T_OP_OR", not: "T_OP_NOT",
  eq: "T_OP_EQ", ne: "T_OP_NE", lt: "T_OP_LT", le: "T_OP_LE", gt: "T_OP_GT", ge: "T_OP_GE", in: "T_OP_IN",
};

const DASH_OPS: Record<string, TokType> = {
  "-eq": "T_OP_EQ", "-ne": "T_OP_NE", "-lt": "T_OP_LT", "-le": "T_OP_LE", "-gt": "T_OP_GT",
  "-ge": "T_OP_GE", "-in": "T_OP_IN",
};

const isAlpha = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
const isDigit = (c: string) => c >= "0" && c <= "9";
const isIdChar = (c: string) => isAlpha(c) || isDigit(c) || c === "_";

/** apr_isprint: `'#'` in messages, `'\x01'` for the rest. */
function quoteChar(c: string): string {
  const n = c.charCodeAt(0);
  return n >= 32 && n < 127 ? `'${c}'` : `'\\x${n.toString(16).toUpperCase().padStart(2, "0")}'`;
}

/** Thrown inside the scanner; becomes a T_ERROR token at `pos`. */
class ScanError {
  constructor(
    readonly message: string,
    readonly pos: number,
  ) {}
}

/**
 * Scans a whole expression. The last token is `$end`, or a `T_ERROR` carrying the scanner's message
 * (the parser decides, as Bison does, whether that message stands alone or follows "syntax error").
 * `stringResult` scans a string expression (mod_headers' `expr=` values, LogMessage): text with
 * `%{...}` and `$N`, where quotes are ordinary characters.
 */
export function scan(src: string, stringResult: boolean): Token[] {
  const out: Token[] = [];
  const s = new Scanner(src, out);
  try {
    if (stringResult) s.str(undefined, 0);
    else s.expr();
    out.push({ t: "$end", v: "", pos: src.length });
  } catch (e) {
    if (!(e instanceof ScanError)) throw e;
    out.push({ t: "T_ERROR", v: e.message, pos: e.pos });
  }
  return out;
}

/** `%{f:%{g:...}}` nesting beyond this is refused before the stack could overflow. */
const MAX_NESTING = 200;

class Scanner {
  i = 0;
  private depth = 0;

  constructor(
    private src: string,
    private out: Token[],
  ) {}

  private emit(t: TokType, v: string, pos: number): void {
    this.out.push({ t, v, pos });
  }

  /** The `<expr>` state: operators, words, strings, variables, regexes. */
  expr(): void {
    const src = this.src;
    while (this.i < src.length) {
      const c = src[this.i]!;
      const start = this.i;
      if (c === " " || c === "\t" || c === "\n") {
        this.i++;
        continue;
      }
      if (c === "'" || c === '"') {
        this.emit("T_STR_BEGIN", c, start);
        this.i++;
        this.str(c, start);
        continue;
      }
      if (c === "%" && src[this.i + 1] === "{") {
        this.variable();
        continue;
      }
      if (c === "$" && isDigit(src[this.i + 1] ?? "")) {
        this.emit("T_REGEX_BACKREF", src[this.i + 1]!, start);
        this.i += 2;
        continue;
      }
      if (c === "/") {
        this.i++;
        this.regex("/", start);
        continue;
      }
      if (c === "m" && REG_SEP.includes(src[this.i + 1] ?? "\0") && !isIdChar(src[this.i + 1]!)) {
        this.i += 2;
        this.regex(src[start + 1]!, start);
        continue;
      }
      if (c === "-" || isDigit(c)) {
        if (this.dash(start)) continue;
      }
      if (isAlpha(c)) {
        let end = this.i + 1;
        while (end < src.length && isIdChar(src[end]!)) end++;
        const word = src.slice(this.i, end);
        this.emit(KEYWORDS[word] ?? "T_ID", word, start);
        this.i = end;
        continue;
      }
      const op = OPERATORS.find(([text]) => src.startsWith(text, this.i));
      if (op) {
        this.emit(op[1], op[0], start);
        this.i += op[0].length;
        continue;
      }
      throw new ScanError(`Parse error near ${quoteChar(c)}`, start);
    }
  }

  /** `-eq`, `-ipmatch`, `-f`, or a (possibly negative) number; false when none of these. */
  private dash(start: number): boolean {
    const src = this.src;
    let end = this.i + 1;
    if (src[this.i] === "-" && isDigit(src[end] ?? "")) {
      while (end < src.length && isDigit(src[end]!)) end++;
      this.emit("T_DIGIT", src.slice(start, end), start);
      this.i = end;
      return true;
    }
    if (isDigit(src[this.i]!)) {
      while (end < src.length && isDigit(src[end]!)) end++;
      this.emit("T_DIGIT", src.slice(start, end), start);
      this.i = end;
      return true;
    }
    const first = src[end] ?? "";
    if (!isAlpha(first) && first !== "_") return false;
    end++;
    while (end < src.length && (isIdChar(src[end]!) || src[end] === "_")) end++;
    const word = src.slice(start, end);
    const named = DASH_OPS[word];
    if (named) this.emit(named, word, start);
    else this.emit(end - start === 2 ? "T_OP_UNARY" : "T_OP_BINARY", word.slice(1), start);
    this.i = end;
    return true;
  }

  /** `/re/` or `m#re#`, then an optional `i` flag; no escapes, the delimiter always ends it. */
  private regex(stop: string, start: number): void {
    const src = this.src;
    const end = src.indexOf(stop, this.i);
    const nl = src.indexOf("\n", this.i);
    // Flex keeps scanning for the delimiter; an expression that ends first is a parser-level $end.
    if (end < 0 || (nl >= 0 && nl < end)) {
      this.i = src.length;
      return;
    }
    const pattern = src.slice(this.i, end);
    this.i = end + 1;
    if (src[this.i] === "i") {
      this.i++;
      this.emit("T_REGEX_I", pattern, start);
    } else this.emit("T_REGEX", pattern, start);
  }

  /** `%{NAME}` or `%{func:arg}`; the argument is scanned like a string up to `}`. */
  private variable(): void {
    const src = this.src;
    this.emit("T_VAR_BEGIN", "%{", this.i);
    this.i += 2;
    if (this.i >= src.length) throw new ScanError("Unterminated string or variable", this.i);
    let c = src[this.i]!;
    if (isAlpha(c)) {
      const start = this.i;
      while (this.i < src.length && isIdChar(src[this.i]!)) this.i++;
      this.emit("T_ID", src.slice(start, this.i), start);
      if (this.i >= src.length) throw new ScanError("Unterminated string or variable", this.i);
      c = src[this.i]!;
    }
    if (c === "}") {
      this.emit("T_VAR_END", "}", this.i++);
      return;
    }
    if (c === ":") {
      this.emit("':'", ":", this.i++);
      if (++this.depth > MAX_NESTING) throw new ScanError("Recursion limit reached", this.i);
      this.str("}", this.i);
      this.depth--;
      return;
    }
    throw new ScanError(`Invalid character in variable name ${quoteChar(c)}`, this.i);
  }

  /**
   * The `<str>` and `<vararg>` states: literal runs become T_STRING, interrupted by `%{...}` and
   * `$N`; `stop` (a quote, `}` for a function argument, undefined for a string expression) ends it.
   * Escapes: `\n \r \t \b \f`, octal `\101`; any other `\c` is c (`\x41` is "x41" in 2.4).
   */
  str(stop: string | undefined, openPos: number): void {
    const src = this.src;
    let buf = "";
    let bufStart = this.i;
    const flush = () => {
      if (buf !== "") this.emit("T_STRING", buf, bufStart);
      buf = "";
    };
    while (this.i < src.length) {
      const c = src[this.i]!;
      if (c === stop) {
        flush();
        this.emit(stop === "}" ? "T_VAR_END" : "T_STR_END", c, this.i++);
        return;
      }
      if (buf === "") bufStart = this.i;
      if (c === "%" && src[this.i + 1] === "{") {
        flush();
        this.variable();
        continue;
      }
      if (c === "$" && isDigit(src[this.i + 1] ?? "")) {
        flush();
        this.emit("T_REGEX_BACKREF", src[this.i + 1]!, this.i);
        this.i += 2;
        continue;
      }
      if (c === "\n" && stop !== undefined) throw new ScanError("Unterminated string or variable", this.i);
      if (c === "\\" && this.i + 1 < src.length) {
        buf += this.escape();
        continue;
      }
      const code = c.charCodeAt(0);
      if ((code < 32 || code === 127) && c !== "\n" && c !== "\t") {
        throw new ScanError(`Invalid string character ${quoteChar(c)}`, this.i);
      }
      buf += c;
      this.i++;
    }
    if (stop !== undefined) throw new ScanError("Unterminated string or variable", openPos);
    flush();
  }

  private escape(): string {
    const src = this.src;
    const next = src[this.i + 1]!;
    if (isDigit(next)) {
      let end = this.i + 1;
      while (end < src.length && isDigit(src[end]!)) end++;
      let octalEnd = this.i + 1;
      while (octalEnd < end && octalEnd < this.i + 4 && src[octalEnd]! <= "7") octalEnd++;
      const octal = src.slice(this.i + 1, octalEnd);
      // flex takes the longest match: `\8`, `\18` or `\1234` is the "[0-9]+" rule, an error.
      if (end > octalEnd) throw new ScanError("Bad escape sequence", this.i);
      const value = parseInt(octal, 8);
      if (value > 255) throw new ScanError("Escape sequence out of bound", this.i);
      this.i += 1 + octal.length;
      return String.fromCharCode(value);
    }
    this.i += 2;
    switch (next) {
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "t":
        return "\t";
      case "b":
        return "\b";
      case "f":
        return "\f";
      default:
        return next;
    }
  }
}
