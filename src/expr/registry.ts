// What expressions can name: variables, functions and operators (Apache's ap_expr_lookup hook).
import type { Request } from "../http/request.ts";

/**
 * Per-evaluation state (ap_expr_eval_ctx_t): the request, the last capture-bearing regex match
 * ($0..$9), the request headers looked at (for Vary) and the first evaluation error.
 */
export interface EvalCtx {
  r: Request;
  match: RegExpExecArray | null;
  /** Header names to add to Vary, comma-separated; undefined when not tracking. */
  vary: string | undefined;
  trackVary: boolean;
  err: string | undefined;
}

export type VarFn = (c: EvalCtx) => string;
export type StringFn = (c: EvalCtx, arg: string) => string;
export type ListFn = (c: EvalCtx, arg: string) => readonly string[] | null;
export type UnaryFn<D = unknown> = (c: EvalCtx, arg: string, data: D) => boolean;
export type BinaryFn<D = unknown> = (c: EvalCtx, a: string, b: string, data: D) => boolean;

export interface FuncDef {
  fn: StringFn;
  /** Unavailable in restricted contexts (mod_include): reads files. */
  restricted?: boolean;
  /** The result depends on the argument only, so a constant argument is folded at config time. */
  pure?: boolean;
}

export interface OpDef<F> {
  fn: F;
  restricted?: boolean;
  /**
   * Compiles the operator's (right-hand) argument at config time, as -R and -ipmatch do: `arg` is the
   * text when the argument is one constant quoted string, else undefined. Returns data or an error.
   */
  parseArg?: (arg: string | undefined, name: string) => { data: unknown } | string;
}

const vars = new Map<string, VarFn>();
const funcs = new Map<string, FuncDef>();
const listFuncs = new Map<string, ListFn>();
const unaryOps = new Map<string, OpDef<UnaryFn>>();
const binaryOps = new Map<string, OpDef<BinaryFn>>();

/**
 * Adds a `%{NAME}` variable (names are case-insensitive, as Apache's strcasecmp lookup).
 * @example registerExprVariable("SSL_PROTOCOL", (c) => tlsProtocol(c.r));
 */
export function registerExprVariable(name: string, fn: VarFn): void {
  vars.set(name.toUpperCase(), fn);
}

/** Adds a string function, usable as `name(word)` and `%{name:text}` (case-insensitive). */
export function registerExprFunction(name: string, def: FuncDef | StringFn): void {
  funcs.set(name.toLowerCase(), typeof def === "function" ? { fn: def } : def);
}

/** Adds a list-returning function for `word -in name(arg)` (mod_ssl's PeerExtList, say). */
export function registerExprListFunction(name: string, fn: ListFn): void {
  listFuncs.set(name.toLowerCase(), fn);
}

/** Adds `-X word`; unary operator letters are case-sensitive (`-d` is not `-D`). */
export function registerExprUnaryOp<D>(name: string, def: OpDef<UnaryFn<D>>): void {
  unaryOps.set(name, def as OpDef<UnaryFn>);
}

/** Adds `word -name word` (case-insensitive). */
export function registerExprBinaryOp<D>(name: string, def: OpDef<BinaryFn<D>>): void {
  binaryOps.set(name.toLowerCase(), def as OpDef<BinaryFn>);
}

export function findVariable(name: string): VarFn | undefined {
  return vars.get(name.toUpperCase());
}

export function findFunction(name: string): FuncDef | undefined {
  return funcs.get(name.toLowerCase());
}

export function findListFunction(name: string): ListFn | undefined {
  return listFuncs.get(name.toLowerCase());
}

export function findUnaryOp(name: string): OpDef<UnaryFn> | undefined {
  return unaryOps.get(name);
}

export function findBinaryOp(name: string): OpDef<BinaryFn> | undefined {
  return binaryOps.get(name.toLowerCase());
}

/**
 * Apache's add_vary: remembers a request header the result depended on (not Host, RFC 7231 §7.1.4).
 * The list is kept as Apache finally sends it: comma-separated, each name once.
 */
export function addVary(c: EvalCtx, header: string): void {
  if (!c.trackVary || (header.length === 4 && header.toLowerCase() === "host")) return;
  if (c.vary === undefined) c.vary = header;
  else if (!`,${c.vary.toLowerCase()},`.includes(`,${header.toLowerCase()},`)) c.vary += `,${header}`;
}
