// Limits: a runaway script (loop, stuck promise, memory bomb) ends its request within ScriptTimeout or
// ScriptMemoryLimit, and the server keeps serving everyone else.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { flushLogs } from "../src/log/error-log.ts";
import { startTestServer, tempDir, writeTree } from "./helpers.ts";
import type { TestServer } from "./helpers.ts";

const RUNAWAY = `
export function loop() { for (;;) {} }
export function loopInTry() { for (;;) { try { for (;;) {} } catch (e) {} } }
export async function asyncLoop() { await null; for (;;) {} }
export async function afterSleep(r) { await r.sleep(20); for (;;) {} }
export function promiseJob() { Promise.resolve().then(() => { for (;;) {} }); return new Promise(() => {}); }
export function never() { return new Promise(() => {}); }
export function regex() { return String(/(a+)+$/.test("a".repeat(40) + "b")); }
export function bomb() { const a = []; for (;;) a.push(new Array(1e6).fill(1.5)); }
export function builtin() { return String(Array.from({ length: 3e7 }, (_, i) => -i).sort((x, y) => x - y)[0]); }
export function ok() { return "still fine"; }
let n = 0;
export function count() { return String(++n); }
export function chatty(r) { for (let i = 0; i < 5000; i++) r.warn("line " + i); return "said a lot"; }
`;

const root = tempDir("mosaic-limits-");
let srv: TestServer;

async function timed(p: string): Promise<[number, number]> {
  const t0 = performance.now();
  const res = await fetch(srv.url + p);
  await res.arrayBuffer();
  return [res.status, performance.now() - t0];
}

async function errorLog(): Promise<string> {
  await flushLogs();
  return fs.readFileSync(path.join(root, "logs/error_log"), "utf8");
}

describe("script limits", () => {
  beforeAll(async () => {
    writeTree(root, {
      "htdocs/index.html": "static\n",
      "scripts/runaway.js": RUNAWAY,
      "scripts/toplevel.js": "for (;;) {}\nexport function handle() { return 'never'; }\n",
    });
    srv = await startTestServer(
      `DocumentRoot ${root}/htdocs
ErrorLog logs/error_log
ScriptRoot ${root}/scripts
ScriptTimeout 300ms
ScriptMapHandler ^/run/(\\w+)$ runaway.js $1
ScriptMapHandler ^/top$ toplevel.js
<Location /thread/>
  ScriptScope thread
</Location>
ScriptMapHandler ^/thread/(\\w+)$ runaway.js $1
<Location /mem/>
  ScriptTimeout 20
  ScriptMemoryLimit 64M
</Location>
ScriptMapHandler ^/mem/(\\w+)$ runaway.js $1
`,
      { root },
    );
  });
  afterAll(async () => {
    await srv?.[Symbol.asyncDispose]();
  });

  // Each ends with a 500 no later than ScriptTimeout plus scheduling slack on a busy machine.
  test.each(["loop", "loopInTry", "asyncLoop", "afterSleep", "promiseJob", "never", "regex"])(
    "%s ends within ScriptTimeout",
    async (name) => {
      const [status, ms] = await timed(`/run/${name}`);
      expect(status).toBe(500);
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(1500);
      expect((await timed("/run/ok"))[0]).toBe(200);
    },
  );

  test("the error log says which script ran out of time", async () => {
    await timed("/run/loop");
    expect(await errorLog()).toMatch(/\[script:error\] .*AH10471: Script timed out: /);
  });

  test("a call writes at most 1000 error-log lines", async () => {
    expect(await (await fetch(`${srv.url}/run/chatty`)).text()).toBe("said a lot");
    await Bun.sleep(50);
    const log = await errorLog();
    expect(log.match(/runaway\.js\(\d+\): line \d+\n/g)?.length).toBe(1000);
    expect(log).toContain("[script:warn]");
    expect(log).toContain("further log lines of this call dropped\n");
  });

  test("a script whose top level never ends times out too", async () => {
    expect((await timed("/top"))[0]).toBe(500);
  });

  test("while a script spins, static files are served at once", async () => {
    const spin = timed("/run/loop");
    await Bun.sleep(50);
    const [status, ms] = await timed("/index.html");
    expect(status).toBe(200);
    expect(ms).toBeLessThan(200);
    expect((await spin)[0]).toBe(500);
  });

  test("thread scope: a context cut mid-run is replaced; one that only waited is kept", async () => {
    const count = async () => Number(await (await fetch(`${srv.url}/thread/count`)).text());
    const a = await count();
    expect((await timed("/thread/never"))[0]).toBe(500);
    expect(await count()).toBe(a + 1);
    expect((await timed("/thread/loop"))[0]).toBe(500);
    expect(await count()).toBe(1);
  });

  test("a built-in call the vm timeout cannot cut is ended by terminating the worker", async () => {
    const [status, ms] = await timed("/run/builtin");
    expect(status).toBe(500);
    expect(ms).toBeLessThan(2500);
    expect(await (await fetch(`${srv.url}/run/ok`)).text()).toBe("still fine");
  });

  test("a memory bomb is stopped by ScriptMemoryLimit long before its ScriptTimeout", async () => {
    const [status, ms] = await timed("/mem/bomb");
    expect(status).toBe(500);
    expect(ms).toBeLessThan(5000);
    expect(await errorLog()).toContain("a script exceeded ScriptMemoryLimit (64 MB) and its worker was terminated");
    expect(await (await fetch(`${srv.url}/mem/ok`)).text()).toBe("still fine");
    expect((await timed("/index.html"))[0]).toBe(200);
  });

  test("ScriptWorkers 0: scripts on the serving thread are still cut at ScriptTimeout", async () => {
    await using local = await startTestServer(
      `DocumentRoot ${root}/htdocs\nErrorLog logs/error_log\nScriptWorkers 0\nScriptTimeout 300ms\nScriptMapHandler ^/run/(\\w+)$ ${root}/scripts/runaway.js $1\n`,
      { root },
    );
    for (const name of ["loop", "asyncLoop", "never"]) {
      const t0 = performance.now();
      const res = await fetch(`${local.url}/run/${name}`);
      expect([name, res.status]).toEqual([name, 500]);
      expect(performance.now() - t0).toBeLessThan(1500);
    }
    expect(await (await fetch(`${local.url}/run/ok`)).text()).toBe("still fine");
  });
});
