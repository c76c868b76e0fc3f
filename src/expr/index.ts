// ap_expr: placeholder until the expression engine lands.
import type { Request } from "../http/request.ts";
import { ConfigError } from "../config/node.ts";
import type { ConfigNode } from "../config/node.ts";

/** Compiles an `<If>` condition once at config time into a predicate over the request. */
export function compileCondition(expr: string, node: ConfigNode): (r: Request) => boolean {
  throw ConfigError.at(node, `<If "${expr}">: the expression engine is not available yet`);
}
