// allowmethods, remoteip, log_debug and authn_socache over real sockets, against Apache 2.4.71's behaviour.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "../src/config/load.ts";
import { ConfigError } from "../src/config/node.ts";
import { flushLogs } from "../src/log/error-log.ts";
import { rawRequest, startTestServer, statusOf, tempDir, writeTree } from "./helpers.ts";

const USERS = path.join(import.meta.dir, "fixtures/htpasswd/users");
const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString("base64")}`;

async function start(body: string) {
  const root = tempDir();
  for (const m of body.matchAll(/<Location (\/[\w.-]+)>/g)) writeTree(root, { [`htdocs${m[1]}/f.txt`]: `${m[1]!.slice(1)}\n` });
  writeTree(root, { "htdocs/index.html": "index\n" });
  const conf = `ServerName localhost\nDocumentRoot ${root}/htdocs\nErrorLog ${root}/error.log\n${body.replaceAll("@ROOT@", root)}`;
  const srv = await startTestServer(conf, { root });
  return Object.assign(srv, {
    root,
    async fetch(p: string, init: { method?: string; headers?: Record<string, string> } = {}) {
      const res = await fetch(`${srv.url}${p}`, { method: init.method ?? "GET", headers: init.headers ?? {} });
      return { status: res.status, headers: res.headers, body: await res.text() };
    },
    async read(file: string): Promise<string> {
      await flushLogs();
      const f = `${root}/${file}`;
      return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "";
    },
  });
}

function configError(body: string, at = "<Directory />\n%\n</Directory>\n"): string {
  const root = tempDir();
  try {
    loadConfig({ text: `DocumentRoot ${root}\n${at.replace("%", body)}`, file: "httpd.conf", serverRoot: root, env: {} });
  } catch (e) {
    if (e instanceof ConfigError) return e.format().replaceAll(root, "ROOT");
    throw e;
  }
  return "Syntax OK";
}

describe("allowmethods", () => {
  test("other methods get 405 with Apache's Allow: TRACE; GET admits HEAD; reset clears", async () => {
    await using srv = await start(
      "<Location /sub>\nAllowMethods GET POST\n</Location>\n<Location /sub/open>\nAllowMethods reset\n</Location>\n",
    );
    writeTree(srv.root, { "htdocs/sub/open/f.txt": "open\n" });
    const opt = await srv.fetch("/sub/f.txt", { method: "OPTIONS" });
    expect(opt.status).toBe(405);
    expect(opt.headers.get("allow")).toBe("TRACE");
    expect(opt.body).toContain("<p>The requested method OPTIONS is not allowed for this URL.</p>");
    expect((await srv.fetch("/sub/f.txt")).status).toBe(200);
    expect((await srv.fetch("/sub/f.txt", { method: "HEAD" })).status).toBe(200);
    expect((await srv.fetch("/sub/f.txt", { method: "POST" })).status).toBe(200);
    expect((await srv.fetch("/sub/open/f.txt", { method: "OPTIONS" })).status).toBe(200);
    expect((await srv.fetch("/index.html", { method: "OPTIONS" })).status).toBe(200);
    expect(await srv.read("error.log")).toContain(
      `[allowmethods:error] [pid ${process.pid}`,
    );
    expect(await srv.read("error.log")).toContain(`AH01623: client method denied by server configuration: 'OPTIONS' to ${srv.root}/htdocs/sub/f.txt\n`);
  });

  test("configuration errors", () => {
    expect(configError("AllowMethods FOO")).toBe("AH00526: Syntax error on line 3 of ROOT/httpd.conf:\nAllowMethods: Invalid Method 'FOO'");
    expect(configError("AllowMethods reset GET")).toBe("AH00526: Syntax error on line 3 of ROOT/httpd.conf:\nAllowMethods: Invalid Method 'reset'");
    expect(configError("AllowMethods GET", "%\n")).toBe("AH00526: Syntax error on line 2 of ROOT/httpd.conf:\nAllowMethods not allowed here");
  });
});

describe("remoteip (results observed on Apache 2.4.71)", () => {
  const conf =
    "RemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 127.0.0.1\nRemoteIPTrustedProxy 198.51.100.7\n" +
    "RemoteIPProxiesHeader X-Forwarded-By\n" +
    'LogFormat "%a|%h|%{X-Forwarded-For}i|%{X-Forwarded-By}i|%{remoteip-proxy-ip-list}n" rip\n' +
    "CustomLog @ROOT@/rip.log rip\n" +
    "<Location /sub>\nRequire ip 203.0.113.0/24\n</Location>\n" +
    "<Location /peer>\nRequire expr %{CONN_REMOTE_ADDR} == '127.0.0.1' && %{REMOTE_ADDR} == '203.0.113.5'\n</Location>\n";

  test("the client behind trusted proxies becomes the request's client everywhere", async () => {
    await using srv = await start(conf);
    const cases: [string, number, string][] = [
      ["203.0.113.5", 200, "203.0.113.5|203.0.113.5|-|-|-"],
      ["10.1.2.3", 403, "10.1.2.3|10.1.2.3|-|-|-"],
      ["203.0.113.5, 10.1.2.3", 403, "10.1.2.3|10.1.2.3|203.0.113.5|-|-"],
      ["1.2.3.4, 203.0.113.5, 198.51.100.7", 200, "203.0.113.5|203.0.113.5|1.2.3.4|198.51.100.7|198.51.100.7"],
      ["1.2.3.4, 198.51.100.7, 10.0.0.1", 403, "10.0.0.1|10.0.0.1|1.2.3.4, 198.51.100.7|-|-"],
      ["junk, 203.0.113.9", 200, "203.0.113.9|203.0.113.9|junk|-|-"],
      ["203.0.113.9,,198.51.100.7", 403, "198.51.100.7|198.51.100.7|203.0.113.9,|-|-"],
      ["::ffff:203.0.113.7", 200, "203.0.113.7|203.0.113.7|-|-|-"],
      ["2001:db8::1", 403, "2001:db8::1|2001:db8::1|-|-|-"],
      ["fe80::1", 403, "fe80::1|fe80::1|-|-|-"],
    ];
    for (const [xff, want] of cases) {
      expect(`${xff} ${(await srv.fetch("/sub/f.txt", { headers: { "x-forwarded-for": xff } })).status}`).toBe(`${xff} ${want}`);
    }
    const lines = (await srv.read("rip.log")).trim().split("\n");
    expect(lines).toEqual(cases.map((c) => c[2]));
    expect((await srv.fetch("/peer/f.txt", { headers: { "x-forwarded-for": "203.0.113.5" } })).status).toBe(200);
    expect((await srv.fetch("/sub/f.txt")).status).toBe(403);
  });

  test("the error log names the real client", async () => {
    await using srv = await start(conf);
    expect((await srv.fetch("/sub/f.txt", { headers: { "x-forwarded-for": "198.51.100.99" } })).status).toBe(403);
    expect(await srv.read("error.log")).toContain("[client 198.51.100.99:0] AH01630: client denied by server configuration");
  });

  test("a peer that is no trusted proxy is its own client; without lists every hop is external", async () => {
    await using srv = await start(
      "RemoteIPHeader X-Real-IP\nRemoteIPTrustedProxy 10.9.9.9\n<Location /sub>\nRequire ip 127.0.0.1\n</Location>\n",
    );
    expect((await srv.fetch("/sub/f.txt", { headers: { "x-real-ip": "203.0.113.5" } })).status).toBe(200);
    await using open = await start("RemoteIPHeader X-Real-IP\n<Location /sub>\nRequire ip 203.0.113.5\n</Location>\n");
    expect((await open.fetch("/sub/f.txt", { headers: { "x-real-ip": "203.0.113.5" } })).status).toBe(200);
    // A private address is refused from an external (not internal) proxy: the peer stays the client.
    expect((await open.fetch("/sub/f.txt", { headers: { "x-real-ip": "192.168.1.1" } })).status).toBe(403);
  });

  test("proxy lists from files; bad entries and PROXY protocol are configuration errors", () => {
    const root = tempDir();
    fs.writeFileSync(`${root}/proxies`, "# trusted\n127.0.0.1 10.0.0.0/8\n\n192.0.2.1 # edge\n");
    fs.writeFileSync(`${root}/bad`, "10.0.0.1\n300.1.1.1\n");
    const at = "%\n";
    expect(configError(`RemoteIPInternalProxyList ${root}/proxies`, at)).toBe("Syntax OK");
    expect(configError(`RemoteIPTrustedProxyList ${root}/bad`, at)).toBe(
      `AH00526: Syntax error on line 2 of ROOT/httpd.conf:\n${root}/bad line 2: The specified IP address is invalid. (300.1.1.1)`,
    );
    expect(configError("RemoteIPTrustedProxy proxy.example.com", at)).toContain("host names are not supported by mosaic");
    expect(configError("RemoteIPProxyProtocol On", at)).toContain("RemoteIPProxyProtocol On is not supported by mosaic");
    expect(configError("RemoteIPHeader X-Forwarded-For")).toContain("RemoteIPHeader not allowed in <Directory> context");
  });
});

describe("log_debug", () => {
  test("LogMessage at its hook, with expressions in the text and a condition", async () => {
    await using srv = await start(
      "LogLevel warn log_debug:info\n" +
        "<Location /sub>\nLogMessage \"logged %{REQUEST_URI} for %{REMOTE_ADDR}\"\n" +
        "LogMessage \"fixups of %{REQUEST_URI}\" hook=fixups expr=%{QUERY_STRING}=='x'\n</Location>\n",
    );
    expect((await srv.fetch("/sub/f.txt?x")).status).toBe(200);
    expect((await srv.fetch("/sub/f.txt?y")).status).toBe(200);
    const log = await srv.read("error.log");
    expect(log.match(/AH00643: logged \/sub\/f.txt for 127.0.0.1\n/g)?.length).toBe(2);
    expect(log.match(/AH00643: fixups of \/sub\/f.txt\n/g)?.length).toBe(1);
    expect(log).toContain("[log_debug:info]");
  });

  test("configuration errors", () => {
    expect(configError("LogMessage x hook=nope")).toContain("Invalid hook name: nope");
    expect(configError("LogMessage x other")).toContain("Invalid argument other");
    expect(configError("LogMessage %{NOPE}")).toContain("Could not parse message expression '%{NOPE}': Variable 'NOPE' does not exist (column 3)");
    expect(configError("LogMessage x expr=1==")).toContain("Could not parse expression '1==': syntax error, unexpected $end (column 4)");
  });
});

describe("authn_socache", () => {
  test("credentials found by the file provider are served from the cache until the timeout", async () => {
    const root = tempDir();
    const file = `${root}/users`;
    const sha = (pw: string) => `{SHA}${createHash("sha1").update(pw).digest("base64")}`;
    fs.writeFileSync(file, `alice:${sha("one")}\n`);
    await using srv = await start(
      "AuthnCacheSOCache shmcb\n<Location /c>\nAuthType Basic\nAuthName c\nAuthBasicProvider socache file\n" +
        `AuthnCacheProvideFor file\nAuthnCacheTimeout 2\nAuthUserFile ${file}\nRequire valid-user\n</Location>\n` +
        `<Location /nc>\nAuthType Basic\nAuthName nc\nAuthBasicProvider socache file\nAuthUserFile ${file}\nRequire valid-user\n</Location>\n`,
    );
    const get = async (p: string, pw: string) => (await srv.fetch(p, { headers: { authorization: basic("alice", pw) } })).status;
    expect(await get("/c/f.txt", "one")).toBe(200);
    expect(await get("/nc/f.txt", "one")).toBe(200);
    fs.writeFileSync(file, "bob:x\n");
    await Bun.sleep(1100);
    // The file forgot alice; the cache has her for /c (its directory context) but not for /nc.
    expect(await get("/c/f.txt", "one")).toBe(200);
    expect(await get("/c/f.txt", "two")).toBe(401);
    expect(await get("/nc/f.txt", "one")).toBe(401);
    await Bun.sleep(1000);
    expect(await get("/c/f.txt", "one")).toBe(401);
  });

  test("configuration errors", () => {
    expect(configError("AuthnCacheSOCache nope", "%\n")).toContain("Unknown socache provider 'nope'");
    expect(configError("AuthnCacheTimeout soon")).toContain("AuthnCacheTimeout: Invalid timeout");
  });
});

describe("raw protocol edges", () => {
  // Apache merges repeated headers with ", " and decodes base64 up to the comma: the first one counts.
  test("two Authorization headers: the first decides; control characters are a 400", async () => {
    await using srv = await start(`<Location /a>\nAuthType Basic\nAuthName a\nAuthUserFile ${USERS}\nRequire valid-user\n</Location>\n`);
    const good = basic("umd5", "pwmd5");
    const req = (headers: string) => rawRequest(srv.port, `GET /a/f.txt HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`);
    expect(statusOf(await req(`Authorization: ${good}\r\nAuthorization: Basic Zm9v\r\n`))).toBe(200);
    expect(statusOf(await req(`Authorization: Basic Zm9v\r\nAuthorization: ${good}\r\n`))).toBe(401);
    expect(statusOf(await req(`Authorization: Basic\x01${good.slice(6)}\r\n`))).toBe(400);
  });
});
