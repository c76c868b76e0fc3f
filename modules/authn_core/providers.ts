// The authentication provider registry (Apache's AUTHN_PROVIDER_GROUP) and authn_status values.
import type { ConfigNode } from "../../src/config/node.ts";
import type { Request } from "../../src/http/request.ts";

/** mod_auth.h's authn_status, numeric so the hot path never allocates. */
export const AUTH_DENIED = 0;
export const AUTH_GRANTED = 1;
export const AUTH_USER_FOUND = 2;
export const AUTH_USER_NOT_FOUND = 3;
export const AUTH_GENERAL_ERROR = 4;
export type AuthnStatus =
  | typeof AUTH_DENIED
  | typeof AUTH_GRANTED
  | typeof AUTH_USER_FOUND
  | typeof AUTH_USER_NOT_FOUND
  | typeof AUTH_GENERAL_ERROR;

/** What an alias section hands its provider: the nested lines and a path resolver. */
export interface AliasContext {
  resolvePath(path: string): string;
}

/**
 * An authentication provider (`AuthBasicProvider file`). `checkPassword` gets the configuration an
 * `<AuthnProviderAlias>` built for it, or undefined to read the request's own per-dir config.
 */
export interface AuthnProvider<C = unknown> {
  checkPassword(r: Request, user: string, password: string, conf: C | undefined): AuthnStatus | Promise<AuthnStatus>;
  /** Builds the config of an `<AuthnProviderAlias>` from its nested directives; a string is an error. */
  aliasConfig?(nodes: readonly ConfigNode[], ctx: AliasContext): C | { error: string; node: ConfigNode };
  /** When set, the provider exists only where that module is loaded (as with authz providers). */
  module?: { serverConf(s: { moduleConfig: unknown[] }): unknown };
}

const providers = new Map<string, AuthnProvider>();

/**
 * Registers `name` for AuthBasicProvider. Call at module load; `<AuthnProviderAlias>` registers
 * its alias at config time the same way.
 * @example registerAuthnProvider("file", { checkPassword: (r, user, pw) => ..., module: authnFile });
 */
export function registerAuthnProvider<C>(name: string, provider: AuthnProvider<C>): void {
  providers.set(name, provider as AuthnProvider);
}

export function findAuthnProvider(name: string, server: { moduleConfig: unknown[] }): AuthnProvider | undefined {
  const p = providers.get(name);
  if (!p) return undefined;
  if (p.module && p.module.serverConf(server) === undefined) return undefined;
  return p;
}

/**
 * mod_authn_socache's optional function: providers that found a user's hash offer it for caching
 * (AUTHN_CACHE_STORE). `provider` is the provider's own name ("file"), not an alias.
 */
export type CacheStore = (r: Request, provider: string, user: string, hash: string) => void;

let cacheStore: CacheStore | undefined;

export function setAuthnCacheStore(fn: CacheStore | undefined): void {
  cacheStore = fn;
}

export function authnCacheStore(r: Request, provider: string, user: string, hash: string): void {
  if (cacheStore) cacheStore(r, provider, user, hash);
}

/** The note auth_basic sets while a provider runs (AUTHN_PROVIDER_NAME_NOTE). */
export const PROVIDER_NAME_NOTE = "authn_provider_name";
