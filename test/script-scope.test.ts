// ScriptScope (once, request, conn, thread, server pools) and ScriptCodeCache (stat, forever, never):
// state in a context lives exactly as long as its scope says.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { flushLogs } from "../src/log/error-log.ts";
import { startTestServer, tempDir, writeTree } from "./helpers.ts";
import type { TestServer } from "./helpers.ts";

/** Counts calls in the context's global state; `id` names the context (made once per context). */
const COUNTER = `
console.log("context loaded");
let n = 0;
const id = Math.random().toString(36).slice(2, 8);
export function handle(r) { n++; return String(n); }
export function fixup(r) { n += 10; }
export async function slow(r) { n++; await r.sleep(150); return id; }
export function ident(r) { n++; return id + ":" + n; }
`;

const root = tempDir("mosaic-scope-");
let srv: TestServer;

const text = (p: string) => fetch(srv.url + p).then((r) => r.text());

/**
 * Bodies of the responses to `paths`, sent one after the other on one keep-alive connection (not
 * pipelined: Bun 1.4.5 drops pipelined requests whose response is not ready in the same tick).
 */
async function oneConnection(paths: string[]): Promise<string[]> {
  const sock = net.connect(srv.port, "127.0.0.1");
  await new Promise((resolve) => sock.once("connect", resolve));
  let buf = "";
  sock.on("data", (d) => (buf += d.toString("latin1")));
  const bodies: string[] = [];
  for (const p of paths) {
    buf = "";
    sock.write(`GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
    for (;;) {
      const end = buf.indexOf("\r\n\r\n");
      const len = /content-length: (\d+)/i.exec(buf);
      if (end >= 0 && len && buf.length >= end + 4 + Number(len[1])) {
        bodies.push(buf.slice(end + 4, end + 4 + Number(len[1])));
        break;
      }
      await Bun.sleep(2);
    }
  }
  sock.destroy();
  return bodies;
}

describe("script scopes", () => {
  beforeAll(async () => {
    writeTree(root, { "htdocs/index.html": "x", "scripts/counter.js": COUNTER });
    srv = await startTestServer(
      `DocumentRoot ${root}/htdocs
ErrorLog logs/error_log
LogLevel info
ScriptRoot ${root}/scripts
ScriptInterpMaxRequests 0
<Location /once/>
  ScriptScope once
</Location>
<Location /request/>
  ScriptScope request
  ScriptHookFixups counter.js fixup
</Location>
<Location /conn/>
  ScriptScope conn
</Location>
<Location /thread/>
  ScriptScope thread
</Location>
<Location /server1/>
  ScriptScope server 1 1
</Location>
<Location /server2/>
  ScriptScope server 2 2
</Location>
ScriptMapHandler ^/(?:once|request|conn|thread|server1)/counter$ counter.js
ScriptMapHandler ^/\\w+/(slow|ident)$ counter.js $1
`,
      { root },
    );
  });
  afterAll(async () => {
    await srv?.[Symbol.asyncDispose]();
  });

  test("once: a fresh context for every call", async () => {
    expect([await text("/once/counter"), await text("/once/counter")]).toEqual(["1", "1"]);
  });

  test("request: one context for every phase of a request, a new one per request", async () => {
    // The fixup hook and the handler share it (10 + 1), and the next request starts over.
    expect([await text("/request/counter"), await text("/request/counter")]).toEqual(["11", "11"]);
  });

  test("conn: the context lives as long as the connection", async () => {
    expect(await oneConnection(["/conn/counter", "/conn/counter", "/conn/counter"])).toEqual(["1", "2", "3"]);
    expect(await oneConnection(["/conn/counter"])).toEqual(["1"]);
  });

  test("thread: one context per worker thread, across connections", async () => {
    const a = Number(await text("/thread/counter"));
    expect(await oneConnection(["/thread/counter"])).toEqual([String(a + 1)]);
    expect(await text("/thread/counter")).toBe(String(a + 2));
  });

  test("server 1 1: a pool of one context, reused", async () => {
    const a = Number(await text("/server1/counter"));
    expect(await text("/server1/counter")).toBe(String(a + 1));
  });

  test("server 2 2: concurrent calls get different contexts; a third waits for one", async () => {
    const t0 = performance.now();
    const ids = await Promise.all([text("/server2/slow"), text("/server2/slow"), text("/server2/slow")]);
    const ms = performance.now() - t0;
    expect(new Set(ids.slice(0, 2)).size).toBe(2);
    expect(ids.slice(0, 2)).toContain(ids[2]);
    expect(ms).toBeGreaterThanOrEqual(290);
  });

  test("context loads are logged from the script's top level (console.log)", async () => {
    await flushLogs();
    expect(fs.readFileSync(path.join(root, "logs/error_log"), "utf8")).toMatch(/\[script:info\] .*counter\.js\(2\): context loaded\n/);
  });
});

describe("pool sizing and code cache", () => {
  test("ScriptInterpMaxRequests retires a context after that many calls", async () => {
    const r2 = tempDir("mosaic-scope2-");
    writeTree(r2, { "htdocs/index.html": "x", "counter.js": COUNTER });
    await using s = await startTestServer(
      `DocumentRoot ${r2}/htdocs\nErrorLog logs/error_log\nScriptScope server\nScriptInterpMax 1\nScriptInterpMaxRequests 2\nScriptMapHandler ^/ident$ ${r2}/counter.js ident\n`,
      { root: r2 },
    );
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push(await (await fetch(`${s.url}/ident`)).text());
    const [a, b, c, d, e] = got.map((g) => g.split(":"));
    expect([a![1], b![1], c![1], d![1], e![1]]).toEqual(["1", "2", "1", "2", "1"]);
    expect(a![0]).toBe(b![0]);
    expect(c![0]).not.toBe(a![0]);
    expect(c![0]).toBe(d![0]);
  });

  test("ScriptInterpMinSpare keeps spare contexts ready; MaxSpare retires the extra ones", async () => {
    const r2 = tempDir("mosaic-scope4-");
    writeTree(r2, { "htdocs/index.html": "x", "counter.js": COUNTER });
    await using s = await startTestServer(
      `DocumentRoot ${r2}/htdocs\nErrorLog logs/error_log\nLogLevel info\nScriptScope server\n` +
        `ScriptInterpStart 1\nScriptInterpMax 3\nScriptInterpMinSpare 2\nScriptInterpMaxSpare 2\n` +
        `ScriptMapHandler ^/(\\w+)$ ${r2}/counter.js $1\n`,
      { root: r2 },
    );
    const loads = async () => {
      await Bun.sleep(50);
      await flushLogs();
      return (fs.readFileSync(path.join(r2, "logs/error_log"), "utf8").match(/context loaded/g) ?? []).length;
    };
    await (await fetch(`${s.url}/ident`)).text();
    // Start 1, then one more made after the call so that two are idle.
    expect(await loads()).toBe(2);
    const ids = await Promise.all([1, 2, 3].map(() => fetch(`${s.url}/slow`).then((r) => r.text())));
    // Three busy at once (Max 3): one more made; then MaxSpare 2 retires the third when all are idle.
    expect(new Set(ids).size).toBe(3);
    expect(await loads()).toBe(3);
    // Two busy: when the first comes back only one is idle, so MinSpare 2 makes another at once.
    await Promise.all([1, 2].map(() => fetch(`${s.url}/slow`).then((r) => r.text())));
    expect(await loads()).toBe(4);
  });

  test("ScriptInterpStart fills the pool on first use", async () => {
    const r2 = tempDir("mosaic-scope3-");
    writeTree(r2, { "htdocs/index.html": "x", "counter.js": COUNTER });
    await using s = await startTestServer(
      `DocumentRoot ${r2}/htdocs\nErrorLog logs/error_log\nLogLevel info\nScriptScope server\nScriptInterpStart 3\nScriptInterpMax 4\nScriptMapHandler ^/ident$ ${r2}/counter.js ident\n`,
      { root: r2 },
    );
    expect(await (await fetch(`${s.url}/ident`)).text()).toMatch(/^\w+:1$/);
    await flushLogs();
    const loads = fs.readFileSync(path.join(r2, "logs/error_log"), "utf8").match(/context loaded/g) ?? [];
    expect(loads.length).toBe(3);
  });

  const scriptV = (v: string) => `let n = 0;\nexport function handle(r) { n++; return "${v}:" + n; }\n`;

  test.each([
    ["stat", ["v1:1", "v1:2", "v2:1", "v2:2"]],
    ["forever", ["v1:1", "v1:2", "v1:3", "v1:4"]],
    ["never", ["v1:1", "v1:1", "v2:1", "v2:1"]],
  ])("ScriptCodeCache %s", async (mode, expected) => {
    const r2 = tempDir("mosaic-cache-");
    writeTree(r2, { "htdocs/index.html": "x", "v.js": scriptV("v1") });
    await using s = await startTestServer(
      `DocumentRoot ${r2}/htdocs\nErrorLog logs/error_log\nScriptScope thread\nScriptCodeCache ${mode}\nScriptMapHandler ^/v$ ${r2}/v.js\n`,
      { root: r2 },
    );
    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      if (i === 2) {
        fs.writeFileSync(path.join(r2, "v.js"), scriptV("v2") + "// changed\n");
        fs.utimesSync(path.join(r2, "v.js"), new Date(), new Date(Date.now() + 5000));
      }
      got.push(await (await fetch(`${s.url}/v`)).text());
    }
    expect(got).toEqual(expected);
  });
});
