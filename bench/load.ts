// Load generation and server CPU accounting for the benchmarks: wrk, else ab, else a Bun fetch loop.
import fs from "node:fs";

/** What one load run measured. Latencies are in microseconds. */
export interface LoadResult {
  tool: "wrk" | "ab" | "fetch";
  requests: number;
  seconds: number;
  rps: number;
  p50Us: number;
  p99Us: number;
  /** Socket errors and non-2xx/3xx answers the tool reported (404s are counted here on purpose). */
  errors: number;
  non2xx: number;
}

export interface LoadOptions {
  url: string;
  seconds: number;
  connections: number;
  keepAlive: boolean;
}

/** The load generator on this machine, chosen once: wrk, then ab, then the built-in fetch loop. */
export function pickTool(): LoadResult["tool"] {
  if (Bun.which("wrk")) return "wrk";
  if (Bun.which("ab")) return "ab";
  return "fetch";
}

/**
 * Runs load against `url` for `seconds` with `connections` concurrent connections.
 * @example
 * const o = { url: "http://127.0.0.1:8080/", seconds: 5, connections: 50, keepAlive: true };
 * const r = await runLoad(pickTool(), o);
 * console.log(r.rps, r.p99Us);
 */
export async function runLoad(tool: LoadResult["tool"], o: LoadOptions): Promise<LoadResult> {
  if (tool === "wrk") return wrk(o);
  if (tool === "ab") return ab(o);
  return fetchLoop(o);
}

async function output(cmd: string[]): Promise<string> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  return out + err;
}

const UNIT_US: Record<string, number> = { us: 1, ms: 1000, s: 1_000_000 };

/** wrk -t1: one thread, so the load generator takes one of the two cores and the server the other. */
async function wrk(o: LoadOptions): Promise<LoadResult> {
  // wrk takes whole seconds.
  const cmd = ["wrk", "-t1", `-c${o.connections}`, `-d${Math.max(1, Math.round(o.seconds))}s`, "--latency"];
  // Without keep-alive the server closes after each answer and wrk reconnects.
  if (!o.keepAlive) cmd.push("-H", "Connection: close");
  const out = await output([...cmd, o.url]);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)$`, "m").exec(out);
    return m ? Number(m[1]) * UNIT_US[m[2]!]! : NaN;
  };
  const total = /(\d+) requests in ([\d.]+)(m?s)/.exec(out);
  if (!total) throw new Error(`wrk failed:\n${out}`);
  const seconds = Number(total[2]) / (total[3] === "ms" ? 1000 : 1);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const requests = Number(total[1]);
  const rps = requests / seconds;
  return { tool: "wrk", requests, seconds, rps, p50Us: pct("50"), p99Us: pct("99"), errors, non2xx };
}

/** ab speaks HTTP/1.0, and Bun closes every HTTP/1.0 connection: with ab, "keep-alive" runs are not. */
async function ab(o: LoadOptions): Promise<LoadResult> {
  const seconds = String(Math.max(1, Math.round(o.seconds)));
  const cmd = ["ab", "-q", "-t", seconds, "-n", "100000000", "-c", String(o.connections)];
  if (o.keepAlive) cmd.push("-k");
  const out = await output([...cmd, o.url]);
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const requests = num(/Complete requests:\s+(\d+)/);
  const took = num(/Time taken for tests:\s+([\d.]+)/);
  if (!Number.isFinite(requests)) throw new Error(`ab failed:\n${out}`);
  return {
    tool: "ab",
    requests,
    seconds: took,
    rps: requests / took,
    p50Us: num(/^\s+50%\s+(\d+)/m) * 1000,
    p99Us: num(/^\s+99%\s+(\d+)/m) * 1000,
    errors: num(/Failed requests:\s+(\d+)/),
    non2xx: num(/Non-2xx responses:\s+(\d+)/) || 0,
  };
}

/** The fallback: `connections` loops of fetch in this process (it competes with the server for CPU). */
async function fetchLoop(o: LoadOptions): Promise<LoadResult> {
  const lat: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const headers: Record<string, string> = o.keepAlive ? {} : { Connection: "close" };
  const start = performance.now();
  const end = start + o.seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      try {
        const res = await fetch(o.url, { headers, keepalive: o.keepAlive });
        await res.arrayBuffer();
        if (res.status >= 400) non2xx++;
        lat.push((performance.now() - t) * 1000);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: o.connections }, worker));
  const seconds = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  const at = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? NaN;
  const requests = lat.length;
  return { tool: "fetch", requests, seconds, rps: requests / seconds, p50Us: at(0.5), p99Us: at(0.99), errors, non2xx };
}

const CLK_TCK = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** utime + stime of a process (fields 14 and 15 of /proc/PID/stat), in microseconds; 0 once it is gone. */
function cpuOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1_000_000) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** The pid and all its descendants (a server with child processes is measured as a whole). */
function processTree(pid: number): number[] {
  const parent = new Map<number, number[]>();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(ppid, [...(parent.get(ppid) ?? []), Number(d)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(parent.get(out[i]!) ?? []));
  return out;
}

/**
 * CPU time (µs) used by a server process tree: call before and after a run and divide the difference
 * by the requests served. More stable than req/s on a shared box (see bun.md, the lab caveat).
 */
export function serverCpuUs(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + cpuOf(p), 0);
}

/** Load generators running right now (call between runs): a run beside them is contaminated. */
export function otherLoad(): string[] {
  const found: string[] = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const comm = fs.readFileSync(`/proc/${d}/comm`, "utf8").trim();
      if (["wrk", "ab", "h2load", "oha", "hey", "bombardier"].includes(comm)) found.push(`${comm}(${d})`);
    } catch {
      // Gone.
    }
  }
  return found;
}
