// authz_groupfile: AuthGroupFile, Require group and Require file-group (Apache's mod_authz_groupfile).
import { parseStringExpr } from "../../src/expr/index.ts";
import type { StringExpr } from "../../src/expr/index.ts";
import { groupName } from "../../src/expr/users.ts";
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { defineModule } from "../../src/module.ts";
import { sharedFile, WatchedFile } from "../authn_file/user-file.ts";
import type { LineProblem } from "../authn_file/user-file.ts";
import { DENIED, DENIED_NO_USER, GENERAL_ERROR, GRANTED, registerAuthzProvider } from "../authz_core/index.ts";
import type { AuthzStatus } from "../authz_core/index.ts";
import { requireLine } from "../authz_core/builtin.ts";

export interface AuthzGroupfileDir {
  groupFile: string | undefined;
}

interface AuthzGroupfileServer {
  loaded: true;
}

/** Groups by member: `group: user user ...` lines read the other way round (groups_for_user). */
type Membership = Map<string, Set<string>>;

/**
 * An AuthGroupFile: one `name: member member ...` per line, members separated by white space;
 * `#` comments and blank lines ignored; a line without a colon is reported and skipped.
 */
export function parseGroupFile(text: string): { data: Membership; problems: LineProblem[] } {
  const data: Membership = new Map();
  const problems: LineProblem[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l === "" || l.startsWith("#")) continue;
    const colon = l.indexOf(":");
    if (colon <= 0) {
      problems.push({ line: i + 1, message: colon < 0 ? "no ':' after the group name, line skipped" : "empty group name, line skipped" });
      continue;
    }
    const group = l.slice(0, colon);
    for (const user of l.slice(colon + 1).split(/[ \t]+/)) {
      if (!user) continue;
      let set = data.get(user);
      if (!set) data.set(user, (set = new Set()));
      set.add(group);
    }
  }
  return { data, problems };
}

const files = new Map<string, WatchedFile<Membership>>();

function groupFile(path: string): WatchedFile<Membership> {
  return sharedFile(files, path, () => new WatchedFile(path, parseGroupFile));
}

const describe = (path: string, p: LineProblem) => `AuthGroupFile ${path} line ${p.line}: ${p.message}`;

const authzGroupfile = defineModule<AuthzGroupfileServer, AuthzGroupfileDir>({
  name: "authz_groupfile",
  description: "Require group and file-group from AuthGroupFile",
  directives: [
    {
      name: "AuthGroupFile",
      args: [1, 1],
      contexts: ["directory"],
      help: "text file containing group names and member user IDs",
      apply(cmd) {
        const path = cmd.resolvePath(cmd.args[0]!);
        cmd.dir.groupFile = path;
        const f = groupFile(path);
        f.get();
        for (const p of f.problems) cmd.warn(describe(path, p));
      },
    },
  ],
  createServerConfig: () => ({ loaded: true }),
  createDirConfig: () => ({ groupFile: undefined }),
  mergeDirConfig: (base, add) => ({ groupFile: add.groupFile ?? base.groupFile }),
});
export default authzGroupfile;

/**
 * The user's groups, or a status when there is nothing to compare: no group file configured
 * (`missing`), or one that cannot be read (`unreadable`).
 */
function groupsOf(r: Request, user: string, missing: string, unreadable: string): Set<string> | AuthzStatus {
  const path = authzGroupfile.dirConf(r).groupFile;
  if (path === undefined) {
    logError(r, "error", "authz_groupfile", `${missing}: No group file was specified in the configuration`);
    return DENIED;
  }
  const f = groupFile(path);
  const data = f.get();
  if (f.pending.length) for (const p of f.drain()) logError(r, "warn", "authz_groupfile", describe(path, p));
  if (data === undefined) {
    logError(r, "error", "authz_groupfile", `${unreadable}: Could not open group file: ${path}`, f.error);
    return unreadable === "AH01665" ? GENERAL_ERROR : DENIED;
  }
  return data.get(user) ?? new Set();
}

/** `Require group a b`: the names may use %{VARS} (evaluated per request, then split into words). */
registerAuthzProvider<{ names: ReadonlySet<string> | undefined; expr: StringExpr | undefined }>("group", {
  module: authzGroupfile,
  parse(args, node) {
    const text = requireLine(args);
    if (!text.includes("%{")) return { names: new Set(args), expr: undefined };
    const expr = parseStringExpr(text, node, { module: "authz_groupfile" });
    if (typeof expr === "string") return `Cannot parse expression in require line: ${expr}`;
    return { names: undefined, expr };
  },
  check(r, a) {
    if (r.user === undefined) return DENIED_NO_USER;
    const groups = groupsOf(r, r.user, "AH01664", "AH01665");
    if (typeof groups === "number") return groups;
    if (groups.size === 0) {
      const path = authzGroupfile.dirConf(r).groupFile;
      logError(r, "debug", "authz_groupfile", `AH01666: Authorization of user ${r.user} to access ${r.uri} failed, reason: user doesn't appear in group file (${path}).`);
      return DENIED;
    }
    const names = a.names ?? new Set((a.expr!.exec(r) ?? "").split(/\s+/).filter(Boolean));
    for (const g of names) if (groups.has(g)) return GRANTED;
    logError(r, "debug", "authz_groupfile", `AH01667: Authorization of user ${r.user} to access ${r.uri} failed, reason: user is not part of the 'require'ed group(s).`);
    return DENIED;
  },
});

/** `Require file-group`: the user is in the (AuthGroupFile) group named like the file's owning group. */
registerAuthzProvider<object>("file-group", {
  module: authzGroupfile,
  parse: () => ({}),
  check(r) {
    if (r.user === undefined) return DENIED_NO_USER;
    const groups = groupsOf(r, r.user, "AH01668", "AH01669");
    if (typeof groups === "number") return groups;
    if (groups.size === 0) return DENIED;
    const owner = r.finfo ? groupName(r.finfo.gid) : undefined;
    if (owner === undefined) {
      logError(r, "debug", "authz_groupfile", `AH01670: Authorization of user ${r.user} to access ${r.uri} failed, reason: no group information available for file ${r.filename}.`);
      return DENIED;
    }
    if (groups.has(owner)) return GRANTED;
    logError(r, "debug", "authz_groupfile", `AH01671: Authorization of user ${r.user} to access ${r.uri} failed, reason: user is not part of the 'require'ed file group.`);
    return DENIED;
  },
});
