// The parsed form of an expression: words (strings) and conditions, names already resolved.
import type { BinaryFn, FuncDef, ListFn, OpDef, UnaryFn, VarFn } from "./registry.ts";

export type CmpOp =
  | "T_OP_EQ" | "T_OP_NE" | "T_OP_LT" | "T_OP_LE" | "T_OP_GT" | "T_OP_GE"
  | "T_OP_STR_EQ" | "T_OP_STR_NE" | "T_OP_STR_LT" | "T_OP_STR_LE" | "T_OP_STR_GT" | "T_OP_STR_GE";

export type WordNode =
  /** `quoted`: one constant quoted string (op_String), the only form -R and -ipmatch accept. */
  | { k: "lit"; v: string; quoted: boolean }
  | { k: "concat"; parts: WordNode[] }
  | { k: "var"; name: string; fn: VarFn }
  | { k: "func"; name: string; def: FuncDef; arg: WordNode }
  | { k: "backref"; n: number };

export type CondNode =
  | { k: "const"; v: boolean }
  | { k: "not"; c: CondNode }
  /** `a && b && c` as one list, so a long chain is no deep recursion. */
  | { k: "and" | "or"; list: CondNode[] }
  | { k: "cmp"; op: CmpOp; a: WordNode; b: WordNode }
  | { k: "regex"; neg: boolean; a: WordNode; re: RegExp }
  | { k: "in"; a: WordNode; list: WordNode[] }
  | { k: "inlist"; a: WordNode; fn: ListFn; arg: WordNode }
  | { k: "unary"; op: OpDef<UnaryFn>; data: unknown; arg: WordNode }
  | { k: "binary"; op: OpDef<BinaryFn>; data: unknown; a: WordNode; b: WordNode };

/** PCRE spellings JavaScript lacks: named groups `(?P<n>...)`; `\A`, `\z` and `\Z` anchors. */
export function pcreToJs(re: string): string {
  if (!/\(\?P<|\\[AzZ]/.test(re)) return re;
  return re.replace(/(\\\\)|\(\?P<|\\A|\\z|\\Z/g, (m, esc: string | undefined) => {
    if (esc) return esc;
    if (m === "(?P<") return "(?<";
    if (m === "\\A") return "^";
    return m === "\\Z" ? "(?=\\n?$)" : "$";
  });
}
