// mod_authz_core + mod_authz_host: Require providers, containers, merging, config errors, bypass attempts.
import { beforeAll, describe, expect, test } from "bun:test";
import dns from "node:dns";
import fs from "node:fs";
import {
  DENIED,
  DENIED_NO_USER,
  GRANTED,
  mergeAuthzDir,
  NEUTRAL,
  registerAuthnSupport,
  registerAuthzProvider,
} from "../modules/authz_core/index.ts";
import type { AuthzDir } from "../modules/authz_core/index.ts";
import { inDomain } from "../modules/authz_host/index.ts";
import { createAddr, matchSubnets, parseAddr, parseIPv6, parseSubnet } from "../modules/authz_host/ip.ts";
import { loadConfig } from "../src/config/load.ts";
import { ConfigError } from "../src/config/node.ts";
import { flushLogs } from "../src/log/error-log.ts";
import { rawRequest, startTestServer, statusOf, tempDir, writeTree } from "./helpers.ts";

const FORBIDDEN_PAGE =
  '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">\n<html><head>\n<title>403 Forbidden</title>\n' +
  "</head><body>\n<h1>Forbidden</h1>\n<p>You don't have permission to access this resource.</p>\n</body></html>\n";

const FILES = {
  "htdocs/index.html": "root\n",
  "htdocs/a.txt": "A\n",
  "htdocs/secret/data.txt": "SECRET\n",
  "htdocs/private/data.txt": "PRIVATE\n",
  "htdocs/sub/b.txt": "B\n",
  "htdocs/sub/.htpasswd": "user:hash\n",
  "htdocs/.htaccess": "Require all granted\n",
  "htdocs/errors/403.html": "custom forbidden\n",
};

/**
 * A server over a fresh tree; `@ROOT@` in the body is the ServerRoot. Every `<Location /name>` in the
 * body gets a file htdocs/name holding "name\n", so a granted request is a 200 with that body.
 */
async function start(body: string, listen = "") {
  const root = tempDir();
  writeTree(root, FILES);
  for (const m of body.matchAll(/<Location (\/[\w.-]+)>/g)) {
    if (!fs.existsSync(`${root}/htdocs${m[1]}`)) writeTree(root, { [`htdocs${m[1]}`]: `${m[1]!.slice(1)}\n` });
  }
  const conf =
    `${listen}ServerName localhost\nDocumentRoot ${root}/htdocs\nErrorLog ${root}/error.log\n` +
    body.replaceAll("@ROOT@", root);
  const srv = await startTestServer(conf, { root });
  return Object.assign(srv, {
    root,
    async errorLog(): Promise<string> {
      await flushLogs();
      return fs.existsSync(`${root}/error.log`) ? fs.readFileSync(`${root}/error.log`, "utf8") : "";
    },
  });
}

async function status(url: string, init?: RequestInit): Promise<number> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
}

/** The config error `-t` would print for `body` inside `<Directory />`, with ServerRoot shown as ROOT. */
function configError(body: string, head = ""): string {
  const root = tempDir();
  const text = `${head}DocumentRoot ${root}\n<Directory />\n${body}\n</Directory>\n`;
  try {
    loadConfig({ text, file: "httpd.conf", serverRoot: root, env: {} });
  } catch (e) {
    if (e instanceof ConfigError) return e.format().replaceAll(root, "ROOT");
    throw e;
  }
  return "Syntax OK";
}

const syntax = (line: number, msg: string) => `AH00526: Syntax error on line ${line} of ROOT/httpd.conf:\n${msg}`;

// Test-only providers: a NEUTRAL one, one that sets an env var from a header (as SetEnvIf would, before
// the access check), and one that plays authentication (sets r.user from X-User, then decides).
registerAuthzProvider("test-neutral", { parse: () => ({}), check: () => NEUTRAL });
registerAuthzProvider("test-setenv", {
  parse: () => ({}),
  check(r) {
    const name = r.headersIn.get("x-set-env");
    if (name) r.subprocessEnv.set(name, "1");
    return NEUTRAL;
  },
});
registerAuthzProvider<{ users: readonly string[] }>("test-user", {
  parse: (args) => ({ users: [...args] }),
  check(r, a) {
    if (r.user === undefined) {
      r.user = r.headersIn.get("x-user") ?? undefined;
      return DENIED_NO_USER;
    }
    return a.users.includes(r.user) ? GRANTED : DENIED;
  },
});

describe("config-time errors (Apache's exact wording)", () => {
  test("negation where it can have no effect", () => {
    expect(configError("Require not ip 1.2.3.4")).toBe(
      syntax(3, "negative Require directive has no effect in <RequireAny> directive"),
    );
    expect(configError("Require NOT ip 1.2.3.4")).toBe(
      syntax(3, "negative Require directive has no effect in <RequireAny> directive"),
    );
    expect(configError("<RequireNone>\nRequire ip 1.2.3.4\n</RequireNone>")).toBe(
      syntax(3, "<RequireNone> directive has no effect in <RequireAny> directive"),
    );
    expect(configError("<RequireAny>\n<RequireNone>\nRequire ip 1.2.3.4\n</RequireNone>\n</RequireAny>")).toBe(
      syntax(4, "<RequireNone> directive has no effect in <RequireAny> directive"),
    );
    const nested = "<RequireAll>\nRequire all granted\n<RequireNone>\n<RequireNone>\nRequire ip 1.2.3.4\n</RequireNone>\n</RequireNone>\n</RequireAll>";
    expect(configError(nested)).toBe(syntax(6, "<RequireNone> directive has no effect in <RequireNone> directive"));
    const notInNone = "<RequireAll>\nRequire all granted\n<RequireNone>\nRequire not ip 1.2.3.4\n</RequireNone>\n</RequireAll>";
    expect(configError(notInNone)).toBe(syntax(6, "negative Require directive has no effect in <RequireNone> directive"));
  });

  test("containers with only negative or no directives", () => {
    const AH01624 = "AH01624: <RequireAll> directive contains only negative authorization directives";
    expect(configError("<RequireAll>\nRequire not ip 1.2.3.4\nRequire not ip 1.2.3.5\n</RequireAll>")).toBe(AH01624);
    // <RequireNone> in <RequireAll> is De Morgan-flattened into negative lines first.
    expect(configError("<RequireAll>\n<RequireNone>\nRequire ip 1.2.3.4\n</RequireNone>\n</RequireAll>")).toBe(AH01624);
    expect(configError("Require all granted\n<RequireAll>\nRequire not ip 1.2.3.4\n</RequireAll>")).toBe(AH01624);
    // A RequireAll directly in a RequireAll is merged into it (associative), so this one is fine.
    expect(configError("<RequireAll>\n<RequireAll>\nRequire not ip 1.2.3.4\n</RequireAll>\nRequire all granted\n</RequireAll>")).toBe("Syntax OK");
    expect(configError("<RequireAll>\n</RequireAll>")).toBe(syntax(3, "<RequireAll> directive contains no authorization directives"));
    expect(configError("<RequireNone>\n</RequireNone>")).toBe(syntax(3, "<RequireNone> directive contains no authorization directives"));
    expect(configError("<RequireAll foo>\nRequire all granted\n</RequireAll>")).toBe(
      syntax(3, "<RequireAll> directive doesn't take additional arguments"),
    );
    expect(configError("<RequireAll>\nRequire all granted\nOptions None\n</RequireAll>")).toBe(
      syntax(5, "Options not allowed in <RequireAll> context"),
    );
  });

  test("providers and their arguments", () => {
    expect(configError("Require foo bar")).toBe(syntax(3, "Unknown Authz provider: foo"));
    expect(configError("Require ALL granted")).toBe(syntax(3, "Unknown Authz provider: ALL"));
    expect(configError("Require")).toBe(syntax(3, "Unknown Authz provider: "));
    const allMsg = "Argument for 'Require all' must be 'granted' or 'denied'";
    for (const a of ["maybe", "", "granted extra"]) expect(configError(`Require all ${a}`)).toBe(syntax(3, allMsg));
    expect(configError("Require all Granted")).toBe("Syntax OK");
    expect(configError("Require method GET get")).toBe(syntax(3, "Invalid Method 'get'"));
    expect(configError("Require method FOO")).toBe(syntax(3, "Invalid Method 'FOO'"));
    expect(configError("Require method HEAD OPTIONS PATCH PROPFIND BASELINE-CONTROL MERGE")).toBe("Syntax OK");
    expect(configError("Require ip")).toBe(syntax(3, "'require ip' requires an argument"));
    const badIp = (w: string) => `ip address '${w}' appears to be invalid: The specified IP address is invalid.`;
    const badMask = (w: string) => `ip address '${w}' appears to be invalid: The specified network mask is invalid.`;
    for (const w of ["300.1.1.1", "::ffff:1.2.3.4", "10.1/16", "fe80::1%eth0", "1.2.3.4.5", "1:2", "10..1"]) {
      expect(configError(`Require ip ${w}`)).toBe(syntax(3, badIp(w)));
    }
    for (const w of ["10.0.0.0/33", "0.0.0.0/0", "::1/129", "::/0", "::1/255.0.0.0", "10.0.0.1/", "10.0.0.0/8/8"]) {
      expect(configError(`Require ip ${w}`)).toBe(syntax(3, badMask(w)));
    }
    for (const w of ["foo", "*"]) expect(configError(`Require ip ${w}`)).toBe(syntax(3, `ip address '${w}' appears to be invalid`));
    const ok = "Require ip 10.1 10. 1.2.3 010.1.1.1 10.0.0.0/255.0.0.0 10.0.0.0/255.0.255.0 1.2.3.4/+8 :: ::1/128 2001:db8::/32 ::1.2.3.4";
    expect(configError(ok)).toBe("Syntax OK");
    expect(configError("Require local whatever\nRequire env\nRequire host\nRequire forward-dns")).toBe("Syntax OK");
  });

  test("AuthMerging, AuthzSendForbiddenOnFailure and contexts", () => {
    expect(configError("AuthMerging Maybe")).toBe(syntax(3, "AuthMerging must be one of: Off | And | Or"));
    expect(configError("AuthMerging")).toBe(
      syntax(3, "AuthMerging takes one argument, controls how a <Directory>, <Location>, or similar directive's authorization directives are combined with those of its predecessor"),
    );
    expect(configError("AuthMerging and\nAuthzSendForbiddenOnFailure On")).toBe("Syntax OK");
    expect(configError("AuthzSendForbiddenOnFailure maybe")).toBe(syntax(3, "AuthzSendForbiddenOnFailure must be On or Off"));
    expect(configError("", "Require all granted\n")).toBe(syntax(1, "Require not allowed here"));
    expect(configError("", "AuthMerging And\n")).toBe(syntax(1, "AuthMerging not allowed here"));
  });

  test("Require ip is unknown without mod_authz_host", () => {
    const head = "LoadModule authz_core_module modules/mod_authz_core.so\n";
    expect(configError("Require ip 127.0.0.1", head)).toBe(syntax(4, "Unknown Authz provider: ip"));
    expect(configError("Require all granted", head)).toBe("Syntax OK");
  });
});

describe("providers over sockets (client 127.0.0.1)", () => {
  test("all, method, env, and the 403 page and log line", async () => {
    await using srv = await start(
      "<Location /granted>\nRequire all granted\n</Location>\n<Location /a.txt>\nRequire all denied\n</Location>\n" +
        "<Location /m>\nRequire method GET POST\n</Location>\n<Location /h>\nRequire method HEAD\n</Location>\n" +
        "<Location /env>\n<RequireAll>\nRequire test-setenv\nRequire env LETMEIN OTHER\n</RequireAll>\n</Location>\n",
    );
    const res = await fetch(`${srv.url}/a.txt`);
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("text/html; charset=iso-8859-1");
    expect(await res.text()).toBe(FORBIDDEN_PAGE);
    expect(await srv.errorLog()).toContain(`[authz_core:error] [pid ${process.pid}`);
    expect(await srv.errorLog()).toContain(`AH01630: client denied by server configuration: ${srv.root}/htdocs/a.txt\n`);
    expect(await (await fetch(`${srv.url}/granted`)).text()).toBe("granted\n");
    expect(await status(`${srv.url}/index.html`)).toBe(200);
    expect(await status(`${srv.url}/m`)).toBe(200);
    expect(await status(`${srv.url}/m`, { method: "HEAD" })).toBe(200);
    // Apache's default handler serves a static file to POST too.
    expect(await status(`${srv.url}/m`, { method: "POST" })).toBe(200);
    expect(await status(`${srv.url}/m`, { method: "PUT" })).toBe(403);
    expect(await status(`${srv.url}/m`, { method: "DELETE" })).toBe(403);
    // HEAD is GET's method number in Apache: either name admits both.
    expect(await status(`${srv.url}/h`)).toBe(200);
    expect(await status(`${srv.url}/h`, { method: "OPTIONS" })).toBe(403);
    expect(await status(`${srv.url}/env`)).toBe(403);
    expect(await status(`${srv.url}/env`, { headers: { "x-set-env": "OTHER" } })).toBe(200);
    expect(await status(`${srv.url}/env`, { headers: { "x-set-env": "letmein" } })).toBe(403);
  });

  test("ip: exact, CIDR, netmask, partial, IPv6 rules", async () => {
    const cases: [string, number][] = [
      ["127.0.0.1", 200],
      ["10.0.0.0/8 127.0.0.0/8", 200],
      ["127.0.0.0/255.0.0.0", 200],
      ["127", 200],
      ["127.0", 200],
      ["127.0.0.2", 403],
      ["10.0.0.0/8", 403],
      ["127.0.0.1/255.0.0.255", 200],
      ["127.0.0.0/255.0.0.255", 403],
      ["128.0.0.0/1", 403],
      ["0.0.0.0/1", 200],
      ["::1", 403],
      ["::/1", 403],
    ];
    let body = "";
    cases.forEach(([rule], i) => (body += `<Location /c${i}>\nRequire ip ${rule}\n</Location>\n`));
    await using srv = await start(body);
    for (const [i, [rule, want]] of cases.entries()) {
      expect(`${rule} → ${await status(`${srv.url}/c${i}`)}`).toBe(`${rule} → ${want}`);
    }
  });

  test("local, and negation inside RequireAll", async () => {
    await using srv = await start(
      "<Location /local>\nRequire local\n</Location>\n" +
        "<Location /notlocal>\n<RequireAll>\nRequire all granted\nRequire not local\n</RequireAll>\n</Location>\n" +
        "<Location /veto>\n<RequireAll>\nRequire all granted\nRequire not ip 127.0.0.1\n</RequireAll>\n</Location>\n" +
        "<Location /noveto>\n<RequireAll>\nRequire all granted\nRequire not ip 10.0.0.1\n</RequireAll>\n</Location>\n",
    );
    expect(await status(`${srv.url}/local`)).toBe(200);
    expect(await status(`${srv.url}/notlocal`)).toBe(403);
    expect(await status(`${srv.url}/veto`)).toBe(403);
    expect(await status(`${srv.url}/noveto`)).toBe(200);
  });

  test("IPv6 client on [::1]", async () => {
    await using srv = await start(
      "<Location /v6>\nRequire ip ::1\n</Location>\n<Location /v6net>\nRequire ip ::/127\n</Location>\n" +
        "<Location /v4>\nRequire ip 127.0.0.1\n</Location>\n<Location /local>\nRequire local\n</Location>\n",
      "Listen [::1]:0\n",
    );
    const base = `http://[::1]:${srv.port}`;
    expect(await status(`${base}/v6`)).toBe(200);
    expect(await status(`${base}/v6net`)).toBe(200);
    expect(await status(`${base}/v4`)).toBe(403);
    expect(await status(`${base}/local`)).toBe(200);
  });

  test("IPv4-mapped clients of a dual-stack listener match IPv4 rules", async () => {
    await using srv = await start(
      "<Location /v4>\nRequire ip 127.0.0.1\n</Location>\n<Location /net>\nRequire ip 127.0.0.0/8\n</Location>\n" +
        "<Location /other>\nRequire ip 10.0.0.1\n</Location>\n<Location /local>\nRequire local\n</Location>\n",
      "Listen [::]:0\n",
    );
    const base = `http://127.0.0.1:${srv.port}`;
    expect(await status(`${base}/v4`)).toBe(200);
    expect(await status(`${base}/net`)).toBe(200);
    expect(await status(`${base}/other`)).toBe(403);
    expect(await status(`${base}/local`)).toBe(200);
  });
});

describe("containers", () => {
  test("RequireAll / RequireAny / RequireNone logic and NEUTRAL", async () => {
    await using srv = await start(
      "<Location /any>\n<RequireAny>\nRequire ip 10.0.0.1\nRequire method GET\n</RequireAny>\n</Location>\n" +
        "<Location /none-hit>\n<RequireAll>\nRequire method GET\n<RequireNone>\nRequire ip 10.0.0.1\nRequire ip 127.0.0.1\n</RequireNone>\n</RequireAll>\n</Location>\n" +
        "<Location /none-miss>\n<RequireAll>\nRequire method GET\n<RequireNone>\nRequire ip 10.0.0.1\n</RequireNone>\n</RequireAll>\n</Location>\n" +
        "<Location /all-any>\n<RequireAll>\n<RequireAny>\nRequire ip 10.0.0.1\nRequire ip 127.0.0.1\n</RequireAny>\nRequire method GET\n</RequireAll>\n</Location>\n" +
        "<Location /all-deny>\n<RequireAll>\nRequire all granted\nRequire all denied\n</RequireAll>\n</Location>\n" +
        "<Location /neutral>\nRequire test-neutral\n</Location>\n" +
        "<Location /neutral-all>\n<RequireAll>\nRequire test-neutral\nRequire ip 127.0.0.1\n</RequireAll>\n</Location>\n" +
        "<Location /implicit-or>\nRequire ip 10.0.0.1\nRequire local\n</Location>\n",
    );
    expect(await status(`${srv.url}/any`)).toBe(200);
    expect(await status(`${srv.url}/any`, { method: "OPTIONS" })).toBe(403);
    expect(await status(`${srv.url}/none-hit`)).toBe(403);
    expect(await status(`${srv.url}/none-miss`)).toBe(200);
    expect(await status(`${srv.url}/all-any`)).toBe(200);
    expect(await status(`${srv.url}/all-any`, { method: "OPTIONS" })).toBe(403);
    expect(await status(`${srv.url}/all-deny`)).toBe(403);
    // A NEUTRAL outcome is a refusal; inside RequireAll a NEUTRAL child is ignored.
    expect(await status(`${srv.url}/neutral`)).toBe(403);
    expect(await status(`${srv.url}/neutral-all`)).toBe(200);
    expect(await status(`${srv.url}/implicit-or`)).toBe(200);
  });

  test("DENIED_NO_USER hands over to authentication (the seam for authn modules)", async () => {
    const prev = registerAuthnSupport({
      authType: (r) => r.headersIn.get("x-authtype") ?? undefined,
      noteAuthFailure: (r) => r.errHeadersOut.set("WWW-Authenticate", 'Basic realm="test"'),
    });
    try {
      await using srv = await start(
        "<Location /u>\nRequire test-user alice\n</Location>\n" +
          "<Location /uf>\nRequire test-user alice\nAuthzSendForbiddenOnFailure On\n</Location>\n" +
          "<Location /ip-or-user>\nRequire ip 127.0.0.1\nRequire test-user alice\n</Location>\n",
      );
      const get = (path: string, headers: Record<string, string>) => fetch(`${srv.url}${path}`, { headers });
      expect(await status(`${srv.url}/u`, { headers: { "x-user": "alice" } })).toBe(200);
      // No user and no AuthType: Apache's core refuses with AH00027 (500).
      expect(await status(`${srv.url}/u`)).toBe(500);
      expect(await srv.errorLog()).toContain(
        "AH00027: No authentication done but request not allowed without authentication for /u. Authentication not configured?",
      );
      const noUser = await get("/u", { "x-authtype": "Basic" });
      expect(noUser.status).toBe(401);
      expect(noUser.headers.get("www-authenticate")).toBe('Basic realm="test"');
      await noUser.text();
      // An authenticated user who fails: 401 with AuthType (AH01631), 403 when configured so, 403 without AuthType.
      const bob = await get("/u", { "x-user": "bob", "x-authtype": "Basic" });
      expect(bob.status).toBe(401);
      await bob.text();
      expect(await srv.errorLog()).toContain('AH01631: user bob: authorization failure for "/u": \n');
      expect(await status(`${srv.url}/uf`, { headers: { "x-user": "bob", "x-authtype": "Basic" } })).toBe(403);
      expect(await status(`${srv.url}/u`, { headers: { "x-user": "bob" } })).toBe(403);
      // Granted without a user: authentication never runs, so no challenge.
      expect(await status(`${srv.url}/ip-or-user`, { headers: { "x-authtype": "Basic" } })).toBe(200);
      // AuthType with no Require at all is a configuration error (AH01627).
      expect(await status(`${srv.url}/a.txt`, { headers: { "x-authtype": "Basic" } })).toBe(500);
      expect(await srv.errorLog()).toContain("AH01627: AuthType configured with no corresponding authorization directives");
    } finally {
      registerAuthnSupport(prev);
    }
  });
});

describe("merging across sections", () => {
  test("<Location> is merged last and overrides <Directory>", async () => {
    await using srv = await start(
      "<Directory @ROOT@/htdocs/sub>\nRequire all denied\n</Directory>\n<Location /sub>\nRequire all granted\n</Location>\n" +
        "<Directory @ROOT@/htdocs>\nRequire all granted\n</Directory>\n<Location /a.txt>\nRequire all denied\n</Location>\n",
    );
    expect(await status(`${srv.url}/sub/b.txt`)).toBe(200);
    expect(await status(`${srv.url}/a.txt`)).toBe(403);
    expect(await status(`${srv.url}/index.html`)).toBe(200);
  });

  test("AuthMerging Off (default), And, Or; a section without Require keeps its parent's", async () => {
    await using srv = await start(
      "<Directory @ROOT@/htdocs>\nRequire method GET\n</Directory>\n" +
        "<Location /off.txt>\nRequire ip 10.0.0.1\n</Location>\n" +
        "<Location /and.txt>\nAuthMerging And\nRequire ip 127.0.0.1\n</Location>\n" +
        "<Location /and-deny.txt>\nAuthMerging And\nRequire ip 10.0.0.1\n</Location>\n" +
        "<Location /or.txt>\nAuthMerging Or\nRequire ip 10.0.0.1\n</Location>\n" +
        "<Location /keep.txt>\nAuthzSendForbiddenOnFailure On\n</Location>\n" +
        "<Location /keep-merge.txt>\nAuthMerging Or\n</Location>\n" +
        "<Directory @ROOT@/htdocs/sub>\nAuthMerging And\n</Directory>\n<Location /sub/b.txt>\nRequire ip 10.0.0.1\n</Location>\n",
    );
    expect(await status(`${srv.url}/off.txt`)).toBe(403);
    expect(await status(`${srv.url}/and.txt`)).toBe(200);
    expect(await status(`${srv.url}/and.txt`, { method: "OPTIONS" })).toBe(403);
    expect(await status(`${srv.url}/and-deny.txt`)).toBe(403);
    expect(await status(`${srv.url}/or.txt`)).toBe(200);
    expect(await status(`${srv.url}/or.txt`, { method: "OPTIONS" })).toBe(403);
    expect(await status(`${srv.url}/keep.txt`)).toBe(200);
    expect(await status(`${srv.url}/keep.txt`, { method: "OPTIONS" })).toBe(403);
    expect(await status(`${srv.url}/keep-merge.txt`, { method: "OPTIONS" })).toBe(403);
    // AuthMerging is not inherited: the Location's own Require replaces the rules.
    expect(await status(`${srv.url}/sub/b.txt`)).toBe(403);
  });

  test("mergeAuthzDir never mutates its inputs", () => {
    const node = (name: string) => ({ provider: undefined, parsed: undefined, name, argsText: "", op: 1 as const, negate: false, merged: false, children: [], limited: null });
    const base: AuthzDir = { section: node("base"), merging: undefined, forbiddenOnFailure: true };
    const add: AuthzDir = { section: node("add"), merging: "and", forbiddenOnFailure: undefined };
    const snapshot = JSON.stringify([base, add]);
    const m = mergeAuthzDir(base, add);
    expect(JSON.stringify([base, add])).toBe(snapshot);
    expect(m.section?.merged).toBe(true);
    expect(m.section?.children.map((c) => c.name)).toEqual(["base", "add"]);
    expect(m.forbiddenOnFailure).toBe(true);
    expect(mergeAuthzDir(base, { ...add, merging: "off" }).section?.name).toBe("add");
    expect(mergeAuthzDir(base, { section: undefined, merging: undefined, forbiddenOnFailure: false }).section?.name).toBe("base");
  });
});

describe("protected files and bypass attempts", () => {
  const conf =
    "<Directory @ROOT@/htdocs>\nRequire all granted\n</Directory>\n" +
    "<Location /secret>\nRequire all denied\n</Location>\n" +
    "<Directory @ROOT@/htdocs/private>\nRequire all denied\n</Directory>\n" +
    '<Files ".ht*">\nRequire all denied\n</Files>\n' +
    "ErrorDocument 403 /errors/403.html\n";

  test('<Files ".ht*"> blocks /.htaccess and /sub/.htpasswd', async () => {
    await using srv = await start(conf);
    for (const p of ["/.htaccess", "/sub/.htpasswd", "/%2ehtaccess", "/sub/.htpasswd/", "/sub/.htpasswd/x", "/.htaccess."]) {
      const raw = await rawRequest(srv.port, `GET ${p} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      expect(`${p} ${statusOf(raw)}`).toBe(`${p} 403`);
      expect(raw).not.toContain("user:hash");
      expect(raw).not.toContain("Require all granted");
    }
    expect(await status(`${srv.url}/sub/b.txt`)).toBe(200);
    expect(await srv.errorLog()).toContain(`AH01630: client denied by server configuration: ${srv.root}/htdocs/sub/.htpasswd\n`);
  });

  test("a denied request's ErrorDocument is checked against its own rules", async () => {
    await using srv = await start(conf);
    const res = await fetch(`${srv.url}/secret/data.txt`);
    expect(res.status).toBe(403);
    expect(await res.text()).toBe("custom forbidden\n");
  });

  // Statuses Apache 2.4.71 gives for the same tree and config [obs]; the secret never leaks.
  const expected: [string, number][] = [
    ["/X", 403], ["/X/", 403], ["/./X/", 403], ["/X/data.txt", 403], ["//X/data.txt", 403],
    ["/X/./data.txt", 403], ["/X//data.txt", 403], ["/sub/../X/data.txt", 403], ["/X/.", 403],
    ["/X/data.txt?x", 403], ["/X/data.txt;x", 403], ["/X/data.txt/", 403], ["/X/data.txt/extra", 403],
    ["/X/data.txt.", 403], ["/X%2f", 404], ["/X%2fdata.txt", 404], ["/X;x/data.txt", 404],
    ["/X./data.txt", 404], ["/X%2e/data.txt", 404], ["/X/data.txt%00", 404], ["/X;x", 404], ["/X.", 404],
    ["/X/data.txt..", 403], ["/X%3bx/data.txt", 404], ["/X/data%2etxt", 403],
  ];
  for (const name of ["secret", "private"]) {
    test(`/${name} (${name === "secret" ? "<Location>" : "<Directory>"}) cannot be reached by another spelling`, async () => {
      await using srv = await start(conf.replace("ErrorDocument 403 /errors/403.html\n", ""));
      const paths: [string, number][] = expected.map(([p, s]) => [p.replace("X", name), s]);
      paths.push([`/${name.toUpperCase()}/data.txt`, 404], [`/%${name.charCodeAt(0).toString(16)}${name.slice(1)}/data.txt`, 403]);
      for (const [p, want] of paths) {
        const raw = await rawRequest(srv.port, `GET ${p} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
        expect(`${p} ${statusOf(raw)}`).toBe(`${p} ${want}`);
        expect(raw).not.toContain(name.toUpperCase() + "\n");
      }
      expect(await srv.errorLog()).toContain(`AH01630: client denied by server configuration: ${srv.root}/htdocs/${name}/data.txt\n`);
    });
  }
});

describe("DNS providers", () => {
  let name: string | undefined;
  beforeAll(async () => {
    try {
      name = (await dns.promises.lookupService("127.0.0.1", 0)).hostname;
      const back = await dns.promises.lookup(name, { all: true });
      if (!back.some((a) => a.address === "127.0.0.1")) name = undefined;
    } catch {
      name = undefined;
    }
  });

  test("host: double-reverse name, whole-label suffix match", async () => {
    if (name === undefined) return void console.warn("skipped: 127.0.0.1 has no double-reverse name here");
    const labels = name.split(".");
    await using srv = await start(
      `<Location /exact>\nRequire host ${name.toUpperCase()}\n</Location>\n` +
        `<Location /suffix>\nRequire host example.invalid ${labels.slice(-1)[0]}\n</Location>\n` +
        `<Location /partial>\nRequire host ${name.slice(1)}\n</Location>\n` +
        "<Location /other>\nRequire host example.invalid\n</Location>\n",
    );
    expect(await status(`${srv.url}/exact`)).toBe(200);
    expect(await status(`${srv.url}/exact`)).toBe(200);
    expect(await status(`${srv.url}/suffix`)).toBe(200);
    expect(await status(`${srv.url}/partial`)).toBe(403);
    expect(await status(`${srv.url}/other`)).toBe(403);
  });

  test("forward-dns: a name resolving to the client; unresolvable names are logged", async () => {
    await using srv = await start(
      "<Location /fwd>\nRequire forward-dns nonexistent.invalid localhost\n</Location>\n" +
        "<Location /nofwd>\nRequire forward-dns nonexistent.invalid #localhost\n</Location>\n",
    );
    expect(await status(`${srv.url}/fwd`)).toBe(200);
    expect(await status(`${srv.url}/nofwd`)).toBe(403);
    expect(await srv.errorLog()).toContain("[authz_host:error]");
    expect(await srv.errorLog()).toContain("AH03356: No sufficient data to authorize by forward-dns for 127.0.0.1 (name nonexistent.invalid)");
  });

  test("inDomain matches whole labels only", () => {
    expect(inDomain("example.com", "www.example.com")).toBe(true);
    expect(inDomain("example.com", "example.com")).toBe(true);
    expect(inDomain(".example.com", "www.example.com")).toBe(true);
    expect(inDomain("example.com", "badexample.com")).toBe(false);
    expect(inDomain("www.example.com", "example.com")).toBe(false);
  });
});

describe("debug log and address parsing", () => {
  test("LogLevel authz_core:debug traces every node (AH01626, AH01628)", async () => {
    await using srv = await start(
      "LogLevel warn authz_core:debug\n<Location /a.txt>\n<RequireAll>\nRequire all granted\nRequire not ip 127.0.0.1\n</RequireAll>\n</Location>\n",
    );
    expect(await status(`${srv.url}/a.txt`)).toBe(403);
    expect(await status(`${srv.url}/index.html`)).toBe(200);
    const log = await srv.errorLog();
    expect(log).toContain("AH01626: authorization result of Require all granted: granted\n");
    expect(log).toContain("AH01626: authorization result of Require not ip 127.0.0.1: denied\n");
    expect(log).toContain("AH01626: authorization result of <RequireAll>: denied\n");
    expect(log).toContain("AH01626: authorization result of <RequireAny>: denied\n");
    expect(log).toContain("AH01628: authorization result: granted (no directives)\n");
  });

  test("IPv6 text forms as APR's inet_pton accepts them", () => {
    const w = new Uint32Array(4);
    const ok = (s: string, words: number[]) => {
      expect(parseIPv6(s, w)).toBe(true);
      expect([...w]).toEqual(words);
    };
    ok("::", [0, 0, 0, 0]);
    ok("::1", [0, 0, 0, 1]);
    ok("1::", [0x10000, 0, 0, 0]);
    ok("2001:db8::ff00:42:8329", [0x20010db8, 0, 0xff00, 0x428329]);
    ok("::ffff:1.2.3.4", [0, 0, 0xffff, 0x01020304]);
    ok("1:2:3:4:5:6:7::", [0x10002, 0x30004, 0x50006, 0x70000]);
    for (const bad of [":1", "1:", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "::1.2.3", "g::", "1:2:3:4:5:6:7:1.2.3.4"]) {
      expect(`${bad} ${parseIPv6(bad, w)}`).toBe(`${bad} false`);
    }
  });

  test("client addresses: v4-mapped folds into IPv4, zone ids are ignored", () => {
    const nets = { v4: [] as number[], v6: [] as number[] };
    parseSubnet("10.1", nets.v4, nets.v6);
    parseSubnet("fe80::/10", nets.v4, nets.v6);
    const s = { v4: Uint32Array.from(nets.v4), v6: Uint32Array.from(nets.v6) };
    const a = createAddr();
    expect(matchSubnets(s, parseAddr("10.1.200.3", a))).toBe(true);
    expect(matchSubnets(s, parseAddr("::ffff:10.1.0.9", a))).toBe(true);
    expect(a.family).toBe(4);
    expect(matchSubnets(s, parseAddr("10.2.0.1", a))).toBe(false);
    expect(matchSubnets(s, parseAddr("fe80::1%eth0", a))).toBe(true);
    expect(matchSubnets(s, parseAddr("-", a))).toBe(false);
    expect(a.family).toBe(0);
  });
});
