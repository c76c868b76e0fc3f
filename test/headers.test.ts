// mod_headers over real sockets: every action, formats, always vs onsuccess, env= conditions, early, errors.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { compileFormat, parseHeaderArgs } from "../modules/headers/rules.ts";
import { flushLogs } from "../src/log/error-log.ts";
import { rawRequest, startTestServer, statusOf, tempDir, useServer, writeTree } from "./helpers.ts";

const root = tempDir();
writeTree(root, {
  "htdocs/a.txt": "fine\n",
  "htdocs/b.txt": "bee\n",
  "htdocs/bad/f.txt": "x\n",
  "htdocs/ct/f.txt": "x\n",
  "htdocs/un/f.txt": "x\n",
  "htdocs/ed/f.txt": "x\n",
});
const errorLog = path.join(root, "error.log");

const conf = String.raw`
ServerName localhost
DocumentRoot ${root}/htdocs
ErrorLog ${errorLog}
LogLevel warn
<Directory ${root}/htdocs>
  Require all granted
</Directory>
Redirect /old http://example.com/new
Header set X-Succ yes
Header always set X-Always yes
Header set X-Multi a
Header append X-Multi b
Header add X-Multi c
Header merge X-Multi b
Header merge X-Multi d
Header merge X-M2 "x"
Header merge X-M2 "x"
Header setifempty X-Multi nope
Header setifempty X-Empty filled
Header set X-Fmt "e=%{NOPE}e s=%{SSL_PROTOCOL}s pct=%% end%"
Header set X-Time "%t %D"
Header set X-Esc "a\tb\\c\qd"
Header echo ^X-Req
Header set X-Ed "hello world hello"
Header edit X-Ed hello bye
Header set X-Ed2 "hello world hello"
Header edit* X-Ed2 "h(e)llo" "J$1"
Header note X-Succ mynote
SetEnvIf Request_URI "^/a" IS_A=1
Header set X-IfA yes env=IS_A
Header set X-NotA yes env=!IS_A
Header set X-EnvVal "%{IS_A}e"
Header set X-Early yes early
RequestHeader set X-Req-Early yes early
SetEnvIf X-Req-Early yes SAW_EARLY=1
Header set X-Saw-Early "%{SAW_EARLY}e"
RequestHeader set X-In from-config
RequestHeader append X-Req-One more
RequestHeader unset X-Req-Drop
Header echo ^X-In$
<Location /bad>
  Header set X-Bad "a\nb"
</Location>
<Location /badalways>
  Header always set X-Bad "a\rb"
</Location>
<Location /ct>
  Header set Content-Type "text/x-foo"
</Location>
<Location /un>
  Header unset X-Succ
  Header always unset X-Always
</Location>
<Location /ed>
  Header always set X-Order parent
</Location>
<Directory ${root}/htdocs/ed>
  Header always append X-Order child
</Directory>
`;

const srv = useServer(conf, { root });

async function get(p: string, headers: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(srv.url + p, { redirect: "manual", headers });
  await res.arrayBuffer();
  return res;
}

describe("Header actions on a 200", () => {
  test("set, append, add, merge, setifempty", async () => {
    const h = (await get("/a.txt")).headers;
    expect(h.get("x-succ")).toBe("yes");
    expect(h.get("x-always")).toBe("yes");
    // Apache sends "a, b, d" and a second "c" field; Fetch joins fields, in order of addition.
    expect(h.get("x-multi")).toBe("a, b, c, d");
    expect(h.get("x-m2")).toBe("x");
    expect(h.get("x-empty")).toBe("filled");
  });

  test("format specifiers and escapes", async () => {
    const h = (await get("/a.txt")).headers;
    expect(h.get("x-fmt")).toBe("e=(null) s=(null) pct=% end%");
    expect(h.get("x-esc")).toBe("a\tb\\c\\qd");
    const [t, d] = h.get("x-time")!.split(" ");
    const micros = Number(t!.slice(2));
    expect(t!.startsWith("t=")).toBe(true);
    expect(Math.abs(micros / 1000 - Date.now())).toBeLessThan(5000);
    expect(d).toMatch(/^D=\d+$/);
  });

  test("edit replaces the first match, edit* every match, with $1", async () => {
    const h = (await get("/a.txt")).headers;
    expect(h.get("x-ed")).toBe("bye world hello");
    expect(h.get("x-ed2")).toBe("Je world Je");
  });

  test("echo copies matching request headers", async () => {
    const h = (await get("/a.txt", { "X-Req-One": "1", "X-Req-Two": "2", "X-Other": "no" })).headers;
    expect(h.get("x-req-one")).toBe("1, more");
    expect(h.get("x-req-two")).toBe("2");
    expect(h.get("x-other")).toBeNull();
  });

  test("env= and env=! follow SetEnvIf; %{VAR}e reads the environment", async () => {
    const a = (await get("/a.txt")).headers;
    expect(a.get("x-ifa")).toBe("yes");
    expect(a.get("x-nota")).toBeNull();
    expect(a.get("x-envval")).toBe("1");
    const b = (await get("/b.txt")).headers;
    expect(b.get("x-ifa")).toBeNull();
    expect(b.get("x-nota")).toBe("yes");
    expect(b.get("x-envval")).toBe("(null)");
  });

  test("set Content-Type changes the response type", async () => {
    const h = (await get("/ct/f.txt")).headers;
    expect(h.get("content-type")).toBe("text/x-foo");
  });

  test("unset removes headers set at the server level", async () => {
    const h = (await get("/un/f.txt")).headers;
    expect(h.get("x-succ")).toBeNull();
    expect(h.get("x-always")).toBeNull();
    expect(h.get("x-multi")).toBe("a, b, c, d");
  });

  test("sections merge: the parent's rules first, then the deeper section's", async () => {
    // Directory sections merge before Location ones, so the Location's `set` comes last.
    expect((await get("/ed/f.txt")).headers.get("x-order")).toBe("parent");
  });
});

describe("always vs onsuccess", () => {
  test("a 404 page carries only `always` headers", async () => {
    const res = await fetch(srv.url + "/nothere");
    expect(res.status).toBe(404);
    expect(res.headers.get("x-always")).toBe("yes");
    expect(res.headers.get("x-succ")).toBeNull();
    expect(res.headers.get("x-multi")).toBeNull();
    // An `early` onsuccess header went to headers_out, which the error path drops.
    expect(res.headers.get("x-early")).toBeNull();
    expect(await res.text()).toContain("<title>404 Not Found</title>");
  });

  test("so does a redirect from mod_alias", async () => {
    const res = await get("/old");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("http://example.com/new");
    expect(res.headers.get("x-always")).toBe("yes");
    expect(res.headers.get("x-succ")).toBeNull();
  });

  test("a 304 is built on the normal path: onsuccess rules apply too (observed on 2.4.71)", async () => {
    const etag = (await get("/a.txt")).headers.get("etag");
    expect(etag).not.toBeNull();
    const res = await get("/a.txt", { "If-None-Match": etag! });
    expect(res.status).toBe(304);
    expect(res.headers.get("x-succ")).toBe("yes");
    expect(res.headers.get("x-always")).toBe("yes");
  });

  test("over raw TCP the 404 has X-Always and no X-Succ", async () => {
    const raw = await rawRequest(srv.port, "GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(statusOf(raw)).toBe(404);
    expect(raw.toLowerCase()).toContain("\r\nx-always: yes\r\n");
    expect(raw.toLowerCase()).not.toContain("x-succ");
  });
});

describe("RequestHeader", () => {
  test("set, append and unset act on the request before the handler", async () => {
    const h = (await get("/a.txt", { "X-Req-Drop": "gone", "X-Req-One": "1" })).headers;
    expect(h.get("x-in")).toBe("from-config");
    expect(h.get("x-req-one")).toBe("1, more");
    expect(h.get("x-req-drop")).toBeNull();
  });

  test("early rules run in post_read_request, before SetEnvIf", async () => {
    const h = (await get("/a.txt")).headers;
    expect(h.get("x-saw-early")).toBe("1");
    expect(h.get("x-early")).toBe("yes");
    expect(h.get("x-req-early")).toBe("yes");
  });
});

describe("invalid characters (AH02430)", () => {
  test("an onsuccess value with a newline turns a 200 into Apache's 500 page", async () => {
    const raw = await rawRequest(srv.port, "GET /bad/f.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(statusOf(raw)).toBe(500);
    expect(raw).toContain("<title>500 Internal Server Error</title>");
    expect(raw.toLowerCase()).toContain("\r\nx-always: yes\r\n");
    expect(raw.toLowerCase()).toContain("\r\nconnection: close\r\n");
    expect(raw.toLowerCase()).not.toContain("x-bad");
  });

  test("an always value with a CR on an error page gives an empty 500", async () => {
    const raw = await rawRequest(srv.port, "GET /badalways HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(statusOf(raw)).toBe(500);
    expect(raw.toLowerCase()).toContain("\r\ncontent-length: 0\r\n");
    expect(raw.toLowerCase()).not.toContain("x-bad");
    expect(raw.endsWith("\r\n\r\n")).toBe(true);
  });

  test("the error log names the header and the escaped value", async () => {
    await flushLogs();
    const log = fs.readFileSync(errorLog, "utf8");
    expect(log).toContain("AH02430: Response header 'X-Bad' value of 'a\\nb' contains invalid characters, aborting request");
    expect(log).toContain("AH02430: Response header 'X-Bad' value of 'a\\rb' contains invalid characters, aborting request");
    expect(log).toContain("[http:error]");
  });
});

describe("configuration errors (Apache's wording)", () => {
  const cases: [string, string][] = [
    ["Header foo X y", "first argument must be 'add', 'set', 'setifempty', 'append', 'merge', 'unset', 'echo', 'note', 'edit', or 'edit*'."],
    ["Header always foo X y", "first argument must be"],
    ["RequestHeader always set X y", "first argument must be"],
    ["Header set X", "Header requires three arguments"],
    ["Header set X y z", "Unknown parameter: z"],
    ["Header set X y env=", "error: missing environment variable name. envclause should be in the form env=envar "],
    ["Header set X y env=!", "error: missing environment variable name."],
    ["Header edit X y", "Header edit requires a match and a substitution"],
    ["Header edit X ( z", "Header edit regex could not be compiled"],
    ["Header unset X y z", "header unset takes two arguments"],
    ["Header echo X y z", "Header echo takes two arguments"],
    ["RequestHeader echo X", "Header echo only valid on Header directives"],
    ["RequestHeader note X y", "RequestHeader does not support the 'note' action"],
    ["Header set X %Z", "Unrecognized header format %Z"],
    ["Header set X y a b c", "Header has too many arguments"],
    ["Header set X y expr=%{NOPE}", "Can't parse envclause/expression: Variable 'NOPE' does not exist (column 3)"],
    ["Header set X expr=%{REQUEST_URI", "Can't parse value expression : "],
  ];
  for (const [text, message] of cases) {
    test(text, async () => {
      const r = tempDir();
      await expect(startTestServer(`DocumentRoot ${r}\n${text}\n`, { root: r })).rejects.toThrow(message);
    });
  }
});

describe("parsing", () => {
  test("formats split into literals and specifiers", () => {
    expect(compileFormat("a %t b %{X}e %% %")).toEqual(["a ", { tag: "t", arg: "" }, " b ", { tag: "e", arg: "X" }, " % %"]);
    expect(compileFormat("\\n\\%t")).toEqual(["\n\\", { tag: "t", arg: "" }]);
  });

  test("a colon after the header name is dropped; always selects the always table", () => {
    const p = parseHeaderArgs("Header", ["always", "set", "X-A:", "v"], { name: "Header", args: [], file: "t", line: 1 });
    if (typeof p === "string") throw new Error(p);
    expect(p.table).toBe("err");
    expect(p.rule.header).toBe("X-A");
    expect(p.rule.constant).toBe("v");
  });
});
