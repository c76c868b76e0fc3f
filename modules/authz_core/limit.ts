// <Limit> and <LimitExcept>: Require lines (and access_compat's rules) for some request methods only.
import { ConfigError } from "../../src/config/node.ts";
import type { ConfigNode } from "../../src/config/node.ts";
import { addRequire, addSection, isRequireSection } from "./tree.ts";
import type { AuthzNode, MethodLimit, TreeContext } from "./tree.ts";

/**
 * A directive of another module that may appear inside `<Limit>`/`<LimitExcept>` (mod_access_compat's
 * Order, Allow, Deny, Satisfy). mosaic's `<Limit>` belongs to authz_core, so such lines are kept in
 * authz_core's per-dir config under `key`: `apply` turns one line into the new slot value, `merge`
 * combines a section's slot with the enclosing one's.
 */
export interface LimitDirective<T> {
  key: string;
  apply(node: ConfigNode, limit: MethodLimit, slot: T | undefined): T | string;
  merge(base: T, add: T): T;
}

const limitDirectives = new Map<string, LimitDirective<unknown>>();

/** Registers a directive name (case-insensitive) for use inside `<Limit>`. */
export function registerLimitDirective<T>(name: string, def: LimitDirective<T>): void {
  limitDirectives.set(name.toLowerCase(), def as LimitDirective<unknown>);
}

/** What the section handler needs from authz_core's per-dir config being built. */
export interface LimitHelpers {
  root: () => AuthzNode;
  ctx: TreeContext;
  other(node: ConfigNode, kind: string): string | void;
  getExtra(key: string): unknown;
  setExtra(key: string, value: unknown): void;
}

/**
 * `<Limit GET POST>` / `<LimitExcept GET>`: the Require lines inside apply to those methods only
 * (ap_limit_section sets cmd->limited). HEAD counts as GET, as Apache numbers methods; names are
 * case-sensitive and unknown ones are extension methods (`<Limit get>` never matches GET).
 * Apache accepts any directive inside; mosaic accepts those that depend on the method.
 */
export function limitSection(
  cmd: { node: ConfigNode; section: string | undefined },
  h: LimitHelpers,
): string | void {
  return limitBlock(h.root, cmd.node, h.ctx, h, cmd.section !== undefined);
}

/** The methods of a `<Limit>`/`<LimitExcept>` line, or Apache's error. */
function parseLimit(node: ConfigNode): MethodLimit | string {
  const except = node.name.toLowerCase() === "limitexcept";
  if (node.args.length === 0) return `<${except ? "LimitExcept" : "Limit"}> directive requires additional arguments`;
  const methods = new Set<string>();
  for (const m of node.args) {
    if (m === "TRACE" && !except) return "TRACE cannot be controlled by <Limit>, see TraceEnable";
    methods.add(m === "HEAD" ? "GET" : m);
  }
  return { methods, except };
}

/** The lines of one `<Limit>` block, added to `root()` (the section's rules or a container). */
function limitBlock(root: () => AuthzNode, node: ConfigNode, outer: TreeContext, h: LimitHelpers, inSection: boolean): string | void {
  const limit = parseLimit(node);
  if (typeof limit === "string") return limit;
  const kind = limit.except ? "LimitExcept" : "Limit";
  const ctx: TreeContext = {
    ...outer,
    limit,
    limitBlock: (parent, n) => `<${n.name}> cannot occur within <${kind}> section`,
  };
  for (const child of node.children ?? []) {
    const err = limitedLine(root, child, kind, inSection, limit, ctx, h);
    if (typeof err === "string") throw ConfigError.at(child, err);
  }
}

/** The hook tree.ts calls for a `<Limit>` inside `<RequireAll>` and the like. */
export function nestedLimit(h: LimitHelpers): NonNullable<TreeContext["limitBlock"]> {
  return (parent, node, ctx) => limitBlock(() => parent, node, ctx, h, true);
}

function limitedLine(
  root: () => AuthzNode,
  child: ConfigNode,
  kind: string,
  inSection: boolean,
  limit: MethodLimit,
  ctx: TreeContext,
  h: LimitHelpers,
): string | void {
  const name = child.name.toLowerCase();
  if (name === "require") {
    if (!inSection) return "Require not allowed here";
    return addRequire(root(), child.args, child, ctx);
  }
  if (isRequireSection(name)) {
    if (!inSection) return `<${child.name}> not allowed here`;
    return addSection(root(), child, ctx);
  }
  if (name === "limit" || name === "limitexcept") return `<${child.name}> cannot occur within <${kind}> section`;
  if (name === "authmerging" || name === "authzsendforbiddenonfailure") return h.other(child, kind);
  const def = limitDirectives.get(name);
  if (!def) {
    return (
      `${child.name} is not supported inside <${kind}> by mosaic: only Require, <Require...>, ` +
      "AuthMerging, AuthzSendForbiddenOnFailure, Order, Allow, Deny and Satisfy are"
    );
  }
  const slot = def.apply(child, limit, h.getExtra(def.key));
  if (typeof slot === "string") return slot;
  h.setExtra(def.key, slot);
}
/** Merges the `<Limit>` slots of an enclosing section and a deeper one, per registered key. */
export function mergeExtra(
  base: Readonly<Record<string, unknown>> | undefined,
  add: Readonly<Record<string, unknown>> | undefined,
): Readonly<Record<string, unknown>> | undefined {
  if (!base || !add) return add ?? base;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(add)) {
    let def: LimitDirective<unknown> | undefined;
    for (const d of limitDirectives.values()) if (d.key === k) def = d;
    out[k] = k in base && def ? def.merge(base[k], v) : v;
  }
  return out;
}
