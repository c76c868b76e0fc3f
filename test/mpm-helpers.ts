// End-to-end helpers for the MPM tests: run the compiled binary on a temp ServerRoot and a free port.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import type { Subprocess } from "bun";
import type { ScoreboardSnapshot } from "../src/scoreboard/index.ts";
import { freePort, tempDir, writeTree } from "./helpers.ts";

const REPO = path.resolve(import.meta.dir, "..");
/** The binary under test (`npm test` builds dist/mosaic first); MOSAIC_BIN points elsewhere. */
export const BIN = process.env.MOSAIC_BIN ?? path.join(REPO, "dist", "mosaic");

/** True when apache2-utils' ab is installed (CI installs it). */
export const HAVE_AB = Bun.which("ab") !== null;

export interface Instance extends AsyncDisposable {
  root: string;
  port: number;
  url: string;
  conf: string;
  proc: Subprocess | undefined;
  /** The control process's pid, from the PidFile. */
  pid(): number;
  log(): string;
  stderr(): string;
  /** Waits until the error log matches (polling every 50 ms). */
  waitLog(re: RegExp, ms?: number): Promise<string>;
  /** `mosaic-fault-scoreboard`: the scoreboard as a child sees it. */
  scoreboard(workers?: boolean): Promise<ScoreboardSnapshot>;
  /** Runs the binary with extra arguments against this instance's config (e.g. `-k graceful`). */
  ctl(...args: string[]): { code: number; stdout: string; stderr: string };
  writeConf(extra: string): void;
  stop(): Promise<void>;
}

/** Every server a test started, killed when the test process exits, whatever happened to the test. */
const started = new Set<number>();
process.on("exit", () => {
  for (const pid of started) {
    try {
      // Only if that pid is still one of ours (pids get reused).
      if (fs.readFileSync(`/proc/${pid}/cmdline`, "latin1").includes("MOSAIC_FAULT_INJECTION")) process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
});

/** Remembers a server process so it cannot outlive the tests (detached ones included). */
export function track(pid: number): void {
  if (pid > 0) started.add(pid);
}

/** The part of every test config the helpers rely on (ports, logs, the fault-injection handlers). */
export function baseConf(port: number, extra: string): string {
  return `Listen 127.0.0.1:${port}
ServerName localhost
DocumentRoot htdocs
ErrorLog logs/error_log
PidFile logs/httpd.pid
LogLevel info
<Location /whoami>
  SetHandler mosaic-fault-whoami
</Location>
<Location /scoreboard>
  SetHandler mosaic-fault-scoreboard
</Location>
<Location /sleep>
  SetHandler mosaic-fault-sleep
</Location>
<Location /crash>
  SetHandler mosaic-fault-crash
</Location>
<Location /hang>
  SetHandler mosaic-fault-hang
</Location>
${extra}
`;
}

/**
 * Starts `mosaic -f httpd.conf -D MOSAIC_FAULT_INJECTION` in the foreground (or with `-k start`
 * when `detach`), waits until it answers, and stops it on dispose.
 */
export async function startMosaic(extra: string, opts: { detach?: boolean; files?: Record<string, string> } = {}): Promise<Instance> {
  const root = tempDir("mosaic-mpm-");
  const port = await freePort();
  writeTree(root, { "htdocs/index.html": "hello\n", "logs/.keep": "", ...opts.files });
  const confFile = path.join(root, "httpd.conf");
  let conf = baseConf(port, extra);
  fs.writeFileSync(confFile, conf);
  const args = ["-d", root, "-f", "httpd.conf", "-D", "MOSAIC_FAULT_INJECTION"];
  const errFile = path.join(root, "stderr.txt");
  const run = (...more: string[]) => {
    const r = Bun.spawnSync([BIN, ...args, ...more], { stdout: "pipe", stderr: "pipe" });
    return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  let proc: Subprocess | undefined;
  if (opts.detach) {
    const r = run("-k", "start");
    if (r.code !== 0) throw new Error(`-k start failed: ${r.stderr}`);
  } else {
    proc = Bun.spawn([BIN, ...args], { stdout: Bun.file(path.join(root, "stdout.txt")), stderr: Bun.file(errFile) });
  }
  const url = `http://127.0.0.1:${port}`;
  const read = (f: string) => {
    try {
      return fs.readFileSync(path.join(root, f), "utf8");
    } catch {
      return "";
    }
  };
  const inst: Instance = {
    root,
    port,
    url,
    get conf() {
      return conf;
    },
    proc,
    pid: () => Number(read("logs/httpd.pid").trim()),
    log: () => read("logs/error_log"),
    stderr: () => read("stderr.txt"),
    async waitLog(re, ms = 5000) {
      const until = Date.now() + ms;
      for (;;) {
        const text = inst.log();
        if (re.test(text)) return text;
        if (Date.now() > until) throw new Error(`log never matched ${re}:\n${text}\n${inst.stderr()}`);
        await Bun.sleep(50);
      }
    },
    async scoreboard(workers = false) {
      const res = await fetch(`${url}/scoreboard${workers ? "?workers" : ""}`, { keepalive: false });
      return (await res.json()) as ScoreboardSnapshot;
    },
    ctl: (...more) => run(...more),
    writeConf(more) {
      conf = baseConf(port, more);
      fs.writeFileSync(confFile, conf);
    },
    async stop() {
      const pid = inst.pid();
      if (proc) {
        proc.kill("SIGTERM");
        const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(8000).then(() => false)]);
        if (!done) proc.kill("SIGKILL");
      } else if (pid > 0) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          return;
        }
        for (let i = 0; i < 160 && alive(pid); i++) await Bun.sleep(50);
        if (alive(pid)) process.kill(pid, "SIGKILL");
      }
      if (proc) started.delete(proc.pid);
      if (!alive(pid)) started.delete(pid);
    },
    [Symbol.asyncDispose]: () => inst.stop(),
  };
  if (proc) track(proc.pid);
  await waitUp(url, 10_000, () => inst.stderr());
  track(inst.pid());
  // The first child answers before the others are up: wait until none is still starting.
  await until(async () => liveChildren(await inst.scoreboard()).every((p) => p.state !== "starting"), 10_000, 25);
  return inst;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUp(url: string, ms: number, why: () => string): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      // No pooled connection left behind: under the worker MPM it would hold a worker slot.
      const r = await fetch(`${url}/index.html`, { keepalive: false });
      await r.text();
      if (r.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > until) throw new Error(`mosaic did not come up: ${why()}`);
    await Bun.sleep(25);
  }
}

/** Polls `fn` until it returns true or `ms` passes. */
export async function until(fn: () => boolean | Promise<boolean>, ms = 5000, step = 50): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await Bun.sleep(step);
  }
  return fn();
}

/** `mosaic-fault-whoami`: which child answered. */
export async function whoami(url: string): Promise<{ pid: number; slot: number; generation: number; draining: boolean }> {
  return (await (await fetch(`${url}/whoami`, { keepalive: false })).json()) as { pid: number; slot: number; generation: number; draining: boolean };
}

/** Live (non-free) process rows of a snapshot. */
export function liveChildren(s: ScoreboardSnapshot) {
  return s.processes.filter((p) => p.pid !== 0 && p.state !== "free");
}

/** Runs ab and returns its completed/failed counts (`-k` for keep-alive). */
export async function ab(url: string, opts: { seconds: number; concurrency: number; keepAlive?: boolean }) {
  const args = ["ab", "-q", "-t", String(opts.seconds), "-n", "10000000", "-c", String(opts.concurrency), ...(opts.keepAlive ? ["-k"] : []), url];
  const p = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text();
  const err = await new Response(p.stderr).text();
  await p.exited;
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  return {
    complete: num(/Complete requests:\s+(\d+)/),
    failed: num(/Failed requests:\s+(\d+)/),
    non2xx: num(/Non-2xx responses:\s+(\d+)/) || 0,
    output: out + err,
  };
}

/** What raw keep-alive clients saw: failures split by whether the connection was brand new. */
export interface KeepAliveStats {
  ok: number;
  /** Connections opened (the first, and after each `Connection: close` or failure). */
  fresh: number;
  /** Failures of the first request on a new connection (it raced a listener closing). */
  freshFailed: number;
  /** Failures on a connection that had already been answered (a keep-alive connection was cut). */
  reusedFailed: number;
}

/**
 * `loops` raw HTTP/1.1 keep-alive clients for `ms`: each keeps its connection until the server says
 * `Connection: close` (or it fails), then opens a new one.
 */
export async function keepAliveClients(port: number, path: string, loops: number, ms: number): Promise<KeepAliveStats> {
  const end = Date.now() + ms;
  const st: KeepAliveStats = { ok: 0, fresh: 0, freshFailed: 0, reusedFailed: 0 };
  const once = (s: net.Socket) =>
    new Promise<"ok" | "close" | "err">((resolve) => {
      let buf = "";
      const done = (r: "ok" | "close" | "err") => {
        s.off("data", onData).off("error", onErr).off("close", onErr);
        resolve(r);
      };
      const onData = (d: Buffer) => {
        buf += d.toString("latin1");
        const e = buf.indexOf("\r\n\r\n");
        const cl = e >= 0 ? /content-length: (\d+)/i.exec(buf.slice(0, e)) : null;
        if (cl && buf.length >= e + 4 + Number(cl[1])) done(/^connection: close/im.test(buf.slice(0, e)) ? "close" : "ok");
      };
      const onErr = () => done("err");
      s.on("data", onData).on("error", onErr).on("close", onErr);
      s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    });
  await Promise.all(Array.from({ length: loops }, async () => {
    let sock: net.Socket | undefined;
    let answered = 0;
    while (Date.now() < end) {
      if (!sock) {
        sock = net.connect(port, "127.0.0.1");
        answered = 0;
        st.fresh++;
      }
      const r = await once(sock);
      if (r === "err") {
        if (answered === 0) st.freshFailed++;
        else st.reusedFailed++;
      } else {
        st.ok++;
        answered++;
      }
      if (r !== "ok") {
        sock.destroy();
        sock = undefined;
      }
    }
    sock?.destroy();
  }));
  return st;
}
