// Under load: graceful reloads lose nothing, crashed and hung children are replaced, children recycle.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import { ab, HAVE_AB, keepAliveClients, liveChildren, startMosaic, until } from "./mpm-helpers.ts";

const CONF = "StartServers 2\nMinSpareThreads 1\nMaxSpareThreads 100\nThreadsPerChild 10\nMaxRequestWorkers 100";

/** Sends `count` USR1s, one every `everyMs`, while the load runs. */
async function gracefulStorm(pid: number, count: number, everyMs: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    process.kill(pid, "SIGUSR1");
    await Bun.sleep(everyMs);
  }
}

/**
 * `loops` HTTP/1.1 keep-alive clients (Bun's fetch pools connections) for `ms`: counts answers
 * and failures. A connection the server closes with `Connection: close` is not reused.
 */
async function keepAliveLoad(url: string, loops: number, ms: number, keepalive = true): Promise<{ ok: number; failed: number; errors: string[] }> {
  const end = Date.now() + ms;
  const out = { ok: 0, failed: 0, errors: [] as string[] };
  await Promise.all(Array.from({ length: loops }, async () => {
    while (Date.now() < end) {
      try {
        const r = await fetch(url, { keepalive });
        const body = await r.text();
        if (r.status === 200 && body === "hello\n") out.ok++;
        else {
          out.failed++;
          out.errors.push(`${r.status} ${body.slice(0, 80)}`);
        }
      } catch (e) {
        out.failed++;
        out.errors.push(String(e));
      }
    }
  }));
  return out;
}

describe("graceful restart under load", () => {
  test.if(HAVE_AB)("USR1 every 200 ms under ab (keep-alive and not): 0 failed, the new config serves afterwards", async () => {
    await using m = await startMosaic(`${CONF}\nServerTokens Prod`);
    const target = `${m.url}/index.html`;
    const [ka] = await Promise.all([ab(target, { seconds: 2, concurrency: 10, keepAlive: true }), gracefulStorm(m.pid(), 10, 200)]);
    const [plain] = await Promise.all([ab(target, { seconds: 2, concurrency: 10 }), gracefulStorm(m.pid(), 10, 200)]);
    expect(ka.complete).toBeGreaterThan(1000);
    expect(plain.complete).toBeGreaterThan(1000);
    expect([ka.failed, ka.non2xx, plain.failed, plain.non2xx]).toEqual([0, 0, 0, 0]);
    // The config changes; one more graceful and every answer carries it.
    m.writeConf(`${CONF}\nServerTokens Minimal`);
    process.kill(m.pid(), "SIGUSR1");
    expect(await until(async () => (await fetch(target)).headers.get("server")?.startsWith("mosaic/0.") ?? false)).toBe(true);
    // Signals that arrive while a restart is queued coalesce with it (one AH00493 per restart run).
    const log = m.log();
    const restarts = (log.match(/AH00493: SIGUSR1 received\.  Doing graceful restart/g) ?? []).length;
    expect(restarts).toBeGreaterThanOrEqual(10);
    expect(restarts).toBeLessThanOrEqual(21);
    expect(log).not.toMatch(/\[(error|crit|alert|emerg)\]/);
    expect(await until(async () => {
      const s = await m.scoreboard();
      return s.globals.configGeneration === restarts + 1 && liveChildren(s).every((p) => p.generation === restarts + 1);
    })).toBe(true);
  }, 20_000);

  test("a storm of 40 gracefuls in 2 s leaves one consistent set of children, keep-alive clients see no error", async () => {
    await using m = await startMosaic(CONF);
    const [load] = await Promise.all([keepAliveLoad(`${m.url}/index.html`, 6, 2200), gracefulStorm(m.pid(), 40, 50)]);
    expect(load.errors).toEqual([]);
    expect(load.ok).toBeGreaterThan(500);
    await Bun.sleep(300);
    const s = await m.scoreboard();
    const kids = liveChildren(s);
    expect(kids.length).toBe(2);
    expect(kids.every((p) => p.generation === s.globals.configGeneration && p.state === "ready")).toBe(true);
  }, 15_000);
});

describe("faults", () => {
  test("a child that crashes is logged and replaced; the others keep serving", async () => {
    await using m = await startMosaic(CONF.replace("StartServers 2", "StartServers 3"));
    const before = liveChildren(await m.scoreboard());
    expect(before.length).toBe(3);
    const crash = await fetch(`${m.url}/crash`, { keepalive: false });
    const victim = (await crash.text()) === "crashing\n";
    expect(victim).toBe(true);
    // Three clients, one request each in flight: the dead child can have held at most those.
    const during = keepAliveLoad(`${m.url}/index.html`, 3, 800, false);
    const log = await m.waitLog(/AH00000: child thread \d+ of pid \d+ \(slot \d\) exited unexpectedly with status 1: .*mosaic-fault-crash: injected crash/);
    expect(log).toMatch(/\[mpm_event:error\]/);
    expect(await until(async () => {
      const now = liveChildren(await m.scoreboard());
      return now.length === 3 && now.every((p) => p.state === "ready") && now.some((p) => !before.some((b) => b.tid === p.tid));
    })).toBe(true);
    const d = await during;
    expect(d.failed).toBeLessThanOrEqual(3);
    expect(d.errors.every((e) => e.includes("ECONNRESET"))).toBe(true);
    const after = await keepAliveLoad(`${m.url}/index.html`, 3, 500, false);
    expect(after.errors).toEqual([]);
    expect(after.ok).toBeGreaterThan(50);
  }, 15_000);

  test("a hung child (busy loop) misses its heartbeat, is terminated within ~1 s and replaced", async () => {
    await using m = await startMosaic(CONF);
    const before = liveChildren(await m.scoreboard());
    const t0 = Date.now();
    const hung = fetch(`${m.url}/hang`, { keepalive: false }).then((r) => r.status, () => "reset");
    const log = await m.waitLog(/AH00000: child pid \d+ thread \d+ \(slot \d\) missed its heartbeat for \d+ ms: terminating and replacing it/, 4000);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(log).not.toMatch(/exited unexpectedly/);
    // The request it held never got a real answer: Bun cuts it, or answers an empty 204 when the
    // worker thread is terminated under it.
    expect([204, "reset"]).toContain(await hung);
    expect(await until(async () => {
      const now = liveChildren(await m.scoreboard());
      return now.length === 2 && now.every((p) => p.state === "ready") && now.some((p) => !before.some((b) => b.tid === p.tid));
    })).toBe(true);
    expect((await fetch(`${m.url}/index.html`)).status).toBe(200);
  }, 15_000);
});

describe("MaxConnectionsPerChild", () => {
  test("children recycle (replacement first, then a drain): keep-alive connections lose nothing", async () => {
    await using m = await startMosaic(`${CONF}\nMaxConnectionsPerChild 8\nLogLevel info mpm_event:debug`);
    const first = liveChildren(await m.scoreboard()).map((p) => p.tid);
    // 8 clients against children that each take 8 connections: every child is replaced again and
    // again, and every client is moved to a new connection by a retiring child's Connection: close.
    const st = await keepAliveClients(m.port, "/index.html", 8, 2500);
    const recycled = (m.log().match(/reached MaxConnectionsPerChild 8: retiring it/g) ?? []).length;
    expect(recycled).toBeGreaterThanOrEqual(3);
    expect(st.ok).toBeGreaterThan(300);
    expect(st.fresh).toBeGreaterThan(24);
    // The drain protects every connection that has been answered once.
    expect(st.reusedFailed).toBe(0);
    // A brand-new connection can still land in a retiring listener's accept queue as it closes; the
    // kernel resets it unless net.ipv4.tcp_migrate_req hands it over (docs/mpm.md).
    if (readMigrate() === 1) expect(st.freshFailed).toBe(0);
    else expect(st.freshFailed).toBeLessThanOrEqual(Math.max(3, st.fresh / 500));
    await Bun.sleep(1500);
    const now = liveChildren(await m.scoreboard());
    expect(now.some((p) => first.includes(p.tid))).toBe(false);
    // MinSpareThreads 1 is all maintenance keeps once the clients are gone (StartServers is not kept).
    expect(now.filter((p) => p.state === "ready").length).toBeGreaterThanOrEqual(1);
  }, 15_000);

  test.if(HAVE_AB && readMigrate() === 1)("with net.ipv4.tcp_migrate_req = 1, new-connection traffic loses nothing either", async () => {
    await using m = await startMosaic(`${CONF}\nMaxConnectionsPerChild 500`);
    const r = await ab(`${m.url}/index.html`, { seconds: 2, concurrency: 10 });
    expect([r.failed, r.non2xx]).toEqual([0, 0]);
  }, 15_000);
});

function readMigrate(): number {
  try {
    return Number(fs.readFileSync("/proc/sys/net/ipv4/tcp_migrate_req", "utf8").trim());
  } catch {
    return -1;
  }
}
