// A child's side of the scoreboard: worker slots taken and released per request, connections recorded.
import type { Request } from "../http/request.ts";
import { ConnTable } from "./conn-table.ts";
import { P, W, WF, WS, WT } from "./layout.ts";
import { addrKeyOf } from "./proc-net.ts";
import type { Scoreboard } from "./scoreboard.ts";

/** What a child needs to know to keep its rows. */
export interface RecorderOptions {
  slot: number;
  generation: number;
  threadsPerChild: number;
  /**
   * Worker MPM: a connection holds its worker slot for its whole life, keep-alive included.
   * Otherwise (event, prefork) a slot is held only while a request is processed.
   */
  connectionBound: boolean;
  /** MaxConnectionsPerChild (0: unlimited); `onLimit` is called once when it is reached. */
  maxConnections: number;
  onLimit?: () => void;
  /**
   * No control thread samples the kernel for this scoreboard (`-X`, in-process servers): the child
   * frees its own connection entries (on Connection: close, and when idle for a minute).
   */
  selfManaged?: boolean;
}

/** One client connection as the child knows it (keyed by remote addr:port, stable per connection). */
interface Conn {
  key: string;
  addrKey: number;
  port: number;
  /** Connection-table entry, or -1 when the table was full. */
  entry: number;
  /** Worker slot held by this connection (worker MPM), -1 none. */
  slot: number;
  requests: number;
  bytes: number;
  last: number;
}

interface Active {
  t: number;
  conn: Conn;
}

/** Idle connections the table no longer knows (or never knew) are forgotten after this long. */
const UNTRACKED_IDLE_MS = 120_000;
/** Self-managed scoreboards forget connections idle this long (no kernel sample tells them closed). */
const SELF_IDLE_MS = 60_000;
const SWEEP_EVERY_MS = 5000;

export class Recorder {
  /** What this thread last wrote into each of its worker slots' text fields. */
  private shadow: ({ client: string; vhost: string; protocol: string } | undefined)[] = [];
  private vhostText = new WeakMap<object, string>();
  readonly sb: Scoreboard;
  readonly slot: number;
  readonly p: number;
  generation: number;
  tpc: number;
  connectionBound: boolean;
  maxConnections: number;
  onLimit: (() => void) | undefined;
  draining = false;
  /** When this child last saw a new connection (ms since epoch): a retiring child waits for quiet. */
  lastNewConnection = 0;
  private limitHit = false;
  private readonly conns = new Map<string, Conn>();
  private readonly active = new WeakMap<Request, Active>();
  private readonly waiters: (() => void)[] = [];
  private readonly table: ConnTable;
  private lastSweep = 0;
  private serial: number;
  readonly selfManaged: boolean;

  constructor(sb: Scoreboard, opts: RecorderOptions) {
    this.sb = sb;
    this.slot = opts.slot;
    this.p = sb.proc(opts.slot);
    this.generation = opts.generation;
    this.tpc = Math.min(opts.threadsPerChild, sb.threadLimit);
    this.connectionBound = opts.connectionBound;
    this.maxConnections = opts.maxConnections;
    this.onLimit = opts.onLimit;
    this.selfManaged = opts.selfManaged ?? false;
    this.table = new ConnTable(sb, opts.slot);
    this.serial = sb.get(this.p + P.serial);
  }

  /** Makes this child's worker slots ready (`_`) and the ones past ThreadsPerChild dead (`.`). */
  open(): void {
    const sb = this.sb;
    sb.set(this.p + P.threadsPerChild, this.tpc);
    sb.set(this.p + P.generation, this.generation);
    for (let t = 0; t < sb.threadLimit; t++) {
      const w = sb.worker(this.slot, t);
      const s = sb.get(w + W.state);
      if (t < this.tpc) {
        if (s === WS.DEAD || s === WS.STARTING) sb.set(w + W.state, WS.READY);
      } else if (s === WS.READY) sb.set(w + W.state, WS.DEAD);
      if (sb.get(w + W.owner) !== this.serial) {
        // A new occupant of the slot: its per-child counters start from zero (Apache's my_access_count).
        sb.set(w + W.owner, this.serial);
        sb.set(w + W.childAccess, 0);
        sb.f64[(w >> 1) + WF.bytesChild] = 0;
      }
    }
  }

  /** A graceful restart moved this child to a new generation (and maybe a new ThreadsPerChild). */
  reconfigure(generation: number, threadsPerChild: number, connectionBound: boolean, maxConnections: number): void {
    this.generation = generation;
    this.tpc = Math.min(threadsPerChild, this.sb.threadLimit);
    this.connectionBound = connectionBound;
    this.maxConnections = maxConnections;
    this.open();
    this.wake();
  }

  /** Old-generation behaviour: every answer says Connection: close, idle slots read `.`, busy ones `G`. */
  startDraining(): void {
    this.draining = true;
    const sb = this.sb;
    sb.set(this.p + P.quiescing, 1);
    sb.set(this.p + P.notAccepting, 1);
    for (let t = 0; t < sb.threadLimit; t++) {
      const w = sb.worker(this.slot, t);
      const s = sb.get(w + W.state);
      if (s === WS.READY || s === WS.KEEPALIVE) Atomics.compareExchange(sb.i32, w + W.state, s, WS.DEAD);
      else if (s !== WS.DEAD) Atomics.compareExchange(sb.i32, w + W.state, s, WS.GRACEFUL);
    }
    this.wake();
  }

  /**
   * Takes a worker slot for a request (post_read_request). Returns a promise only when every slot
   * of this child is held and the request must wait, as Apache's listener waits for an idle worker.
   */
  begin(r: Request): void | Promise<void> {
    if (r.prev) return;
    // Nobody samples the kernel for a self-managed board: forget idle connections now and then.
    if (this.selfManaged && r.requestTime - this.lastSweep > SWEEP_EVERY_MS) this.sweep(r.requestTime);
    const conn = this.connFor(r);
    conn.requests++;
    conn.last = r.requestTime;
    if (this.draining) r.closeConnection = true;
    let t = -1;
    if (conn.slot >= 0) {
      const w = this.sb.worker(this.slot, conn.slot);
      // The control thread may have released it (connection gone) and another connection taken it.
      if (this.sb.get(w + W.connEntry) === conn.entry + 1 &&
        Atomics.compareExchange(this.sb.i32, w + W.state, WS.KEEPALIVE, WS.WRITE) === WS.KEEPALIVE) t = conn.slot;
      else conn.slot = -1;
    }
    if (t < 0) t = this.acquire();
    if (t >= 0) return this.record(r, conn, t);
    return this.wait(r, conn);
  }

  private async wait(r: Request, conn: Conn): Promise<void> {
    const i32 = this.sb.i32;
    Atomics.add(i32, this.p + P.waiting, 1);
    let t = -1;
    try {
      while (t < 0) {
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        t = this.acquire();
      }
    } finally {
      Atomics.sub(i32, this.p + P.waiting, 1);
    }
    this.record(r, conn, t);
  }

  /** Finds a free slot among this child's first ThreadsPerChild and marks it busy (compareExchange). */
  private acquire(): number {
    const sb = this.sb;
    const from = this.draining ? WS.DEAD : WS.READY;
    const to = this.draining ? WS.GRACEFUL : WS.WRITE;
    for (let t = 0; t < this.tpc; t++) {
      const w = sb.worker(this.slot, t);
      if (Atomics.compareExchange(sb.i32, w + W.state, from, to) === from) return t;
    }
    return -1;
  }

  private record(r: Request, conn: Conn, t: number): void {
    const sb = this.sb;
    const w = sb.worker(this.slot, t);
    this.active.set(r, { t, conn });
    if (this.connectionBound) conn.slot = t;
    sb.set(w + W.generation, this.generation);
    sb.set(w + W.connEntry, conn.entry + 1);
    sb.set(w + W.connAccess, conn.requests);
    sb.f64[(w >> 1) + WF.startTime] = r.requestTime;
    sb.writeText(w, WT.request, r.theRequest);
    // Client, vhost and protocol rarely change between the requests a slot serves: only write the
    // bytes when they do (this thread is the only writer of its slots' texts).
    const shadow = (this.shadow[t] ??= { client: "", vhost: "", protocol: "" });
    const client = r.conn.remoteAddr;
    if (shadow.client !== client) sb.writeText(w, WT.client, (shadow.client = client));
    let vhost = this.vhostText.get(r.server);
    if (vhost === undefined || !vhost.endsWith(`:${r.conn.localPort}`)) {
      vhost = `${r.server.serverName}:${r.conn.localPort}`;
      this.vhostText.set(r.server, vhost);
    }
    if (shadow.vhost !== vhost) sb.writeText(w, WT.vhost, (shadow.vhost = vhost));
    const protocol = r.protocol === "HTTP/1.1" ? "http/1.1" : "http/1.0";
    if (shadow.protocol !== protocol) sb.writeText(w, WT.protocol, (shadow.protocol = protocol));
    if (conn.entry >= 0) this.table.busy(conn.entry, true);
  }

  /** Counts the finished request and releases (or, worker MPM, keeps) its slot (log_transaction). */
  end(r: Request): void {
    if (r.prev) return;
    let a = this.active.get(r);
    if (!a) {
      // Refused before post_read_request (a malformed request): still an access on a slot.
      const t = this.acquire();
      if (t < 0) return;
      this.record(r, this.connFor(r), t);
      a = this.active.get(r)!;
    }
    this.active.delete(r);
    const sb = this.sb;
    const i32 = sb.i32;
    const f64 = sb.f64;
    const w = sb.worker(this.slot, a.t);
    const fw = w >> 1;
    const bytes = r.bytesSent;
    const ms = performance.now() - r.start;
    const conn = a.conn;
    conn.bytes += bytes;
    Atomics.add(i32, w + W.childAccess, 1);
    Atomics.add(i32, w + W.slotAccess, 1);
    f64[fw + WF.bytesConn] = conn.bytes;
    f64[fw + WF.bytesChild] = f64[fw + WF.bytesChild]! + bytes;
    f64[fw + WF.bytesSlot] = f64[fw + WF.bytesSlot]! + bytes;
    f64[fw + WF.lastDuration] = ms;
    f64[fw + WF.totalDuration] = f64[fw + WF.totalDuration]! + ms;
    f64[fw + WF.stopTime] = Date.now();
    // Bun closes after a `Connection: close` request without telling the handler (bun.md §2).
    const closing = r.closeConnection || this.draining ||
      (this.connectionBound && (r.headersIn.get("connection")?.toLowerCase().includes("close") ?? false));
    if (conn.entry >= 0) this.table.busy(conn.entry, false, conn.requests, closing);
    if (closing) {
      this.conns.delete(conn.key);
      if (this.selfManaged && conn.entry >= 0) this.table.free(conn.entry);
    }
    if (this.connectionBound && !closing) {
      Atomics.store(i32, w + W.state, WS.KEEPALIVE);
      return;
    }
    conn.slot = -1;
    Atomics.store(i32, w + W.connAccess, 0);
    Atomics.store(i32, w + W.connEntry, 0);
    f64[fw + WF.bytesConn] = 0;
    Atomics.store(i32, w + W.state, this.draining ? WS.DEAD : WS.READY);
    this.wake();
  }

  /** Lets the waiting requests retry (slots were released here or by the control thread). */
  wake(): void {
    const n = this.waiters.length;
    for (let i = 0; i < n; i++) this.waiters.shift()!();
  }

  /** The connection a request came on; a new one is entered in the shared connection table. */
  private connFor(r: Request): Conn {
    const c = r.conn;
    const key = `${c.remoteAddr}:${c.remotePort}`;
    let conn = this.conns.get(key);
    if (conn && conn.entry >= 0 && !this.entryIsOurs(conn)) {
      this.conns.delete(key);
      conn = undefined;
    }
    if (conn) return conn;
    const addrKey = addrKeyOf(c.remoteAddr);
    conn = { key, addrKey, port: c.remotePort, entry: this.table.claim(addrKey, c.remotePort), slot: -1, requests: 0, bytes: 0, last: 0 };
    this.conns.set(key, conn);
    this.lastNewConnection = r.requestTime;
    const n = Atomics.add(this.sb.i32, this.p + P.newConns, 1) + 1;
    if (this.maxConnections > 0 && n >= this.maxConnections && !this.limitHit) {
      this.limitHit = true;
      this.onLimit?.();
    }
    return conn;
  }

  private entryIsOurs(conn: Conn): boolean {
    return this.table.owns(conn.entry, conn.addrKey, conn.port);
  }

  /** Forgets connections the control thread found closed (called every few seconds). */
  sweep(now = Date.now()): void {
    this.lastSweep = now;
    for (const [k, conn] of this.conns) {
      if (this.selfManaged) {
        if (now - conn.last <= SELF_IDLE_MS) continue;
        if (conn.entry >= 0 && this.entryIsOurs(conn)) this.table.free(conn.entry);
        conn.entry = -1;
      } else if (conn.entry >= 0 ? this.entryIsOurs(conn) : now - conn.last <= UNTRACKED_IDLE_MS) continue;
      this.conns.delete(k);
      if (conn.slot >= 0 && conn.entry < 0) {
        // Untracked (table full), so the control thread cannot release its slot: do it here.
        const w = this.sb.worker(this.slot, conn.slot);
        if (Atomics.compareExchange(this.sb.i32, w + W.state, WS.KEEPALIVE, WS.READY) === WS.KEEPALIVE) this.wake();
      }
    }
  }
}
