// Script filters selected by name: ScriptInputFilter / ScriptOutputFilter with core's SetInputFilter /
// SetOutputFilter and mod_mime's AddInputFilter / AddOutputFilter, over real sockets.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { flushLogs } from "../src/log/error-log.ts";
import { startTestServer, tempDir, writeTree } from "./helpers.ts";
import type { TestServer } from "./helpers.ts";

const FILTERS = `
export async function* upper(r, chunks) { for await (const c of chunks) yield c.toUpperCase(); }
export async function* tagA(r, chunks) { for await (const c of chunks) yield c; yield "+a"; }
export async function* tagB(r, chunks) { for await (const c of chunks) yield c; yield "+b"; }
export async function* sizes(r, chunks) {
  const n = [];
  for await (const c of chunks) n.push(c.length);
  yield n.join(",");
}
export async function rot13(r, chunks) {
  let s = "";
  for await (const c of chunks) s += c;
  return s.replace(/[a-z]/g, (ch) => String.fromCharCode(((ch.charCodeAt(0) - 97 + 13) % 26) + 97));
}
export async function* broken(r, chunks) { yield "x"; throw new Error("input filter broke"); }
`;

const APP = `
export async function echo(r) { r.content_type = "text/plain"; return "body=" + (await r.requestbody()); }
export async function form(r) {
  const [one] = await r.parsebody();
  r.content_type = "text/plain";
  return Object.keys(one).map((k) => k + ":" + one[k]).join(" ");
}
export async function safe(r) {
  try { await r.requestbody(); return "read"; } catch (e) { return "failed: " + e.message; }
}
`;

const root = tempDir("mosaic-filters-");
let srv: TestServer;
const get = (p: string) => fetch(srv.url + p);
const post = (p: string, body: string, type = "text/plain") =>
  fetch(srv.url + p, { method: "POST", body, headers: { "Content-Type": type } });

describe("script filters", () => {
  beforeAll(async () => {
    writeTree(root, {
      "htdocs/plain/page.html": "hello\n",
      "htdocs/out/page.html": "hello\n",
      "htdocs/out/inner/page.html": "inner\n",
      "htdocs/out/off/page.html": "off\n",
      "htdocs/shout.up": "quiet\n",
      "htdocs/both/page.up": "x",
      "htdocs/upload/echo.js": APP.replace("export async function echo", "export async function handle"),
      "scripts/filters.js": FILTERS,
      "scripts/app.js": APP,
    });
    srv = await startTestServer(
      `DocumentRoot ${root}/htdocs
ErrorLog logs/error_log
ScriptRoot ${root}/scripts
ScriptScope thread
ScriptOutputFilter UPPER filters.js upper
ScriptOutputFilter TAG-A filters.js tagA
ScriptOutputFilter TAG-B filters.js tagB
ScriptInputFilter UPPER-IN filters.js upper
ScriptInputFilter SIZES filters.js sizes
ScriptInputFilter ROT13 filters.js rot13
ScriptInputFilter BROKEN filters.js broken
ScriptMapHandler ^/(echo|form|safe) app.js $1
<Location /out/>
  SetOutputFilter upper
</Location>
<Location /out/inner/>
  SetOutputFilter TAG-A;Tag-B
</Location>
<Location /out/off/>
  SetOutputFilter NO-SUCH-FILTER
</Location>
AddOutputFilter UPPER .up
<Location /both/>
  SetOutputFilter TAG-B
</Location>
<Location /echo/script>
  SetOutputFilter TAG-A
</Location>
<Location /echo/in>
  SetInputFilter UPPER-IN
</Location>
<Location /echo/chain>
  SetInputFilter NOPE;ROT13;UPPER-IN
</Location>
<Location /echo/sizes>
  SetInputFilter SIZES
</Location>
<Location /form/in>
  SetInputFilter UPPER-IN
</Location>
<Location /safe/broken>
  SetInputFilter BROKEN
</Location>
<Location /echo/broken>
  SetInputFilter BROKEN
</Location>
<Directory ${root}/htdocs/upload>
  SetHandler script-handler
  AddInputFilter ROT13 .js
</Directory>
`,
      { root },
    );
  });
  afterAll(async () => {
    await srv?.[Symbol.asyncDispose]();
  });

  test("SetOutputFilter in a <Location> filters a static file; files outside it are untouched", async () => {
    const res = await get("/out/page.html");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html");
    expect(res.headers.get("content-length")).toBe("6");
    expect(await res.text()).toBe("HELLO\n");
    const plain = await get("/plain/page.html");
    expect(await plain.text()).toBe("hello\n");
  });

  test("a deeper SetOutputFilter replaces the parent's list; names are case-insensitive, ';' chains in order", async () => {
    expect(await (await get("/out/inner/page.html")).text()).toBe("inner\n+a+b");
  });

  test("an unknown filter name is skipped at request time, as Apache does (it logs AH00082 there)", async () => {
    const res = await get("/out/off/page.html");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("off\n");
  });

  test("AddOutputFilter by extension on a static file", async () => {
    const res = await get("/shout.up");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("QUIET\n");
  });

  test("AddOutputFilter's filters run before SetOutputFilter's (mod_mime adds them first)", async () => {
    expect(await (await get("/both/page.up")).text()).toBe("X+b");
  });

  test("SetOutputFilter filters a script handler's response too", async () => {
    const res = await post("/echo/script", "abc");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("body=abc+a");
  });

  test("POST through SetInputFilter: r.requestbody() sees the filtered body", async () => {
    expect(await (await post("/echo/in", "hello there")).text()).toBe("body=HELLO THERE");
    // Without an input filter the body is as sent.
    expect(await (await post("/echo/plain", "hello there")).text()).toBe("body=hello there");
  });

  test("input filters chain in order, unknown names skipped", async () => {
    expect(await (await post("/echo/chain", "abc xyz")).text()).toBe("body=NOP KLM");
  });

  test("an input filter gets the body in 8 KB chunks", async () => {
    const res = await post("/echo/sizes", "z".repeat(20000));
    expect(await res.text()).toBe("body=8192,8192,3616");
  });

  test("r.parsebody() parses the filtered body", async () => {
    const res = await post("/form/in", "name=bob&city=paris", "application/x-www-form-urlencoded");
    expect(await res.text()).toBe("NAME:BOB CITY:PARIS");
  });

  test("AddInputFilter by extension, into a script-handler file", async () => {
    expect(await (await post("/upload/echo.js", "uryyb")).text()).toBe("body=hello");
  });

  test("a failing input filter: the body read fails (catchable), uncaught it is a 500 and a log line", async () => {
    expect(await (await post("/safe/broken", "abc")).text()).toBe("failed: the request body's input filter failed");
    const res = await post("/echo/broken", "abc");
    expect(res.status).toBe(500);
    await flushLogs();
    const log = fs.readFileSync(path.join(root, "logs/error_log"), "utf8");
    expect(log).toMatch(/\[script:warn\] .*AH01471: Script error: .*filters\.js:\d+: input filter broke\n/);
  });
});

describe("SetOutputFilter / SetInputFilter configuration", () => {
  test("take exactly one argument (Apache's wording)", async () => {
    const dir = tempDir("mosaic-filters-conf-");
    await expect(startTestServer(`DocumentRoot ${dir}\nSetOutputFilter A B\n`, { root: dir })).rejects.toThrow(
      "SetOutputFilter takes one argument, filter (or ; delimited list of filters) to be run on the request content",
    );
    await expect(startTestServer(`DocumentRoot ${dir}\nSetInputFilter A B\n`, { root: dir })).rejects.toThrow(
      "SetInputFilter takes one argument, filter (or ; delimited list of filters) to be run on the request body",
    );
  });

  test("ScriptSetOutputFilter still works (deprecated); SetOutputFilter wins where both apply", async () => {
    const dir = tempDir("mosaic-filters-alias-");
    writeTree(dir, { "htdocs/a/p.txt": "p", "htdocs/b/p.txt": "p", "filters.js": FILTERS });
    await using s = await startTestServer(
      `DocumentRoot ${dir}/htdocs
ScriptOutputFilter UPPER ${dir}/filters.js upper
ScriptOutputFilter TAG-A ${dir}/filters.js tagA
ScriptSetOutputFilter UPPER
<Location /b/>
  SetOutputFilter TAG-A
</Location>
`,
      { root: dir },
    );
    expect(await (await fetch(`${s.url}/a/p.txt`)).text()).toBe("P");
    expect(await (await fetch(`${s.url}/b/p.txt`)).text()).toBe("p+a");
  });
});
