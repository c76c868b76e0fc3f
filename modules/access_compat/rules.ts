// Order/Allow/Deny/Satisfy rules of mod_access_compat: parsing, merging and matching.
import type { Request } from "../../src/http/request.ts";
import { remoteHost } from "../authz_host/dns.ts";
import { inDomain } from "../authz_host/index.ts";
import { createAddr, matchSubnets, parseAddr, parseSubnet } from "../authz_host/ip.ts";
import type { Subnets } from "../authz_host/ip.ts";
import { limitApplies } from "../authz_core/index.ts";
import type { MethodLimit } from "../authz_core/index.ts";

export type Order = "deny,allow" | "allow,deny" | "mutual-failure";
export type Satisfy = "any" | "all";

/** One `Allow from` / `Deny from` word (Apache's allowdeny: T_ENV, T_NENV, T_ALL, T_IP, T_HOST). */
export type Match =
  | { kind: "all" }
  | { kind: "env"; name: string; negate: boolean }
  | { kind: "ip"; nets: Subnets }
  | { kind: "host"; domain: string };

/** A setting and the methods it is limited to (`<Limit>`); null: every method. */
export interface Limited<T> {
  value: T;
  limit: MethodLimit | null;
}

export interface Rules {
  orders: Limited<Order>[];
  allows: Limited<Match>[];
  denys: Limited<Match>[];
  satisfy: Limited<Satisfy>[];
}

export const EMPTY: Rules = { orders: [], allows: [], denys: [], satisfy: [] };

export function parseOrder(arg: string): Order | undefined {
  const v = arg.toLowerCase();
  if (v === "deny,allow" || v === "allow,deny" || v === "mutual-failure") return v;
  return undefined;
}

export function parseSatisfy(arg: string): Satisfy | string {
  const v = arg.toLowerCase();
  if (v === "any" || v === "all") return v;
  return "Satisfy either 'any' or 'all'.";
}

/** allow_cmd: `from` and then hosts, addresses, networks, `all` or `env=[!]VAR`. */
export function parseAllowDeny(args: readonly string[]): Match[] | string {
  if (args.length < 2) return "allow and deny must be followed by 'from'";
  if (args[0]!.toLowerCase() !== "from") return "allow and deny must be followed by 'from'";
  const out: Match[] = [];
  for (const where of args.slice(1)) {
    const lower = where.toLowerCase();
    if (lower.startsWith("env=!")) out.push({ kind: "env", name: where.slice(5), negate: true });
    else if (lower.startsWith("env=")) out.push({ kind: "env", name: where.slice(4), negate: false });
    else if (lower === "all") out.push({ kind: "all" });
    else {
      const v4: number[] = [];
      const v6: number[] = [];
      const err = parseSubnet(where, v4, v6);
      if (err === undefined) out.push({ kind: "ip", nets: { v4: Uint32Array.from(v4), v6: Uint32Array.from(v6) } });
      else if (where.includes("/")) {
        if (err === "inval") return "An IP address was expected";
        return err === "badmask" ? "The specified network mask is invalid." : "The specified IP address is invalid.";
      } else if (err === "inval") out.push({ kind: "host", domain: lower });
      else return "The specified IP address is invalid.";
    }
  }
  return out;
}

/**
 * merge_access_compat_dir_config: a deeper section's Allow (Deny) list replaces the enclosing one
 * when it has any; Order and Satisfy entries stack, and the last one for the method wins.
 */
export function mergeRules(base: Rules, add: Rules): Rules {
  return {
    orders: add.orders.length ? [...base.orders, ...add.orders] : base.orders,
    allows: add.allows.length ? add.allows : base.allows,
    denys: add.denys.length ? add.denys : base.denys,
    satisfy: add.satisfy.length ? [...base.satisfy, ...add.satisfy] : base.satisfy,
  };
}

/** Rules written outside `<Limit>` followed by those written inside one (which win for their methods). */
export function combine(own: Rules, limited: Rules | undefined): Rules {
  if (!limited) return own;
  return {
    orders: [...own.orders, ...limited.orders],
    allows: [...own.allows, ...limited.allows],
    denys: [...own.denys, ...limited.denys],
    satisfy: [...own.satisfy, ...limited.satisfy],
  };
}

function lastFor<T>(list: Limited<T>[], method: string, dflt: T): T {
  for (let i = list.length - 1; i >= 0; i--) {
    const e = list[i]!;
    if (e.limit === null || limitApplies([e.limit], method)) return e.value;
  }
  return dflt;
}

export const orderFor = (rules: Rules, method: string) => lastFor<Order>(rules.orders, method, "deny,allow");
export const satisfyFor = (rules: Rules, method: string) => lastFor<Satisfy>(rules.satisfy, method, "all");

const scratch = createAddr();

/**
 * find_allowdeny: does any entry for the method match the client? Host names need a double-reverse
 * lookup, so the answer may be a Promise; address rules are checked first and never wait.
 */
export function anyMatches(r: Request, list: Limited<Match>[]): boolean | Promise<boolean> {
  let hosts: string[] | undefined;
  for (const e of list) {
    if (e.limit !== null && !limitApplies([e.limit], r.method)) continue;
    const m = e.value;
    if (m.kind === "all") return true;
    if (m.kind === "env") {
      if (r.subprocessEnv.has(m.name) !== m.negate) return true;
    } else if (m.kind === "ip") {
      if (matchSubnets(m.nets, parseAddr(r.conn.remoteAddr, scratch))) return true;
    } else (hosts ??= []).push(m.domain);
  }
  if (!hosts) return false;
  const ip = r.conn.remoteAddr.startsWith("::ffff:") ? r.conn.remoteAddr.slice(7) : r.conn.remoteAddr;
  const name = remoteHost(ip);
  const test = (n: string | null) => n !== null && hosts.some((d) => inDomain(d, n));
  return name instanceof Promise ? name.then(test) : test(name);
}
