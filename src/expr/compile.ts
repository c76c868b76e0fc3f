// Turns a parsed expression into closures once, at config time (ap_expr_eval, minus the tree walk).
import type { CondNode, WordNode } from "./ast.ts";
import type { EvalCtx } from "./registry.ts";

export type WordFn = (c: EvalCtx) => string;
export type CondFn = (c: EvalCtx) => boolean;

/** A context for folding pure functions of constants at config time (no request there). */
const FOLD_CTX = { r: undefined, match: null, vary: undefined, trackVary: false, err: undefined } as unknown as EvalCtx;

/** The word's value when it is known at config time. */
function constant(n: WordNode): string | undefined {
  if (n.k === "lit") return n.v;
  if (n.k === "concat") {
    let s = "";
    for (const p of n.parts) {
      const v = constant(p);
      if (v === undefined) return undefined;
      s += v;
    }
    return s;
  }
  if (n.k === "func" && n.def.pure) {
    const arg = constant(n.arg);
    if (arg === undefined) return undefined;
    FOLD_CTX.err = undefined;
    const v = n.def.fn(FOLD_CTX, arg);
    return FOLD_CTX.err === undefined ? v : undefined;
  }
  return undefined;
}

export function compileWord(n: WordNode): WordFn {
  const k = constant(n);
  if (k !== undefined) return () => k;
  switch (n.k) {
    case "var":
      return n.fn;
    case "backref": {
      const i = n.n;
      // Only a match that captured and had a non-empty source sets $N (ap_expr_eval_re_backref).
      return (c) => (c.match ? (c.match[i] ?? "") : "");
    }
    case "func": {
      const fn = n.def.fn;
      const arg = compileWord(n.arg);
      return (c) => fn(c, arg(c));
    }
    case "concat":
      return compileConcat(n.parts);
    default:
      return () => "";
  }
}

/** Adjacent constants are merged, so `'x%{A}y'` costs two appends per evaluation. */
function compileConcat(parts: WordNode[]): WordFn {
  const fns: WordFn[] = [];
  let pending = "";
  for (const p of parts) {
    const v = constant(p);
    if (v !== undefined) pending += v;
    else {
      if (pending) fns.push(((s: string) => () => s)(pending));
      pending = "";
      fns.push(compileWord(p));
    }
  }
  if (pending) fns.push(() => pending);
  if (fns.length === 1) return fns[0]!;
  if (fns.length === 2) {
    const [a, b] = fns as [WordFn, WordFn];
    return (c) => a(c) + b(c);
  }
  return (c) => {
    let s = "";
    for (let i = 0; i < fns.length; i++) s += fns[i]!(c);
    return s;
  };
}

export function compileCond(n: CondNode): CondFn {
  switch (n.k) {
    case "const": {
      const v = n.v;
      return () => v;
    }
    case "not": {
      const inner = compileCond(n.c);
      return (c) => !inner(c);
    }
    case "and":
    case "or":
      return compileChain(n.k === "and", n.list.map(compileCond));
    case "cmp":
      return compileCmp(n);
    case "regex":
      return compileRegex(n.a, n.re, n.neg);
    case "in": {
      const needle = compileWord(n.a);
      const consts = n.list.map(constant);
      if (consts.every((v) => v !== undefined)) {
        const set = new Set(consts as string[]);
        return (c) => set.has(needle(c));
      }
      const list = n.list.map(compileWord);
      return (c) => {
        const v = needle(c);
        for (let i = 0; i < list.length; i++) if (list[i]!(c) === v) return true;
        return false;
      };
    }
    case "inlist": {
      const needle = compileWord(n.a);
      const arg = compileWord(n.arg);
      const fn = n.fn;
      return (c) => {
        const v = needle(c);
        const hay = fn(c, arg(c));
        return hay !== null && hay.includes(v);
      };
    }
    case "unary": {
      const arg = compileWord(n.arg);
      const { fn } = n.op;
      const data = n.data;
      return (c) => fn(c, arg(c), data);
    }
    case "binary": {
      const a = compileWord(n.a);
      const b = compileWord(n.b);
      const { fn } = n.op;
      const data = n.data;
      return (c) => fn(c, a(c), b(c), data);
    }
  }
}

/** `&&`/`||` chains, short-circuited left to right; two-term chains (the usual case) unrolled. */
function compileChain(and: boolean, fns: CondFn[]): CondFn {
  if (fns.length === 2) {
    const [a, b] = fns as [CondFn, CondFn];
    return and ? (c) => a(c) && b(c) : (c) => a(c) || b(c);
  }
  return (c) => {
    for (let i = 0; i < fns.length; i++) if (fns[i]!(c) !== and) return !and;
    return and;
  };
}

function compileRegex(word: WordNode, re: RegExp, neg: boolean): CondFn {
  const a = compileWord(word);
  // $0..$9 may hold what the user wants to keep: only a regex with capturing groups replaces them.
  const groups = new RegExp(`${re.source}|`, re.flags).exec("")!.length - 1;
  if (groups === 0) return (c) => re.test(a(c)) !== neg;
  return (c) => {
    const s = a(c);
    const m = re.exec(s);
    c.match = m !== null && s !== "" ? m : null;
    return (m !== null) !== neg;
  };
}

function compileCmp(n: Extract<CondNode, { k: "cmp" }>): CondFn {
  const a = compileWord(n.a);
  const b = compileWord(n.b);
  const bk = constant(n.b);
  switch (n.op) {
    case "T_OP_STR_EQ":
      if (bk !== undefined) return (c) => a(c) === bk;
      return (c) => a(c) === b(c);
    case "T_OP_STR_NE":
      if (bk !== undefined) return (c) => a(c) !== bk;
      return (c) => a(c) !== b(c);
    case "T_OP_STR_LT":
      return (c) => a(c) < b(c);
    case "T_OP_STR_LE":
      return (c) => a(c) <= b(c);
    case "T_OP_STR_GT":
      return (c) => a(c) > b(c);
    case "T_OP_STR_GE":
      return (c) => a(c) >= b(c);
  }
  const test = INT_TESTS[n.op]!;
  return (c) => test(intCompare(a(c), b(c)));
}

const INT_TESTS: Record<string, (cmp: number) => boolean> = {
  T_OP_EQ: (x) => x === 0,
  T_OP_NE: (x) => x !== 0,
  T_OP_LT: (x) => x < 0,
  T_OP_LE: (x) => x <= 0,
  T_OP_GT: (x) => x > 0,
  T_OP_GE: (x) => x >= 0,
};

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/**
 * apr_atoi64 (strtoll): leading white space, a sign, decimal digits, anything after ignored, 0 when
 * there are no digits, clamped to the 64-bit range on overflow. Small values stay plain numbers.
 */
export function atoi64(s: string): number | bigint {
  let i = 0;
  while (i < s.length && (s[i] === " " || (s[i]! >= "\t" && s[i]! <= "\r"))) i++;
  let neg = false;
  if (s[i] === "+" || s[i] === "-") neg = s[i++] === "-";
  const start = i;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  if (i === start) return 0;
  if (i - start <= 15) {
    const v = Number(s.slice(start, i));
    return neg ? -v : v;
  }
  let v = BigInt(s.slice(start, i));
  if (neg) v = -v;
  return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : v;
}

function intCompare(x: string, y: string): number {
  const a = atoi64(x);
  const b = atoi64(y);
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a === b ? 0 : 1;
  const ba = BigInt(a);
  const bb = BigInt(b);
  return ba < bb ? -1 : ba === bb ? 0 : 1;
}
