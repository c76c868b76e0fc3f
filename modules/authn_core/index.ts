// authn_core: AuthType, AuthName and <AuthnProviderAlias> (Apache's mod_authn_core).
import type { ConfigNode } from "../../src/config/node.ts";
import { parseStringExpr } from "../../src/expr/index.ts";
import type { StringExpr } from "../../src/expr/index.ts";
import { HttpError } from "../../src/http/errors.ts";
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { DECLINED, defineModule } from "../../src/module.ts";
import type { DirectiveCmd } from "../../src/module.ts";
import { authzNeedsUser, registerAuthnSupport } from "../authz_core/index.ts";
import { findAuthnProvider, registerAuthnProvider } from "./providers.ts";
import type { AuthnProvider } from "./providers.ts";

export * from "./providers.ts";

/** A directive value that may be an ap_expr string expression (2.4.13+: AuthType, AuthName). */
type Setting = string | StringExpr;

export interface AuthnCoreDir {
  /** undefined: not set here; null: `AuthType None`. */
  authType: Setting | null | undefined;
  authName: Setting | undefined;
}

interface AuthnCoreServer {
  loaded: true;
}

/** What an auth scheme module does when authorization wants a fresh challenge (note_auth_failure). */
export interface AuthScheme {
  noteAuthFailure(r: Request): void;
}

const schemes = new Map<string, AuthScheme>();

/**
 * Registers the module behind `AuthType name` (case-insensitive), the way auth_basic answers the
 * note_auth_failure hook for "Basic".
 */
export function registerAuthScheme(name: string, scheme: AuthScheme): void {
  schemes.set(name.toLowerCase(), scheme);
}

function compileSetting(text: string, node: ConfigNode, what: string): Setting | { error: string } {
  if (!text.includes("%{")) return text;
  const e = parseStringExpr(text, node, { module: "authn_core" });
  return typeof e === "string" ? { error: `Could not parse ${what} expression '${text}': ${e}` } : e;
}

function evalSetting(r: Request, s: Setting): string | undefined {
  return typeof s === "string" ? s : s.exec(r);
}

const authnCore = defineModule<AuthnCoreServer, AuthnCoreDir>({
  name: "authn_core",
  description: "AuthType, AuthName and authentication provider aliases",
  directives: [
    {
      name: "AuthType",
      args: [1, 1],
      contexts: ["directory"],
      help: "an HTTP authorization type (e.g., \"Basic\")",
      apply(cmd) {
        if (cmd.args[0]!.toLowerCase() === "none") {
          cmd.dir.authType = null;
          return;
        }
        const s = compileSetting(cmd.args[0]!, cmd.node, "authentication type");
        if (typeof s === "object" && "error" in s) return s.error;
        cmd.dir.authType = s;
      },
    },
    {
      name: "AuthName",
      args: [1, 1],
      contexts: ["directory"],
      help: "the authentication realm (e.g. \"Members Only\")",
      apply(cmd) {
        const s = compileSetting(cmd.args[0]!, cmd.node, "authentication realm");
        if (typeof s === "object" && "error" in s) return s.error;
        cmd.dir.authName = s;
      },
    },
    {
      name: "AuthnProviderAlias",
      args: "raw",
      section: true,
      contexts: ["server", "vhost"],
      help: "container for grouping an authentication provider's directives under a provider alias",
      apply: providerAlias,
    },
  ],
  createServerConfig: () => ({ loaded: true }),
  createDirConfig: () => ({ authType: undefined, authName: undefined }),
  mergeDirConfig: (base, add) => ({
    authType: add.authType !== undefined ? add.authType : base.authType,
    authName: add.authName ?? base.authName,
  }),
  hooks: {
    // authenticate_no_user: an AuthType nobody handled is a configuration error.
    check_user_id: { fn: authenticateNoUser, order: "reallyLast" },
  },
});
export default authnCore;

/** ap_auth_type: the AuthType in force, or undefined (`AuthType None` or none set). */
export function authType(r: Request): string | undefined {
  const t = authnCore.dirConf(r)?.authType;
  return t ? evalSetting(r, t) : undefined;
}

/** ap_auth_name: the realm, or undefined. */
export function authName(r: Request): string | undefined {
  const n = authnCore.dirConf(r)?.authName;
  return n === undefined ? undefined : evalSetting(r, n);
}

/** ap_note_auth_failure: lets the scheme's module set its challenge header. */
export function noteAuthFailure(r: Request): void {
  const type = authType(r);
  if (type === undefined) {
    logError(r, "error", "core", `AH00571: need AuthType to note auth failure: ${r.uri}`);
    return;
  }
  schemes.get(type.toLowerCase())?.noteAuthFailure(r);
}

registerAuthnSupport({
  authType: (r) => (authnCore.serverConf(r.server) === undefined ? undefined : authType(r)),
  noteAuthFailure,
});

function authenticateNoUser(r: Request): typeof DECLINED | void {
  if (!authzNeedsUser(r)) return DECLINED;
  const type = authType(r);
  if (type === undefined) return;
  logError(r, "error", "authn_core", `AH01796: AuthType ${type} configured without corresponding module`);
  throw new HttpError(500);
}

/**
 * `<AuthnProviderAlias file name>`: a provider named `name` that checks like `file` with the
 * directives inside the section (AuthUserFile ...), so one location can try several files.
 */
function providerAlias(cmd: DirectiveCmd<AuthnCoreServer, AuthnCoreDir>): string | void {
  if (cmd.args.length !== 2) {
    return "<AuthnProviderAlias> takes two arguments, a provider name and an alias name";
  }
  const [baseName, alias] = cmd.args as [string, string];
  if (baseName === alias) return "The alias provider name must be different from the base provider name.";
  const base = findAuthnProvider(baseName, cmd.serverRec);
  if (!base) return `Unknown Authn provider: ${baseName}`;
  if (!base.aliasConfig) return `The '${baseName}' Authn provider does not support aliases`;
  const conf = base.aliasConfig(cmd.node.children ?? [], { resolvePath: cmd.resolvePath });
  if (conf && typeof conf === "object" && "error" in conf && "node" in conf) {
    const e = conf as { error: string; node: ConfigNode };
    return `${e.error} (line ${e.node.line} of ${e.node.file})`;
  }
  const provider: AuthnProvider = {
    checkPassword: (r, user, password) => base.checkPassword(r, user, password, conf),
    module: base.module,
  };
  registerAuthnProvider(alias, provider);
}
