// Adversarial scripts: every known way out of a node:vm context (bun.md §7), each one must fail.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { flushLogs } from "../src/log/error-log.ts";
import { startTestServer, tempDir, writeTree } from "./helpers.ts";
import type { TestServer } from "./helpers.ts";

/**
 * `probe(F)`: F is whatever Function-like thing an attempt reached. Inside a context code generation
 * is off, so its own Function throws; only a host Function would run the string, and reach `process`.
 */
const PRELUDE = `
function probe(get) {
  let F;
  try { F = get(); } catch (e) { return "blocked: " + describe(e); }
  if (typeof F !== "function") return "blocked: not a function (" + typeof F + ")";
  try { return "ESCAPED: " + F("return [typeof process, typeof Bun, typeof require].join()")(); }
  catch (e) { return "blocked: " + describe(e); }
}
function describe(e) {
  try { return e instanceof Error ? e.message : typeof e === "string" ? e : typeof e; } catch { return "?"; }
}
function hostly(v) {
  // An object of the host realm would not be an instance of this context's Object.
  return v !== null && (typeof v === "object" || typeof v === "function") && !(v instanceof Object) ? "HOST OBJECT" : "local";
}
`;

const ATTEMPTS = `
export const attempts = {
  requestCtor: (r) => probe(() => r.constructor.constructor),
  methodCtor: (r) => probe(() => r.puts.constructor),
  protoChain: (r) => probe(() => Object.getPrototypeOf(Object.getPrototypeOf(r)).constructor.constructor),
  tableCtor: (r) => probe(() => r.headers_in.constructor.constructor),
  tableProto: (r) => String(Object.getPrototypeOf(r.headers_out)),
  globalCtor: () => probe(() => globalThis.constructor.constructor),
  globalProto: () => String(Object.getPrototypeOf(globalThis)),
  thisCtor: function () { return probe(() => this.constructor.constructor); },
  functionCtor: () => probe(() => Function),
  asyncFunctionCtor: () => probe(() => (async () => {}).constructor),
  generatorCtor: () => probe(() => (function* () {}).constructor),
  reflectConstruct: () => probe(() => (s) => Reflect.construct(Function, [s])),
  evalGlobal: () => probe(() => (s) => () => eval(s)),
  globals: () => ["process", "Bun", "require", "setTimeout", "fetch", "WebAssembly", "SharedArrayBuffer", "Atomics", "ShadowRealm", "FinalizationRegistry", "eval"].map((k) => k + ":" + typeof globalThis[k]).join(" "),
  consoleCtor: () => probe(() => console.log.constructor),
  mosaicCtor: () => probe(() => mosaic.Response.constructor),
  hostErrorFromCall: (r) => { try { r.write({ toString() { throw new Error("mine"); } }); } catch (e) { return hostly(e) + " " + probe(() => e.constructor.constructor); } return "no error"; },
  stackOverflowHostCall: (r) => {
    let caught = [];
    const dive = (n) => { try { return dive(n + 1); } catch (e) { try { r.md5("x"); r.base64_encode("y"); } catch (e2) { caught.push(e2); } caught.push(e); return n; } };
    dive(0);
    return caught.map((e) => hostly(e) + " " + probe(() => e.constructor.constructor)).filter((s, i, a) => a.indexOf(s) === i).join(" | ");
  },
  prepareStackTrace: () => {
    // The sandbox fixes Error.prepareStackTrace in place: a script's own never sees a call site.
    let got = 0;
    try { Error.prepareStackTrace = (err, frames) => { got = frames.length; return "mine"; }; } catch (e) {}
    try { delete Error.prepareStackTrace; } catch (e) {}
    const o = {};
    Error.captureStackTrace(o);
    const stacks = new Error("x").stack + " " + o.stack;
    const host = ["/src/", "runner", "contexts", "mosaic:"].some((s) => stacks.includes(s));
    return [got, host ? "host frames shown" : "script frames only", stacks.includes("mine")].join(" ");
  },
  callerChain: function handleCaller(r) {
    // Sloppy functions expose their caller: the chain must end inside the sandbox (strict: null).
    const seen = [];
    let f = handleCaller;
    for (let i = 0; f && i < 10; i++) { seen.push(hostly(f) + ":" + (f.name || "?")); try { f = f.caller; } catch (e) { seen.push("throws"); break; } }
    return seen.join(" ");
  },
  argumentsCallee: function () { const c = arguments.callee.caller; return hostly(c) + " " + probe(() => c.constructor); },
  globalProtoIsLocal: () => String(Object.getPrototypeOf(globalThis) === Object.prototype),
  proxyIntoHost: (r) => {
    const trap = new Proxy({}, { get(t, k) { if (k === "constructor") return Function; return undefined; }, getPrototypeOf() { return null; } });
    const out = [];
    for (const f of [() => r.puts(trap), () => r.write(new Proxy(new Uint8Array([1]), {})), () => r.setcookie(new Proxy({ key: "k", value: "v" }, {})), () => r.md5(trap)]) {
      try { f(); out.push("ok"); } catch (e) { out.push(hostly(e) + ":" + describe(e)); }
    }
    return out.join(" | ");
  },
  getterReturn: () => ({ get then() { return (ok) => ok("from a getter"); } }),
  proxyReturn: () => new Proxy({}, { get() { throw new Error("trap"); }, getPrototypeOf() { throw new Error("proto trap"); } }),
  dynamicImport: async () => { try { await import(["node", "fs"].join(":")); return "ESCAPED: imported"; } catch (e) { return typeof e + ": " + describe(e) + " " + probe(() => e.constructor.constructor); } },
  dynamicImportComputed: async () => { const m = "node:" + "child_process"; try { await import(m); return "ESCAPED"; } catch (e) { return describe(e); } },
  entryReentry: (r) => { __mosaic(); __mosaic(); return "entry did nothing"; },
  pollute: () => { Object.prototype.polluted = "yes"; Array.prototype.join = () => "hijacked"; JSON.stringify = () => "{}"; JSON.parse = () => ({}); String.prototype.toLowerCase = () => "x"; return "polluted " + typeof globalThis.polluted; },
  symbolsAndDescriptors: (r) => { const d = Object.getOwnPropertyDescriptors(r.headers_in); return Object.keys(d).length + " " + Reflect.ownKeys(Object.getPrototypeOf(r)).filter((k) => typeof k === "symbol").length; },
  wasm: () => typeof WebAssembly,
  timerStrings: () => typeof setTimeout + " " + typeof setInterval + " " + typeof queueMicrotask,
};
export function handle(r) {
  const name = r.parseargs()[0].a;
  const v = attempts[name](r);
  return v instanceof Promise || (v && typeof v === "object" && "then" in v) ? Promise.resolve(v).then(String) : String(v);
}
export function state(r) {
  const [a] = r.parseargs();
  if (a.set) globalThis.secret = a.set;
  return String(globalThis.secret) + " " + typeof Object.prototype.polluted;
}
`;

const root = tempDir("mosaic-escape-");
let srv: TestServer;

async function attempt(name: string, prefix = "/esc"): Promise<[number, string]> {
  const res = await fetch(`${srv.url}${prefix}?a=${name}`);
  return [res.status, await res.text()];
}

describe("script isolation", () => {
  beforeAll(async () => {
    writeTree(root, {
      "htdocs/index.html": "ok",
      "scripts/escape.js": PRELUDE + ATTEMPTS,
      "scripts/hostimport.js": 'import fs from "node:fs";\nexport function handle(r) { return String(typeof fs); }\n',
      "scripts/pkgimport.ts": 'import { $ } from "bun";\nexport function handle(r: unknown) { return String(typeof $); }\n',
      "scripts/dynimport.js": 'export async function handle(r) { return String(typeof (await import("node:fs"))); }\n',
      "scripts/relimport.js": 'import { secret } from "./lib/secret.js";\nexport function handle(r) { return secret; }\n',
      "scripts/lib/secret.js": 'export const secret = "bundled from a relative import";\n',
      "scripts/other.js": "export function handle(r) { return typeof globalThis.secret + ' ' + typeof Object.prototype.polluted; }\n",
    });
    srv = await startTestServer(
      `DocumentRoot ${root}/htdocs
ErrorLog logs/error_log
ScriptRoot ${root}/scripts
ScriptTimeout 2
ScriptMapHandler ^/esc$ escape.js
<Location /thread>
  ScriptScope thread
</Location>
ScriptMapHandler ^/thread/state$ escape.js state
ScriptMapHandler ^/thread/other$ other.js
ScriptMapHandler ^/import/(\\w+)$ $1.js
ScriptMapHandler ^/importts/(\\w+)$ $1.ts
`,
      { root },
    );
  });
  afterAll(async () => {
    await srv?.[Symbol.asyncDispose]();
  });

  const BLOCKED = "blocked: Code generation from strings disallowed for this context";

  test.each([
    ["requestCtor", BLOCKED],
    ["methodCtor", BLOCKED],
    ["protoChain", BLOCKED],
    ["tableCtor", "blocked: undefined is not an object (evaluating 'r.headers_in.constructor.constructor')"],
    ["tableProto", "null"],
    ["globalCtor", BLOCKED],
    ["globalProto", "[object Object]"],
    ["globalProtoIsLocal", "true"],
    ["thisCtor", BLOCKED],
    ["functionCtor", BLOCKED],
    ["asyncFunctionCtor", BLOCKED],
    ["generatorCtor", BLOCKED],
    ["reflectConstruct", BLOCKED],
    ["evalGlobal", "blocked: eval is not defined"],
    [
      "globals",
      "process:undefined Bun:undefined require:undefined setTimeout:undefined fetch:undefined WebAssembly:undefined " +
        "SharedArrayBuffer:undefined Atomics:undefined ShadowRealm:undefined FinalizationRegistry:undefined eval:undefined",
    ],
    ["consoleCtor", BLOCKED],
    ["mosaicCtor", BLOCKED],
    ["hostErrorFromCall", `local ${BLOCKED}`],
    ["stackOverflowHostCall", `local ${BLOCKED}`],
    ["callerChain", "local:handleCaller local:handle"],
    ["argumentsCallee", `local ${BLOCKED}`],
    [
      "proxyIntoHost",
      "local:No default value | local:Receiver should be a typed array view | ok | local:No default value",
    ],
    ["getterReturn", "from a getter"],
    ["dynamicImport", `string: import() is not allowed in scripts ${BLOCKED}`],
    ["dynamicImportComputed", "import() is not allowed in scripts"],
    ["entryReentry", "entry did nothing"],
    ["symbolsAndDescriptors", "5 0"],
    ["wasm", "undefined"],
    ["timerStrings", "undefined undefined undefined"],
  ])("%s", async (name, expected) => {
    expect(await attempt(name)).toEqual([200, expected]);
  });

  test("a script cannot install its own stack formatter, and stack traces end at the sandbox", async () => {
    expect(await attempt("prepareStackTrace")).toEqual([200, "0 script frames only false"]);
  });

  test("a Proxy returned to the host is only ever touched inside the context", async () => {
    const [status] = await attempt("proxyReturn");
    expect(status).toBe(500);
    await flushLogs();
    expect(fs.readFileSync(path.join(root, "logs/error_log"), "utf8")).toContain("escape.js");
  });

  test("polluting the intrinsics stays inside that context (scope once: gone next request)", async () => {
    expect(await attempt("pollute")).toEqual([200, "polluted string"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(["a", "b"].join()).toBe("a,b");
    expect(await attempt("globals")).toEqual([200, expect.stringContaining("process:undefined") as unknown as string]);
    expect(await attempt("tableProto")).toEqual([200, "null"]);
  });

  test("static imports of host modules are refused at load time; relative imports are bundled", async () => {
    expect((await fetch(`${srv.url}/import/hostimport`)).status).toBe(500);
    expect((await fetch(`${srv.url}/importts/pkgimport`)).status).toBe(500);
    expect((await fetch(`${srv.url}/import/dynimport`)).status).toBe(500);
    await flushLogs();
    const log = fs.readFileSync(path.join(root, "logs/error_log"), "utf8");
    expect(log).toContain('import of "node:fs" is not allowed in scripts');
    expect(log).toContain('import of "bun" is not allowed in scripts');
    expect(await (await fetch(`${srv.url}/import/relimport`)).text()).toBe("bundled from a relative import");
  });

  test("thread-scope state is per file: another script never sees it", async () => {
    expect(await (await fetch(`${srv.url}/thread/state?set=s1`)).text()).toBe("s1 undefined");
    expect(await (await fetch(`${srv.url}/thread/state`)).text()).toBe("s1 undefined");
    expect(await (await fetch(`${srv.url}/thread/other`)).text()).toBe("undefined undefined");
  });

  test("another vhost's contexts are out of reach, even for the same file and scope", async () => {
    await using vsrv = await startTestServer(
      `DocumentRoot ${root}/htdocs
ErrorLog logs/error_log
ScriptScope thread
ScriptMapHandler ^/vh/state$ ${root}/scripts/escape.js state
<VirtualHost 127.0.0.1:*>
  ServerName a.test
</VirtualHost>
<VirtualHost 127.0.0.1:*>
  ServerName b.test
</VirtualHost>
`,
      { root },
    );
    const vh = (host: string, q = "") => fetch(`${vsrv.url}/vh/state${q}`, { headers: { Host: host } }).then((r) => r.text());
    expect(await vh("a.test", "?set=from-a")).toBe("from-a undefined");
    expect(await vh("a.test")).toBe("from-a undefined");
    expect(await vh("b.test")).toBe("undefined undefined");
  });
});
