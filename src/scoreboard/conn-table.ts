// The scoreboard's connection table: children enter each connection (remote addr:port), the control frees it.
import { C, CF, CS, H } from "./layout.ts";
import type { Scoreboard } from "./scoreboard.ts";

/**
 * One child's access to the shared connection table. Entries are claimed with compareExchange
 * (FREE → CLAIMED → LIVE) so children never collide; the control thread frees the entries whose
 * connection the kernel no longer lists (src/mpm/sampler.ts), a self-managed child frees its own.
 */
export class ConnTable {
  private cursor = 0;
  /** A full scan found no free entry: do not scan again before this time (ms). */
  private fullUntil = 0;

  constructor(
    readonly sb: Scoreboard,
    /** The process slot entries are recorded for. */
    readonly slot: number,
  ) {}

  /** Enters a connection; -1 when the table is full (counted in the header's overflow). */
  claim(addrKey: number, port: number): number {
    const sb = this.sb;
    const i32 = sb.i32;
    const cap = sb.connCapacity;
    if (this.fullUntil > 0 && Date.now() < this.fullUntil) {
      Atomics.add(i32, H.connOverflow, 1);
      return -1;
    }
    for (let n = 0; n < cap; n++) {
      const e = this.cursor;
      this.cursor = e + 1 === cap ? 0 : e + 1;
      const c = sb.conn(e);
      if (Atomics.compareExchange(i32, c + C.state, CS.FREE, CS.CLAIMED) !== CS.FREE) continue;
      i32[c + C.addrKey] = addrKey | 0;
      i32[c + C.port] = port;
      i32[c + C.proc] = this.slot;
      i32[c + C.recordedAt] = sb.now();
      i32[c + C.flags] = 0;
      i32[c + C.requests] = 0;
      Atomics.store(i32, c + C.state, CS.LIVE);
      return e;
    }
    // Full: spare the next connections a scan of the whole table for a second.
    this.fullUntil = Date.now() + 1000;
    Atomics.add(i32, H.connOverflow, 1);
    return -1;
  }

  /** Still this child's entry for that endpoint (the control thread may have freed and reused it). */
  owns(entry: number, addrKey: number, port: number): boolean {
    const sb = this.sb;
    const c = sb.conn(entry);
    return sb.get(c + C.state) === CS.LIVE && sb.get(c + C.proc) === this.slot &&
      sb.get(c + C.port) === port && sb.get(c + C.addrKey) === (addrKey | 0);
  }

  free(entry: number): void {
    Atomics.store(this.sb.i32, this.sb.conn(entry) + C.state, CS.FREE);
  }

  /** Marks a request in progress on the entry, or done (with the connection's request count). */
  busy(entry: number, on: boolean, requests = 0, closing = false): void {
    const i32 = this.sb.i32;
    const c = this.sb.conn(entry);
    if (on) {
      Atomics.or(i32, c + C.flags, CF.BUSY);
      return;
    }
    Atomics.and(i32, c + C.flags, ~CF.BUSY);
    Atomics.store(i32, c + C.requests, requests);
    if (closing) Atomics.or(i32, c + C.flags, CF.CLOSING);
  }
}
