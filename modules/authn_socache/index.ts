// authn_socache: caches the password hashes other providers found (Apache's mod_authn_socache).
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { defineModule } from "../../src/module.ts";
import {
  AUTH_DENIED,
  AUTH_GRANTED,
  AUTH_USER_NOT_FOUND,
  registerAuthnProvider,
  setAuthnCacheStore,
} from "../authn_core/providers.ts";
import { verifyCached } from "../authn_file/verify-cache.ts";

export interface AuthnSocacheDir {
  /** AuthnCacheProvideFor: the providers whose findings are cached. */
  providers: readonly string[] | undefined;
  /** AuthnCacheTimeout in seconds. */
  timeout: number | undefined;
  /** AuthnCacheContext: directory (default), server, or a literal string. */
  context: string | undefined;
}

interface AuthnSocacheServer {
  /** AuthnCacheSOCache (or AuthnCacheEnable) seen: the cache is on. */
  configured: boolean;
  /** The socache provider named; mosaic keeps every kind in process memory. */
  backend: string;
}

/** Apache's default AuthnCacheTimeout (300 s). */
const DEFAULT_TIMEOUT = 300;
/** Bound on entries, so many users (or a flood of names) cannot grow memory without end. */
const MAX_ENTRIES = 65_536;

interface Entry {
  hash: string;
  expires: number;
}

/**
 * The object cache. Apache's shmcb lives in shared memory across children; mosaic's cache is per
 * process (each process fills its own), whatever backend AuthnCacheSOCache names.
 */
const cache = new Map<string, Entry>();

const authnSocache = defineModule<AuthnSocacheServer, AuthnSocacheDir>({
  name: "authn_socache",
  description: "Caches credentials found by other authentication providers",
  directives: [
    {
      name: "AuthnCacheSOCache",
      args: [1, 1],
      contexts: ["server"],
      help: "socache provider for authn cache",
      apply(cmd) {
        const name = cmd.args[0]!.split(":")[0]!.toLowerCase();
        if (!["shmcb", "dbm", "memcache", "redis", "dc", "shm"].includes(name)) {
          return `Unknown socache provider '${name}'. Maybe you need to load the appropriate socache module (mod_socache_${name}?)`;
        }
        cmd.server.configured = true;
        cmd.server.backend = cmd.args[0]!;
      },
    },
    {
      name: "AuthnCacheEnable",
      args: [0, 0],
      contexts: ["server"],
      help: "enable socache configuration in htaccess even if not enabled anywhere else",
      apply(cmd) {
        cmd.server.configured = true;
      },
    },
    {
      name: "AuthnCacheProvideFor",
      args: [0, Infinity],
      contexts: ["directory"],
      help: "Determine what authn providers to cache for",
      apply(cmd) {
        cmd.dir.providers = cmd.args;
      },
    },
    {
      name: "AuthnCacheTimeout",
      args: [1, 1],
      contexts: ["directory"],
      help: "Timeout (secs) for cached credentials",
      apply(cmd) {
        const n = Number(cmd.args[0]);
        if (!/^\d+$/.test(cmd.args[0]!) || !Number.isSafeInteger(n)) return "AuthnCacheTimeout: Invalid timeout";
        cmd.dir.timeout = n;
      },
    },
    {
      name: "AuthnCacheContext",
      args: [1, 1],
      contexts: ["directory"],
      help: "Context for authn cache",
      apply(cmd) {
        cmd.dir.context = cmd.args[0]!;
      },
    },
  ],
  createServerConfig: () => ({ configured: false, backend: "shmcb" }),
  mergeServerConfig: (base, add) => (add.configured ? add : base),
  createDirConfig: () => ({ providers: undefined, timeout: undefined, context: undefined }),
  mergeDirConfig: (base, add) => ({
    providers: add.providers ?? base.providers,
    timeout: add.timeout ?? base.timeout,
    context: add.context ?? base.context,
  }),
});
export default authnSocache;

/** construct_key: the context ("directory" is host name plus the URI's directory) and the user. */
function cacheKey(r: Request, context: string | undefined, user: string): string {
  let ctx = context ?? "directory";
  const host = r.server.serverName || r.hostname;
  if (ctx === "directory") ctx = host + r.uri.slice(0, Math.max(0, r.uri.lastIndexOf("/")));
  else if (ctx === "server") ctx = host;
  return `${ctx}:${user}`;
}

function enabled(r: Request): boolean {
  return authnSocache.serverConf(r.server)?.configured === true;
}

/** ap_authn_cache_store: a provider listed in AuthnCacheProvideFor found `user`'s hash. */
setAuthnCacheStore((r, provider, user, hash) => {
  if (!enabled(r)) return;
  const d = authnSocache.dirConf(r);
  if (!d?.providers?.includes(provider)) return;
  if (cache.size >= MAX_ENTRIES) cache.clear();
  const timeout = d.timeout ?? DEFAULT_TIMEOUT;
  cache.set(cacheKey(r, d.context, user), { hash, expires: Date.now() + timeout * 1000 });
});

/**
 * The `socache` provider, listed first in AuthBasicProvider. A cached hash is trusted until the
 * timeout: a password changed in the file meanwhile still fails (AUTH_DENIED) until then, as in Apache.
 */
registerAuthnProvider("socache", {
  module: authnSocache,
  checkPassword(r, user, password) {
    if (!enabled(r)) return AUTH_USER_NOT_FOUND;
    const d = authnSocache.dirConf(r);
    const key = cacheKey(r, d.context, user);
    const e = cache.get(key);
    if (!e || e.expires <= Date.now()) {
      if (e) cache.delete(key);
      logError(r, "debug", "authn_socache", `AH01682: Authn cache: no credentials found for ${user}`);
      return AUTH_USER_NOT_FOUND;
    }
    const ok = verifyCached(password, e.hash);
    const done = (v: boolean) => {
      if (!v) logError(r, "debug", "authn_socache", `AH01683: Authn cache: password mismatch for ${user}`);
      return v ? AUTH_GRANTED : AUTH_DENIED;
    };
    return typeof ok === "boolean" ? done(ok) : ok.then(done);
  },
});

/** Empties the cache (tests, or an administrator's reload wanting fresh credentials). */
export function clearAuthnCache(): void {
  cache.clear();
}
