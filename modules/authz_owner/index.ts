// authz_owner: Require file-owner, the user named like the file's owner (Apache's mod_authz_owner).
import fs from "node:fs";
import { userName } from "../../src/expr/users.ts";
import { logError } from "../../src/log/error-log.ts";
import { defineModule } from "../../src/module.ts";
import { DENIED, DENIED_NO_USER, GRANTED, registerAuthzProvider } from "../authz_core/index.ts";
import type { AuthzStatus } from "../authz_core/index.ts";

interface AuthzOwnerServer {
  loaded: true;
}

const authzOwner = defineModule<AuthzOwnerServer>({
  name: "authz_owner",
  description: "Require file-owner",
  createServerConfig: () => ({ loaded: true }),
});
export default authzOwner;

registerAuthzProvider<object>("file-owner", {
  module: authzOwner,
  parse: () => ({}),
  check(r): AuthzStatus {
    if (r.user === undefined) return DENIED_NO_USER;
    const fail = (reason: string): AuthzStatus => {
      logError(r, "debug", "authz_owner", `AH01637: Authorization of user ${r.user} to access ${r.uri} failed, reason: ${reason}`);
      return DENIED;
    };
    if (!r.filename) return fail("no filename available");
    // The file itself: what the request maps to, path_info aside.
    const st = r.finfo ?? fs.statSync(r.filename, { throwIfNoEntry: false });
    if (!st) {
      logError(r, "info", "authz_owner", `AH01633: Could not stat file for Require file-owner: ${r.filename}`);
      return fail("file stat failed");
    }
    const owner = userName(st.uid);
    if (owner === undefined) return fail("could not get name of file owner");
    if (owner !== r.user) return fail(`file owner ${owner} does not match.`);
    return GRANTED;
  },
});
