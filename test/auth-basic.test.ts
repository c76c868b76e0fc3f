// Basic authentication over real sockets: every htpasswd format, providers, groups, 401 vs 403, errors.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { hashKind, validateSync, verifyPassword } from "../modules/authn_file/password.ts";
import { clearVerifyCache, verifyCached } from "../modules/authn_file/verify-cache.ts";
import { flushLogs } from "../src/log/error-log.ts";
import { startTestServer, tempDir, writeTree } from "./helpers.ts";

const FIXTURES = path.join(import.meta.dir, "fixtures/htpasswd");
const USERS = `${FIXTURES}/users`;
const GROUPS = `${FIXTURES}/groups`;

/** The passwords htpasswd was given for the fixture users (see fixtures/htpasswd/README.md). */
const PASSWORDS: Record<string, string> = {
  ubcrypt: "pwbcrypt",
  ubcrypt4: "pw bcrypt4",
  umd5: "pwmd5",
  usha: "pwsha",
  ucrypt: "pwcrypt",
  usha256: "pwsha256",
  usha512: "pwsha512",
  usha512r: "pwsha512r",
  umd5crypt: "pwmd5crypt",
  "ümlaut": "pässword",
  colon: "a:b:c",
  empty: "",
};

const UNAUTHORIZED_PAGE =
  '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">\n<html><head>\n<title>401 Unauthorized</title>\n' +
  "</head><body>\n<h1>Unauthorized</h1>\n<p>This server could not verify that you\nare authorized to access the document\n" +
  "requested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\n" +
  "browser doesn't understand how to supply\nthe credentials required.</p>\n</body></html>\n";

const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`, "utf8").toString("base64")}`;

/** A server whose `<Location /name>` sections each get a file htdocs/name/f.txt holding "name\n". */
async function start(body: string) {
  const root = tempDir();
  for (const m of body.matchAll(/<Location (\/[\w.-]+)>/g)) {
    writeTree(root, { [`htdocs${m[1]}/f.txt`]: `${m[1]!.slice(1)}\n` });
  }
  const conf = `ServerName localhost\nDocumentRoot ${root}/htdocs\nErrorLog ${root}/error.log\n` +
    `LogFormat "%u %>s %U" u\nCustomLog ${root}/access.log u\n${body.replaceAll("@ROOT@", root)}`;
  const srv = await startTestServer(conf, { root });
  return Object.assign(srv, {
    root,
    async get(p: string, auth?: string, method = "GET") {
      const res = await fetch(`${srv.url}${p}`, { method, headers: auth === undefined ? {} : { authorization: auth } });
      return { status: res.status, challenge: res.headers.get("www-authenticate"), body: await res.text() };
    },
    async log(file = "error.log"): Promise<string> {
      await flushLogs();
      const f = `${root}/${file}`;
      return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "";
    },
  });
}

const protect = (loc: string, require: string, extra = "") =>
  `<Location ${loc}>\nAuthType Basic\nAuthName "Zone ${loc}"\nAuthUserFile ${USERS}\n${extra}Require ${require}\n</Location>\n`;

describe("htpasswd formats (fixtures written by Apache's htpasswd)", () => {
  test("every format authenticates with its password and no other", async () => {
    await using srv = await start(protect("/all", "valid-user"));
    for (const [user, pw] of Object.entries(PASSWORDS)) {
      expect(`${user} ${(await srv.get("/all/f.txt", basic(user, pw))).status}`).toBe(`${user} 200`);
      expect(`${user} ${(await srv.get("/all/f.txt", basic(user, `${pw}x`))).status}`).toBe(`${user} 401`);
    }
    // Plain text is refused on Unix, as apr_password_validate does (htpasswd -p warns about it).
    expect((await srv.get("/all/f.txt", basic("uplain", "pwplain"))).status).toBe(401);
    expect(await srv.log()).toContain('AH01617: user uplain: authentication failure for "/all/f.txt": Password Mismatch');
    expect(srv.warnings.some((w) => w.includes(`AuthUserFile ${USERS} line 9: user uplain: plain-text password`))).toBe(true);
  });

  test("formats are recognised; crypt variants match glibc's output", () => {
    const hashes = Object.fromEntries(
      fs.readFileSync(USERS, "utf8").trim().split("\n").map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1)]),
    );
    expect([hashes.ubcrypt, hashes.umd5, hashes.usha, hashes.ucrypt, hashes.usha256, hashes.usha512, hashes.umd5crypt, hashes.uplain].map((h) => hashKind(h!)))
      .toEqual(["bcrypt", "apr1", "sha1", "des", "sha256", "sha512", "md5", "plain"]);
    expect(hashKind("$y$j9T$abc$def")).toBe("unknown");
    expect(validateSync("pwsha512r", hashes.usha512r!)).toBe(true);
    // DES uses 8 characters at most: the rest of the password does not count.
    const des = hashes.ucrypt!;
    expect(validateSync("pwcrypt", des)).toBe(true);
    expect(validateSync("pwcrypX", des)).toBe(false);
  });

  test("a fresh htpasswd entry is accepted when the tool is installed", async () => {
    const run = spawnSync("htpasswd", ["-nbB", "-C", "4", "fresh", "fresh pw"], { encoding: "utf8" });
    if (run.status !== 0) return void console.warn("skipped: htpasswd is not installed");
    const hash = run.stdout.trim().split(":")[1]!;
    expect(await verifyPassword("fresh pw", hash)).toBe(true);
    expect(await verifyPassword("fresh pX", hash)).toBe(false);
  });

  test("verified credentials are cached: bcrypt runs once per (password, hash)", async () => {
    clearVerifyCache();
    const hash = fs.readFileSync(USERS, "utf8").split("\n")[0]!.split(":")[1]!;
    const first = verifyCached("pwbcrypt", hash);
    expect(first).toBeInstanceOf(Promise);
    // A concurrent identical check shares the computation; a later one is answered synchronously.
    expect(verifyCached("pwbcrypt", hash)).toBe(first);
    expect(await first).toBe(true);
    expect(verifyCached("pwbcrypt", hash)).toBe(true);
    expect(await verifyCached("wrong", hash)).toBe(false);
    expect(verifyCached("wrong", hash)).toBe(false);
  });
});

describe("the Basic exchange", () => {
  test("challenge, 401 page, wrong scheme, malformed credentials, and the log lines", async () => {
    await using srv = await start(protect("/auth", "user umd5 ubcrypt"));
    const none = await srv.get("/auth/f.txt");
    expect(none.status).toBe(401);
    expect(none.challenge).toBe('Basic realm="Zone /auth"');
    expect(none.body).toBe(UNAUTHORIZED_PAGE);
    const cases: [string, number][] = [
      ["Bearer xyz", 401],
      [basic("umd5", "pwmd5"), 200],
      [`basic   ${Buffer.from("umd5:pwmd5").toString("base64")}`, 200],
      [basic("umd5", "bad"), 401],
      [basic("nouser", "bad"), 401],
      [basic("usha", "pwsha"), 401],
      ["Basic !!!", 401],
      ["Basic", 401],
      [`Basic ${Buffer.from("umd5").toString("base64")}`, 401],
      [basic("ubcrypt", "pwbcrypt"), 200],
    ];
    for (const [auth, want] of cases) {
      const res = await srv.get("/auth/f.txt", auth);
      expect(`${auth} ${res.status}`).toBe(`${auth} ${want}`);
      if (want === 401) expect(res.challenge).toBe('Basic realm="Zone /auth"');
      else expect(res.body).toBe("auth\n");
    }
    const log = await srv.log();
    expect(log).toContain("[auth_basic:error]");
    expect(log).toContain("AH01614: client used wrong authentication scheme: /auth/f.txt\n");
    expect(log).toContain('AH01617: user umd5: authentication failure for "/auth/f.txt": Password Mismatch\n');
    expect(log).toContain("AH01618: user nouser not found: /auth/f.txt\n");
    expect(log).toContain("AH01618: user  not found: /auth/f.txt\n");
    // A valid user the Require lines do not admit gets 401, not 403 (a chance to log in as another).
    expect(log).toContain('[authz_core:error] [pid');
    expect(log).toContain('AH01631: user usha: authorization failure for "/auth/f.txt": \n');
    // The user is recorded even when authentication fails, as Apache's %u shows it.
    const access = await srv.log("access.log");
    expect(access).toContain("umd5 401 /auth/f.txt\n");
    expect(access).toContain("- 401 /auth/f.txt\n");
  });

  test("an oversized or binary Authorization header is a 401, never a crash", async () => {
    await using srv = await start(protect("/auth", "valid-user"));
    expect((await srv.get("/auth/f.txt", `Basic ${"A".repeat(8000)}`)).status).toBe(401);
    expect((await srv.get("/auth/f.txt", `Basic ${Buffer.from("umd5\0:pwmd5").toString("base64")}`)).status).toBe(401);
    expect((await srv.get("/auth/f.txt", `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x80]).toString("base64")}`)).status).toBe(401);
    expect((await srv.get("/auth/f.txt", basic("umd5", "pwmd5") + "!!garbage")).status).toBe(200);
  });

  test("AuthzSendForbiddenOnFailure turns the authorization failure into 403", async () => {
    await using srv = await start(protect("/f", "user umd5", "AuthzSendForbiddenOnFailure On\n"));
    expect((await srv.get("/f/f.txt", basic("usha", "pwsha"))).status).toBe(403);
    expect((await srv.get("/f/f.txt", basic("usha", "bad"))).status).toBe(401);
    expect((await srv.get("/f/f.txt", basic("umd5", "pwmd5"))).status).toBe(200);
  });

  test("Require group with AuthGroupFile; a user in no group; a missing group file", async () => {
    await using srv = await start(
      protect("/grp", "group admins staff", `AuthGroupFile ${GROUPS}\n`) +
        protect("/nofile", "group admins") +
        protect("/badfile", "group admins", "AuthGroupFile @ROOT@/nope\n"),
    );
    expect((await srv.get("/grp/f.txt", basic("ubcrypt", "pwbcrypt"))).status).toBe(200);
    expect((await srv.get("/grp/f.txt", basic("usha256", "pwsha256"))).status).toBe(200);
    expect((await srv.get("/grp/f.txt", basic("usha512", "pwsha512"))).status).toBe(401);
    expect((await srv.get("/grp/f.txt", basic("empty", ""))).status).toBe(401);
    expect((await srv.get("/nofile/f.txt", basic("umd5", "pwmd5"))).status).toBe(401);
    expect((await srv.get("/badfile/f.txt", basic("umd5", "pwmd5"))).status).toBe(500);
    const log = await srv.log();
    expect(log).toContain("AH01664: No group file was specified in the configuration");
    expect(log).toContain(`AH01665: Could not open group file: ${srv.root}/nope`);
  });

  test("configuration mistakes answer 500 with Apache's messages", async () => {
    await using srv = await start(
      "<Location /noname>\nAuthType Basic\nAuthUserFile " + USERS + "\nRequire valid-user\n</Location>\n" +
        "<Location /nofile>\nAuthType Basic\nAuthName x\nRequire valid-user\n</Location>\n" +
        "<Location /missing>\nAuthType Basic\nAuthName x\nAuthUserFile @ROOT@/missing\nRequire valid-user\n</Location>\n" +
        "<Location /digest>\nAuthType Digest\nAuthName x\nRequire valid-user\n</Location>\n" +
        "<Location /none>\nAuthType None\nRequire all granted\n</Location>\n",
    );
    expect((await srv.get("/noname/f.txt", basic("umd5", "pwmd5"))).status).toBe(500);
    expect((await srv.get("/nofile/f.txt", basic("umd5", "pwmd5"))).status).toBe(500);
    expect((await srv.get("/missing/f.txt", basic("umd5", "pwmd5"))).status).toBe(500);
    expect((await srv.get("/digest/f.txt")).status).toBe(500);
    expect((await srv.get("/none/f.txt")).status).toBe(200);
    const log = await srv.log();
    expect(log).toContain("AH01615: need AuthName: /noname/f.txt");
    expect(log).toContain("AH01619: AuthUserFile not specified in the configuration");
    expect(log).toContain(`(2)No such file or directory: [client 127.0.0.1:`);
    expect(log).toContain(`AH01620: Could not open password file: ${srv.root}/missing\n`);
    expect(log).toContain("AH01796: AuthType Digest configured without corresponding module");
  });

  test("unknown providers and bad alias sections are configuration errors", async () => {
    const root = tempDir();
    const conf = (body: string) => `ServerName localhost\nDocumentRoot ${root}\n${body}`;
    await expect(startTestServer(conf("<Location />\nAuthBasicProvider nope\n</Location>\n"), { root })).rejects.toThrow(
      "Unknown Authn provider: nope",
    );
    await expect(startTestServer(conf("<AuthnProviderAlias file file>\n</AuthnProviderAlias>\n"), { root })).rejects.toThrow(
      "The alias provider name must be different from the base provider name.",
    );
    await expect(startTestServer(conf("<AuthnProviderAlias nope x>\n</AuthnProviderAlias>\n"), { root })).rejects.toThrow(
      "Unknown Authn provider: nope",
    );
  });
});

describe("providers and files", () => {
  test("<AuthnProviderAlias> lets one location try two files in order", async () => {
    const root = tempDir();
    const second = `${root}/second`;
    fs.writeFileSync(second, `carol:{SHA}${createHash("sha1").update("carolpw").digest("base64")}\numd5:{SHA}${createHash("sha1").update("other").digest("base64")}\n`);
    await using srv = await start(
      `<AuthnProviderAlias file one>\nAuthUserFile ${USERS}\n</AuthnProviderAlias>\n` +
        `<AuthnProviderAlias file two>\nAuthUserFile ${second}\n</AuthnProviderAlias>\n` +
        "<Location /both>\nAuthType Basic\nAuthName both\nAuthBasicProvider one two\nRequire valid-user\n</Location>\n",
    );
    expect((await srv.get("/both/f.txt", basic("umd5", "pwmd5"))).status).toBe(200);
    expect((await srv.get("/both/f.txt", basic("carol", "carolpw"))).status).toBe(200);
    // Found in the first file with another password: a mismatch stops the search.
    expect((await srv.get("/both/f.txt", basic("umd5", "other"))).status).toBe(401);
    expect((await srv.get("/both/f.txt", basic("dave", "x"))).status).toBe(401);
  });

  test("a changed file is re-read (stat at most once a second); broken lines are skipped with a warning", async () => {
    const root = tempDir();
    const file = `${root}/users`;
    const sha = (pw: string) => `{SHA}${createHash("sha1").update(pw).digest("base64")}`;
    fs.writeFileSync(file, `alice:${sha("one")}\nbroken line\n:${sha("x")}\nbob:\n# comment\n\n  carol:${sha("c")}  \r\n`);
    await using srv = await start(`<Location /p>\nAuthType Basic\nAuthName p\nAuthUserFile ${file}\nRequire valid-user\n</Location>\n`);
    expect(srv.warnings.filter((w) => w.startsWith(`AuthUserFile ${file}`)).map((w) => w.replace(/ \(.*\)$/, ""))).toEqual([
      `AuthUserFile ${file} line 2: no ':' separating user and password hash, line skipped`,
      `AuthUserFile ${file} line 3: empty user name, line skipped`,
      `AuthUserFile ${file} line 4: empty password hash for user bob, line skipped`,
    ]);
    expect((await srv.get("/p/f.txt", basic("alice", "one"))).status).toBe(200);
    expect((await srv.get("/p/f.txt", basic("carol", "c"))).status).toBe(200);
    expect((await srv.get("/p/f.txt", basic("bob", ""))).status).toBe(401);
    fs.writeFileSync(file, `alice:${sha("two")}\nnocolon\n`);
    await Bun.sleep(1100);
    expect((await srv.get("/p/f.txt", basic("alice", "one"))).status).toBe(401);
    expect((await srv.get("/p/f.txt", basic("alice", "two"))).status).toBe(200);
    expect(await srv.log()).toContain(`[authn_file:warn]`);
    expect(await srv.log()).toContain(`AuthUserFile ${file} line 2: no ':' separating user and password hash, line skipped`);
  });

  test("Require file-owner and file-group compare with the file's owner and group names", async () => {
    // os.userInfo().username is "unknown" under Bun here: look the owner up as getpwuid would.
    const me = fs.readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.split(":")[2] === String(process.getuid!()))!.split(":")[0]!;
    const st = fs.statSync(tempDir());
    const group = fs.readFileSync("/etc/group", "utf8").split("\n").find((l) => l.split(":")[2] === String(st.gid))?.split(":")[0];
    const root = tempDir();
    const sha = (pw: string) => `{SHA}${createHash("sha1").update(pw).digest("base64")}`;
    fs.writeFileSync(`${root}/users`, `${me}:${sha("mine")}\nstranger:${sha("theirs")}\n`);
    fs.writeFileSync(`${root}/groups`, `${group ?? "nogroup"}: ${me}\nother: stranger\n`);
    await using srv = await start(
      `<Location /own>\nAuthType Basic\nAuthName o\nAuthUserFile ${root}/users\nRequire file-owner\n</Location>\n` +
        `<Location /grp>\nAuthType Basic\nAuthName g\nAuthUserFile ${root}/users\nAuthGroupFile ${root}/groups\nRequire file-group\n</Location>\n`,
    );
    expect((await srv.get("/own/f.txt", basic(me, "mine"))).status).toBe(200);
    expect((await srv.get("/own/f.txt", basic("stranger", "theirs"))).status).toBe(401);
    if (group !== undefined) expect((await srv.get("/grp/f.txt", basic(me, "mine"))).status).toBe(200);
    expect((await srv.get("/grp/f.txt", basic("stranger", "theirs"))).status).toBe(401);
  });
});
