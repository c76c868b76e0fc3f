// <Limit>/<LimitExcept>, Require expr, and mod_access_compat's Order/Allow/Deny/Satisfy over sockets.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "../src/config/load.ts";
import { ConfigError } from "../src/config/node.ts";
import { flushLogs } from "../src/log/error-log.ts";
import { startTestServer, tempDir, writeTree } from "./helpers.ts";

const USERS = path.join(import.meta.dir, "fixtures/htpasswd/users");
const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString("base64")}`;

/** A server whose `<Location /name>` sections each get htdocs/name/f.txt holding "name\n". */
async function start(body: string) {
  const root = tempDir();
  for (const m of body.matchAll(/<Location (\/[\w.-]+)>/g)) writeTree(root, { [`htdocs${m[1]}/f.txt`]: `${m[1]!.slice(1)}\n` });
  const conf = `ServerName localhost\nDocumentRoot ${root}/htdocs\nErrorLog ${root}/error.log\n${body.replaceAll("@ROOT@", root)}`;
  const srv = await startTestServer(conf, { root });
  return Object.assign(srv, {
    root,
    async status(p: string, init: { method?: string; auth?: string; headers?: Record<string, string> } = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.auth) headers.authorization = init.auth;
      const res = await fetch(`${srv.url}${p}`, { method: init.method ?? "GET", headers });
      await res.arrayBuffer();
      return res.status;
    },
    async log(): Promise<string> {
      await flushLogs();
      return fs.existsSync(`${root}/error.log`) ? fs.readFileSync(`${root}/error.log`, "utf8") : "";
    },
  });
}

function configError(body: string): string {
  const root = tempDir();
  try {
    loadConfig({ text: `DocumentRoot ${root}\n<Directory />\n${body}\n</Directory>\n`, file: "httpd.conf", serverRoot: root, env: {} });
  } catch (e) {
    if (e instanceof ConfigError) return e.format().replaceAll(root, "ROOT");
    throw e;
  }
  return "Syntax OK";
}

const syntax = (line: number, msg: string) => `AH00526: Syntax error on line ${line} of ROOT/httpd.conf:\n${msg}`;

describe("<Limit> and <LimitExcept>", () => {
  test("requirements limited to other methods do not apply (statuses as Apache 2.4.71 gives them)", async () => {
    await using srv = await start(
      "<Location /lim>\n<Limit POST>\nRequire all denied\n</Limit>\n</Location>\n" +
        "<Location /limx>\n<LimitExcept GET>\nRequire all denied\n</LimitExcept>\n</Location>\n" +
        "<Location /mixed>\nRequire all granted\n<Limit POST>\nRequire ip 10.0.0.1\n</Limit>\n</Location>\n" +
        "<Location /all>\n<RequireAll>\nRequire all granted\n<Limit POST>\nRequire ip 10.0.0.1\n</Limit>\n</RequireAll>\n</Location>\n" +
        `<Location /auth>\nAuthType Basic\nAuthName a\nAuthUserFile ${USERS}\n<Limit POST PUT DELETE>\nRequire valid-user\n</Limit>\n</Location>\n`,
    );
    const cases: [string, string, number][] = [
      ["/lim", "GET", 200], ["/lim", "HEAD", 200], ["/lim", "POST", 403], ["/lim", "OPTIONS", 200],
      ["/limx", "GET", 200], ["/limx", "HEAD", 200], ["/limx", "POST", 403], ["/limx", "OPTIONS", 403],
      ["/mixed", "GET", 200], ["/mixed", "POST", 200],
      ["/all", "GET", 200], ["/all", "POST", 403],
      ["/auth", "GET", 200], ["/auth", "POST", 401],
    ];
    for (const [p, method, want] of cases) {
      expect(`${method} ${p} ${await srv.status(`${p}/f.txt`, { method })}`).toBe(`${method} ${p} ${want}`);
    }
    expect(await srv.status("/auth/f.txt", { method: "POST", auth: basic("umd5", "pwmd5") })).toBe(200);
  });

  test("configuration errors", () => {
    expect(configError("<Limit>\nRequire all denied\n</Limit>")).toBe(syntax(3, "<Limit> directive requires additional arguments"));
    expect(configError("<Limit TRACE>\nRequire all denied\n</Limit>")).toBe(syntax(3, "TRACE cannot be controlled by <Limit>, see TraceEnable"));
    expect(configError("<LimitExcept TRACE>\nRequire all denied\n</LimitExcept>")).toBe("Syntax OK");
    expect(configError("<Limit GET>\n<Limit POST>\n</Limit>\n</Limit>")).toBe(syntax(4, "<Limit> cannot occur within <Limit> section"));
    expect(configError("<Limit GET>\nRequire bogus\n</Limit>")).toBe(syntax(4, "Unknown Authz provider: bogus"));
    expect(configError("<Limit GET>\nOptions None\n</Limit>")).toBe(
      syntax(4, "Options is not supported inside <Limit> by mosaic: only Require, <Require...>, AuthMerging, AuthzSendForbiddenOnFailure, Order, Allow, Deny and Satisfy are"),
    );
  });
});

describe("Require expr", () => {
  test("granted, denied, and REMOTE_USER asking for authentication first", async () => {
    await using srv = await start(
      "<Location /q>\nRequire expr %{QUERY_STRING} == 'open'\n</Location>\n" +
        "<Location /quoted>\nRequire expr \"req('X-Key') =~ /^k[0-9]+$/\"\n</Location>\n" +
        "<Location /words>\nRequire expr unescape(%{QUERY_STRING}) == 'a b'\n</Location>\n" +
        `<Location /user>\nAuthType Basic\nAuthName u\nAuthUserFile ${USERS}\nRequire expr %{REMOTE_USER} -in {'umd5', 'usha'}\n</Location>\n` +
        "<Location /err>\nRequire expr file('/nonexistent/x') == ''\n</Location>\n",
    );
    expect(await srv.status("/q/f.txt?open")).toBe(200);
    expect(await srv.status("/q/f.txt?closed")).toBe(403);
    expect(await srv.status("/quoted/f.txt", { headers: { "x-key": "k42" } })).toBe(200);
    expect(await srv.status("/quoted/f.txt", { headers: { "x-key": "nope" } })).toBe(403);
    expect(await srv.status("/words/f.txt?a%20b")).toBe(200);
    expect(await srv.status("/user/f.txt")).toBe(401);
    expect(await srv.status("/user/f.txt", { auth: basic("umd5", "pwmd5") })).toBe(200);
    expect(await srv.status("/user/f.txt", { auth: basic("ubcrypt", "pwbcrypt") })).toBe(401);
    expect(await srv.status("/err/f.txt")).toBe(500);
    const log = await srv.log();
    expect(log).toContain("AH02320: Error evaluating expression in 'Require expr'");
    expect(log).toContain("AH01629: authorization failure (no authenticated user): /user/f.txt");
  });

  test("a broken expression is a configuration error naming the column", () => {
    expect(configError("Require expr %{QUERY_STRING} ==")).toBe(
      syntax(3, "Cannot parse expression in require line: syntax error, unexpected $end (column 19)"),
    );
    expect(configError("Require expr \"%{NOPE} == 'x'\"")).toBe(
      syntax(3, "Cannot parse expression in require line: Variable 'NOPE' does not exist (column 3)"),
    );
  });
});

describe("mod_access_compat (statuses as Apache 2.4.71 gives them)", () => {
  test("Order, Allow, Deny, env= and host names", async () => {
    await using srv = await start(
      "<Location /oa>\nOrder Allow,Deny\nAllow from 127.0.0.1\nDeny from 127.0.0.0/8\n</Location>\n" +
        "<Location /da>\nOrder Deny,Allow\nDeny from all\nAllow from 127.0.0.1\n</Location>\n" +
        "<Location /mf>\nOrder Mutual-failure\nAllow from 127.0.0.1\n</Location>\n" +
        "<Location /ad>\nOrder allow,deny\n</Location>\n" +
        "<Location /default>\nDeny from 10.0.0.0/8\n</Location>\n" +
        "<Location /partial>\nOrder Allow,Deny\nAllow from 127.0\n</Location>\n" +
        "<Location /env>\nSetEnvIf X-Let-In yes letin\nOrder Deny,Allow\nDeny from all\nAllow from env=letin\n</Location>\n" +
        "<Location /nenv>\nSetEnvIf X-Block yes block\nOrder Allow,Deny\nAllow from env=!block\n</Location>\n" +
        "<Location /host>\nOrder Allow,Deny\nAllow from localhost example.invalid\n</Location>\n" +
        "<Location /nohost>\nOrder Allow,Deny\nAllow from example.invalid\n</Location>\n",
    );
    const cases: [string, number, Record<string, string>?][] = [
      ["/oa", 403], ["/da", 200], ["/mf", 200], ["/ad", 403], ["/default", 200], ["/partial", 200],
      ["/env", 403], ["/env", 200, { "x-let-in": "yes" }],
      ["/nenv", 200], ["/nenv", 403, { "x-block": "yes" }],
      ["/host", 200], ["/nohost", 403],
    ];
    for (const [p, want, headers] of cases) {
      expect(`${p} ${JSON.stringify(headers ?? {})} ${await srv.status(`${p}/f.txt`, { headers })}`).toBe(`${p} ${JSON.stringify(headers ?? {})} ${want}`);
    }
    expect(await srv.log()).toContain(`[access_compat:error] [pid`);
    expect(await srv.log()).toContain(`AH01797: client denied by server configuration: ${srv.root}/htdocs/oa/f.txt\n`);
  });

  test("Satisfy Any: a host match or a login; Satisfy All: both", async () => {
    const auth = `AuthType Basic\nAuthName s\nAuthUserFile ${USERS}\nRequire valid-user\nOrder Deny,Allow\nDeny from all\n`;
    await using srv = await start(
      `<Location /any>\n${auth}Allow from 127.0.0.1\nSatisfy Any\n</Location>\n` +
        `<Location /anyd>\n${auth}Allow from 10.0.0.1\nSatisfy any\n</Location>\n` +
        `<Location /all>\n${auth}Allow from 127.0.0.1\nSatisfy All\n</Location>\n` +
        `<Location /alld>\n${auth}Allow from 10.0.0.1\n</Location>\n` +
        `<Location /limsat>\n${auth}Allow from 127.0.0.1\n<Limit GET>\nSatisfy Any\n</Limit>\n</Location>\n`,
    );
    const ok = basic("umd5", "pwmd5");
    const cases: [string, string | undefined, number][] = [
      ["/any", undefined, 200], ["/any", ok, 200],
      ["/anyd", undefined, 401], ["/anyd", ok, 200],
      ["/all", undefined, 401], ["/all", ok, 200],
      ["/alld", undefined, 403], ["/alld", ok, 403],
      ["/limsat", undefined, 200],
    ];
    for (const [p, a, want] of cases) {
      expect(`${p} ${a ? "auth" : "-"} ${await srv.status(`${p}/f.txt`, { auth: a })}`).toBe(`${p} ${a ? "auth" : "-"} ${want}`);
    }
    expect(await srv.status("/limsat/f.txt", { method: "POST" })).toBe(401);
  });

  test("Allow and Deny inside <Limit> apply to those methods only", async () => {
    await using srv = await start(
      "<Location /lim>\nOrder Allow,Deny\nAllow from all\n<Limit POST>\nDeny from all\n</Limit>\n</Location>\n" +
        "<Location /limorder>\n<Limit GET>\nOrder Allow,Deny\n</Limit>\n</Location>\n",
    );
    expect(await srv.status("/lim/f.txt")).toBe(200);
    expect(await srv.status("/lim/f.txt", { method: "POST" })).toBe(403);
    expect(await srv.status("/limorder/f.txt")).toBe(403);
    expect(await srv.status("/limorder/f.txt", { method: "POST" })).toBe(200);
  });

  test("configuration errors", () => {
    expect(configError("Order Deny")).toBe(syntax(3, "unknown order"));
    expect(configError("Allow 127.0.0.1")).toBe(syntax(3, "allow and deny must be followed by 'from'"));
    expect(configError("Deny from")).toBe(syntax(3, "allow and deny must be followed by 'from'"));
    expect(configError("Allow from 300.1.1.1")).toBe(syntax(3, "The specified IP address is invalid."));
    expect(configError("Allow from 10.0.0.0/33")).toBe(syntax(3, "The specified network mask is invalid."));
    expect(configError("Allow from foo/8")).toBe(syntax(3, "An IP address was expected"));
    expect(configError("Satisfy Some")).toBe(syntax(3, "Satisfy either 'any' or 'all'."));
    expect(configError("Order Mutual-Failure\nAllow from all\nDeny from env=x\nSatisfy ANY")).toBe("Syntax OK");
  });
});
