// The scoreboard without sockets: layout, per-request recording, connection table, kernel-table join.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { Request } from "../src/http/request.ts";
import { sampleConnections } from "../src/mpm/sampler.ts";
import { readSnapshot, Recorder, Scoreboard, scoreboardString } from "../src/scoreboard/index.ts";
import { C, H, P, PS, W } from "../src/scoreboard/layout.ts";
import { addrKeyOf, connKey, parseTable } from "../src/scoreboard/proc-net.ts";
import type { KernelSample } from "../src/scoreboard/proc-net.ts";
import { tempDir } from "./helpers.ts";

let port = 40000;
/** Just what the recorder reads from a request. */
function fakeRequest(opts: { client?: string; port?: number; line?: string; bytes?: number; close?: boolean } = {}): Request {
  return {
    prev: undefined,
    conn: { remoteAddr: opts.client ?? "127.0.0.1", remotePort: opts.port ?? port++, localAddr: "127.0.0.1", localPort: 8080, keepAlives: 0, secure: false },
    theRequest: opts.line ?? "GET / HTTP/1.1",
    protocol: "HTTP/1.1",
    server: { serverName: "example.test" },
    requestTime: Date.now(),
    start: performance.now(),
    closeConnection: opts.close ?? false,
    bytesSent: opts.bytes ?? 100,
    headersIn: new Headers(),
  } as unknown as Request;
}

function board(threads = 4, mpm: "event" | "worker" = "event") {
  const sb = Scoreboard.create({ serverLimit: 2, threadLimit: threads, mpm });
  sb.set(H.threadsPerChild, threads);
  sb.set(H.maxRequestWorkers, threads * 2);
  const p = sb.proc(0);
  sb.set(p + P.pid, 4242);
  sb.set(p + P.state, PS.READY);
  sb.set(p + P.serial, 1);
  const rec = new Recorder(sb, { slot: 0, generation: 1, threadsPerChild: threads, connectionBound: mpm === "worker", maxConnections: 0 });
  rec.open();
  return { sb, rec };
}

describe("layout", () => {
  test("a worker slot is 256 bytes and slots never share a cache line", () => {
    const sb = Scoreboard.create({ serverLimit: 3, threadLimit: 5, mpm: "event" });
    expect((sb.worker(0, 1) - sb.worker(0, 0)) * 4).toBe(256);
    expect((sb.worker(1, 0) - sb.worker(0, 4)) * 4).toBe(256);
    expect((sb.worker(0, 0) * 4) % 64).toBe(0);
    expect(scoreboardString(readSnapshot(sb))).toBe("");
  });

  test("text fields are truncated Latin-1, like Apache's fixed char arrays", () => {
    const { sb } = board();
    const w = sb.worker(0, 0);
    sb.writeText(w, [96, 64], `GET /${"x".repeat(100)} HTTP/1.1`);
    expect(sb.readText(w, [96, 64])).toBe(`GET /${"x".repeat(58)}`);
    sb.writeText(w, [160, 48], "caf\u00e9 \u20ac");
    expect(sb.readText(w, [160, 48])).toBe("caf\u00e9 ?");
  });

  test("a process-shared scoreboard is a mapped file: two mappings see each other's writes", () => {
    const file = path.join(tempDir(), "sb");
    const a = Scoreboard.create({ serverLimit: 2, threadLimit: 1, mpm: "prefork" }, file);
    const b = Scoreboard.fromFile(file);
    a.set(a.proc(1) + P.pid, 777);
    Atomics.add(b.i32, b.worker(1, 0) + W.slotAccess, 3);
    expect(b.get(b.proc(1) + P.pid)).toBe(777);
    expect(a.get(a.worker(1, 0) + W.slotAccess)).toBe(3);
    expect(fs.statSync(file).size).toBe(a.byteLength);
  });
});

describe("recording requests (event: a slot per request)", () => {
  test("a request holds a slot as W, then counts it and frees it", () => {
    const { sb, rec } = board();
    const r = fakeRequest({ line: "GET /status HTTP/1.1", bytes: 1234 });
    expect(rec.begin(r)).toBeUndefined();
    let snap = readSnapshot(sb);
    expect(scoreboardString(snap)).toBe("W___" + "....");
    expect(snap.workers[0]).toMatchObject({ state: "W", request: "GET /status HTTP/1.1", client: "127.0.0.1", vhost: "example.test:8080", protocol: "http/1.1", connAccess: 1 });
    expect(snap.processes[0]).toMatchObject({ pid: 4242, busy: 1, idle: 3 });
    rec.end(r);
    snap = readSnapshot(sb);
    expect(snap.workers[0]).toMatchObject({ state: "_", childAccess: 1, slotAccess: 1, bytesSlot: 1234, connAccess: 0 });
    expect(snap.processes[0]).toMatchObject({ busy: 0, idle: 4, totalConnections: 1 });
  });

  test("the fifth concurrent request of a 4-slot child waits for a free slot", async () => {
    const { rec } = board();
    const rs = [1, 2, 3, 4].map(() => fakeRequest());
    for (const r of rs) expect(rec.begin(r)).toBeUndefined();
    const late = fakeRequest();
    const waiting = rec.begin(late);
    expect(waiting).toBeInstanceOf(Promise);
    let started = false;
    void (waiting as Promise<void>).then(() => (started = true));
    await Bun.sleep(5);
    expect(started).toBe(false);
    rec.end(rs[0]!);
    await Bun.sleep(0);
    expect(started).toBe(true);
  });

  test("internal redirects do not take a second slot", () => {
    const { sb, rec } = board();
    const r = fakeRequest();
    rec.begin(r);
    rec.begin({ ...r, prev: r } as unknown as Request);
    expect(scoreboardString(readSnapshot(sb))).toBe("W___....");
  });

  test("draining: Connection: close on every answer, busy slots G, idle ones dead", () => {
    const { sb, rec } = board();
    const r = fakeRequest();
    rec.begin(r);
    rec.startDraining();
    expect(scoreboardString(readSnapshot(sb))).toBe("G.......");
    const r2 = fakeRequest();
    rec.begin(r2);
    expect(r2.closeConnection).toBe(true);
    rec.end(r);
    rec.end(r2);
    expect(scoreboardString(readSnapshot(sb))).toBe("........");
    expect(readSnapshot(sb).processes[0]!.quiescing).toBe(true);
  });

  test("MaxConnectionsPerChild counts connections, not requests", () => {
    const { sb } = board();
    let hits = 0;
    const rec = new Recorder(sb, { slot: 0, generation: 1, threadsPerChild: 4, connectionBound: false, maxConnections: 2, onLimit: () => hits++ });
    rec.open();
    const a = fakeRequest({ port: 50001 });
    for (let i = 0; i < 3; i++) {
      const r = fakeRequest({ port: 50001 });
      rec.begin(r);
      rec.end(r);
    }
    expect(hits).toBe(0);
    rec.begin(a);
    const b = fakeRequest({ port: 50002 });
    rec.begin(b);
    expect(hits).toBe(1);
  });
});

describe("self-managed scoreboards (-X, in-process servers)", () => {
  test("with no control thread, the child frees its own connection entries", () => {
    const sb = Scoreboard.create({ serverLimit: 1, threadLimit: 2, mpm: "event" });
    const rec = new Recorder(sb, { slot: 0, generation: 1, threadsPerChild: 2, connectionBound: false, maxConnections: 0, selfManaged: true });
    rec.open();
    const live = () => {
      let n = 0;
      for (let e = 0; e < sb.connCapacity; e++) if (sb.get(sb.conn(e) + C.state) !== 0) n++;
      return n;
    };
    const a = fakeRequest({ port: 53000 });
    rec.begin(a);
    rec.end(a);
    const b = fakeRequest({ port: 53001, close: true });
    rec.begin(b);
    rec.end(b);
    // b said Connection: close; a stays until it has been idle for a minute.
    expect(live()).toBe(1);
    rec.sweep(Date.now() + 61_000);
    expect(live()).toBe(0);
  });
});

describe("worker MPM: a connection holds its slot for its whole life", () => {
  test("keep-alive keeps the slot as K; the next request on it reuses it", () => {
    const { sb, rec } = board(2, "worker");
    const r1 = fakeRequest({ port: 51000 });
    rec.begin(r1);
    rec.end(r1);
    expect(scoreboardString(readSnapshot(sb))).toBe("K_..");
    const r2 = fakeRequest({ port: 51000 });
    rec.begin(r2);
    expect(scoreboardString(readSnapshot(sb))).toBe("W_..");
    expect(readSnapshot(sb).workers[0]!.connAccess).toBe(2);
    rec.end(r2);
    const r3 = fakeRequest({ port: 51001, close: true });
    rec.begin(r3);
    rec.end(r3);
    expect(scoreboardString(readSnapshot(sb))).toBe("K_..");
  });

  test("with every slot held, a new connection waits until the kernel shows one closed", async () => {
    const { sb, rec } = board(2, "worker");
    for (const p of [52000, 52001]) {
      const r = fakeRequest({ port: p });
      rec.begin(r);
      rec.end(r);
    }
    const r3 = fakeRequest({ port: 52002 });
    const wait = rec.begin(r3);
    expect(wait).toBeInstanceOf(Promise);
    // The kernel table shows only the first connection still open; the second one's entry is old.
    for (let e = 0; e < 3; e++) sb.i32[sb.conn(e) + C.recordedAt] = -10;
    const dir = tempDir();
    const f = path.join(dir, "tcp");
    fs.writeFileSync(f, [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 1 1",
      `   1: 0100007F:1F90 0100007F:${(52000).toString(16).toUpperCase()} 01 00000000:00000000 00:00000000 00000000     0        0 2 1`,
      `   2: 0100007F:1F90 0100007F:${(52002).toString(16).toUpperCase()} 01 00000000:00000000 00:00000000 00000000     0        0 3 1`,
      "",
    ].join("\n"));
    const res = sampleConnections(sb, new Set([8080]), [{ slot: 0 }], 32, [f]);
    expect(res.wake).toEqual([0]);
    rec.wake();
    await wait;
    expect(scoreboardString(readSnapshot(sb))).toBe("KW..");
    const snap = readSnapshot(sb);
    expect(snap.globals.kernel).toMatchObject({ measured: true, listeners: 1, acceptQueue: 2, established: 2, connections: 2 });
    // Sampled while the third connection still waited: both open connections were idle then.
    expect(snap.processes[0]).toMatchObject({ connections: 2, keepAlive: 2, busy: 2, idle: 0 });
  });
});

describe("the kernel's socket table", () => {
  test("addresses as Bun spells them match /proc's hex", () => {
    const s: KernelSample = { ok: true, peers: new Map(), txQueued: new Map(), listeners: 0, acceptQueue: 0, established: 0, closing: 0, synRecv: 0 };
    parseTable([
      "header",
      "   0: 0100007F:1F90 0100007F:C350 01 00000010:00000000 00:00000000 00000000 0 0 1 1",
      "   1: 0100007F:1F90 0100007F:C351 08 00000000:00000000 00:00000000 00000000 0 0 1 1",
      "   2: 0100007F:1F91 0100007F:C352 01 00000000:00000000 00:00000000 00000000 0 0 1 1",
      "   3: 0100007F:1F90 0100007F:C353 06 00000000:00000000 00:00000000 00000000 0 0 1 1",
    ].join("\n"), new Set([8080]), s);
    parseTable([
      "header",
      "   0: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:D431 01 00000000:00000000 00:00000000 00000000 0 0 1 1",
      "   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000200007F:D432 03 00000000:00000000 00:00000000 00000000 0 0 1 1",
    ].join("\n"), new Set([8080]), s);
    expect(s.peers.get(connKey(addrKeyOf("127.0.0.1"), 50000))).toBe(1);
    expect(s.txQueued.get(connKey(addrKeyOf("127.0.0.1"), 50000))).toBe(16);
    expect(s.peers.get(connKey(addrKeyOf("127.0.0.1"), 50001))).toBe(8);
    expect(s.peers.get(connKey(addrKeyOf("::1"), 54321))).toBe(1);
    expect(s.peers.get(connKey(addrKeyOf("::ffff:127.0.0.2"), 54322))).toBe(3);
    expect(s.peers.get(connKey(addrKeyOf("127.0.0.2"), 54322))).toBe(3);
    expect(s).toMatchObject({ established: 2, closing: 1, synRecv: 1 });
    expect(s.peers.size).toBe(4);
  });
});
