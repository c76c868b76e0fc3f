// mod_dir over real sockets: DirectoryIndex order and merges, DirectorySlash, FallbackResource, redirects.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { flushLogs } from "../src/log/error-log.ts";
import { expectConfigError, rawRequest, startTestServer, statusOf, tempDir, useServer, writeTree } from "./helpers.ts";

const root = tempDir();
const docs = path.join(root, "htdocs");
writeTree(root, {
  "htdocs/index.html": "root index\n",
  "htdocs/sub/index.html": "sub index\n",
  "htdocs/multi/home.html": "home\n",
  "htdocs/multi/index.htm": "index.htm\n",
  "htdocs/second/index.htm": "second choice\n",
  "htdocs/shared/idx.html": "shared index\n",
  "htdocs/abs/placeholder.txt": "x\n",
  "htdocs/replace/a.html": "a\n",
  "htdocs/replace/child/a.html": "child a\n",
  "htdocs/noindex/file.txt": "file\n",
  "htdocs/listed/file.txt": "file\n",
  "htdocs/listed/index.html": "listed index\n",
  "htdocs/slashoff/index.html": "slashoff index\n",
  "htdocs/slashoff-closed/index.html": "closed index\n",
  "htdocs/d ü&<x>/index.html": "odd dir\n",
  "htdocs/locked/index.html": "locked index\n",
  "htdocs/locked/other.txt": "other\n",
  "htdocs/redir/index.htm": "redir\n",
  "htdocs/check/index.html": "check index\n",
  "htdocs/app/index.html": "<app shell>\n",
  "htdocs/app/real.js": "real();\n",
  "htdocs/app/raw/nothing.txt": "n\n",
  "htdocs/app/off/page.txt": "page\n",
  "htdocs/app/broken/page.txt": "page\n",
  "htdocs/app/rel/shell.html": "relative shell\n",
});

const conf = `
ServerName localhost
DocumentRoot ${docs}
ErrorLog ${root}/error.log
<Directory />
  Require all denied
</Directory>
<Directory ${docs}>
  Options -Indexes
  Require all granted
</Directory>
<Directory ${docs}/multi>
  DirectoryIndex nothere.html home.html index.htm
</Directory>
<Directory ${docs}/second>
  DirectoryIndex nothere.html home.html index.htm
</Directory>
<Directory ${docs}/abs>
  DirectoryIndex missing.html /shared/idx.html
</Directory>
<Directory ${docs}/replace>
  DirectoryIndex a.html
</Directory>
<Directory ${docs}/replace/child>
  DirectoryIndex b.html
</Directory>
<Directory ${docs}/listed>
  Options +Indexes
  DirectoryIndex disabled
</Directory>
<Directory ${docs}/slashoff>
  Options +Indexes
  DirectorySlash Off
</Directory>
<Directory ${docs}/slashoff-closed>
  DirectorySlash Off
</Directory>
<Directory ${docs}/locked>
  Options +Indexes
  <Files index.html>
    Require all denied
  </Files>
</Directory>
<Directory ${docs}/redir>
  DirectoryIndex index.htm
  DirectoryIndexRedirect permanent
</Directory>
<Directory ${docs}/check>
  SetHandler default-handler
  DirectoryCheckHandler On
</Directory>
<Directory ${docs}/app>
  FallbackResource /app/index.html
</Directory>
<Directory ${docs}/app/off>
  FallbackResource disabled
</Directory>
<Directory ${docs}/app/broken>
  FallbackResource /app/not-there.html
</Directory>
<Directory ${docs}/app/rel>
  FallbackResource shell.html
</Directory>
`;

const srv = useServer(conf, { root });

const get = (p: string, init: RequestInit = {}) => fetch(srv.url + p, { redirect: "manual", ...init });

async function expectBody(p: string, status: number, body: string): Promise<void> {
  const res = await get(p);
  expect(res.status).toBe(status);
  expect(await res.text()).toBe(body);
}

/** One raw HTTP exchange: status, headers (lower-case names) and body. */
async function raw(request: string): Promise<{ status: number; headers: Map<string, string>; body: string }> {
  const text = await rawRequest(srv.port, request);
  const end = text.indexOf("\r\n\r\n");
  const headers = new Map<string, string>();
  for (const l of text.slice(0, end).split("\r\n").slice(1)) {
    const c = l.indexOf(":");
    headers.set(l.slice(0, c).toLowerCase(), l.slice(c + 1).trim());
  }
  return { status: statusOf(text), headers, body: text.slice(end + 4) };
}

describe("DirectoryIndex", () => {
  test("the default index is index.html", async () => {
    await expectBody("/", 200, "root index\n");
    await expectBody("/sub/", 200, "sub index\n");
  });

  test("names are tried in order; the first regular file wins", async () => {
    await expectBody("/multi/", 200, "home\n");
    await expectBody("/second/", 200, "second choice\n");
  });

  test("the query string travels with the internal redirect", async () => {
    await expectBody("/multi/?a=1&b=2", 200, "home\n");
  });

  test("an absolute URL is looked up from the root", async () => {
    await expectBody("/abs/", 200, "shared index\n");
  });

  test("a deeper DirectoryIndex replaces the inherited list", async () => {
    await expectBody("/replace/", 200, "a\n");
    // b.html does not exist and a.html is no longer a candidate: no Indexes, so 403
    expect((await get("/replace/child/")).status).toBe(403);
  });

  test("no index and no Options Indexes is 403 with AH01276 naming the tried indexes", async () => {
    const res = await get("/noindex/");
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("<p>You don't have permission to access this resource.</p>");
    await flushLogs();
    const log = fs.readFileSync(path.join(root, "error.log"), "utf8");
    expect(log).toContain(
      `AH01276: Cannot serve directory ${docs}/noindex/: No matching DirectoryIndex (index.html) found, ` +
        "and server-generated directory index forbidden by Options directive",
    );
  });

  test("DirectoryIndex disabled lists the directory even though index.html exists", async () => {
    const res = await get("/listed/");
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain("<title>Index of /listed</title>");
    expect(body).toContain('<a href="index.html">index.html</a>');
  });

  test("an index the access rules deny makes the directory 403, never a listing (Indexes is on)", async () => {
    expect((await get("/locked/")).status).toBe(403);
    await expectBody("/locked/other.txt", 200, "other\n");
  });

  test("HEAD of a directory answers with the index's headers", async () => {
    const res = await get("/sub/", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("10");
    expect(await res.text()).toBe("");
  });

  test("DirectoryIndexRedirect answers with the index's URL instead", async () => {
    const res = await get("/redir/?x=1");
    expect(res.status).toBe(301);
    // Apache builds the Location from the index's path alone (the query is not carried over)
    expect(res.headers.get("location")).toBe(`http://127.0.0.1:${srv.port}/redir/index.htm`);
  });

  test("DirectoryCheckHandler On leaves a directory with a handler alone", async () => {
    // SetHandler default-handler is a handler; the index is not looked up and Indexes is off
    expect((await get("/check/")).status).toBe(403);
    await expectBody("/check/index.html", 200, "check index\n");
  });
});

describe("DirectorySlash", () => {
  test("a directory without a slash is a 301 to the URL with one", async () => {
    const res = await get("/sub");
    expect(res.status).toBe(301);
    const location = `http://127.0.0.1:${srv.port}/sub/`;
    expect(res.headers.get("location")).toBe(location);
    expect(await res.text()).toContain(`<p>The document has moved <a href="${location}">here</a>.</p>`);
  });

  test("the query string is kept, exactly as sent", async () => {
    const res = await get("/sub?a=1&b=%20c");
    expect(res.headers.get("location")).toBe(`http://127.0.0.1:${srv.port}/sub/?a=1&b=%20c`);
    const empty = await raw("GET /sub? HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    expect(empty.headers.get("location")).toBe("http://localhost/sub/?");
  });

  test("the path is escaped as ap_escape_uri does (lower-case hex, & kept)", async () => {
    const res = await get("/d%20%C3%BC&%3Cx%3E");
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe(`http://127.0.0.1:${srv.port}/d%20%c3%bc&%3cx%3e/`);
    await expectBody("/d%20%C3%BC&%3Cx%3E/", 200, "odd dir\n");
  });

  test("the Host header's name and port make the URL (UseCanonicalName Off)", async () => {
    const a = await raw("GET /sub HTTP/1.1\r\nHost: Example.COM\r\nConnection: close\r\n\r\n");
    expect(a.status).toBe(301);
    expect(a.headers.get("location")).toBe("http://example.com/sub/");
    const b = await raw("GET /sub HTTP/1.1\r\nHost: example.com:8080\r\nConnection: close\r\n\r\n");
    expect(b.headers.get("location")).toBe("http://example.com:8080/sub/");
    const c = await raw("GET /sub HTTP/1.1\r\nHost: example.com:80\r\nConnection: close\r\n\r\n");
    expect(c.headers.get("location")).toBe("http://example.com/sub/");
  });

  test("HTTP/1.0 without Host gets the ServerName", async () => {
    const res = await raw("GET /sub HTTP/1.0\r\n\r\n");
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe("http://localhost/sub/");
  });

  test("HEAD gets the redirect without a body", async () => {
    const res = await get("/sub", { method: "HEAD" });
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe(`http://127.0.0.1:${srv.port}/sub/`);
    expect(await res.text()).toBe("");
  });

  test("files are never redirected", async () => {
    await expectBody("/sub/index.html", 200, "sub index\n");
  });

  test("Off: the directory is served without a slash: listed with Indexes (no index used)", async () => {
    const res = await get("/slashoff");
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain("<title>Index of /slashoff</title>");
    expect(body).toContain('<a href="index.html">index.html</a>');
    await expectBody("/slashoff/", 200, "slashoff index\n");
  });

  test("Off without Indexes: 403", async () => {
    expect((await get("/slashoff-closed")).status).toBe(403);
    await expectBody("/slashoff-closed/", 200, "closed index\n");
  });
});

describe("FallbackResource", () => {
  test("a path that maps to nothing serves the fallback (a single-page app's routes)", async () => {
    await expectBody("/app/users/42/edit", 200, "<app shell>\n");
    await expectBody("/app/users/42/edit?tab=2", 200, "<app shell>\n");
    // Apache falls back for missing assets too
    await expectBody("/app/missing.png", 200, "<app shell>\n");
  });

  test("existing files and directory indexes are served as usual", async () => {
    await expectBody("/app/real.js", 200, "real();\n");
    await expectBody("/app/", 200, "<app shell>\n");
  });

  test("directories do not fall back: no index and no Indexes stays 403", async () => {
    expect((await get("/app/raw/")).status).toBe(403);
  });

  test("FallbackResource disabled switches an inherited one off", async () => {
    expect((await get("/app/off/nothing")).status).toBe(404);
    await expectBody("/app/off/page.txt", 200, "page\n");
  });

  test("a fallback that does not exist is a plain 404, not a loop", async () => {
    expect((await get("/app/broken/nothing")).status).toBe(404);
  });

  test("a relative fallback is resolved against the request's directory", async () => {
    await expectBody("/app/rel/deep", 200, "relative shell\n");
  });

  test("outside the configured directory nothing falls back", async () => {
    expect((await get("/nothing/here")).status).toBe(404);
  });
});

describe("configuration", () => {
  const cases: [string, string][] = [
    ["DirectoryIndexRedirect 200", "DirectoryIndexRedirect only accepts values between 300 and 399"],
    ["DirectoryIndexRedirect sometimes", "DirectoryIndexRedirect On|Off|permanent|temp|seeother|3xx"],
    ["DirectorySlash maybe", "DirectorySlash must be On or Off"],
    ["FallbackResource", "FallbackResource takes one argument, Set a default handler"],
    ["DirectoryIndex", "DirectoryIndex requires at least one argument, a list of file names"],
  ];
  for (const [text, message] of cases) {
    test(`${text} → ${message}`, () => expectConfigError(text, message));
  }

  test("several DirectoryIndex lines in one section add up; `disabled` alone empties the list", async () => {
    const r = tempDir();
    writeTree(r, { "htdocs/a/second.html": "second\n", "htdocs/b/index.html": "b\n" });
    await using s = await startTestServer(
      `DocumentRoot ${r}/htdocs\n<Directory ${r}/htdocs>\nRequire all granted\n</Directory>\n` +
        `<Directory ${r}/htdocs/a>\nDirectoryIndex first.html\nDirectoryIndex second.html\n</Directory>\n` +
        `<Directory ${r}/htdocs/b>\nDirectoryIndex index.html\nDirectoryIndex disabled\n` +
        "Options +Indexes\n</Directory>\n",
      { root: r },
    );
    expect(await (await fetch(`${s.url}/a/`)).text()).toBe("second\n");
    expect(await (await fetch(`${s.url}/b/`)).text()).toContain("<title>Index of /b</title>");
  });

  test("DirectoryIndexRedirect on is a 302; seeother a 303", async () => {
    const r = tempDir();
    writeTree(r, { "htdocs/a/index.html": "a\n", "htdocs/b/index.html": "b\n" });
    await using s = await startTestServer(
      `DocumentRoot ${r}/htdocs\n<Directory ${r}/htdocs>\nRequire all granted\n</Directory>\n` +
        `<Directory ${r}/htdocs/a>\nDirectoryIndexRedirect on\n</Directory>\n` +
        `<Directory ${r}/htdocs/b>\nDirectoryIndexRedirect seeother\n</Directory>\n`,
      { root: r },
    );
    const a = await fetch(`${s.url}/a/`, { redirect: "manual" });
    expect(a.status).toBe(302);
    expect(a.headers.get("location")).toBe(`${s.url}/a/index.html`);
    const b = await fetch(`${s.url}/b/`, { redirect: "manual" });
    expect(b.status).toBe(303);
  });
});
