// MPM benchmark: 1, 2, N children against raw Bun.serve workers; graceful reloads under load; idle
// keep-alive memory; time from -k graceful to every child on the new generation; recycling losses.
// Usage: bun bench/mpm.ts [--seconds 3] [--connections 50] [--idle 10000] [--tool wrk|ab|fetch] [--only NAME]
//        (needs dist/mosaic: `bun build.ts`)   Writes bench/results/mpm.json.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Subprocess } from "bun";
import { otherLoad, pickTool, runLoad, serverCpuUs } from "./load.ts";
import type { LoadResult } from "./load.ts";

declare const self: Worker;

// ---- raw baseline: N worker threads, each Bun.serve({ reusePort }) answering the file from memory ----
if (!Bun.isMainThread) {
  const { port, file } = (await new Promise<MessageEvent>((r) => (self.onmessage = r))).data as { port: number; file: string };
  const body = fs.readFileSync(file);
  Bun.serve({ hostname: "127.0.0.1", port, reusePort: true, development: false, fetch: () => new Response(body, { headers: { "Content-Type": "text/plain" } }) });
  postMessage("ready");
} else if (process.argv[2] === "--raw") {
  const [n, port, file] = [Number(process.argv[3]), Number(process.argv[4]), process.argv[5]!];
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve) => {
    const w = new Worker(import.meta.url);
    w.onmessage = () => resolve();
    w.postMessage({ port, file });
  })));
  process.on("SIGTERM", () => process.exit(0));
  console.log("ready");
} else {
  await main();
}

async function main(): Promise<void> {
  const { values: opt } = parseArgs({
    options: {
      seconds: { type: "string", default: "3" },
      connections: { type: "string", default: "50" },
      idle: { type: "string", default: "10000" },
      tool: { type: "string" },
      only: { type: "string" },
    },
  });
  const SECONDS = Number(opt.seconds);
  const CONNS = Number(opt.connections);
  const tool = (opt.tool as LoadResult["tool"] | undefined) ?? pickTool();
  const BIN = process.env.MOSAIC_BIN ?? path.resolve(import.meta.dir, "../dist/mosaic");
  const cores = os.availableParallelism();
  const results: Record<string, unknown> = { date: new Date().toISOString(), cores, tool, seconds: SECONDS, connections: CONNS };
  const want = (name: string) => !opt.only || opt.only.split(",").includes(name);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mosaic-bench-mpm-"));
  fs.mkdirSync(path.join(dir, "htdocs"));
  fs.mkdirSync(path.join(dir, "logs"));
  const file = path.join(dir, "htdocs/4k.txt");
  fs.writeFileSync(file, "mosaic benchmark payload, 64 bytes per line, 64 lines in all...\n".repeat(64));

  const freePort = () => new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

  /** Servers still up, killed if the benchmark dies half-way. */
  const running = new Set<Subprocess>();
  process.on("exit", () => {
    for (const p of running) p.kill("SIGKILL");
  });

  /** Starts mosaic (event MPM, `children` children that never grow) with extra directives. */
  async function mosaic(children: number, extra = ""): Promise<{ proc: Subprocess; url: string; pid: number; conf: string }> {
    const port = await freePort();
    const conf = path.join(dir, "httpd.conf");
    fs.writeFileSync(conf, [
      `Listen 127.0.0.1:${port}`, "ServerName localhost", `DocumentRoot ${dir}/htdocs`, "ErrorLog logs/error_log",
      "LogLevel warn", "PidFile logs/httpd.pid", "MaxKeepAliveRequests 0",
      `StartServers ${children}`, "MinSpareThreads 1", "MaxSpareThreads 100000", "ThreadsPerChild 64", "ThreadLimit 64",
      `MaxRequestWorkers ${64 * Math.max(children, 4)}`,
      "<Location /scoreboard>\n  SetHandler mosaic-fault-scoreboard\n</Location>", extra,
    ].join("\n") + "\n");
    const proc = Bun.spawn([BIN, "-d", dir, "-f", conf, "-D", "MOSAIC_FAULT_INJECTION"], { stdout: "ignore", stderr: "ignore" });
    running.add(proc);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(`${url}/4k.txt`, proc);
    // Every child up: the control logs nothing at LogLevel warn, so ask the scoreboard.
    for (let i = 0; i < 200; i++) {
      const s = (await (await fetch(`${url}/scoreboard`)).json()) as { processes: { pid: number; state: string }[] };
      if (s.processes.filter((p) => p.pid && p.state === "ready").length >= children) break;
      await Bun.sleep(25);
    }
    return { proc, url, pid: proc.pid, conf };
  }

  async function raw(n: number): Promise<{ proc: Subprocess; url: string; pid: number }> {
    const port = await freePort();
    const proc = Bun.spawn([process.execPath, import.meta.path, "--raw", String(n), String(port), file], { stdout: "pipe", stderr: "inherit" });
    running.add(proc);
    const reader = proc.stdout.getReader();
    await reader.read();
    reader.releaseLock();
    return { proc, url: `http://127.0.0.1:${port}`, pid: proc.pid };
  }

  async function measure(label: string, s: { url: string; pid: number }, keepAlive = true, use = tool): Promise<Record<string, number | string>> {
    await runLoad(use, { url: `${s.url}/4k.txt`, seconds: 1, connections: CONNS, keepAlive });
    const others = otherLoad();
    const cpu0 = serverCpuUs(s.pid);
    const r = await runLoad(use, { url: `${s.url}/4k.txt`, seconds: SECONDS, connections: CONNS, keepAlive });
    const cpuPerReq = (serverCpuUs(s.pid) - cpu0) / Math.max(1, r.requests);
    const row = { label, tool: use, rps: Math.round(r.rps), p99Us: r.p99Us, cpuUsPerReq: Number(cpuPerReq.toFixed(1)), errors: r.errors + r.non2xx, contaminated: others.join(" ") };
    console.log(JSON.stringify(row));
    return row;
  }

  const stop = async (p: Subprocess) => {
    running.delete(p);
    p.kill("SIGTERM");
    await Promise.race([p.exited, Bun.sleep(5000)]);
    p.kill("SIGKILL");
  };

  if (want("throughput")) {
    const rows = [];
    for (const n of [...new Set([1, 2, cores])]) {
      const r = await raw(n);
      rows.push(await measure(`raw Bun.serve x${n}`, r));
      await stop(r.proc);
      const m = await mosaic(n);
      rows.push(await measure(`mosaic event x${n}`, m));
      await stop(m.proc);
    }
    results.throughput = rows;
  }

  if (want("reload")) {
    const m = await mosaic(2);
    const quiet = await measure("2 children, no reloads", m);
    let reloads = 0;
    let on = true;
    const storm = (async () => {
      await Bun.sleep(1000);
      while (on) {
        process.kill(m.pid, "SIGUSR1");
        reloads++;
        await Bun.sleep(200);
      }
    })();
    const busy = await measure("2 children, USR1 every 200 ms", m);
    // wrk counts every server-closed connection as a read error: ab counts real failures.
    const plain = await measure("same, no keep-alive", m, false, Bun.which("ab") ? "ab" : tool);
    on = false;
    await storm;
    results.reload = { quiet, busy, plain, reloads };
    await stop(m.proc);
  }

  if (want("graceful-time")) {
    const m = await mosaic(cores);
    const times: number[] = [];
    for (let gen = 2; gen <= 6; gen++) {
      const t0 = performance.now();
      const k = Bun.spawnSync([BIN, "-d", dir, "-f", m.conf, "-k", "graceful"]);
      if (k.exitCode !== 0) throw new Error(k.stderr.toString());
      for (;;) {
        const s = (await (await fetch(`${m.url}/scoreboard`, { keepalive: false })).json()) as { processes: { pid: number; generation: number }[] };
        const live = s.processes.filter((p) => p.pid);
        if (live.length && live.every((p) => p.generation === gen)) break;
        await Bun.sleep(2);
      }
      times.push(Number((performance.now() - t0).toFixed(1)));
    }
    results.gracefulToNewGeneration = { children: cores, ms: times, note: "includes the -k process (config check) itself" };
    console.log(JSON.stringify(results.gracefulToNewGeneration));
    await stop(m.proc);
  }

  if (want("recycle") && Bun.which("ab")) {
    const m = await mosaic(2, "MaxConnectionsPerChild 300");
    // -r: a reset connection is counted, not fatal (without tcp_migrate_req a few are expected).
    const ab = Bun.spawn(["ab", "-q", "-r", "-t", String(SECONDS), "-n", "100000000", "-c", "10", `${m.url}/4k.txt`], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(ab.stdout).text();
    const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
    const requests = num(/Complete requests:\s+(\d+)/);
    const receive = num(/Receive: (\d+)/) || 0;
    results.recycleNoKeepAlive = {
      requests,
      childExits: Math.floor(requests / 300),
      resetConnections: receive,
      abFailed: num(/Failed requests:\s+(\d+)/),
      migrateReq: fs.readFileSync("/proc/sys/net/ipv4/tcp_migrate_req", "utf8").trim(),
    };
    console.log(JSON.stringify(results.recycleNoKeepAlive));
    await stop(m.proc);
  }

  if (want("idle")) {
    const n = Number(opt.idle);
    const m = await mosaic(1, "KeepAliveTimeout 120\nTimeout 120\n<Location /gc>\n  SetHandler mosaic-fault-gc\n</Location>");
    // The child collects on request; the control thread's own garbage (its once-a-second sample)
    // comes and goes with its GC, so keep the lowest of a few readings.
    const gc = async () => {
      let low = Infinity;
      for (let i = 0; i < 5; i++) {
        await (await fetch(`${m.url}/gc`, { keepalive: false })).text();
        await Bun.sleep(600);
        low = Math.min(low, rssKb(m.pid));
      }
      return low;
    };
    // Serve n requests on closed connections first: the garbage and warm-up then cancel out.
    await runLoad(tool, { url: `${m.url}/4k.txt`, seconds: 2, connections: 50, keepAlive: false });
    const before = await gc();
    const socks = await openIdle(new URL(m.url).port, n);
    await Bun.sleep(1500);
    const after = await gc();
    const s = (await (await fetch(`${m.url}/scoreboard`, { keepalive: false })).json()) as { processes: { pid: number; connections: number; keepAlive: number }[] };
    const row = { connections: socks.length, failedToOpen: n - socks.length, rssBeforeKb: before, rssAfterKb: after, bytesPerConnection: Math.round(((after - before) * 1024) / Math.max(1, socks.length)), scoreboardKeepAlive: s.processes[0]?.keepAlive };
    results.idleKeepAlive = row;
    console.log(JSON.stringify(row));
    for (const sk of socks) sk.destroy();
    await stop(m.proc);
  }

  fs.mkdirSync(path.join(import.meta.dir, "results"), { recursive: true });
  fs.writeFileSync(path.join(import.meta.dir, "results/mpm.json"), JSON.stringify(results, null, 2) + "\n");
  fs.rmSync(dir, { recursive: true, force: true });
}

async function waitFor(url: string, proc: Subprocess): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await (await fetch(url, { keepalive: false })).arrayBuffer();
      return;
    } catch {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`no answer from ${url}`);
      await Bun.sleep(50);
    }
  }
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0);
}

/** Opens `n` keep-alive connections, each after one answered request, and leaves them idle. */
async function openIdle(port: string, n: number): Promise<net.Socket[]> {
  const out: net.Socket[] = [];
  const one = () => new Promise<void>((resolve) => {
    const s = net.connect(Number(port), "127.0.0.1", () => s.write("GET /4k.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    let got = 0;
    s.on("data", (d) => {
      got += d.length;
      if (got >= 4096) {
        out.push(s);
        resolve();
      }
    });
    s.on("error", () => resolve());
  });
  for (let i = 0; i < n; i += 200) await Promise.all(Array.from({ length: Math.min(200, n - i) }, one));
  return out;
}
