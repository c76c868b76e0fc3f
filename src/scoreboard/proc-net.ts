// The kernel's socket table (/proc/net/tcp, tcp6): connection states per listening port, measured.
import fs from "node:fs";
import os from "node:os";

/** TCP states as /proc/net/tcp numbers them (include/net/tcp_states.h). */
export const TCP = {
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT1: 4,
  FIN_WAIT2: 5,
  TIME_WAIT: 6,
  CLOSE: 7,
  CLOSE_WAIT: 8,
  LAST_ACK: 9,
  LISTEN: 10,
  CLOSING: 11,
} as const;

/** One sample of the sockets on mosaic's listening ports. */
export interface KernelSample {
  /** False when /proc/net/tcp could not be read (not Linux, or no procfs). */
  ok: boolean;
  /** Remote endpoint key (see connKey) → TCP state, for every non-listening socket on our ports. */
  peers: Map<number, number>;
  /** Remote endpoint key → bytes still queued for sending (tx_queue). */
  txQueued: Map<number, number>;
  listeners: number;
  /** Sum of the accept queues (rx_queue of LISTEN sockets): connections not yet accepted. */
  acceptQueue: number;
  established: number;
  /** CLOSE_WAIT, FIN_WAIT1/2, LAST_ACK, CLOSING: the connection is being torn down. */
  closing: number;
  synRecv: number;
}

const LITTLE = os.endianness() === "LE";

/**
 * A number that identifies a remote endpoint: the IPv4 address (or a fold of the IPv6 one) times
 * 65536 plus the port. IPv4-mapped IPv6 addresses give the IPv4 key, so both tables agree.
 */
export function connKey(addrKey: number, port: number): number {
  return (addrKey >>> 0) * 65536 + port;
}

/** The 32-bit key of an address as Bun's requestIP() spells it ("127.0.0.1", "::1", "::ffff:1.2.3.4"). */
export function addrKeyOf(address: string): number {
  if (address.indexOf(":") < 0) return ipv4(address);
  const lower = address.toLowerCase();
  const dot = lower.lastIndexOf(".");
  if (dot > 0 && lower.startsWith("::ffff:")) return ipv4(lower.slice(7));
  return foldWords(ipv6Words(lower));
}

function ipv4(a: string): number {
  let v = 0;
  let part = 0;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c === 46) {
      v = (v << 8) | part;
      part = 0;
    } else part = part * 10 + (c - 48);
  }
  return ((v << 8) | part) >>> 0;
}

/** Four 32-bit words (network order) of an IPv6 address in text form. */
function ipv6Words(a: string): number[] {
  const zone = a.indexOf("%");
  if (zone >= 0) a = a.slice(0, zone);
  const [head, tail] = a.includes("::") ? a.split("::") as [string, string] : [a, undefined];
  const parse = (s: string | undefined) => (s ? s.split(":").filter(Boolean).map((h) => parseInt(h, 16) || 0) : []);
  const hs = parse(head);
  const ts = parse(tail);
  const groups = [...hs, ...new Array<number>(Math.max(0, 8 - hs.length - ts.length)).fill(0), ...ts];
  const words: number[] = [];
  for (let i = 0; i < 8; i += 2) words.push((((groups[i] ?? 0) << 16) | (groups[i + 1] ?? 0)) >>> 0);
  return words;
}

function foldWords(w: number[]): number {
  // Words 0..2 zero and word 2 = 0xffff: an IPv4-mapped address.
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return w[3]! >>> 0;
  let h = 0x811c9dc5;
  for (const x of w) h = Math.imul(h ^ x, 0x01000193) >>> 0;
  return h >>> 0;
}

/** A /proc hex word (host byte order) as the network-order number. */
function procWord(v: number): number {
  v >>>= 0;
  if (!LITTLE) return v;
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** `len` hex digits at `at` (no string is made: the table can be megabytes, read every second). */
function hexAt(b: Uint8Array, at: number, len: number): number {
  let v = 0;
  for (let i = 0; i < len; i++) {
    const c = b[at + i]!;
    v = v * 16 + (c <= 57 ? c - 48 : (c | 32) - 87);
  }
  return v;
}

function addrKeyAt(b: Uint8Array, at: number, len: number): number {
  if (len === 8) return procWord(hexAt(b, at, 8));
  return foldWords([0, 8, 16, 24].map((o) => procWord(hexAt(b, at + o, 8))));
}

let scratch = new Uint8Array(1 << 20);
const reused: KernelSample = emptySample();

/** Reads a whole /proc file into the reused scratch buffer; -1 when it cannot be read. */
function readProc(file: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return -1;
  }
  let n = 0;
  try {
    for (;;) {
      if (n === scratch.length) {
        const bigger = new Uint8Array(scratch.length * 2);
        bigger.set(scratch);
        scratch = bigger;
      }
      const r = fs.readSync(fd, scratch, n, scratch.length - n, null);
      if (r <= 0) break;
      n += r;
    }
  } catch {
    n = -1;
  } finally {
    fs.closeSync(fd);
  }
  return n;
}

function emptySample(): KernelSample {
  return { ok: false, peers: new Map(), txQueued: new Map(), listeners: 0, acceptQueue: 0, established: 0, closing: 0, synRecv: 0 };
}

/**
 * Reads /proc/net/tcp and tcp6 and keeps the sockets whose local port is one of `ports`. It parses
 * bytes in place (tens of thousands of lines on a busy host, in a few ms); the control thread calls
 * it once a second. The result is reused by the next call: read it before sampling again.
 */
export function sampleKernel(ports: ReadonlySet<number>, files = ["/proc/net/tcp", "/proc/net/tcp6"]): KernelSample {
  // One sample object reused: the control thread should not churn garbage every second.
  const s = reused;
  s.ok = false;
  s.peers.clear();
  s.txQueued.clear();
  s.listeners = s.acceptQueue = s.established = s.closing = s.synRecv = 0;
  for (const f of files) {
    const n = readProc(f);
    if (n < 0) continue;
    s.ok = true;
    parseBytes(scratch, n, ports, s);
  }
  return s;
}

/** Parses one table's text into `s` (tests). */
export function parseTable(text: string, ports: ReadonlySet<number>, s: KernelSample): void {
  const b = Buffer.from(text, "latin1");
  parseBytes(b, b.length, ports, s);
}

/**
 * One line: `%4d: LOCAL:PORT REMOTE:PORT ST TX_QUEUE:RX_QUEUE ...`, addresses 8 hex digits (tcp) or
 * 32 (tcp6), ports 4, state 2, queues 8 (net/ipv4/tcp_ipv4.c get_tcp4_sock).
 */
function parseBytes(b: Uint8Array, len: number, ports: ReadonlySet<number>, s: KernelSample): void {
  let pos = b.indexOf(10) + 1;
  while (pos > 0 && pos < len) {
    let end = b.indexOf(10, pos);
    if (end < 0 || end > len) end = len;
    const line = pos;
    pos = end + 1;
    let p = b.indexOf(58, line); // the ':' after the slot number
    if (p < 0 || p >= end) continue;
    p++;
    while (b[p] === 32) p++;
    const local = p;
    const colon = b.indexOf(58, local);
    if (colon < 0 || colon >= end) continue;
    const w = colon - local;
    if (!ports.has(hexAt(b, colon + 1, 4))) continue;
    const remote = colon + 6;
    const st = remote + w + 6;
    if (st + 20 > end) continue;
    const state = hexAt(b, st, 2);
    if (state === TCP.LISTEN) {
      s.listeners++;
      s.acceptQueue += hexAt(b, st + 12, 8);
      continue;
    }
    if (state === TCP.TIME_WAIT || state === TCP.CLOSE) continue;
    const key = connKey(addrKeyAt(b, remote, w), hexAt(b, remote + w + 1, 4));
    s.peers.set(key, state);
    const tx = hexAt(b, st + 3, 8);
    if (tx > 0) s.txQueued.set(key, tx);
    if (state === TCP.ESTABLISHED) s.established++;
    else if (state === TCP.SYN_RECV) s.synRecv++;
    else s.closing++;
  }
}

/** net.ipv4.tcp_migrate_req (Linux 5.14+): -1 when it cannot be read. */
export function tcpMigrateReq(): number {
  try {
    return Number(fs.readFileSync("/proc/sys/net/ipv4/tcp_migrate_req", "utf8").trim());
  } catch {
    return -1;
  }
}

/** utime, stime, cutime, cstime (seconds, USER_HZ 100) of a process or thread from its /proc stat file. */
export function cpuTimes(statFile: string): [number, number, number, number] | undefined {
  try {
    const t = fs.readFileSync(statFile, "latin1");
    const f = t.slice(t.lastIndexOf(")") + 2).split(" ");
    // Fields after the command: state(3) ... utime(14) stime(15) cutime(16) cstime(17).
    return [Number(f[11]) / 100, Number(f[12]) / 100, Number(f[13]) / 100, Number(f[14]) / 100];
  } catch {
    return undefined;
  }
}
