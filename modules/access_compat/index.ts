// access_compat: Apache 2.2's Order, Allow, Deny and Satisfy for configurations migrating to 2.4.
import type { ConfigNode } from "../../src/config/node.ts";
import { HttpError } from "../../src/http/errors.ts";
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { defineModule } from "../../src/module.ts";
import type { DirectiveCmd } from "../../src/module.ts";
import { grantWithoutAuthz, limitSlot, registerLimitDirective } from "../authz_core/index.ts";
import type { MethodLimit } from "../authz_core/index.ts";
import { anyMatches, combine, EMPTY, mergeRules, orderFor, parseAllowDeny, parseOrder, parseSatisfy, satisfyFor } from "./rules.ts";
import type { Rules } from "./rules.ts";

/** The `<Limit>` slot in authz_core's config that holds rules written inside `<Limit>`. */
const SLOT = "access_compat";

type Cmd = DirectiveCmd<AccessCompatServer, Rules>;

interface AccessCompatServer {
  loaded: true;
}

/** One directive line into `rules` (copied: configs are never mutated once merged). */
function addLine(rules: Rules, name: string, args: readonly string[], limit: MethodLimit | null): Rules | string {
  switch (name) {
    case "order": {
      if (args.length !== 1) return "Order takes one argument, 'allow,deny', 'deny,allow', or 'mutual-failure'";
      const o = parseOrder(args[0]!);
      if (o === undefined) return "unknown order";
      return { ...rules, orders: [...rules.orders, { value: o, limit }] };
    }
    case "satisfy": {
      if (args.length !== 1) return "Satisfy takes one argument, access policy if both allow and require used";
      const s = parseSatisfy(args[0]!);
      if (s !== "any" && s !== "all") return s;
      return { ...rules, satisfy: [...rules.satisfy, { value: s, limit }] };
    }
    default: {
      const list = parseAllowDeny(args);
      if (typeof list === "string") return list;
      const entries = list.map((value) => ({ value, limit }));
      return name === "allow"
        ? { ...rules, allows: [...rules.allows, ...entries] }
        : { ...rules, denys: [...rules.denys, ...entries] };
    }
  }
}

function directive(name: string, help: string) {
  return {
    name,
    args: "raw" as const,
    contexts: ["directory" as const],
    help,
    apply(cmd: Cmd) {
      const next = addLine(cmd.dir, name.toLowerCase(), cmd.args, null);
      if (typeof next === "string") return next;
      Object.assign(cmd.dir, next);
    },
  };
}

const accessCompat = defineModule<AccessCompatServer, Rules>({
  name: "access_compat",
  description: "Order, Allow, Deny and Satisfy (Apache 2.2 host-based access control)",
  directives: [
    directive("Order", "'allow,deny', 'deny,allow', or 'mutual-failure'"),
    directive("Allow", "'from' followed by hostnames or IP-address wildcards"),
    directive("Deny", "'from' followed by hostnames or IP-address wildcards"),
    directive("Satisfy", "access policy if both allow and require used ('all' or 'any')"),
  ],
  createServerConfig: () => ({ loaded: true }),
  createDirConfig: () => ({ ...EMPTY }),
  mergeDirConfig: mergeRules,
  hooks: {
    // check_dir_access runs in the access_checker phase, before authz_core's (APR_HOOK_LAST).
    access_checker: { fn: checkAccess, order: "middle" },
  },
});
export default accessCompat;

for (const name of ["Order", "Allow", "Deny", "Satisfy"]) {
  registerLimitDirective<Rules>(name, {
    key: SLOT,
    apply: (node: ConfigNode, limit: MethodLimit, slot: Rules | undefined) =>
      addLine(slot ?? EMPTY, name.toLowerCase(), node.args, limit),
    merge: mergeRules,
  });
}

function rulesFor(r: Request): Rules | undefined {
  const own = accessCompat.dirConf(r);
  const limited = limitSlot<Rules>(r, SLOT);
  if (!own) return limited;
  if (!limited && !own.orders.length && !own.allows.length && !own.denys.length && !own.satisfy.length) return undefined;
  return combine(own, limited);
}

/**
 * check_dir_access, then Apache's Satisfy logic: with `Satisfy All` (the default) a host refusal is
 * a 403 whatever the Require lines say; with `Satisfy Any` a host match admits the request without
 * authentication, and a refusal leaves the decision to the Require lines.
 */
function checkAccess(r: Request): void | Promise<void> {
  if (r.prev !== undefined && r.prev.perDir === r.perDir) return;
  const rules = rulesFor(r);
  if (!rules) return;
  const res = allowed(r, rules);
  if (typeof res === "boolean") return decide(r, rules, res);
  return res.then((ok) => decide(r, rules, ok));
}

function decide(r: Request, rules: Rules, ok: boolean): void {
  const any = satisfyFor(rules, r.method) === "any";
  if (ok) {
    if (any) grantWithoutAuthz(r);
    return;
  }
  const what = r.filename ? r.filename : `uri ${r.uri}`;
  logError(r, "error", "access_compat", `AH01797: client denied by server configuration: ${what}`);
  if (!any) throw new HttpError(403);
}

/** The Order decides which list wins when both match (or neither does). */
function allowed(r: Request, rules: Rules): boolean | Promise<boolean> {
  const order = orderFor(rules, r.method);
  const a = anyMatches(r, rules.allows);
  const d = anyMatches(r, rules.denys);
  const judge = (allow: boolean, deny: boolean) => {
    if (order === "allow,deny") return allow && !deny;
    if (order === "deny,allow") return allow || !deny;
    return allow && !deny;
  };
  if (typeof a === "boolean" && typeof d === "boolean") return judge(a, d);
  return Promise.all([a, d]).then(([x, y]) => judge(x, y));
}
