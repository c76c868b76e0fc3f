// Per-request walk of the compiled Require tree (apply_authz_sections); allocates only to wait.
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { DENIED, DENIED_NO_USER, GENERAL_ERROR, GRANTED, NEUTRAL, STATUS_WORD } from "./providers.ts";
import type { AuthzStatus } from "./providers.ts";
import { AND, describe, limitApplies } from "./tree.ts";
import type { AuthzNode, Op } from "./tree.ts";

/**
 * Evaluates `node` for the request. Synchronous (a number) as long as every provider answers at once;
 * a Promise only from the first provider that has to wait (a DNS lookup), continuing from there.
 * `debug` adds Apache's AH01626 line per node (LogLevel authz_core:debug). A node limited to other
 * methods (`<Limit>`) is GRANTED inside an AND and NEUTRAL inside an OR (the root counts as in an AND).
 */
export function evaluate(r: Request, node: AuthzNode, debug: boolean, parentOp: Op = AND): AuthzStatus | Promise<AuthzStatus> {
  if (node.limited !== null && !limitApplies(node.limited, r.method)) {
    const res = parentOp === AND ? GRANTED : NEUTRAL;
    if (debug) {
      const what = `${describe(node)}: ${STATUS_WORD[res]} (directive limited to other methods)`;
      logError(r, "debug", "authz_core", `AH01625: authorization result of ${what}`);
    }
    return res;
  }
  if (node.provider) {
    const res = node.provider.check(r, node.parsed);
    if (typeof res !== "number") return res.then((s) => finish(r, node, s, debug));
    return finish(r, node, res, debug);
  }
  return evalChildren(r, node, 0, NEUTRAL, debug);
}

function evalChildren(
  r: Request,
  node: AuthzNode,
  from: number,
  acc: AuthzStatus,
  debug: boolean,
): AuthzStatus | Promise<AuthzStatus> {
  const kids = node.children;
  for (let i = from; i < kids.length; i++) {
    const res = evaluate(r, kids[i]!, debug, node.op);
    if (typeof res !== "number") return res.then((s) => resume(r, node, i, acc, s, debug));
    if (res === GENERAL_ERROR) return GENERAL_ERROR;
    acc = combine(node, acc, res);
    if (stops(node, acc)) break;
  }
  return finish(r, node, acc, debug);
}

function resume(
  r: Request,
  node: AuthzNode,
  i: number,
  acc: AuthzStatus,
  s: AuthzStatus,
  debug: boolean,
): AuthzStatus | Promise<AuthzStatus> {
  if (s === GENERAL_ERROR) return GENERAL_ERROR;
  const next = combine(node, acc, s);
  if (stops(node, next)) return finish(r, node, next, debug);
  return evalChildren(r, node, i + 1, next, debug);
}

/**
 * One child's result folded into the container's. NEUTRAL children are ignored. RequireAll: DENIED
 * decides; DENIED_NO_USER outranks GRANTED. RequireAny: GRANTED decides; DENIED_NO_USER outranks DENIED.
 */
function combine(node: AuthzNode, acc: AuthzStatus, child: AuthzStatus): AuthzStatus {
  if (child === NEUTRAL) return acc;
  if (node.op === AND) {
    if (child === DENIED) return DENIED;
    if ((child === DENIED_NO_USER && acc !== DENIED) || acc === NEUTRAL) return child;
    return acc;
  }
  if (child === GRANTED) return GRANTED;
  if ((child === DENIED_NO_USER && acc === DENIED) || acc === NEUTRAL) return child;
  return acc;
}

function stops(node: AuthzNode, acc: AuthzStatus): boolean {
  return node.op === AND ? acc === DENIED : acc === GRANTED;
}

/**
 * Negation (`Require not`, `<RequireNone>`) turns GRANTED into DENIED and any denial into NEUTRAL: not
 * being rejected by a rule is no reason to let someone in.
 */
function finish(r: Request, node: AuthzNode, s: AuthzStatus, debug: boolean): AuthzStatus {
  if (s === GENERAL_ERROR) return s;
  if (node.negate) {
    if (s === GRANTED) s = DENIED;
    else if (s === DENIED || s === DENIED_NO_USER) s = NEUTRAL;
  }
  if (debug) {
    const what = describe(node);
    logError(r, "debug", "authz_core", `AH01626: authorization result of ${what}: ${STATUS_WORD[s]}`);
  }
  return s;
}
