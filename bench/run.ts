// `npm run bench`: mosaic against raw Bun.serve in one run (4 KB static with/without keep-alive, a 404).
// Measures req/s, p99 latency and server CPU µs per request; writes bench/results/latest.json.
// Usage: bun bench/run.ts [--seconds 5] [--connections 50] [--warmup 1] [--access-log] [--source]
//        [--tool wrk|ab|fetch]   (default: wrk if installed, else ab, else a Bun fetch loop)
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Subprocess } from "bun";
import { otherLoad, pickTool, runLoad, serverCpuUs } from "./load.ts";
import type { LoadResult } from "./load.ts";

const { values: opt } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "50" },
    warmup: { type: "string", default: "1" },
    "access-log": { type: "boolean", default: false },
    source: { type: "boolean", default: false },
    tool: { type: "string" },
  },
});
const SECONDS = Number(opt.seconds);
const CONNECTIONS = Number(opt.connections);
const WARMUP = Number(opt.warmup);
const REPO = path.resolve(import.meta.dir, "..");
const BIN = path.join(REPO, "dist/mosaic");

interface Server {
  name: "raw" | "mosaic";
  proc: Subprocess;
  base: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, proc: Subprocess): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await (await fetch(url)).arrayBuffer();
      return;
    } catch {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`no answer from ${url}`);
      await Bun.sleep(50);
    }
  }
}

/** The temp site both servers serve: one 4 KB file. */
function makeSite(): { dir: string; file: string; conf: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mosaic-bench-"));
  fs.mkdirSync(path.join(dir, "htdocs"));
  fs.mkdirSync(path.join(dir, "logs"));
  const file = path.join(dir, "htdocs/4k.txt");
  fs.writeFileSync(file, "mosaic benchmark payload, 64 bytes per line, 64 lines in all...\n".repeat(64));
  // Apache defaults except MaxKeepAliveRequests: unlimited, like the raw server, so keep-alive runs
  // measure request handling rather than reconnects every 100 requests.
  const conf = [
    `ServerRoot ${dir}`,
    "Listen 127.0.0.1:${BENCH_PORT}",
    "ServerName localhost",
    `DocumentRoot ${dir}/htdocs`,
    "ErrorLog logs/error_log",
    "LogLevel warn",
    "MaxKeepAliveRequests 0",
    ...(opt["access-log"] ? ["CustomLog logs/access_log common"] : []),
    "<Directory />\n  Require all denied\n</Directory>",
    `<Directory ${dir}/htdocs>\n  Require all granted\n</Directory>`,
  ].join("\n");
  fs.writeFileSync(path.join(dir, "httpd.conf"), conf + "\n");
  return { dir, file, conf: path.join(dir, "httpd.conf") };
}

type Site = ReturnType<typeof makeSite>;

async function startServers(site: Site): Promise<{ servers: Server[]; mosaicCmd: string }> {
  const [rawPort, mosaicPort] = [await freePort(), await freePort()];
  const useBin = !opt.source && fs.existsSync(BIN);
  // -X: one serving process, the configuration the target is stated for.
  const entry = useBin ? [BIN] : [process.execPath, path.join(REPO, "src/main.ts")];
  const mosaicCmd = [...entry, "-X", "-f", site.conf];
  const io = { stdout: "ignore", stderr: "inherit" } as const;
  const rawCmd = [process.execPath, path.join(import.meta.dir, "raw-server.ts"), String(rawPort), site.file];
  const raw = Bun.spawn(rawCmd, io);
  const env = { ...process.env, BENCH_PORT: String(mosaicPort), NODE_ENV: "production" };
  const mosaic = Bun.spawn(mosaicCmd, { ...io, env });
  const servers: Server[] = [
    { name: "raw", proc: raw, base: `http://127.0.0.1:${rawPort}` },
    { name: "mosaic", proc: mosaic, base: `http://127.0.0.1:${mosaicPort}` },
  ];
  for (const s of servers) await waitFor(`${s.base}/4k.txt`, s.proc);
  // Both must answer the same thing before their speed means anything.
  for (const s of servers) {
    const ok = await fetch(`${s.base}/4k.txt`);
    const len = (await ok.arrayBuffer()).byteLength;
    const nf = await fetch(`${s.base}/missing`);
    await nf.arrayBuffer();
    if (ok.status !== 200 || len !== 4096 || nf.status !== 404) {
      throw new Error(`${s.name}: /4k.txt gave ${ok.status} (${len} bytes), /missing gave ${nf.status}`);
    }
  }
  return { servers, mosaicCmd: useBin ? "dist/mosaic" : "bun src/main.ts" };
}

const CASES = [
  { name: "4 KB static, keep-alive", path: "/4k.txt", keepAlive: true },
  { name: "4 KB static, no keep-alive", path: "/4k.txt", keepAlive: false },
  { name: "404, keep-alive", path: "/missing", keepAlive: true },
] as const;

interface Measured extends LoadResult {
  cpuUsPerReq: number;
  contaminatedBy: string[];
}

async function measure(tool: LoadResult["tool"], s: Server, c: (typeof CASES)[number]): Promise<Measured> {
  const o = { url: s.base + c.path, connections: CONNECTIONS, keepAlive: c.keepAlive };
  if (WARMUP > 0) await runLoad(tool, { ...o, seconds: WARMUP });
  const contaminatedBy = otherLoad();
  const cpu0 = serverCpuUs(s.proc.pid);
  const r = await runLoad(tool, { ...o, seconds: SECONDS });
  const cpu = serverCpuUs(s.proc.pid) - cpu0;
  contaminatedBy.push(...otherLoad().filter((p) => !contaminatedBy.includes(p)));
  return { ...r, cpuUsPerReq: cpu / Math.max(1, r.requests), contaminatedBy };
}

const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "-");

function printTable(rows: { name: string; raw: Measured; mosaic: Measured }[]): void {
  const head = ["case", "raw req/s", "mosaic req/s", "ratio", "raw p99", "mosaic p99"];
  head.push("raw CPU/req", "mosaic CPU/req", "CPU ratio");
  const lines = rows.map(({ name, raw, mosaic }) => [
    name,
    fmt(raw.rps),
    fmt(mosaic.rps),
    fmt(mosaic.rps / raw.rps, 2),
    `${fmt(raw.p99Us / 1000, 2)} ms`,
    `${fmt(mosaic.p99Us / 1000, 2)} ms`,
    `${fmt(raw.cpuUsPerReq, 1)} µs`,
    `${fmt(mosaic.cpuUsPerReq, 1)} µs`,
    fmt(raw.cpuUsPerReq / mosaic.cpuUsPerReq, 2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const pad = (c: string, i: number) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!));
  const row = (cells: string[]) => cells.map(pad).join("  ");
  console.log(row(head));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const l of lines) console.log(row(l));
  console.log("ratio = mosaic/raw req/s (higher is better);");
  console.log("CPU ratio = raw/mosaic server CPU per request (1 = as cheap as raw).");
}

const tool = (opt.tool as LoadResult["tool"] | undefined) ?? pickTool();
const site = makeSite();
const { servers, mosaicCmd } = await startServers(site);
const stopAll = () => {
  for (const s of servers) s.proc.kill("SIGTERM");
};
process.on("SIGINT", () => {
  stopAll();
  process.exit(130);
});
console.log(
  `mosaic (${mosaicCmd}) vs raw Bun.serve ${Bun.version}; ${tool}, ${CONNECTIONS} connections, ` +
    `${SECONDS}s per run after ${WARMUP}s warm-up; ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(2)}` +
    (opt["access-log"] ? "; mosaic writes an access log" : ""),
);
if (tool === "ab") console.log("note: ab speaks HTTP/1.0, which Bun never keeps alive: every ab run reconnects.");
const rows: { name: string; raw: Measured; mosaic: Measured }[] = [];
try {
  for (const c of CASES) {
    const [raw, mosaic] = [await measure(tool, servers[0]!, c), await measure(tool, servers[1]!, c)];
    rows.push({ name: c.name, raw, mosaic });
    console.log(`  ${c.name}: raw ${fmt(raw.rps)} req/s, mosaic ${fmt(mosaic.rps)} req/s`);
  }
} finally {
  stopAll();
}
console.log("");
printTable(rows);
const contaminated = [...new Set(rows.flatMap((r) => [...r.raw.contaminatedBy, ...r.mosaic.contaminatedBy]))];
if (contaminated.length) {
  console.log(`CONTAMINATED: other load generators ran at the same time: ${contaminated.join(", ")}`);
}

const result = {
  date: new Date().toISOString(),
  mosaic: mosaicCmd,
  bun: Bun.version,
  tool,
  connections: CONNECTIONS,
  seconds: SECONDS,
  warmupSeconds: WARMUP,
  accessLog: opt["access-log"],
  cpus: os.cpus().length,
  loadavg: os.loadavg(),
  contaminatedBy: contaminated,
  cases: rows.map((r) => ({
    name: r.name,
    ratio: r.mosaic.rps / r.raw.rps,
    cpuRatio: r.raw.cpuUsPerReq / r.mosaic.cpuUsPerReq,
    raw: r.raw,
    mosaic: r.mosaic,
  })),
};
fs.mkdirSync(path.join(import.meta.dir, "results"), { recursive: true });
fs.writeFileSync(path.join(import.meta.dir, "results/latest.json"), JSON.stringify(result, null, 2) + "\n");
fs.rmSync(site.dir, { recursive: true, force: true });
console.log("wrote bench/results/latest.json");
