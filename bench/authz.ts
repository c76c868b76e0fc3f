// What expressions and access control cost a static request: <If> + a Require ip list, and Basic auth.
// Usage: bun bench/authz.ts [seconds per load run, default 2] (wrk, else ab, else a fetch loop).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseExpr } from "../src/expr/index.ts";
import { Request } from "../src/http/request.ts";
import { loadConfig } from "../src/config/load.ts";
import { createRuntime } from "../src/runtime.ts";
import { startServer } from "../src/server.ts";
import { pickTool, runLoad } from "./load.ts";

const seconds = Number(process.argv[2] ?? 2);
const root = fs.mkdtempSync(path.join(os.tmpdir(), "mosaic-bench-authz-"));
fs.mkdirSync(path.join(root, "htdocs/api"), { recursive: true });
fs.mkdirSync(path.join(root, "logs"), { recursive: true });
fs.writeFileSync(path.join(root, "htdocs/4k.html"), "x".repeat(4096));
fs.writeFileSync(path.join(root, "htdocs/api/4k.html"), "x".repeat(4096));
const htpasswd = path.join(import.meta.dir, "../test/fixtures/htpasswd/users");

/** A typical <If> and a Require ip list of ten networks where only the last one holds the client. */
const RULES = `
<If "%{HTTP_HOST} =~ m#^(www\\.)?example\\.(com|org)$# || req('X-Forwarded-Proto') == 'https'">
  Header set X-Never yes
</If>
<Location />
  Require ip 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 198.51.100.0/24 203.0.113.0/24
  Require ip 2001:db8::/32 fd00::/8 100.64.0.0/10 169.254.0.0/16 127.0.0.0/8
</Location>`;
const AUTH = `
<Location /api>
  AuthType Basic
  AuthName api
  AuthUserFile ${htpasswd}
  Require valid-user
</Location>`;

const base = ["Listen 127.0.0.1:0", `DocumentRoot ${root}/htdocs`, "ServerName localhost", "ErrorLog logs/error_log"];
const conf = (extra: string) => [...base, extra].join("\n");

// 1. The evaluation alone, per request: the compiled <If> and the Require tree, no I/O.
const cfg = loadConfig({ text: conf(RULES), file: path.join(root, "a.conf"), serverRoot: root, env: {} });
const rt = createRuntime(cfg, 1);
const raw = new globalThis.Request("http://localhost/4k.html", { headers: { host: "localhost" } });
const conn = { remoteAddr: "127.0.0.1", remotePort: 40000, localAddr: "127.0.0.1", localPort: 80, keepAlives: 0, secure: false };
const node = { name: "If", args: [], file: "bench", line: 1 };
const cond = parseExpr("%{HTTP_HOST} =~ m#^(www\\.)?example\\.(com|org)$# || req('X-Forwarded-Proto') == 'https'", node);
if (typeof cond === "string") throw new Error(cond);
const r = new Request(raw, "GET", "HTTP/1.1", conn, cfg.main, "/4k.html", "", "/4k.html", "localhost");
r.rt = rt;
function perCall(fn: () => void, ms = 500): number {
  for (let i = 0; i < 1000; i++) fn();
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
  }
  return (ms * 1e6) / n;
}
const ifNs = perCall(() => cond.exec(r));
console.log(`<If> condition (regex || header)   ${ifNs.toFixed(0).padStart(6)} ns per evaluation`);

// 2. Static throughput: plain, with <If> + Require ip, and a Basic-auth page (bcrypt, cached).
const tool = pickTool();
async function serve(extra: string) {
  const srv = await startServer({ text: conf(extra), file: path.join(root, "bench.conf"), serverRoot: root, env: {} }, {}, () => {});
  return { srv, url: `http://127.0.0.1:${srv.ports[0]}` };
}
async function best(url: string, runs: number): Promise<number> {
  let top = 0;
  for (let i = 0; i < runs; i++) {
    const res = await runLoad(tool, { url, seconds, connections: 16, keepAlive: true });
    top = Math.max(top, res.rps);
  }
  return top;
}
const plain = await serve("<Location />\n  Require all granted\n</Location>");
const rules = await serve(RULES);
// Alternate the two on the shared machine and keep each one's best run.
let rpsPlain = 0;
let rpsRules = 0;
for (let i = 0; i < 2; i++) {
  rpsPlain = Math.max(rpsPlain, await best(`${plain.url}/4k.html`, 1));
  rpsRules = Math.max(rpsRules, await best(`${rules.url}/4k.html`, 1));
}
await plain.srv.stop(true);
await rules.srv.stop(true);
console.log(`static 4 KB, Require all granted   ${rpsPlain.toFixed(0).padStart(8)} req/s (${tool})`);
console.log(`static 4 KB, <If> + Require ip x10 ${rpsRules.toFixed(0).padStart(8)} req/s`);
console.log(`ratio                              ${(rpsRules / rpsPlain).toFixed(3).padStart(8)} (${(((rpsRules - rpsPlain) / rpsPlain) * 100).toFixed(1)}%)`);
console.log(`evaluation share at that rate      ${((ifNs / (1e9 / rpsRules)) * 100).toFixed(2).padStart(8)} % of a request's time`);

// 3. A bcrypt-protected page under load: the verified credentials are cached, so hashing is not the cost.
const auth = await serve(AUTH);
const t0 = performance.now();
const first = await fetch(`${auth.url}/api/4k.html`, { headers: { authorization: `Basic ${btoa("ubcrypt:pwbcrypt")}` } });
await first.arrayBuffer();
console.log(`first bcrypt check (cost 5)        ${(performance.now() - t0).toFixed(1).padStart(8)} ms`);
const authUrl = `${auth.url}/api/4k.html`;
const rpsAuth = await authLoad(authUrl);
console.log(`Basic auth (bcrypt), cached        ${rpsAuth.toFixed(0).padStart(8)} req/s (${(rpsAuth / rpsPlain).toFixed(2)} of plain)`);
await auth.srv.stop(true);
fs.rmSync(root, { recursive: true, force: true });

/** wrk with an Authorization header (the shared load helper sends none), else a fetch loop. */
async function authLoad(url: string): Promise<number> {
  const header = `Authorization: Basic ${btoa("ubcrypt:pwbcrypt")}`;
  if (Bun.which("wrk")) {
    const p = Bun.spawn(["wrk", "-t1", "-c16", `-d${seconds}s`, "-H", header, url], { stdout: "pipe" });
    const m = /Requests\/sec:\s+([\d.]+)/.exec(await new Response(p.stdout).text());
    if (m) return Number(m[1]);
  }
  let n = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < end) {
        const res = await fetch(url, { headers: { authorization: header.slice(15) } });
        await res.arrayBuffer();
        n++;
      }
    }),
  );
  return n / seconds;
}
