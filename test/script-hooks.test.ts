// Script hooks in every phase (mod_lua's LuaHook* and LuaQuickHandler), ScriptAuthzProvider with
// Require, ScriptOutputFilter, ScriptInherit, and what ScriptAllow grants.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { flushLogs } from "../src/log/error-log.ts";
import { startTestServer, tempDir, writeTree } from "./helpers.ts";
import type { TestServer } from "./helpers.ts";

const HOOKS = `
function trace(r, name) { r.notes["trace"] = (r.notes["trace"] ? r.notes["trace"] + "," : "") + name; }
export function quick(r) {
  if (r.uri !== "/quick") return DECLINED;
  r.content_type = "text/plain";
  r.puts("answered by the quick handler");
  return OK;
}
export function translate(r) {
  trace(r, "translate");
  if (!r.uri.startsWith("/virtual/")) return DECLINED;
  r.filename = r.document_root + "/index.html";
  return OK;
}
export function mapstore(r) { trace(r, "map_to_storage"); return DECLINED; }
export function header(r) { trace(r, "header_parser"); }
export function access(r) { trace(r, "access"); return r.headers_in["X-Block"] ? 403 : OK; }
export function authn(r) { trace(r, "check_user_id"); if (!r.headers_in["X-User"]) return DECLINED; r.user = r.headers_in["X-User"]; return OK; }
export function authz(r) { trace(r, "auth_checker"); return r.user === "alice" ? OK : 401; }
export function type(r) {
  trace(r, "type_checker");
  if (!r.uri.endsWith(".special")) return DECLINED;
  r.content_type = "text/x-special";
  return OK;
}
export function fixup(r) { trace(r, "fixups"); r.headers_out["X-Fixup"] = "ran"; }
export function early(r) { trace(r, "early"); }
export function late(r) { trace(r, "late"); }
export function done(r) { r.puts("a fixup finished this request"); return DONE; }
export function show(r) { r.content_type = "text/plain"; r.puts(r.notes["trace"] + " user=" + r.user); }
export function logit(r) { r.info("log hook saw " + r.uri + " " + r.status); }
export function weekday(r, ...names) { return names.includes(r.headers_in["X-Name"]) ? AUTHZ_GRANTED : AUTHZ_DENIED; }
export function brokenProvider(r) { throw new Error("provider broke"); }
`;

const FILTERS = `
export async function* upper(r, chunks) {
  yield "[prefix]";
  for await (const c of chunks) yield c.toUpperCase();
  yield "[suffix]";
}
export function reverse(r, chunks) {
  return (async () => { let s = ""; for await (const c of chunks) s += c; return [...s].reverse().join(""); })();
}
`;

const CAPS = `
export async function handle(r) {
  const out = [typeof globalThis.fetch, typeof globalThis.env, typeof globalThis.files];
  if (typeof fetch === "function") {
    const res = await fetch(r.construct_url("/index.html"));
    out.push(res.status + ":" + (await res.text()).trim());
    try { await fetch("file:///etc/passwd"); out.push("file fetched"); } catch (e) { out.push(e.message); }
  }
  if (typeof env === "object") out.push(env.PATH === undefined ? "no PATH" : "PATH " + env.PATH.length);
  if (typeof files === "object") {
    await files.write("out.txt", "written by a script");
    out.push(await files.read("out.txt"), (await files.stat("out.txt")).size, (await files.list(".")).includes("caps.js"));
  }
  return out.join(" ");
}
`;

const root = tempDir("mosaic-hooks-");
let srv: TestServer;
const get = (p: string, headers: Record<string, string> = {}) => fetch(srv.url + p, { headers });

describe("script hooks", () => {
  beforeAll(async () => {
    writeTree(root, {
      "htdocs/index.html": "index\n",
      "htdocs/page.html": "hello\n",
      "htdocs/filtered/page.html": "hello\n",
      "htdocs/rev/page.html": "abc",
      "htdocs/a.special": "special\n",
      "htdocs/shout.up": "quiet\n",
      "scripts/hooks.js": HOOKS,
      "scripts/filters.js": FILTERS,
      "scripts/caps.js": CAPS,
    });
    srv = await startTestServer(
      `DocumentRoot ${root}/htdocs
ErrorLog logs/error_log
LogLevel info
ScriptRoot ${root}/scripts
ScriptScope thread
ScriptAuthzProvider name-is hooks.js weekday
ScriptAuthzProvider broken hooks.js brokenProvider
ScriptOutputFilter UPPER filters.js upper
ScriptOutputFilter REVERSE filters.js reverse
ScriptQuickHandler hooks.js quick
ScriptHookTranslateName hooks.js translate
ScriptHookMapToStorage hooks.js mapstore
ScriptHookHeaderParser hooks.js header
ScriptHookTypeChecker hooks.js type
ScriptHookFixups hooks.js fixup
ScriptHookLog hooks.js logit
ScriptMapHandler ^/trace hooks.js show
<Location /trace/secure>
  ScriptHookAccessChecker hooks.js access
  ScriptHookCheckUserID hooks.js authn
  ScriptHookAuthChecker hooks.js authz
</Location>
<Location /trace/order>
  ScriptHookAccessChecker hooks.js late late
  ScriptHookAccessChecker hooks.js early early
</Location>
<Location /trace/order/none>
  ScriptInherit none
  ScriptHookAccessChecker hooks.js early
  ScriptMapHandler ^/trace hooks.js show
</Location>
<Location /done>
  ScriptHookFixups hooks.js done
</Location>
<Location /authz>
  Require name-is bob carol
</Location>
ScriptMapHandler ^/authz hooks.js show
<Location /authz-broken>
  Require broken
</Location>
<Location /filtered/>
  ScriptSetOutputFilter UPPER
</Location>
AddOutputFilter UPPER .up
<Location /rev/>
  ScriptSetOutputFilter REVERSE;UPPER
</Location>
ScriptMapHandler ^/caps/ caps.js
<Location /caps/all>
  ScriptAllow fetch env files
</Location>
`,
      { root },
    );
  });
  afterAll(async () => {
    await srv?.[Symbol.asyncDispose]();
  });

  test("the quick handler answers before any other phase", async () => {
    const res = await get("/quick");
    expect(await res.text()).toBe("answered by the quick handler");
    expect(res.headers.get("x-fixup")).toBeNull();
  });

  test("every phase runs its hook, in Apache's order", async () => {
    const res = await get("/trace/x");
    expect(await res.text()).toBe("translate,map_to_storage,header_parser,type_checker,fixups user=null");
    expect(res.headers.get("x-fixup")).toBe("ran");
  });

  test("translate_name may map a URI to a file", async () => {
    expect(await (await get("/virtual/anything")).text()).toBe("index\n");
  });

  test("type_checker sets the content type of a static file", async () => {
    const res = await get("/a.special");
    expect(res.headers.get("content-type")).toBe("text/x-special");
  });

  test("access, check_user_id and auth_checker hooks", async () => {
    expect((await get("/trace/secure", { "X-Block": "1", "X-User": "alice" })).status).toBe(403);
    expect((await get("/trace/secure", { "X-User": "mallory" })).status).toBe(401);
    const ok = await get("/trace/secure", { "X-User": "alice" });
    expect(await ok.text()).toBe(
      "translate,map_to_storage,header_parser,access,check_user_id,auth_checker,type_checker,fixups user=alice",
    );
  });

  test("early and late hooks run first and last; ScriptInherit none drops the parent's", async () => {
    expect(await (await get("/trace/order")).text()).toBe(
      "translate,map_to_storage,header_parser,early,late,type_checker,fixups user=null",
    );
    // translate_name and map_to_storage run before the sections are walked: the server's hooks.
    const none = await get("/trace/order/none");
    expect(await none.text()).toBe("translate,map_to_storage,early user=null");
    expect(none.headers.get("x-fixup")).toBeNull();
  });

  test("a hook returning DONE answers with what it wrote", async () => {
    expect(await (await get("/done")).text()).toBe("a fixup finished this request");
  });

  test("the log hook runs after the response and can write to the error log", async () => {
    await get("/page.html");
    await Bun.sleep(100);
    await flushLogs();
    expect(fs.readFileSync(path.join(root, "logs/error_log"), "utf8")).toMatch(
      /\[script:info\] .*hooks\.js\(31\): log hook saw \/page\.html 200\n/,
    );
  });

  test("ScriptAuthzProvider backs a Require provider", async () => {
    expect((await get("/authz", { "X-Name": "carol" })).status).toBe(200);
    expect((await get("/authz", { "X-Name": "mallory" })).status).toBe(403);
    expect((await get("/authz-broken")).status).toBe(500);
  });

  test("an output filter reads chunks and writes chunks (mod_lua's prefix/suffix example); AddOutputFilter names it too", async () => {
    const res = await get("/filtered/page.html");
    const body = "[prefix]HELLO\n[suffix]";
    expect(await res.text()).toBe(body);
    expect(res.headers.get("content-length")).toBe(String(body.length));
    expect(await (await get("/rev/page.html")).text()).toBe("[prefix]CBA[suffix]");
    expect(await (await get("/shout.up")).text()).toBe("[prefix]QUIET\n[suffix]");
  });

  test("ScriptAllow: nothing beyond the request by default", async () => {
    expect(await (await get("/caps/none")).text()).toBe("undefined undefined undefined");
  });

  test("ScriptAllow fetch env files", async () => {
    const text = await (await get("/caps/all")).text();
    expect(text).toBe(
      `function object object 200:index fetch: file: URLs are not allowed PATH ${process.env.PATH!.length} written by a script 19 true`,
    );
  });
});
