// mod_authz_core's own providers: `Require all`, `Require env`, `Require method`, `Require expr`.
import { exprFromWords, parseExpr } from "../../src/expr/index.ts";
import { logError } from "../../src/log/error-log.ts";
import type { BoolExpr } from "../../src/expr/index.ts";
import { DENIED, DENIED_NO_USER, GENERAL_ERROR, GRANTED, registerAuthzProvider } from "./providers.ts";

/**
 * Apache's method numbers (httpd.h M_GET...). HEAD is M_GET there, so `Require method GET` admits HEAD
 * and `Require method HEAD` admits GET [obs].
 */
const METHOD_NUMBER: Record<string, number> = {
  GET: 0, HEAD: 0, PUT: 1, POST: 2, DELETE: 3, CONNECT: 4, OPTIONS: 5, TRACE: 6, PATCH: 7,
  PROPFIND: 8, PROPPATCH: 9, MKCOL: 10, COPY: 11, MOVE: 12, LOCK: 13, UNLOCK: 14,
  "VERSION-CONTROL": 15, CHECKOUT: 16, UNCHECKOUT: 17, CHECKIN: 18, UPDATE: 19, LABEL: 20,
  REPORT: 21, MKWORKSPACE: 22, MKACTIVITY: 23, "BASELINE-CONTROL": 24, MERGE: 25,
};

/** Bit of a request method in a `Require method` mask; 0 for a method Apache does not know. */
export function methodBit(method: string): number {
  const n = METHOD_NUMBER[method];
  return n === undefined ? 0 : 1 << n;
}

interface AllArg {
  granted: boolean;
}

interface MethodArg {
  mask: number;
}

interface EnvArg {
  names: readonly string[];
}

interface ExprArg {
  expr: BoolExpr;
  /** The expression reads %{REMOTE_USER}: a false result may turn true once a user is known. */
  wantUser: boolean;
}

/**
 * The require line as text. Apache hands the provider the raw rest of the line; the config tree
 * keeps unquoted words, so quoted strings are restored for the expression parser (exprFromWords).
 */
export function requireLine(args: readonly string[]): string {
  return exprFromWords(args);
}

export function registerBuiltinProviders(): void {
  registerAuthzProvider<AllArg>("all", {
    // Apache compares the whole rest of the line, so `Require all granted extra` is refused too.
    parse(args) {
      const word = args.join(" ").toLowerCase();
      if (word === "granted") return { granted: true };
      if (word === "denied") return { granted: false };
      return "Argument for 'Require all' must be 'granted' or 'denied'";
    },
    check: (_r, a) => (a.granted ? GRANTED : DENIED),
  });

  // Granted when any of the variables is set (SetEnv, SetEnvIf, ...), whatever its value.
  registerAuthzProvider<EnvArg>("env", {
    parse: (args) => ({ names: [...args] }),
    check(r, a) {
      const env = r.subprocessEnv;
      for (let i = 0; i < a.names.length; i++) if (env.has(a.names[i]!)) return GRANTED;
      return DENIED;
    },
  });

  // Method names are case-sensitive, as on the request line: `Require method get` is refused.
  registerAuthzProvider<MethodArg>("method", {
    parse(args) {
      let mask = 0;
      for (const m of args) {
        const bit = methodBit(m);
        if (bit === 0) return `Invalid Method '${m}'`;
        mask |= bit;
      }
      return { mask };
    },
    check: (r, a) => (a.mask & methodBit(r.method) ? GRANTED : DENIED),
  });

  // ap_expr, evaluated per request (expr_check_authorization).
  registerAuthzProvider<ExprArg>("expr", {
    parse(args, node) {
      let text = requireLine(args);
      // "if the expression happens to be surrounded by quotes, skip them"
      if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1);
      const expr = parseExpr(text, node, { module: "authz_core" });
      if (typeof expr === "string") return `Cannot parse expression in require line: ${expr}`;
      return { expr, wantUser: expr.vars.has("REMOTE_USER") };
    },
    check(r, a) {
      const rc = a.expr.exec(r);
      if (rc < 0) {
        logError(r, "error", "authz_core", "AH02320: Error evaluating expression in 'Require expr'");
        return GENERAL_ERROR;
      }
      if (rc === 1) return GRANTED;
      return a.wantUser ? DENIED_NO_USER : DENIED;
    },
  });
}
