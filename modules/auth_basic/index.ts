// auth_basic: HTTP Basic authentication (RFC 7617) over the authn providers (Apache's mod_auth_basic).
import { HttpError } from "../../src/http/errors.ts";
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { DECLINED, defineModule } from "../../src/module.ts";
import { authName, authType, registerAuthScheme } from "../authn_core/index.ts";
import {
  AUTH_DENIED,
  AUTH_GRANTED,
  AUTH_USER_NOT_FOUND,
  findAuthnProvider,
  PROVIDER_NAME_NOTE,
} from "../authn_core/providers.ts";
import type { AuthnProvider, AuthnStatus } from "../authn_core/providers.ts";
import { authzNeedsUser } from "../authz_core/index.ts";

interface NamedProvider {
  name: string;
  provider: AuthnProvider;
}

export interface AuthBasicDir {
  /** AuthBasicProvider in order; undefined: the default, `file`. */
  providers: NamedProvider[] | undefined;
  authoritative: boolean | undefined;
  /** AuthBasicFake user and password (for a proxy's backend); "off" clears an inherited one. */
  fake: [string, string] | "off" | undefined;
  useDigestAlgorithm: "off" | "md5" | undefined;
}

interface AuthBasicServer {
  loaded: true;
}

/**
 * Header values past this length are refused before decoding: LimitRequestFieldSize already caps
 * headers at 8190 bytes, this only keeps a hostile Authorization from costing a base64 decode.
 */
const MAX_CREDENTIALS = 8192;

const authBasic = defineModule<AuthBasicServer, AuthBasicDir>({
  name: "auth_basic",
  description: "Basic authentication (RFC 7617)",
  directives: [
    {
      name: "AuthBasicProvider",
      args: [1, Infinity],
      contexts: ["directory"],
      help: "specify the auth providers for a directory or location",
      apply(cmd) {
        const list: NamedProvider[] = [];
        for (const name of cmd.args) {
          const provider = findAuthnProvider(name, cmd.serverRec);
          if (!provider) return `Unknown Authn provider: ${name}`;
          list.push({ name, provider });
        }
        cmd.dir.providers = list;
      },
    },
    {
      name: "AuthBasicAuthoritative",
      args: "flag",
      contexts: ["directory"],
      help: "Set to 'Off' to allow access control to be passed along to lower modules if the UserID is not known to this module",
      apply(cmd) {
        cmd.dir.authoritative = cmd.flag;
      },
    },
    {
      name: "AuthBasicFake",
      args: [1, 2],
      contexts: ["directory"],
      help: "Fake basic authentication using the given expressions for username and password, 'off' to disable.",
      apply(cmd) {
        cmd.dir.fake = cmd.args[0]!.toLowerCase() === "off" ? "off" : [cmd.args[0]!, cmd.args[1] ?? "password"];
      },
    },
    {
      name: "AuthBasicUseDigestAlgorithm",
      args: [1, 1],
      contexts: ["directory"],
      help: "Set to 'MD5' to use the auth provider's authentication check for digest auth",
      apply(cmd) {
        const v = cmd.args[0]!.toLowerCase();
        if (v !== "off" && v !== "md5") return "AuthBasicUseDigestAlgorithm: ERROR: Unrecognised argument";
        cmd.dir.useDigestAlgorithm = v;
      },
    },
  ],
  createServerConfig: () => ({ loaded: true }),
  createDirConfig: () => ({ providers: undefined, authoritative: undefined, fake: undefined, useDigestAlgorithm: undefined }),
  mergeDirConfig: (base, add) => ({
    providers: add.providers ?? base.providers,
    authoritative: add.authoritative ?? base.authoritative,
    fake: add.fake ?? base.fake,
    useDigestAlgorithm: add.useDigestAlgorithm ?? base.useDigestAlgorithm,
  }),
  hooks: {
    check_user_id: { fn: authenticateBasicUser, order: "middle" },
  },
});
export default authBasic;

/** note_basic_auth_failure: the challenge for the realm in force. */
function noteBasicAuthFailure(r: Request): void {
  r.errHeadersOut.set("WWW-Authenticate", `Basic realm="${authName(r) ?? ""}"`);
}

registerAuthScheme("Basic", { noteAuthFailure: noteBasicAuthFailure });

function unauthorized(r: Request): never {
  noteBasicAuthFailure(r);
  throw new HttpError(401);
}

/**
 * get_basic_auth: `Authorization: Basic base64(user:password)`. The scheme is case-insensitive;
 * the user ends at the first colon (RFC 7617 §2), a credential without one has an empty password.
 * The user is recorded even before it is verified, as Apache does, so the access log shows it.
 */
function credentials(r: Request): [string, string] {
  const line = r.headersIn.get("authorization");
  if (line === null) unauthorized(r);
  const sp = line.indexOf(" ");
  const scheme = sp < 0 ? line : line.slice(0, sp);
  if (scheme.toLowerCase() !== "basic") {
    logError(r, "error", "auth_basic", `AH01614: client used wrong authentication scheme: ${r.uri}`);
    unauthorized(r);
  }
  if (line.length > MAX_CREDENTIALS) unauthorized(r);
  const encoded = sp < 0 ? "" : line.slice(sp + 1).replace(/^[ \t]+/, "");
  // apr_base64_decode: up to the first byte outside the alphabet; the text ends at a NUL.
  const valid = /^[A-Za-z0-9+/]*/.exec(encoded)![0];
  let decoded = Buffer.from(valid, "base64").toString("utf8");
  const nul = decoded.indexOf("\0");
  if (nul >= 0) decoded = decoded.slice(0, nul);
  const colon = decoded.indexOf(":");
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? "" : decoded.slice(colon + 1);
  r.user = user;
  return [user, password];
}

type Outcome = typeof DECLINED | void;

/** authenticate_basic_user: decline unless AuthType Basic, then try each provider in order. */
function authenticateBasicUser(r: Request): Outcome | Promise<Outcome> {
  if (!authzNeedsUser(r)) return DECLINED;
  const type = authType(r);
  if (type === undefined || type.toLowerCase() !== "basic") return DECLINED;
  if (authName(r) === undefined) {
    logError(r, "error", "auth_basic", `AH01615: need AuthName: ${r.uri}`);
    throw new HttpError(500);
  }
  r.authType = type;
  const [user, password] = credentials(r);
  const conf = authBasic.dirConf(r);
  return tryProviders(r, conf, user, password, 0);
}

function tryProviders(r: Request, conf: AuthBasicDir, user: string, password: string, from: number): Outcome | Promise<Outcome> {
  const list = conf.providers;
  for (let i = from; i < (list?.length ?? 1); i++) {
    const entry = list ? list[i]! : defaultProvider(r);
    r.notes.set(PROVIDER_NAME_NOTE, entry.name);
    const res = entry.provider.checkPassword(r, user, password, undefined);
    if (typeof res !== "number") {
      return res.then((s) => {
        r.notes.delete(PROVIDER_NAME_NOTE);
        if (s !== AUTH_USER_NOT_FOUND || !list) return finish(r, conf, user, s);
        return tryProviders(r, conf, user, password, i + 1);
      });
    }
    r.notes.delete(PROVIDER_NAME_NOTE);
    if (res !== AUTH_USER_NOT_FOUND || !list) return finish(r, conf, user, res);
  }
  return finish(r, conf, user, AUTH_USER_NOT_FOUND);
}

function defaultProvider(r: Request): NamedProvider {
  const provider = findAuthnProvider("file", r.server);
  if (!provider) {
    logError(r, "error", "auth_basic", "AH01616: No Authn provider configured");
    throw new HttpError(500);
  }
  return { name: "file", provider };
}

function finish(r: Request, conf: AuthBasicDir, user: string, s: AuthnStatus): Outcome {
  if (s === AUTH_GRANTED) return;
  // Not authoritative: another module may still know the user (any answer but a wrong password).
  if (conf.authoritative === false && s !== AUTH_DENIED) return DECLINED;
  if (s === AUTH_DENIED) {
    logError(r, "error", "auth_basic", `AH01617: user ${user}: authentication failure for "${r.uri}": Password Mismatch`);
    unauthorized(r);
  }
  if (s === AUTH_USER_NOT_FOUND) {
    logError(r, "error", "auth_basic", `AH01618: user ${user} not found: ${r.uri}`);
    unauthorized(r);
  }
  // AUTH_GENERAL_ERROR: the provider has logged why.
  throw new HttpError(500);
}
