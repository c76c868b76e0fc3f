// Children grow under load and shrink when idle; worker slots are held per request (event) or per connection (worker).
import { describe, expect, test } from "bun:test";
import net from "node:net";
import { liveChildren, startMosaic, until } from "./mpm-helpers.ts";

/** A raw HTTP/1.1 keep-alive connection: send a request, resolve with the response head when it arrives. */
class Conn {
  private sock: net.Socket;
  private buf = "";
  private waiter: ((s: string) => void) | undefined;
  readonly open: Promise<void>;

  constructor(port: number) {
    this.sock = net.connect(port, "127.0.0.1");
    this.open = new Promise((r) => this.sock.once("connect", () => r()));
    this.sock.on("data", (d) => {
      this.buf += d.toString("latin1");
      const end = this.buf.indexOf("\r\n\r\n");
      if (end < 0 || !this.waiter) return;
      const head = this.buf.slice(0, end);
      const len = /content-length: (\d+)/i.exec(head);
      const done = len ? this.buf.length >= end + 4 + Number(len[1]) : /transfer-encoding: chunked/i.test(head) && this.buf.endsWith("\r\n0\r\n\r\n");
      if (done) {
        const w = this.waiter;
        this.waiter = undefined;
        const res = this.buf;
        this.buf = "";
        w(res);
      }
    });
  }

  get(path: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.sock.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    });
  }

  close(): void {
    this.sock.end();
  }
}

const TWO_SLOTS = "ServerLimit 1\nStartServers 1\nThreadLimit 2\nThreadsPerChild 2\nMaxRequestWorkers 2\nMinSpareThreads 1\nMaxSpareThreads 4";

describe("worker slots", () => {
  test("worker MPM: a keep-alive connection holds its slot (K); a third connection waits until one closes", async () => {
    await using m = await startMosaic(`LoadModule mpm_worker_module modules/mod_mpm_worker.so\n${TWO_SLOTS}`);
    const a = new Conn(m.port);
    const b = new Conn(m.port);
    expect(await a.get("/index.html")).toStartWith("HTTP/1.1 200");
    expect(await b.get("/index.html")).toStartWith("HTTP/1.1 200");
    // Asked on a's connection, which already holds a slot: b's slot is K (held while idle).
    const sb = JSON.parse((await a.get("/scoreboard?workers")).split("\r\n\r\n")[1]!);
    expect(sb.globals.mpm).toBe("worker");
    expect(sb.workers.slice(0, 2).map((w: { state: string }) => w.state).sort()).toEqual(["K", "W"]);
    const c = new Conn(m.port);
    await c.open;
    const t0 = Date.now();
    let answered = 0;
    const third = c.get("/whoami").then((r) => ((answered = Date.now() - t0), r));
    await Bun.sleep(700);
    expect(answered).toBe(0);
    a.close();
    expect(await third).toStartWith("HTTP/1.1 200");
    // The kernel table is sampled once a second: the slot comes back within about that.
    expect(answered).toBeGreaterThanOrEqual(700);
    expect(answered).toBeLessThan(2700);
    b.close();
    c.close();
  }, 15_000);

  test("event MPM: idle keep-alive connections hold no slot; the third connection is served at once", async () => {
    await using m = await startMosaic(TWO_SLOTS);
    const seen = (await m.scoreboard()).processes[0]!.totalConnections;
    const a = new Conn(m.port);
    const b = new Conn(m.port);
    await a.get("/index.html");
    await b.get("/index.html");
    const t0 = Date.now();
    const s = await m.scoreboard(true);
    expect(Date.now() - t0).toBeLessThan(500);
    expect(s.globals.mpm).toBe("event");
    expect(s.workers.slice(0, 2).map((w) => w.state).sort()).toEqual(["W", "_"]);
    // a, b, and this request's connection.
    expect(s.processes[0]!.totalConnections).toBe(seen + 3);
    // Two requests in flight fill both slots: a third waits for one of them, not for a connection.
    const slow1 = a.get("/sleep?ms=800");
    const slow2 = b.get("/sleep?ms=800");
    await Bun.sleep(100);
    const t1 = Date.now();
    const res = await fetch(`${m.url}/index.html`);
    expect(res.status).toBe(200);
    expect(Date.now() - t1).toBeGreaterThan(500);
    await Promise.all([slow1, slow2]);
    a.close();
    b.close();
  }, 15_000);

  test("the kernel's socket table gives each child its connections, keep-alive ones included", async () => {
    await using m = await startMosaic(TWO_SLOTS);
    const conns = [new Conn(m.port), new Conn(m.port), new Conn(m.port)];
    for (const c of conns) await c.get("/index.html");
    let last = "";
    const ok = await until(async () => {
      const s = await m.scoreboard();
      const p = s.processes[0]!;
      // Three idle keep-alive connections plus the one asking.
      last = JSON.stringify({ k: s.globals.kernel, p });
      return s.globals.kernel.measured && p.connections >= 3 && p.keepAlive === 3;
    }, 3000);
    expect(ok ? "" : last).toBe("");
    for (const c of conns) c.close();
    expect(await until(async () => (await m.scoreboard()).processes[0]!.keepAlive === 0, 3000)).toBe(true);
  }, 15_000);
});

describe("idle server maintenance", () => {
  test("children are added under load (rate 1, 2, ...) and retired one a second when idle", async () => {
    await using m = await startMosaic("ServerLimit 6\nStartServers 1\nThreadsPerChild 2\nMaxRequestWorkers 12\nMinSpareThreads 1\nMaxSpareThreads 4");
    expect(liveChildren(await m.scoreboard()).length).toBe(1);
    // A steady stream of 1.2 s requests on new connections keeps every slot busy.
    let stop = false;
    let peak = 0;
    const inflight: Promise<unknown>[] = [];
    const load = (async () => {
      while (!stop) {
        inflight.push(fetch(`${m.url}/sleep?ms=1200`, { keepalive: false }).then((r) => r.text(), () => ""));
        await Bun.sleep(120);
      }
    })();
    const watch = (async () => {
      while (!stop) {
        peak = Math.max(peak, liveChildren(await m.scoreboard()).length);
        await Bun.sleep(200);
      }
    })();
    await Bun.sleep(4000);
    stop = true;
    await Promise.all([load, watch, ...inflight]);
    expect(peak).toBeGreaterThanOrEqual(3);
    // Idle now: 2 x children idle slots > MaxSpareThreads 4 until two children are left.
    expect(await until(async () => liveChildren(await m.scoreboard()).filter((p) => p.state === "ready").length <= 2, 8000, 250)).toBe(true);
  }, 30_000);
});
