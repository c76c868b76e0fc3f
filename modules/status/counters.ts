// mosaic's own request counters (beyond Apache's scoreboard): per virtual host, and a duration histogram.
import type { Request } from "../../src/http/request.ts";
import type { ServerRec } from "../../src/server-rec.ts";
import type { DurationHistogram, VhostCounters } from "./snapshot.ts";

/** Prometheus' default buckets (seconds): web latencies from 5 ms to 10 s. */
export const DURATION_BOUNDS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What one child publishes to the others: its own totals (not deltas, so a lost message loses nothing). */
interface Published {
  id: string;
  vhosts: VhostCounters[];
  buckets: number[];
  count: number;
  sumSeconds: number;
}

/** How often a child publishes its counters to its siblings. */
const SHARE_EVERY_MS = 1000;

/**
 * Counts every finished request of this child by virtual host (`ServerName:port`, the VHost column's
 * spelling) and by duration, and sums them with what the sibling children (threads of the same server)
 * publish on a BroadcastChannel once a second, so `?metrics` from any child shows the whole server. A
 * child that exits keeps its last published figures in its siblings' sums: counters never go back.
 */
export class RequestCounters {
  private readonly byName = new Map<string, VhostCounters>();
  private readonly byServer = new WeakMap<ServerRec, Map<number, VhostCounters>>();
  private readonly buckets = new Float64Array(DURATION_BOUNDS.length);
  private count = 0;
  private sumSeconds = 0;
  private readonly id = crypto.randomUUID();
  private readonly peers = new Map<string, Published>();
  private channel: BroadcastChannel | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private published = -1;

  /** log_transaction: one lookup (cached per ServerRec and port), three additions, one bucket. */
  record(r: Request): void {
    const seconds = (performance.now() - r.start) / 1000;
    const port = r.server.port || r.conn.localPort;
    let ports = this.byServer.get(r.server);
    if (ports === undefined) {
      ports = new Map();
      this.byServer.set(r.server, ports);
    }
    let v = ports.get(port);
    if (v === undefined) {
      const name = r.server.serverName;
      const key = `${name}:${port}`;
      v = this.byName.get(key);
      if (v === undefined) {
        v = { name, port, requests: 0, bytes: 0, durationMs: 0 };
        this.byName.set(key, v);
      }
      ports.set(port, v);
    }
    v.requests++;
    v.bytes += r.isHead ? 0 : r.bytesSent;
    v.durationMs += seconds * 1000;
    this.count++;
    this.sumSeconds += seconds;
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (seconds <= DURATION_BOUNDS[i]!) {
        b[i]!++;
        break;
      }
    }
  }

  /**
   * Joins the children of one server on `channel` (a name unique to that server's scoreboard). Calling
   * it again with the same name does nothing.
   */
  share(channel: string): void {
    if (this.channel?.name === channel) return;
    this.channel?.close();
    this.peers.clear();
    const ch = new BroadcastChannel(channel);
    ch.onmessage = (e) => {
      const m = e.data as Published;
      if (m && typeof m.id === "string" && m.id !== this.id) this.peers.set(m.id, m);
    };
    // A BroadcastChannel keeps a thread alive; the status page must never do that.
    (ch as { unref?: () => void }).unref?.();
    this.channel = ch;
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.publish(), SHARE_EVERY_MS);
      this.timer.unref?.();
    }
  }

  private publish(): void {
    if (!this.channel || this.published === this.count) return;
    this.published = this.count;
    const m: Published = {
      id: this.id,
      vhosts: [...this.byName.values()],
      buckets: [...this.buckets],
      count: this.count,
      sumSeconds: this.sumSeconds,
    };
    this.channel.postMessage(m);
  }

  /** This child's figures plus every sibling's last published ones. */
  vhosts(): VhostCounters[] {
    const sum = new Map<string, VhostCounters>();
    const add = (v: VhostCounters) => {
      const key = `${v.name}:${v.port}`;
      const s = sum.get(key);
      if (s === undefined) sum.set(key, { ...v });
      else {
        s.requests += v.requests;
        s.bytes += v.bytes;
        s.durationMs += v.durationMs;
      }
    };
    for (const v of this.byName.values()) add(v);
    for (const p of this.peers.values()) for (const v of p.vhosts) add(v);
    return [...sum.values()];
  }

  histogram(): DurationHistogram {
    const raw = [...this.buckets];
    let count = this.count;
    let sumSeconds = this.sumSeconds;
    for (const p of this.peers.values()) {
      p.buckets.forEach((n, i) => (raw[i] = (raw[i] ?? 0) + n));
      count += p.count;
      sumSeconds += p.sumSeconds;
    }
    const counts: number[] = [];
    let acc = 0;
    for (const n of raw) counts.push((acc += n));
    return { bounds: DURATION_BOUNDS, counts, count, sumSeconds };
  }

  /** Stops sharing (the instance is replaced by a fresh start). */
  close(): void {
    this.channel?.close();
    this.channel = undefined;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
