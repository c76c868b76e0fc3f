// The scoreboard over shared memory: a SharedArrayBuffer for threads, an mmap'd file for processes.
import fs from "node:fs";
import {
  C, CONN_BYTES, connCapacityFor, H, HEADER_BYTES, HF, LAYOUT_VERSION, MAGIC, MPM_CODE, P, PROC_BYTES,
  scoreboardBytes, W, WORKER_BYTES, WS,
} from "./layout.ts";

export interface ScoreboardSize {
  serverLimit: number;
  threadLimit: number;
  mpm: keyof typeof MPM_CODE;
  /** Connection-table entries (default: enough for 10,000+ idle keep-alive connections). */
  connCapacity?: number;
}

/**
 * Typed access to one scoreboard image. Every process or thread that attaches the same memory sees
 * the same figures; updates go through Atomics on Int32 fields (a few ns), Float64 and text fields
 * are written only by the slot's owner and may be read torn, as Apache's are.
 */
export class Scoreboard {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly u8: Uint8Array;
  readonly serverLimit: number;
  readonly threadLimit: number;
  readonly connCapacity: number;
  /** Int32 index of the first process slot, worker slot and connection entry. */
  readonly procBase: number;
  readonly workerBase: number;
  readonly connBase: number;

  private constructor(
    /** The SharedArrayBuffer (threads) or the mapped file's buffer (processes). */
    readonly buffer: ArrayBufferLike,
    readonly byteOffset: number,
    readonly byteLength: number,
    /** The file backing a process-shared scoreboard, if any. */
    readonly file: string | undefined,
  ) {
    this.i32 = new Int32Array(buffer, byteOffset, byteLength >> 2);
    this.f64 = new Float64Array(buffer, byteOffset, byteLength >> 3);
    this.u8 = new Uint8Array(buffer, byteOffset, byteLength);
    if (this.i32[H.magic] !== MAGIC && this.i32[H.magic] !== 0) throw new Error("not a mosaic scoreboard");
    this.serverLimit = this.i32[H.serverLimit]!;
    this.threadLimit = this.i32[H.threadLimit]!;
    this.connCapacity = this.i32[H.connCapacity]!;
    this.procBase = HEADER_BYTES >> 2;
    this.workerBase = (HEADER_BYTES + this.serverLimit * PROC_BYTES) >> 2;
    this.connBase = this.workerBase + ((this.serverLimit * this.threadLimit * WORKER_BYTES) >> 2);
  }

  /**
   * A new, initialised scoreboard. With `file`, the memory is a shared mapping of that file (for
   * prefork children, which are processes); otherwise a SharedArrayBuffer (for worker threads).
   */
  static create(size: ScoreboardSize, file?: string): Scoreboard {
    const connCapacity = size.connCapacity ?? connCapacityFor(size.serverLimit, size.threadLimit);
    const bytes = scoreboardBytes(size.serverLimit, size.threadLimit, connCapacity);
    let buffer: ArrayBufferLike;
    let offset = 0;
    if (file) {
      // A fresh inode renamed into place: children of an earlier board may still map the old file,
      // and truncating a mapped file would crash them (SIGBUS).
      const tmp = `${file}.${process.pid}.new`;
      fs.writeFileSync(tmp, new Uint8Array(0));
      fs.truncateSync(tmp, bytes);
      const map = Bun.mmap(tmp, { shared: true });
      fs.renameSync(tmp, file);
      buffer = map.buffer;
      offset = map.byteOffset;
    } else {
      buffer = new SharedArrayBuffer(bytes);
    }
    const header = new Int32Array(buffer, offset, HEADER_BYTES >> 2);
    header[H.version] = LAYOUT_VERSION;
    header[H.serverLimit] = size.serverLimit;
    header[H.threadLimit] = size.threadLimit;
    header[H.connCapacity] = connCapacity;
    header[H.mpm] = MPM_CODE[size.mpm];
    header[H.parentPid] = process.pid;
    header[H.tcpMigrateReq] = -1;
    const sb = new Scoreboard(buffer, offset, bytes, file);
    sb.f64[HF.startTime] = Date.now();
    sb.f64[HF.restartTime] = Date.now();
    for (let i = sb.workerBase; i < sb.connBase; i += WORKER_BYTES >> 2) sb.i32[i + W.state] = WS.DEAD;
    Atomics.store(sb.i32, H.magic, MAGIC);
    return sb;
  }

  /** Attaches a SharedArrayBuffer received from the control thread. */
  static fromBuffer(buffer: SharedArrayBuffer): Scoreboard {
    return new Scoreboard(buffer, 0, buffer.byteLength, undefined);
  }

  /** Attaches the shared mapping of a scoreboard file created by the control process. */
  static fromFile(file: string): Scoreboard {
    const map = Bun.mmap(file, { shared: true });
    return new Scoreboard(map.buffer, map.byteOffset, map.byteLength, file);
  }

  /** Int32 index of a process slot's first field. */
  proc(slot: number): number {
    return this.procBase + slot * (PROC_BYTES >> 2);
  }

  /** Int32 index of a worker slot's first field (slot `thread` of process `slot`). */
  worker(slot: number, thread: number): number {
    return this.workerBase + (slot * this.threadLimit + thread) * (WORKER_BYTES >> 2);
  }

  /** Int32 index of a connection entry's first field. */
  conn(entry: number): number {
    return this.connBase + entry * (CONN_BYTES >> 2);
  }

  get(index: number): number {
    return Atomics.load(this.i32, index);
  }

  set(index: number, value: number): void {
    Atomics.store(this.i32, index, value);
  }

  /** Writes `text` (Latin-1, truncated) into the text field at byte `base + off` of `size` bytes. */
  writeText(intIndex: number, field: readonly [number, number], text: string): void {
    const u8 = this.u8;
    const start = intIndex * 4 + field[0];
    const n = Math.min(text.length, field[1] - 1);
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      u8[start + i] = c < 256 ? c : 63;
    }
    u8[start + n] = 0;
  }

  readText(intIndex: number, field: readonly [number, number]): string {
    const u8 = this.u8;
    const start = intIndex * 4 + field[0];
    let s = "";
    for (let i = 0; i < field[1]; i++) {
      const c = u8[start + i]!;
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
    return s;
  }

  /** Marks every worker slot of a process as `state` and clears its process row (slot freed). */
  resetProcess(slot: number, state: number = WS.DEAD): void {
    const p = this.proc(slot);
    for (const k of [P.pid, P.tid, P.quiescing, P.notAccepting, P.state, P.connections, P.keepAlive, P.closing, P.writing, P.waiting, P.newConns]) {
      Atomics.store(this.i32, p + k, 0);
    }
    for (let t = 0; t < this.threadLimit; t++) {
      const w = this.worker(slot, t);
      Atomics.store(this.i32, w + W.state, state);
      Atomics.store(this.i32, w + W.connEntry, 0);
    }
  }

  /** Frees every connection entry a process had recorded (it exited). */
  dropConnections(slot: number): void {
    for (let e = 0; e < this.connCapacity; e++) {
      const c = this.conn(e);
      if (Atomics.load(this.i32, c + C.state) !== 0 && Atomics.load(this.i32, c + C.proc) === slot) {
        Atomics.store(this.i32, c + C.state, 0);
      }
    }
  }

  /** Seconds since the scoreboard was created (the time base of connection entries). */
  now(): number {
    return Math.floor((Date.now() - this.f64[HF.startTime]!) / 1000);
  }
}
