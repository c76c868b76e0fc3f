// Scripting benchmark: hello through ScriptMapHandler (each ScriptScope) vs a static 4 KB file vs raw
// Bun.serve, plus Apache's mod_lua when apache2 is installed; and the cold start of a context.
// Usage: bun bench/script.ts [seconds per run, default 3] (needs wrk on PATH).
import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import { startServer } from "../src/server.ts";
import { compileScript } from "../src/script/compile.ts";
import { createCtx } from "../src/script/contexts.ts";
import type { ScriptSpec } from "../src/script/protocol.ts";

const seconds = Number(process.argv[2] ?? 3);
const root = fs.mkdtempSync(path.join(os.tmpdir(), "mosaic-bench-"));
const HELLO = `export function handle(r) {\n  r.content_type = "text/plain";\n  r.puts("Hello, world!\\n");\n  return OK;\n}\n`;
fs.mkdirSync(path.join(root, "htdocs"), { recursive: true });
fs.mkdirSync(path.join(root, "scripts"), { recursive: true });
fs.mkdirSync(path.join(root, "logs"), { recursive: true });
fs.writeFileSync(path.join(root, "htdocs/4k.html"), "x".repeat(4096));
fs.writeFileSync(path.join(root, "scripts/hello.js"), HELLO);
fs.writeFileSync(path.join(root, "scripts/hello.lua"), 'function handle(r)\n  r.content_type = "text/plain"\n  r:puts("Hello, world!\\n")\n  return apache2.OK\nend\n');

/** wrk runs as a child process; async, since the servers under test live in this process. */
async function wrk(url: string): Promise<number> {
  const p = Bun.spawn(["wrk", "-t1", "-c16", `-d${seconds}s`, url], { stdout: "pipe" });
  const out = await new Response(p.stdout).text();
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`wrk failed for ${url}:\n${out}`);
  return Number(m[1]);
}

const results: [string, number][] = [];
function record(name: string, rps: number): void {
  results.push([name, rps]);
  console.log(`${name.padEnd(34)} ${rps.toFixed(0).padStart(8)} req/s`);
}

// Raw Bun.serve, the ceiling.
const raw = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("Hello, world!\n") });
record("raw Bun.serve", await wrk(`http://127.0.0.1:${raw.port}/`));
raw.stop(true);

const scopes = ["thread", "server 2 4", "conn", "request", "once"];
/** The same site with scripts in a worker thread (the default) or on the serving thread. */
function conf(workers: number): string {
  return [
    `ServerRoot ${root}`,
    "Listen 127.0.0.1:0",
    `DocumentRoot ${root}/htdocs`,
    "ErrorLog logs/error_log",
    `ScriptWorkers ${workers}`,
    ...scopes.map((s, i) => `<Location /s${i}/>\n  ScriptScope ${s}\n</Location>`),
    `ScriptMapHandler ^/s\\d/hello$ ${root}/scripts/hello.js`,
  ].join("\n");
}
const opts = (text: string) => ({ text, file: path.join(root, "bench.conf"), serverRoot: root, env: {} });
let srv = await startServer(opts(conf(1)), {}, () => {});
let base = `http://127.0.0.1:${srv.ports[0]}`;
const stat = await wrk(`${base}/4k.html`);
record("mosaic static 4 KB file", stat);
for (const [i, s] of scopes.entries()) record(`mosaic script, ScriptScope ${s}`, await wrk(`${base}/s${i}/hello`));
await srv.stop(true);
srv = await startServer(opts(conf(0)), {}, () => {});
base = `http://127.0.0.1:${srv.ports[0]}`;
record("mosaic script, thread, ScriptWorkers 0", await wrk(`${base}/s0/hello`));
await srv.stop(true);

// Apache's mod_lua serving the same hello, when apache2 is here.
let lua: number | undefined;
if (fs.existsSync("/usr/sbin/apache2") && fs.existsSync("/usr/lib/apache2/modules/mod_lua.so")) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const mods = ["mpm_event", "authz_core", "lua"].map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`);
  fs.writeFileSync(path.join(root, "apache.conf"), [
    ...mods, `ServerRoot ${root}`, `Listen 127.0.0.1:${port}`, `PidFile ${root}/apache.pid`, `ErrorLog ${root}/logs/apache_error`,
    `DocumentRoot ${root}/htdocs`, "ServerName localhost", "LuaScope thread", `LuaMapHandler ^/hello$ ${root}/scripts/hello.lua`,
  ].join("\n"));
  const p = Bun.spawnSync(["/usr/sbin/apache2", "-f", path.join(root, "apache.conf"), "-k", "start"]);
  if (p.exitCode === 0) {
    await Bun.sleep(500);
    lua = await wrk(`http://127.0.0.1:${port}/hello`);
    record("Apache mod_lua (LuaScope thread)", lua);
    Bun.spawnSync(["/usr/sbin/apache2", "-f", path.join(root, "apache.conf"), "-k", "stop"]);
  } else console.log(`apache2 did not start: ${p.stderr.toString().trim()}`);
}

// Cold start: a fresh context with the sandbox and the script loaded (what ScriptScope once pays).
const compiled = await compileScript(path.join(root, "scripts/hello.js"));
if (!("script" in compiled)) throw new Error("compile failed");
const spec: ScriptSpec = {
  file: compiled.file, fn: "handle", scope: "once", cache: "forever", server: 0,
  pool: { start: 1, max: 1, minSpare: 0, maxSpare: 1, maxRequests: 0 }, allow: 0,
};
const n = 200;
const t0 = performance.now();
for (let i = 0; i < n; i++) createCtx(compiled, spec, () => () => undefined, 1000);
const cold = (performance.now() - t0) / n;

console.log("");
const best = Math.max(...results.filter(([k]) => k.startsWith("mosaic script")).map(([, v]) => v));
console.log(`best script / static file: ${(best / stat).toFixed(2)} (goal >= 0.5)`);
console.log(`best script / raw Bun.serve: ${(best / results[0]![1]).toFixed(2)}`);
if (lua) console.log(`best script / Apache mod_lua: ${(best / lua).toFixed(2)}`);
console.log(`cold start of a context: ${cold.toFixed(2)} ms (goal < 5 ms)`);
fs.rmSync(root, { recursive: true, force: true });
process.exit(0);
