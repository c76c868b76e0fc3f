// authz_core: the Require engine (Apache's mod_authz_core): Require, <RequireAll|Any|None>, AuthMerging.
import type { ConfigNode } from "../../src/config/node.ts";
import { HttpError } from "../../src/http/errors.ts";
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { DEBUG, effectiveLevel } from "../../src/log/levels.ts";
import { DECLINED, defineModule } from "../../src/module.ts";
import type { DirectiveCmd } from "../../src/module.ts";
import core from "../core/index.ts";
import { registerBuiltinProviders } from "./builtin.ts";
import { evaluate } from "./evaluate.ts";
import { DENIED_NO_USER, GRANTED, GENERAL_ERROR } from "./providers.ts";
import type { AuthzStatus } from "./providers.ts";
import { addRequire, addSection, adopt, AND, createContainer, OR } from "./tree.ts";
import type { AuthzNode, TreeContext } from "./tree.ts";
import { limitSection, mergeExtra, nestedLimit } from "./limit.ts";
import type { LimitHelpers } from "./limit.ts";
import { authn, authorizedElsewhere, needsUser } from "./seams.ts";

export * from "./providers.ts";
export { authzNeedsUser, grantWithoutAuthz, registerAuthnSupport } from "./seams.ts";
export type { AuthnSupport } from "./seams.ts";
export type { AuthzNode, MethodLimit } from "./tree.ts";
export { limitApplies } from "./tree.ts";
export { registerLimitDirective } from "./limit.ts";
export type { LimitDirective } from "./limit.ts";

/** Per-directory state: the section's rules and how they combine with the enclosing sections'. */
export interface AuthzDir {
  /** The implicit `<RequireAny>` holding the section's Require lines, or undefined when it has none. */
  section: AuthzNode | undefined;
  /** AuthMerging; undefined when the section does not set it (it then behaves as Off). */
  merging: "off" | "and" | "or" | undefined;
  forbiddenOnFailure: boolean | undefined;
  /** Other modules' method-limited settings made inside `<Limit>` (see registerLimitDirective). */
  extra?: Readonly<Record<string, unknown>>;
}

const HELP_MERGING =
  "controls how a <Directory>, <Location>, or similar directive's authorization directives are " +
  "combined with those of its predecessor";

type Cmd = DirectiveCmd<undefined, AuthzDir>;

function treeContext(cmd: Cmd): TreeContext {
  const ctx: TreeContext = { server: cmd.serverRec, other: (node, kind) => nested(cmd, node, kind) };
  ctx.limitBlock = nestedLimit(limitHelpersFor(cmd, ctx));
  return ctx;
}

/** Directives Apache accepts inside a `<Require...>` container besides Require lines. */
function nested(cmd: Cmd, node: ConfigNode, kind: string): string | void {
  const name = node.name.toLowerCase();
  if (name === "authmerging") {
    if (node.args.length !== 1) return `AuthMerging takes one argument, ${HELP_MERGING}`;
    return setMerging(cmd.dir, node.args[0]!);
  }
  if (name === "authzsendforbiddenonfailure") {
    if (node.args.length !== 1 || !/^(on|off)$/i.test(node.args[0]!)) {
      return "AuthzSendForbiddenOnFailure must be On or Off";
    }
    cmd.dir.forbiddenOnFailure = node.args[0]!.toLowerCase() === "on";
    return;
  }
  return `${node.name} not allowed in <${kind}> context`;
}

function setMerging(dir: AuthzDir, arg: string): string | void {
  const v = arg.toLowerCase();
  if (v !== "off" && v !== "and" && v !== "or") return "AuthMerging must be one of: Off | And | Or";
  dir.merging = v;
}

function rootOf(dir: AuthzDir): AuthzNode {
  return (dir.section ??= createContainer(OR, false));
}

function limitHelpers(cmd: Cmd): LimitHelpers {
  return limitHelpersFor(cmd, treeContext(cmd));
}

function limitHelpersFor(cmd: Cmd, ctx: TreeContext): LimitHelpers {
  return {
    root: () => rootOf(cmd.dir),
    ctx,
    other: (node, kind) => nested(cmd, node, kind),
    setExtra(key, value) {
      cmd.dir.extra = { ...cmd.dir.extra, [key]: value };
    },
    getExtra: (key) => cmd.dir.extra?.[key],
  };
}

/** The `<Limit>` slot `key` of the request's merged config (see registerLimitDirective). */
export function limitSlot<T>(r: Request, key: string): T | undefined {
  return authzCore.dirConf(r)?.extra?.[key] as T | undefined;
}

const sectionDirective = (name: string, help: string) => ({
  name,
  args: "raw" as const,
  section: true,
  contexts: ["directory" as const],
  help,
  apply(cmd: Cmd) {
    addSection(rootOf(cmd.dir), cmd.node, treeContext(cmd));
  },
});

const authzCore = defineModule<undefined, AuthzDir>({
  name: "authz_core",
  description: "Core authorization: Require and its <RequireAll>, <RequireAny>, <RequireNone> logic",
  directives: [
    {
      name: "Require",
      args: "raw",
      contexts: ["directory"],
      // Apache's own help text, spelling included (shown by -L).
      help: "specifies authorization directives which one must pass (or not) for a request to suceeed",
      apply(cmd) {
        addRequire(rootOf(cmd.dir), cmd.args, cmd.node, treeContext(cmd));
      },
    },
    sectionDirective(
      "RequireAll",
      "container for grouping authorization directives of which none must fail and at least one " +
        "must pass for a request to succeed",
    ),
    sectionDirective(
      "RequireAny",
      "container for grouping authorization directives of which one must pass for a request to succeed",
    ),
    sectionDirective(
      "RequireNone",
      "container for grouping authorization directives of which none must pass for a request to succeed",
    ),
    {
      name: "Limit",
      args: "raw",
      section: true,
      help: "Container for authentication directives when accessed using specified HTTP methods",
      apply: (cmd: Cmd) => limitSection(cmd, limitHelpers(cmd)),
    },
    {
      name: "LimitExcept",
      args: "raw",
      section: true,
      help:
        "Container for authentication directives to be applied when any HTTP method other than " +
        "those specified is used to access the resource",
      apply: (cmd: Cmd) => limitSection(cmd, limitHelpers(cmd)),
    },
    {
      name: "AuthMerging",
      args: [1, 1],
      contexts: ["directory"],
      help: HELP_MERGING,
      apply: (cmd) => setMerging(cmd.dir, cmd.args[0]!),
    },
    {
      name: "AuthzSendForbiddenOnFailure",
      args: "flag",
      contexts: ["directory"],
      help:
        "Controls if an authorization failure should result in a '403 FORBIDDEN' response instead " +
        "of the HTTP-conforming '401 UNAUTHORIZED'",
      apply(cmd) {
        cmd.dir.forbiddenOnFailure = cmd.flag;
      },
    },
  ],
  createDirConfig: () => ({ section: undefined, merging: undefined, forbiddenOnFailure: undefined }),
  mergeDirConfig: mergeAuthzDir,
  hooks: {
    // APR_HOOK_LAST, as Apache registers authorize_userless / authorize_user.
    access_checker: { fn: accessChecker, order: "last" },
    auth_checker: { fn: authChecker, order: "last" },
  },
});
export default authzCore;

registerBuiltinProviders();

/**
 * merge_authz_core_dir_config. Off (or unset): a section with Require lines replaces the enclosing
 * rules and one without keeps them. And/Or: both sets must pass / either may, as one merged container.
 */
export function mergeAuthzDir(base: AuthzDir, add: AuthzDir): AuthzDir {
  const forbiddenOnFailure = add.forbiddenOnFailure ?? base.forbiddenOnFailure;
  const extra = mergeExtra(base.extra, add.extra);
  if (add.merging === undefined && !add.section && base.section) return { ...base, forbiddenOnFailure, extra };
  if (add.merging === undefined || add.merging === "off" || !(base.section || add.section)) {
    return { ...add, forbiddenOnFailure, extra };
  }
  let section = add.section ?? base.section;
  if (base.section && add.section) {
    section = createContainer(add.merging === "and" ? AND : OR, false, true);
    adopt(section, base.section);
    adopt(section, add.section);
  }
  return { section, merging: add.merging, forbiddenOnFailure, extra };
}

/** LogLevel authz_core:debug in force for the request (checked once, not per node). */
function debugOn(r: Request): boolean {
  const srv = core.serverConf(r.server).log.level;
  const dir = core.dirConf(r).logLevel;
  return (dir ? effectiveLevel(dir, "authz_core", srv) : effectiveLevel(srv, "authz_core")) >= DEBUG;
}

/** An internal redirect to a URI with the same merged config passed the same checks already. */
function sameConfigAsPrevious(r: Request): boolean {
  return r.prev !== undefined && r.prev.perDir === r.perDir;
}

function denied(r: Request): HttpError {
  const what = r.filename ? r.filename : `uri ${r.uri}`;
  logError(r, "error", "authz_core", `AH01630: client denied by server configuration: ${what}`);
  return new HttpError(403);
}

/** authorize_userless: decides without a user, or leaves the decision to the auth_checker phase. */
function accessChecker(r: Request): void | Promise<void> {
  if (sameConfigAsPrevious(r) || authorizedElsewhere.has(r)) return;
  const d = authzCore.dirConf(r);
  const debug = debugOn(r);
  if (!d.section) {
    if (authn.authType(r) !== undefined) {
      const msg = "AH01627: AuthType configured with no corresponding authorization directives";
      logError(r, "error", "authz_core", msg);
      throw new HttpError(500);
    }
    if (debug) logError(r, "debug", "authz_core", "AH01628: authorization result: granted (no directives)");
    return;
  }
  const res = evaluate(r, d.section, debug);
  if (typeof res !== "number") return res.then((s) => userless(r, s));
  userless(r, res);
}

function userless(r: Request, s: AuthzStatus): void {
  if (s === GRANTED) return;
  if (s === DENIED_NO_USER) {
    needsUser.add(r);
    return;
  }
  if (s === GENERAL_ERROR) throw new HttpError(500);
  throw denied(r);
}

/**
 * authorize_user: after authentication, for requests the access check left undecided. Without a user
 * (no authentication module ran) it is a 401 when an AuthType is configured, else Apache's AH00027 500.
 */
function authChecker(r: Request): typeof DECLINED | void | Promise<void> {
  if (!needsUser.has(r)) return DECLINED;
  if (r.user === undefined) {
    if (authn.authType(r) !== undefined) {
      authn.noteAuthFailure(r);
      throw new HttpError(401);
    }
    const msg = `AH00027: No authentication done but request not allowed without authentication for ${r.uri}.`;
    logError(r, "error", "core", `${msg} Authentication not configured?`);
    throw new HttpError(500);
  }
  const d = authzCore.dirConf(r);
  const res = evaluate(r, d.section!, debugOn(r));
  if (typeof res !== "number") return res.then((s) => afterAuthn(r, d, s));
  afterAuthn(r, d, res);
}

function afterAuthn(r: Request, d: AuthzDir, s: AuthzStatus): void {
  if (s === GRANTED) return;
  if (s === GENERAL_ERROR) throw new HttpError(500);
  if (s === DENIED_NO_USER) {
    logError(r, "error", "authz_core", `AH01629: authorization failure (no authenticated user): ${r.uri}`);
    authn.noteAuthFailure(r);
    throw new HttpError(401);
  }
  if (authn.authType(r) === undefined) throw denied(r);
  logError(r, "error", "authz_core", `AH01631: user ${r.user}: authorization failure for "${r.uri}": `);
  if (d.forbiddenOnFailure) throw new HttpError(403);
  authn.noteAuthFailure(r);
  throw new HttpError(401);
}
