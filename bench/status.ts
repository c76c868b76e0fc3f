// mod_status benchmark: rendering 16 children x 64 slots, the scoreboard's cost per request, ?auto under
// static load, and static throughput with the status module loaded and not.
// Usage: bun bench/status.ts [seconds per wrk run, default 3] (needs wrk on PATH).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { renderAuto } from "../modules/status/auto.ts";
import { buildSnapshot } from "../modules/status/collect.ts";
import { RequestCounters } from "../modules/status/counters.ts";
import { renderHtml } from "../modules/status/html.ts";
import { Request } from "../src/http/request.ts";
import type { ServerRec } from "../src/server-rec.ts";
import { readSnapshot, Recorder, Scoreboard } from "../src/scoreboard/index.ts";
import { H, P, PS } from "../src/scoreboard/layout.ts";
import { startServer } from "../src/server.ts";

const seconds = Number(process.argv[2] ?? 3);

function perSecond(fn: () => void, ms = 1000): number {
  for (let i = 0; i < 20; i++) fn();
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    fn();
    n++;
  }
  return n / (ms / 1000);
}

// 1. A full scoreboard: 16 children of 64 worker slots, every slot with a request line, client and vhost.
const sb = Scoreboard.create({ serverLimit: 16, threadLimit: 64, mpm: "event" });
sb.set(H.threadsPerChild, 64);
sb.set(H.maxRequestWorkers, 16 * 64);
sb.set(H.configGeneration, 1);
const server = { serverName: "bench.test", port: 80 } as unknown as ServerRec;
const fakeRequest = (i: number) => {
  const raw = new globalThis.Request("http://bench.test/index.html");
  const conn = { remoteAddr: "10.0.0.1", remotePort: 40000 + i, localAddr: "10.0.0.2", localPort: 80, keepAlives: 0, secure: false };
  return new Request(raw, "GET", "HTTP/1.1", conn, server, "/index.html", "", "/index.html", "bench.test");
};
for (let s = 0; s < 16; s++) {
  sb.set(sb.proc(s) + P.pid, 1000 + s);
  sb.set(sb.proc(s) + P.state, PS.READY);
  const rec = new Recorder(sb, { slot: s, generation: 1, threadsPerChild: 64, connectionBound: false, maxConnections: 0 });
  rec.open();
  // Every slot takes a request; four in five finish (idle with history), one in five stays busy.
  const rs = Array.from({ length: 64 }, (_, t) => fakeRequest(s * 64 + t));
  for (const r of rs) rec.begin(r);
  rs.forEach((r, t) => t % 5 !== 0 && rec.end(r));
}
const ctx = () => ({
  serverName: "bench.test", localIp: "10.0.0.2", configGeneration: 1, extended: true, now: Date.now(),
  vhosts: [], histogram: { bounds: [], counts: [], count: 0, sumSeconds: 0 }, history: [],
});
const snap = buildSnapshot(readSnapshot(sb), ctx());
console.log(`scoreboard 16 x 64: ${snap.workers.length} worker rows, ${renderHtml(snap, { notable: false, extra: "", signature: "", path: "/s", live: true }).length} bytes of HTML`);
const autoOps = perSecond(() => renderAuto(buildSnapshot(readSnapshot(sb, true), ctx())));
const htmlOps = perSecond(() =>
  renderHtml(buildSnapshot(readSnapshot(sb, true), ctx()), { notable: false, extra: "", signature: "", path: "/s", live: true }),
);
console.log(`read + render ?auto      ${autoOps.toFixed(0).padStart(8)} /s  (${(1000 / autoOps).toFixed(3)} ms each)`);
console.log(`read + render HTML page  ${htmlOps.toFixed(0).padStart(8)} /s  (${(1000 / htmlOps).toFixed(3)} ms each)`);

// 2. What the scoreboard costs a request: one begin (post_read_request) and one end (log_transaction).
const small = Scoreboard.create({ serverLimit: 1, threadLimit: 64, mpm: "event" });
const rec = new Recorder(small, { slot: 0, generation: 1, threadsPerChild: 64, connectionBound: false, maxConnections: 0 });
rec.open();
const reqs = Array.from({ length: 256 }, (_, i) => fakeRequest(i % 8));
let k = 0;
const recOps = perSecond(() => {
  const r = reqs[k++ & 255]!;
  rec.begin(r);
  rec.end(r);
});
const recNs = 1e9 / recOps;
console.log(`scoreboard begin + end   ${(recNs / 1000).toFixed(2).padStart(8)} us per request`);

// What the status module itself adds to a request: its log_transaction counters (vhost, histogram).
const counters = new RequestCounters();
const countOps = perSecond(() => counters.record(reqs[k++ & 255]!));
console.log(`status counters          ${(1e6 / countOps).toFixed(2).padStart(8)} us per request`);

// 3. Static throughput with and without the status module, and ?auto while static load runs.
const root = fs.mkdtempSync(path.join(os.tmpdir(), "mosaic-bench-status-"));
fs.mkdirSync(path.join(root, "htdocs"), { recursive: true });
fs.mkdirSync(path.join(root, "logs"), { recursive: true });
fs.writeFileSync(path.join(root, "htdocs/4k.html"), "x".repeat(4096));
const conf = (status: boolean) =>
  [
    "Listen 127.0.0.1:0", `DocumentRoot ${root}/htdocs`, "ErrorLog logs/error_log", "LoadModule mime_module x",
    "LoadModule authz_core_module x", status ? "LoadModule status_module x" : "",
    status ? "<Location /server-status>\n  SetHandler server-status\n</Location>" : "",
  ].join("\n");

async function wrk(url: string, connections = 16): Promise<number> {
  const p = Bun.spawn(["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, url], { stdout: "pipe" });
  const out = await new Response(p.stdout).text();
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`wrk failed for ${url}:\n${out}`);
  return Number(m[1]);
}

async function serve(status: boolean) {
  const srv = await startServer({ text: conf(status), file: path.join(root, "bench.conf"), serverRoot: root, env: {} }, {}, () => {});
  return { srv, url: `http://127.0.0.1:${srv.ports[0]}` };
}

// Alternate the two (the machine is shared) and keep each one's best run.
const off = await serve(false);
const on = await serve(true);
let rpsOff = 0;
let rpsOn = 0;
for (let i = 0; i < 2; i++) {
  rpsOff = Math.max(rpsOff, await wrk(`${off.url}/4k.html`));
  rpsOn = Math.max(rpsOn, await wrk(`${on.url}/4k.html`));
}
await off.srv.stop(true);
console.log(`static 4 KB, status off  ${rpsOff.toFixed(0).padStart(8)} req/s`);
console.log(`static 4 KB, status on   ${rpsOn.toFixed(0).padStart(8)} req/s  (${(((rpsOn - rpsOff) / rpsOff) * 100).toFixed(1)}%)`);
console.log(`scoreboard share         ${((recNs / (1e9 / rpsOn)) * 100).toFixed(1).padStart(8)} % of a request's time at that rate`);
const [staticRps, autoRps] = await Promise.all([wrk(`${on.url}/4k.html`, 14), wrk(`${on.url}/server-status?auto`, 2)]);
console.log(`under load: static       ${staticRps.toFixed(0).padStart(8)} req/s, ?auto ${autoRps.toFixed(0)} req/s`);
await on.srv.stop(true);
fs.rmSync(root, { recursive: true, force: true });
