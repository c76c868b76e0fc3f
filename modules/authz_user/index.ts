// authz_user: Require user and Require valid-user (Apache's mod_authz_user).
import { logError } from "../../src/log/error-log.ts";
import { defineModule } from "../../src/module.ts";
import { DENIED, DENIED_NO_USER, GRANTED, registerAuthzProvider } from "../authz_core/index.ts";

interface AuthzUserServer {
  loaded: true;
}

const authzUser = defineModule<AuthzUserServer>({
  name: "authz_user",
  description: "Require user and Require valid-user",
  createServerConfig: () => ({ loaded: true }),
});
export default authzUser;

// Names are compared exactly (case-sensitive), as strcmp does.
registerAuthzProvider<{ users: ReadonlySet<string> }>("user", {
  module: authzUser,
  parse: (args) => ({ users: new Set(args) }),
  check(r, a) {
    if (r.user === undefined) return DENIED_NO_USER;
    if (a.users.has(r.user)) return GRANTED;
    const why = `user '${r.user}' does not meet 'require'ments for user to be allowed access`;
    logError(r, "debug", "authz_user", `AH01663: access to ${r.uri} failed, reason: ${why}`);
    return DENIED;
  },
});

registerAuthzProvider<object>("valid-user", {
  module: authzUser,
  parse: () => ({}),
  check: (r) => (r.user === undefined ? DENIED_NO_USER : GRANTED),
});
