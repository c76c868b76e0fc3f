// The core over real sockets: vhosts, section merge order, Options, ErrorDocument, keep-alive policy.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { rawRequest, startTestServer, statusOf, tempDir, writeTree } from "./helpers.ts";

function site(): string {
  const root = tempDir();
  writeTree(root, {
    "htdocs/index.html": "main index\n",
    "htdocs/a.txt": "a\n",
    "htdocs/sub/b.txt": "b\n",
    "a/index.html": "site a\n",
    "b/index.html": "site b\n",
    "errors/404.html": "custom not found\n",
  });
  return root;
}

describe("DocumentRoot", () => {
  test("without DocumentRoot, URLs map under ServerRoot/htdocs, never onto the real /", async () => {
    const root = site();
    await using srv = await startTestServer("<Location />\nRequire all granted\n</Location>\n", { root });
    expect(await (await fetch(`${srv.url}/a.txt`)).text()).toBe("a\n");
    const res = await fetch(`${srv.url}/etc/hostname`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain(fs.readFileSync("/etc/hostname", "utf8").trim() || "\u0000");
  });
});

describe("virtual hosts", () => {
  const conf = (root: string) => `
ServerName main.example
DocumentRoot ${root}/htdocs
<VirtualHost *:*>
  ServerName a.example
  ServerAlias www.a.example *.a.test
  DocumentRoot ${root}/a
</VirtualHost>
<VirtualHost *:*>
  ServerName b.example
  DocumentRoot ${root}/b
</VirtualHost>
`;
  test("Host picks by ServerName and ServerAlias (wildcards); the first vhost is the default", async () => {
    const root = site();
    await using srv = await startTestServer(conf(root), { root });
    const get = async (host: string) => {
      const raw = await rawRequest(srv.port, `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      return raw.slice(raw.indexOf("\r\n\r\n") + 4);
    };
    expect(await get("a.example")).toBe("site a\n");
    expect(await get("www.a.example")).toBe("site a\n");
    expect(await get("x.a.test")).toBe("site a\n");
    expect(await get("B.EXAMPLE:80")).toBe("site b\n");
    expect(await get("unknown.example")).toBe("site a\n");
    expect(await get("main.example")).toBe("site a\n");
  });

  test("without a matching vhost address the main server answers", async () => {
    const root = site();
    await using srv = await startTestServer(
      `DocumentRoot ${root}/htdocs\n<VirtualHost 10.9.9.9:80>\nServerName a.example\nDocumentRoot ${root}/a\n</VirtualHost>\n`,
      { root },
    );
    expect(await (await fetch(`${srv.url}/`, { headers: { host: "a.example" } })).text()).toBe("main index\n");
  });
});

describe("sections", () => {
  test("<Location /a> matches /a, /a/ and /a/x, not /ab", async () => {
    const root = site();
    writeTree(root, { "htdocs/ab.txt": "ab\n", "htdocs/a/x.txt": "x\n" });
    await using srv = await startTestServer(`<Location /a>\nRequire all denied\n</Location>\n`, { root });
    expect((await fetch(`${srv.url}/a`)).status).toBe(403);
    expect((await fetch(`${srv.url}/a/x.txt`)).status).toBe(403);
    expect((await fetch(`${srv.url}/ab.txt`)).status).toBe(200);
  });

  test("merge order: Directory (shortest first) < DirectoryMatch < Files < Location; vhost after main", async () => {
    const root = site();
    await using srv = await startTestServer(
      `
<Directory ${root}/htdocs/sub>
  Header set X-Order dir-sub
</Directory>
<Directory ${root}/htdocs>
  Header set X-Order dir
  Header set X-Dir yes
</Directory>
<DirectoryMatch "/sub$">
  Header set X-Order dirmatch
</DirectoryMatch>
<Files b.txt>
  Header set X-Order files
</Files>
<Location /sub>
  Header set X-Order location
</Location>
`,
      { root },
    );
    const res = await fetch(`${srv.url}/sub/b.txt`);
    expect(res.headers.get("x-order")).toBe("location");
    expect(res.headers.get("x-dir")).toBe("yes");
    const a = await fetch(`${srv.url}/a.txt`);
    expect(a.headers.get("x-order")).toBe("dir");
  });

  test("Options: +/- adjust the parent, a plain list replaces it", async () => {
    const root = site();
    fs.rmSync(path.join(root, "htdocs/index.html"));
    await using srv = await startTestServer(
      `<Directory ${root}/htdocs>\nOptions Indexes FollowSymLinks\n</Directory>\n<Directory ${root}/htdocs/sub>\nOptions -Indexes\n</Directory>\n`,
      { root },
    );
    expect((await fetch(`${srv.url}/`)).status).toBe(200);
    expect((await fetch(`${srv.url}/sub/`)).status).toBe(403);
  });
});

describe("ErrorDocument", () => {
  test("text, local path (keeps the status) and URL (302)", async () => {
    const root = site();
    await using srv = await startTestServer(
      `Alias /errors ${root}/errors\n<Directory ${root}/errors>\nRequire all granted\n</Directory>\n` +
        `ErrorDocument 404 /errors/404.html\n<Location /t>\nErrorDocument 404 "gone fishing"\n</Location>\n` +
        `<Location /u>\nErrorDocument 404 http://elsewhere.example/nf\n</Location>\n`,
      { root },
    );
    const local = await fetch(`${srv.url}/nope`);
    expect(local.status).toBe(404);
    expect(await local.text()).toBe("custom not found\n");
    const text = await fetch(`${srv.url}/t/nope`);
    expect(text.status).toBe(404);
    expect(await text.text()).toBe("gone fishing");
    const url = await fetch(`${srv.url}/u/nope`, { redirect: "manual" });
    expect(url.status).toBe(302);
    expect(url.headers.get("location")).toBe("http://elsewhere.example/nf");
  });
});

describe("protocol", () => {
  test("ServerTokens shapes the Server header", async () => {
    const root = site();
    await using srv = await startTestServer("ServerTokens Prod\n", { root });
    expect((await fetch(`${srv.url}/a.txt`)).headers.get("server")).toBe("mosaic");
  });

  test("KeepAlive Off closes after each response; MaxKeepAliveRequests 2 closes after the second", async () => {
    const root = site();
    await using off = await startTestServer("KeepAlive Off\n", { root });
    const one = await rawRequest(off.port, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(one.match(/HTTP\/1\.1 200/g)?.length).toBe(1);
    expect(one.toLowerCase()).toContain("connection: close");
    await using max = await startTestServer("MaxKeepAliveRequests 2\n", { root });
    const req = "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n";
    const three = await rawRequest(max.port, req + req + req);
    expect(three.match(/HTTP\/1\.1 200/g)?.length).toBe(2);
  });

  test("HEAD has the GET's headers and Content-Length, no body", async () => {
    const root = site();
    await using srv = await startTestServer("", { root });
    const raw = await rawRequest(srv.port, "HEAD /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(statusOf(raw)).toBe(200);
    expect(raw.toLowerCase()).toContain("content-length: 2\r\n");
    expect(raw.toLowerCase()).toContain("date: ");
    expect(raw.endsWith("\r\n\r\n")).toBe(true);
  });

  test("a graceful reload swaps the config; a broken one keeps the old serving", async () => {
    const root = site();
    await using srv = await startTestServer("Header set X-Gen one\n", { root });
    expect((await fetch(`${srv.url}/a.txt`)).headers.get("x-gen")).toBe("one");
    await srv.reload(`Listen 127.0.0.1:${srv.port}\nHeader set X-Gen two\n`);
    expect((await fetch(`${srv.url}/a.txt`)).headers.get("x-gen")).toBe("two");
    await expect(srv.reload(`Listen 127.0.0.1:${srv.port}\nBogus directive\n`)).rejects.toThrow(/Invalid command 'Bogus'/);
    expect((await fetch(`${srv.url}/a.txt`)).headers.get("x-gen")).toBe("two");
  });
});

describe("TRACE", () => {
  test("TraceEnable On echoes the request as message/http; Off answers 405 with an empty Allow", async () => {
    const root = site();
    await using on = await startTestServer("TraceEnable On\n", { root });
    const raw = await rawRequest(on.port, "TRACE /a.txt HTTP/1.1\r\nHost: x\r\nX-Probe: 1\r\nConnection: close\r\n\r\n");
    expect(statusOf(raw)).toBe(200);
    expect(raw.toLowerCase()).toContain("content-type: message/http");
    expect(raw).toContain("TRACE /a.txt HTTP/1.1\r\n");
    expect(raw.toLowerCase()).toContain("x-probe: 1\r\n");
    await using off = await startTestServer("TraceEnable Off\n", { root });
    const no = await rawRequest(off.port, "TRACE /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(statusOf(no)).toBe(405);
    expect(no).toMatch(/\r\nAllow: \r\n/i);
  });
});
