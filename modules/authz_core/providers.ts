// The Require provider registry (Apache's AUTHZ_PROVIDER_GROUP) and the four-valued authz result.
import type { ConfigNode } from "../../src/config/node.ts";
import type { Request } from "../../src/http/request.ts";

/** Apache's authz_status values (mod_auth.h), kept numeric so the per-request walk never allocates. */
export const DENIED = 0;
export const GRANTED = 1;
export const NEUTRAL = 2;
/** A provider failed (a broken expression, say): the request ends with 500. */
export const GENERAL_ERROR = 3;
/** "An authenticated user might change the result": authentication has to run first. */
export const DENIED_NO_USER = 4;
export type AuthzStatus =
  | typeof DENIED
  | typeof GRANTED
  | typeof NEUTRAL
  | typeof GENERAL_ERROR
  | typeof DENIED_NO_USER;

/**
 * One `Require` provider. `parse` runs once per Require line at config time and returns the compiled
 * form of its arguments, or a string: the error message, reported with file:line as Apache does. So a
 * compiled value must not itself be a string (wrap it in an object). `check` runs per request and must
 * be cheap; it may return a Promise when it has to wait (DNS), and should return synchronously otherwise.
 */
export interface AuthzProvider<T = unknown> {
  parse(args: readonly string[], node: ConfigNode): T | string;
  check(r: Request, parsed: T): AuthzStatus | Promise<AuthzStatus>;
  /**
   * The module that provides it. When set, the provider exists only in configurations that load that
   * module ("Unknown Authz provider: ip" without mod_authz_host): the module must define
   * createServerConfig, so that its slot in the server's config vector shows it is loaded.
   */
  module?: { serverConf(s: { moduleConfig: unknown[] }): unknown };
}

const providers = new Map<string, AuthzProvider>();

/**
 * Registers a provider for `Require [not] name args...`. Names are case-sensitive, as in Apache
 * (`Require ALL granted` is an unknown provider). Call it at module load time.
 * @example
 * registerAuthzProvider("valid-user", {
 *   parse: () => ({}),
 *   check: (r) => (r.user === undefined ? DENIED_NO_USER : GRANTED),
 *   module: authzUser,
 * });
 */
export function registerAuthzProvider<T>(name: string, provider: AuthzProvider<T>): void {
  providers.set(name, provider as AuthzProvider);
}

/** The provider registered under `name` if its module is loaded for `server`'s configuration. */
export function findAuthzProvider(
  name: string,
  server: { moduleConfig: unknown[] },
): AuthzProvider | undefined {
  const p = providers.get(name);
  if (!p) return undefined;
  if (p.module && p.module.serverConf(server) === undefined) return undefined;
  return p;
}

/** How Apache's debug lines name a result (format_authz_result). */
export const STATUS_WORD: readonly string[] = [
  "denied",
  "granted",
  "neutral",
  "general error",
  "denied (no authenticated user yet)",
];
