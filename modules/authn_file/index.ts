// authn_file: the `file` authentication provider over htpasswd files (Apache's mod_authn_file).
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { defineModule } from "../../src/module.ts";
import {
  AUTH_DENIED,
  AUTH_GENERAL_ERROR,
  AUTH_GRANTED,
  AUTH_USER_NOT_FOUND,
  authnCacheStore,
  registerAuthnProvider,
} from "../authn_core/providers.ts";
import type { AuthnStatus } from "../authn_core/providers.ts";
import { hashKind } from "./password.ts";
import { parseUserFile, sharedFile, WatchedFile } from "./user-file.ts";
import type { LineProblem } from "./user-file.ts";
import { verifyCached } from "./verify-cache.ts";

export interface AuthnFileDir {
  /** AuthUserFile, resolved against ServerRoot. */
  userFile: string | undefined;
}

interface AuthnFileServer {
  loaded: true;
}

/** Why an entry can never match (reported with the line, the entry is kept: its user exists). */
function hashProblem(hash: string): string | undefined {
  const kind = hashKind(hash);
  if (kind === "plain") return "plain-text password, which is never accepted on this platform";
  if (kind === "unknown") return `unsupported password hash format '${hash.slice(0, hash.indexOf("$", 1) + 1)}'`;
  return undefined;
}

const files = new Map<string, WatchedFile<Map<string, string>>>();

/** The shared, change-watching view of one htpasswd file. */
export function userFile(path: string): WatchedFile<Map<string, string>> {
  return sharedFile(files, path, () => new WatchedFile(path, (text) => parseUserFile(text, hashProblem)));
}

function describe(path: string, p: LineProblem): string {
  return `AuthUserFile ${path} line ${p.line}: ${p.message}`;
}

const authnFile = defineModule<AuthnFileServer, AuthnFileDir>({
  name: "authn_file",
  description: "The 'file' authentication provider (htpasswd files)",
  directives: [
    {
      name: "AuthUserFile",
      args: [1, 1],
      contexts: ["directory"],
      help: "text file containing user IDs and passwords",
      apply(cmd) {
        const path = cmd.resolvePath(cmd.args[0]!);
        cmd.dir.userFile = path;
        // Read it now so broken lines show at startup; a missing file is only an error per request,
        // as in Apache (it may appear later).
        const f = userFile(path);
        f.get();
        for (const p of f.problems) cmd.warn(describe(path, p));
      },
    },
  ],
  createServerConfig: () => ({ loaded: true }),
  createDirConfig: () => ({ userFile: undefined }),
  mergeDirConfig: (base, add) => ({ userFile: add.userFile ?? base.userFile }),
});
export default authnFile;

function checkPassword(r: Request, user: string, password: string, conf: AuthnFileDir | undefined): AuthnStatus | Promise<AuthnStatus> {
  const path = conf?.userFile ?? authnFile.dirConf(r).userFile;
  if (path === undefined) {
    logError(r, "error", "authn_file", "AH01619: AuthUserFile not specified in the configuration");
    return AUTH_GENERAL_ERROR;
  }
  const f = userFile(path);
  const users = f.get();
  if (f.pending.length) for (const p of f.drain()) logError(r, "warn", "authn_file", describe(path, p));
  if (users === undefined) {
    logError(r, "error", "authn_file", `AH01620: Could not open password file: ${path}`, f.error);
    return AUTH_GENERAL_ERROR;
  }
  const hash = users.get(user);
  if (hash === undefined) return AUTH_USER_NOT_FOUND;
  authnCacheStore(r, "file", user, hash);
  const ok = verifyCached(password, hash);
  if (typeof ok === "boolean") return ok ? AUTH_GRANTED : AUTH_DENIED;
  return ok.then((v) => (v ? AUTH_GRANTED : AUTH_DENIED));
}

registerAuthnProvider<AuthnFileDir>("file", {
  checkPassword,
  module: authnFile,
  aliasConfig(nodes, ctx) {
    const conf: AuthnFileDir = { userFile: undefined };
    for (const n of nodes) {
      if (n.name.toLowerCase() !== "authuserfile" || n.args.length !== 1) {
        return { error: `${n.name} not allowed in <AuthnProviderAlias> for the file provider`, node: n };
      }
      conf.userFile = ctx.resolvePath(n.args[0]!);
    }
    return conf;
  },
});
