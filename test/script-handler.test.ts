// mod_script handlers: ScriptMapHandler and script-handler, mod_lua's handler contract and the `r` API.
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { flushLogs } from "../src/log/error-log.ts";
import { rawRequest, startTestServer, tempDir, writeTree } from "./helpers.ts";
import type { TestServer } from "./helpers.ts";

const root = tempDir("mosaic-script-");

const SCRIPTS: Record<string, string> = {
  // The script of apache-samples/lua-handler-exchange.txt, in JavaScript.
  "scripts/hello.js": `export function handle(r) {
  r.content_type = "text/plain";
  r.puts("hello from script\\n");
  r.puts("method=", r.method, " uri=", r.uri, " args=", r.args, "\\n");
  const [g] = r.parseargs();
  for (const k of Object.keys(g)) r.puts("arg ", k, "=", g[k], "\\n");
  r.headers_out["X-Lua"] = "yes";
  r.info("script handler ran for " + r.uri);
  return OK;
}
`,
  "scripts/status.js": `export function handle(r) {
  const [a] = r.parseargs();
  const s = Number(a.s ?? "200");
  switch (a.m ?? "ret") {
    case "field":
      r.status = s;
      r.content_type = "text/plain";
      r.puts("set r.status=", s, "\\n");
      return OK;
    case "redir":
      r.headers_out["Location"] = "http://example.com/";
      return 302;
    case "declined":
      return DECLINED;
    case "done":
      r.puts("done body\\n");
      return DONE;
    case "nil":
      r.puts("no return value\\n");
      return;
    default:
      return s;
  }
}
`,
  "scripts/typed.ts": `import type { ScriptRequest } from "mosaic-script";
import { OK } from "mosaic-script";

interface Greeting {
  text: string;
}

export async function handle(r: ScriptRequest): Promise<number> {
  const g: Greeting = { text: "typed " + r.method };
  await r.sleep(5);
  r.content_type = "text/plain";
  r.puts(g.text);
  return OK;
}

export function boom(r: ScriptRequest): number {
  const n: number = 1;
  throw new Error("boom " + n);
}
`,
  "scripts/syntax.js": "export function handle(r) {\n  return (;\n}\n",
  "scripts/classic.js": "function handle(r) {\n  r.content_type = 'text/plain';\n  r.puts('classic');\n}\nfunction broken(r) {\n  null.x;\n}\n",
  "scripts/ret.js": `export const text = () => "a string body";
export const json = () => mosaic.Response.json({ ok: true, n: 1 }, { status: 201, headers: { "X-R": "1" } });
export const bytes = (r) => { r.content_type = "application/octet-stream"; r.write("ab"); r.write(new Uint8Array([0, 255])); r.write("cd"); };
export const readonly = (r) => { r.method = "POST"; };
export const redirect = (r) => r.redirect("/elsewhere", 301);
export const internal = (r) => r.internal_redirect("/index.html");
export const errh = (r) => { r.err_headers_out["X-Err"] = "kept"; r.headers_out["X-Out"] = "dropped"; return 404; };
export const errh200 = (r) => { r.err_headers_out["X-Err"] = "also"; r.puts("ok"); };
export const teapot = () => 418;
export const invalid = () => ({});
export const stream = async (r) => { r.status = 201; r.content_type = "text/event-stream"; r.puts("data: one\\n\\n"); r.flush(); await r.sleep(250); r.headers_out["X-Late"] = "ignored"; r.puts("data: two\\n\\n"); r.flush(); r.puts("end"); };
export const streamfail = async (r) => { r.puts("partial"); r.flush(); await r.sleep(20); throw new Error("after the head"); };
export const notes = (r) => { r.notes["fromscript"] = "n1"; r.subprocess_env["SCRIPT_VAR"] = "v1"; r.puts("noted"); };
`,
  "scripts/api.js": `export function handle(r) {
  r.content_type = "text/plain";
  const [one, all] = r.parseargs();
  r.puts(JSON.stringify(one), "\\n", JSON.stringify(all), "\\n");
  r.puts(r.escape("a b&c~"), " ", r.unescape("a%20b+c"), " ", r.escape_html("<a href=\\"x\\">&</a>"), "\\n");
  r.puts(r.base64_encode("hi"), " ", r.base64_decode("aGk="), "\\n");
  r.puts(r.md5("abc"), " ", r.sha1("abc"), "\\n", r.sha256("abc"), "\\n");
  r.puts(r.construct_url("/x"), " ", typeof r.clock(), "\\n");
  r.puts(r.getcookie("b"), " ", JSON.stringify(r.cookies()), "\\n");
  r.setcookie({ key: "s", value: "1", path: "/", httponly: true });
  r.setcookie({ key: "t", value: "2", secure: true, expires: 0 });
}
`,
  "scripts/dump.js": `export function handle(r) {
  r.content_type = "text/plain";
  for (const k of ["method", "uri", "unparsed_uri", "the_request", "protocol", "args", "path_info", "hostname",
    "handler", "status", "useragent_ip", "is_https", "is_initial_req", "user", "content_type", "server_name"]) {
    r.puts(k, " = ", String(r[k]), " (", typeof r[k], ")\\n");
  }
  r.puts("headers_in[Host] = ", r.headers_in["host"], "\\n");
  r.puts("keys = ", Object.keys(r.headers_in).includes("host") ? "has host" : "no host", "\\n");
}
`,
  "scripts/body.js": `export async function form(r) {
  const [one, all] = await r.parsebody();
  r.content_type = "text/plain";
  r.puts(JSON.stringify(one), "\\n", JSON.stringify(all), "\\n");
}
export async function raw(r) {
  r.puts("[", await r.requestbody(), "]");
}
export async function small(r) {
  await r.parsebody(4);
}
`,
  "scripts/app/users.js": "export const handle_list = (r) => 'list of users';\nexport const handle_show = (r) => 'one user';\n",
  "htdocs/index.html": "index page\n",
  "htdocs/run/page.js": "export function handle(r) { r.content_type = 'text/plain'; r.puts('ran ' + r.filename.split('/').pop()); }\n",
  "htdocs/add/page.ts": "export function handle(r: { puts(s: string): void; handler: string }) { r.puts('added ' + r.handler); }\n",
  "htdocs/add/plain.txt": "not a script\n",
};

let srv: TestServer;
const CONF = `
DocumentRoot ${root}/htdocs
ErrorLog logs/error_log
LogLevel info
LogFormat "%r %>s note=%{fromscript}n env=%{SCRIPT_VAR}e" notes
CustomLog logs/access_log notes
ScriptRoot ${root}/scripts
ScriptMapHandler ^/lua/(\\w+)$ $1.js
ScriptMapHandler ^/ts/(\\w+)$ typed.ts $1
ScriptMapHandler ^/ret/(\\w+)$ ret.js $1
ScriptMapHandler ^/classic/(\\w+)$ classic.js $1
ScriptMapHandler ^/body/(\\w+)$ body.js $1
ScriptMapHandler ^/app/(\\w+)/(\\w+)$ app/$1.js handle_$2
ScriptMapHandler ^/missing$ nowhere.js
<Directory ${root}/htdocs/run>
  SetHandler script-handler
</Directory>
<Directory ${root}/htdocs/add>
  AddHandler script-handler .js .ts
</Directory>
`;

async function errorLog(): Promise<string> {
  await flushLogs();
  return fs.readFileSync(path.join(root, "logs/error_log"), "utf8");
}

const get = (p: string, init?: RequestInit) => fetch(srv.url + p, init);

describe("script handlers", () => {
  test("setup", async () => {
    writeTree(root, SCRIPTS);
    srv = await startTestServer(CONF, { root });
  });
  afterAll(async () => {
    await srv?.[Symbol.asyncDispose]();
  });

  test("the mod_lua hello exchange, in JavaScript", async () => {
    const res = await get("/lua/hello?a=1&b=two&a=3");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(res.headers.get("x-lua")).toBe("yes");
    const body = "hello from script\nmethod=GET uri=/lua/hello args=a=1&b=two&a=3\narg a=3\narg b=two\n";
    expect(await res.text()).toBe(body);
    expect(res.headers.get("content-length")).toBe(String(body.length));
    expect(await errorLog()).toMatch(/\[script:info\] \[pid \d+:tid \d+\] \[client 127\.0\.0\.1:\d+\] hello\.js\(8\): script handler ran for \/lua\/hello\n/);
  });

  test("return values follow mod_lua: OK, DONE, nothing, DECLINED, a status", async () => {
    const cases: [string, number, string | null][] = [
      ["s=404", 404, null],
      ["s=418", 500, null],
      ["s=200", 200, null],
      ["s=503", 503, null],
      ["m=field&s=201", 201, "set r.status=201\n"],
      ["m=declined", 404, null],
      ["m=done", 200, "done body\n"],
      ["m=nil", 200, "no return value\n"],
    ];
    for (const [q, status, body] of cases) {
      const res = await get(`/lua/status?${q}`);
      expect([q, res.status]).toEqual([q, status]);
      const text = await res.text();
      if (body !== null) expect(text).toBe(body);
      else expect(text).toContain(`<title>${status} `);
    }
    const redir = await get("/lua/status?m=redir", { redirect: "manual" });
    expect(redir.status).toBe(302);
    expect(redir.headers.get("location")).toBe("http://example.com/");
    expect(await redir.text()).toContain('<a href="http://example.com/">here</a>');
  });

  test("HEAD through ScriptMapHandler runs the script and keeps its headers", async () => {
    const raw = await rawRequest(srv.port, "HEAD /lua/hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    expect(raw).toStartWith("HTTP/1.1 200 OK\r\n");
    expect(raw.toLowerCase()).toContain("x-lua: yes\r\n");
    expect(raw.toLowerCase()).toContain(`content-length: ${"hello from script\nmethod=HEAD uri=/lua/hello args=\n".length}\r\n`);
    expect(raw.endsWith("\r\n\r\n")).toBe(true);
  });

  test("TypeScript is transpiled; async handlers and r.sleep work", async () => {
    const res = await get("/ts/handle");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("typed GET");
  });

  test("a runtime error is a 500 with file:line of the TypeScript source in the error log", async () => {
    const res = await get("/ts/boom");
    expect(res.status).toBe(500);
    expect(await errorLog()).toContain(`[script:warn]`);
    expect(await errorLog()).toMatch(new RegExp(`AH01471: Script error: ${root}/scripts/typed\\.ts:18: boom 1\\n`));
  });

  test("a syntax error is a 500 with file:line, and the server keeps serving", async () => {
    const res = await get("/lua/syntax");
    expect(res.status).toBe(500);
    expect(await errorLog()).toMatch(new RegExp(`AH01471: Script error: ${root}/scripts/syntax\\.js:2: `));
    expect((await get("/index.html")).status).toBe(200);
  });

  test("a file without exports is a classic script: its top-level functions are found", async () => {
    const res = await get("/classic/handle");
    expect(await res.text()).toBe("classic");
    expect((await get("/classic/broken")).status).toBe(500);
    expect(await errorLog()).toMatch(new RegExp(`AH01471: Script error: ${root}/scripts/classic\\.js:6: `));
  });

  test("$1..$9 fill in the file and the function name", async () => {
    expect(await (await get("/app/users/list")).text()).toBe("list of users");
    expect(await (await get("/app/users/show")).text()).toBe("one user");
    const res = await get("/app/users/nope");
    expect(res.status).toBe(500);
    expect(await errorLog()).toContain(`app/users.js: function handle_nope is not defined`);
  });

  test("a mapped file that does not exist is a 500", async () => {
    expect((await get("/missing")).status).toBe(500);
    expect(await errorLog()).toContain(`AH01481: Script file not found: ${root}/scripts/nowhere.js`);
  });

  test("return a string, a Response, or write bytes", async () => {
    const t = await get("/ret/text");
    expect(t.headers.get("content-type")).toBeNull();
    expect(await t.text()).toBe("a string body");
    const j = await get("/ret/json");
    expect(j.status).toBe(201);
    expect(j.headers.get("content-type")).toBe("application/json");
    expect(j.headers.get("x-r")).toBe("1");
    expect(await j.json()).toEqual({ ok: true, n: 1 });
    const b = await get("/ret/bytes");
    expect(b.headers.get("content-type")).toBe("application/octet-stream");
    expect([...new Uint8Array(await b.arrayBuffer())]).toEqual([97, 98, 0, 255, 99, 100]);
  });

  test("r.flush() streams: the head and the first chunk go out before the handler returns", async () => {
    const t0 = performance.now();
    const res = await get("/ret/stream");
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toBe("data: one\n\n");
    expect(performance.now() - t0).toBeLessThan(200);
    let rest = "";
    for (let c = await reader.read(); !c.done; c = await reader.read()) rest += new TextDecoder().decode(c.value);
    expect(rest).toBe("data: two\n\nend");
    expect(res.headers.get("x-late")).toBeNull();
    // An error after the head can only cut the response short; it is logged as any script error.
    const broken = await get("/ret/streamfail");
    expect(broken.status).toBe(200);
    expect(await broken.text().catch(() => "cut")).toMatch(/^(partial|cut)$/);
    expect(await errorLog()).toContain("ret.js:12: after the head");
  });

  test("read-only fields refuse assignment, as mod_lua does", async () => {
    expect((await get("/ret/readonly")).status).toBe(500);
    expect(await errorLog()).toContain("ret.js:4: Property [method] may not be set on a request_rec");
  });

  test("redirects: r.redirect() and r.internal_redirect()", async () => {
    const r1 = await get("/ret/redirect", { redirect: "manual" });
    expect(r1.status).toBe(301);
    expect(r1.headers.get("location")).toBe("/elsewhere");
    const r2 = await get("/ret/internal");
    expect(r2.status).toBe(200);
    expect(await r2.text()).toBe("index page\n");
  });

  test("err_headers_out go out on errors and on success; headers_out only on success", async () => {
    const e = await get("/ret/errh");
    expect(e.status).toBe(404);
    expect(e.headers.get("x-err")).toBe("kept");
    expect(e.headers.get("x-out")).toBeNull();
    const ok = await get("/ret/errh200");
    expect(ok.headers.get("x-err")).toBe("also");
  });

  test("a code Apache has no reason phrase for (418) answers 500; a bad return value is an error", async () => {
    expect((await get("/ret/teapot")).status).toBe(500);
    expect((await get("/ret/invalid")).status).toBe(500);
    expect(await errorLog()).toContain("a script function must return a number, a string, a Response or nothing");
  });

  test("notes and subprocess_env reach the access log", async () => {
    expect(await (await get("/ret/notes")).text()).toBe("noted");
    await flushLogs();
    const log = fs.readFileSync(path.join(root, "logs/access_log"), "utf8");
    expect(log).toContain("GET /ret/notes HTTP/1.1 200 note=n1 env=v1\n");
  });

  test("parseargs keeps every value; escaping, base64, digests, cookies", async () => {
    const res = await get("/lua/api?a=1&b=x%20y&a=3&c", { headers: { Cookie: "a=1; b=two" } });
    const lines = (await res.text()).split("\n");
    expect(lines[0]).toBe('{"a":"3","b":"x y","c":""}');
    expect(lines[1]).toBe('{"a":["1","3"],"b":["x y"],"c":[""]}');
    expect(lines[2]).toBe("a+b%26c%7E a b c &lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
    expect(lines[3]).toBe("aGk= hi");
    expect(lines[4]).toBe("900150983cd24fb0d6963f7d28e17f72 a9993e364706816aba3e25717850c26c9cd0d89d");
    expect(lines[5]).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(lines[6]).toBe(`http://127.0.0.1:${srv.port}/x number`);
    expect(lines[7]).toBe('two {"a":"1","b":"two"}');
    expect(res.headers.getSetCookie()).toEqual([
      "s=1; Path=/; HttpOnly",
      "t=2; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure",
    ]);
  });

  test("the request fields, as mod_lua names them", async () => {
    const text = await (await get("/lua/dump?x=1&y=%20z")).text();
    expect(text).toContain("method = GET (string)\n");
    expect(text).toContain("uri = /lua/dump (string)\n");
    expect(text).toContain("unparsed_uri = /lua/dump?x=1&y=%20z (string)\n");
    expect(text).toContain("the_request = GET /lua/dump?x=1&y=%20z HTTP/1.1 (string)\n");
    expect(text).toContain("protocol = HTTP/1.1 (string)\n");
    expect(text).toContain("args = x=1&y=%20z (string)\n");
    expect(text).toContain("handler = script-map-handler (string)\n");
    expect(text).toContain("status = 200 (number)\n");
    expect(text).toContain("useragent_ip = 127.0.0.1 (string)\n");
    expect(text).toContain("is_https = false (boolean)\n");
    expect(text).toContain("is_initial_req = true (boolean)\n");
    expect(text).toContain("user = null (object)\n");
    expect(text).toContain(`headers_in[Host] = 127.0.0.1:${srv.port}\n`);
    expect(text).toContain("keys = has host\n");
  });

  test("parsebody: urlencoded and multipart keep every value; requestbody gives the text", async () => {
    const u = await get("/body/form", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "a=1&b=x+y&a=2",
    });
    expect(await u.text()).toBe('{"a":"2","b":"x y"}\n{"a":["1","2"],"b":["x y"]}\n');
    const fd = new FormData();
    fd.append("f", "one");
    fd.append("f", "two");
    fd.append("file", new Blob(["file text"]), "a.txt");
    const m = await get("/body/form", { method: "POST", body: fd });
    expect(await m.text()).toBe('{"f":"two","file":"file text"}\n{"f":["one","two"],"file":["file text"]}\n');
    const raw = await get("/body/raw", { method: "POST", body: "plain body" });
    expect(await raw.text()).toBe("[plain body]");
    expect((await get("/body/small", { method: "POST", body: "a=12345" })).status).toBe(500);
  });

  test("SetHandler script-handler runs the requested file's handle; HEAD does not run it", async () => {
    const res = await get("/run/page.js");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ran page.js");
    const head = await rawRequest(srv.port, "HEAD /run/page.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(head).toStartWith("HTTP/1.1 200 OK\r\n");
    expect(head.toLowerCase()).toContain("content-length: 0\r\n");
    expect((await get("/run/nothing.js")).status).toBe(404);
  });

  test("AddHandler script-handler .js .ts runs scripts by extension; other files are served", async () => {
    expect(await (await get("/add/page.ts")).text()).toBe("added script-handler");
    expect(await (await get("/add/plain.txt")).text()).toBe("not a script\n");
  });
});

describe("script directives refuse bad values, as Apache would", () => {
  test.each([
    ["ScriptScope forever", "Invalid value for ScriptScope, 'forever', acceptable values are: 'once', 'request', 'conn', 'thread', 'server'"],
    ["ScriptScope thread 1 2", "ScriptScope takes min and max only with 'server'"],
    ["ScriptCodeCache sometimes", "Invalid value for ScriptCodeCache, 'sometimes', acceptable values are: 'stat', 'forever', 'never'"],
    ["ScriptMapHandler ^/(x a.js", "Regular expression could not be compiled"],
    ["ScriptTimeout soon", "ScriptTimeout: invalid time value"],
    ["ScriptMemoryLimit lots", "ScriptMemoryLimit: invalid size"],
    ["ScriptAllow network", "ScriptAllow: unknown capability 'network'"],
    ["ScriptHookAccessChecker a.js f sometime", "Third argument must be 'early' or 'late'"],
    ["ScriptAuthzProvider all a.js f", "ScriptAuthzProvider: an authorization provider named 'all' already exists"],
    ["ScriptWorkers 65", "ScriptWorkers must be between 0 and 64"],
    ["<Location /x>\nScriptHookTranslateName a.js f\n</Location>", "ScriptHookTranslateName not allowed in <Location> context"],
  ])("%s", async (line, message) => {
    const r = tempDir("mosaic-script-conf-");
    const err = await startTestServer(`DocumentRoot ${r}\n${line}\n`, { root: r }).then(
      (s) => s[Symbol.asyncDispose]().then(() => "started"),
      (e: Error) => e.message,
    );
    expect(err).toContain(message);
  });
});
