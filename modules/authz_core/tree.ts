// The Require tree: compiled at config time with Apache's checks (mod_authz_core.c), merged per section.
import { ConfigError } from "../../src/config/node.ts";
import type { ConfigNode } from "../../src/config/node.ts";
import { findAuthzProvider } from "./providers.ts";
import type { AuthzProvider } from "./providers.ts";

/** Container logic (authz_logic_op). */
export const AND = 0;
export const OR = 1;
export type Op = typeof AND | typeof OR;

/**
 * One node: a provider leaf (`Require [not] name args`) or a container (`<RequireAll>`, the implicit
 * `<RequireAny>` of a section, or an AuthMerging combination). Read-only once configuration is done.
 */
export interface AuthzNode {
  /** The leaf's provider and its compiled arguments; undefined for a container. */
  provider: AuthzProvider | undefined;
  parsed: unknown;
  /** Provider name and argument text, for log lines (`Require ip 10.0.0.0/8`). */
  name: string;
  argsText: string;
  op: Op;
  negate: boolean;
  /** True for the container AuthMerging And/Or builds over a parent's and a child's rules. */
  merged: boolean;
  children: AuthzNode[];
  /** The methods the node applies to (`<Limit>`): null for every method, else any of the entries. */
  limited: Limited;
}

/** One `<Limit GET POST>` (or `<LimitExcept ...>`): HEAD is listed as GET, as Apache numbers it. */
export interface MethodLimit {
  methods: ReadonlySet<string>;
  except: boolean;
}

/** null: every method; a list: the methods of any entry (an empty list: none, a container's start). */
export type Limited = readonly MethodLimit[] | null;

/** True when a node limited to `l` applies to a request with `method`. */
export function limitApplies(l: Limited, method: string): boolean {
  if (l === null) return true;
  const m = method === "HEAD" ? "GET" : method;
  for (let i = 0; i < l.length; i++) if (l[i]!.methods.has(m) !== l[i]!.except) return true;
  return false;
}

/** A container applies to the methods any of its children applies to (limited |= child's). */
export function adopt(parent: AuthzNode, child: AuthzNode): void {
  parent.children.push(child);
  if (parent.limited !== null) parent.limited = child.limited === null ? null : [...parent.limited, ...child.limited];
}

/** What the nested directives of a container may touch besides the tree. */
export interface TreeContext {
  server: { moduleConfig: unknown[] };
  /** The enclosing `<Limit>`/`<LimitExcept>`, undefined outside one. */
  limit?: MethodLimit;
  /** A `<Limit>` nested in a `<Require...>` container: its lines go into `parent`. */
  limitBlock?(parent: AuthzNode, node: ConfigNode, ctx: TreeContext): string | void;
  /**
   * Any other line inside a container (`kind` is the container's name): AuthMerging and
   * AuthzSendForbiddenOnFailure apply to the section, as in Apache; the rest is an error message.
   */
  other(node: ConfigNode, kind: string): string | void;
}

export function createContainer(op: Op, negate: boolean, merged = false): AuthzNode {
  return { provider: undefined, parsed: undefined, name: "", argsText: "", op, negate, merged, children: [], limited: [] };
}

/** How Apache names a node in messages and debug lines (format_authz_command). */
export function describe(n: AuthzNode): string {
  if (n.provider) return `Require ${n.negate ? "not " : ""}${n.name} ${n.argsText}`;
  const kind = n.op === AND ? (n.negate ? "NotAll" : "All") : n.negate ? "None" : "Any";
  return n.merged ? `AuthMerging ${kind}` : `<Require${kind}>`;
}

/**
 * Adds `Require [not] provider args...` to `parent` (add_authz_provider): unknown provider, the
 * provider's own argument errors, then a negation where it could never matter.
 */
export function addRequire(
  parent: AuthzNode,
  args: readonly string[],
  node: ConfigNode,
  ctx: TreeContext,
): void {
  let first = 0;
  let negate = false;
  if ((args[0] ?? "").toLowerCase() === "not") {
    negate = true;
    first = 1;
  }
  const name = args[first] ?? "";
  const provider = findAuthzProvider(name, ctx.server);
  if (!provider) throw ConfigError.at(node, `Unknown Authz provider: ${name}`);
  const rest = args.slice(first + 1);
  const parsed = provider.parse(rest, node);
  if (typeof parsed === "string") throw ConfigError.at(node, parsed);
  // "not" inside an OR can only turn a grant into a veto the OR ignores: Apache refuses it.
  if (negate && parent.op === OR) {
    throw ConfigError.at(node, `negative Require directive has no effect in ${describe(parent)} directive`);
  }
  adopt(parent, {
    provider,
    parsed,
    name,
    argsText: rest.join(" "),
    op: OR,
    negate,
    merged: false,
    children: [],
    limited: ctx.limit ? [ctx.limit] : null,
  });
}

const SECTION_KINDS: Record<string, { kind: string; op: Op; negate: boolean }> = {
  requireall: { kind: "RequireAll", op: AND, negate: false },
  requireany: { kind: "RequireAny", op: OR, negate: false },
  requirenone: { kind: "RequireNone", op: OR, negate: true },
};

/** True for `<RequireAll>`, `<RequireAny>` and `<RequireNone>` (case-insensitive, as directive names). */
export function isRequireSection(name: string): boolean {
  return SECTION_KINDS[name.toLowerCase()] !== undefined;
}

/**
 * Parses a `<RequireAll|Any|None>` section and its nested lines into `parent` (add_authz_section).
 * Errors point at the innermost line at fault, as ap_walk_config reports them.
 */
export function addSection(parent: AuthzNode, node: ConfigNode, ctx: TreeContext): void {
  const spec = SECTION_KINDS[node.name.toLowerCase()]!;
  if (node.args.length > 0) {
    throw ConfigError.at(node, `<${spec.kind}> directive doesn't take additional arguments`);
  }
  const sec = createContainer(spec.op, spec.negate);
  for (const child of node.children ?? []) {
    const lname = child.name.toLowerCase();
    if (lname === "require") addRequire(sec, child.args, child, ctx);
    else if (SECTION_KINDS[lname]) addSection(sec, child, ctx);
    else if ((lname === "limit" || lname === "limitexcept") && ctx.limitBlock) {
      const err = ctx.limitBlock(sec, child, ctx);
      if (typeof err === "string") throw ConfigError.at(child, err);
    } else {
      const err = ctx.other(child, spec.kind);
      if (typeof err === "string") throw ConfigError.at(child, err);
    }
  }
  if (sec.children.length === 0) {
    throw ConfigError.at(node, `${describe(sec)} directive contains no authorization directives`);
  }
  if (sec.negate && parent.op === OR) {
    throw ConfigError.at(node, `${describe(sec)} directive has no effect in ${describe(parent)} directive`);
  }
  if (!sec.negate && sec.op === parent.op) {
    // "be associative": a RequireAll in a RequireAll adds its children to the outer one.
    for (const c of sec.children) adopt(parent, c);
    return;
  }
  checkSection(sec);
  adopt(parent, sec);
}

/**
 * Apache's authz_core_check_section, run when a container is complete: a negated child container of the
 * other logic is flattened by De Morgan (`<RequireNone>` in `<RequireAll>` becomes `Require not` lines),
 * then at least one child must be positive, since negation can only veto and never grant. Apache reports
 * this after reading the whole configuration, without a line number (AH01624, then AH00014).
 */
function checkSection(sec: AuthzNode): void {
  const out: AuthzNode[] = [];
  for (const c of sec.children) {
    if (!c.provider && c.negate && c.op !== sec.op) {
      for (const g of c.children) {
        g.negate = !g.negate;
        out.push(g);
      }
    } else out.push(c);
  }
  sec.children = out;
  if (!out.some((c) => !c.negate)) {
    const what = describe(sec);
    throw new ConfigError(`AH01624: ${what} directive contains only negative authorization directives`);
  }
}
