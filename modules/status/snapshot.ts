// StatusSnapshot: everything the status renderers print, measured once per request, plus the counts.

export type MpmName = "event" | "worker" | "prefork";

/**
 * A scoreboard worker state as mod_status prints it (status_flags in mod_status.c), plus " " for
 * slots beyond MaxRequestWorkers/ThreadsPerChild that are dead (SERVER_DISABLED: never printed).
 */
export type SlotChar = "_" | "S" | "R" | "W" | "K" | "D" | "C" | "L" | "G" | "I" | "." | " ";

/** A worker's own state (every SlotChar but the renderer's "disabled"). */
export type WorkerState = Exclude<SlotChar, " ">;

/** One scoreboard process slot (Apache's process_score). `pid` 0: no process in this slot. */
export interface ProcessRow {
  slot: number;
  pid: number;
  generation: number;
  /** Stopping: a graceful restart or idle maintenance asked this child to finish and exit. */
  quiescing: boolean;
  /** False while the child's listeners are disabled (ps->not_accepting). */
  accepting: boolean;
  /** Connections the child holds (ps->connections). */
  connections: number;
  waitIo: number;
  writing: number;
  keepAlive: number;
  closing: number;
  /** mosaic: requests (event) or connections (worker) waiting for a free worker slot in this child. */
  waiting: number;
}

/** CPU seconds (Apache's struct tms over the clock tick). */
export interface CpuTimes {
  user: number;
  system: number;
  childrenUser: number;
  childrenSystem: number;
}

/**
 * One worker slot shown in the per-worker table: Apache lists a slot when its access count is not 0 or
 * its state is neither `_` nor `.`.
 */
export interface WorkerRow {
  /** Process slot and worker index within it. */
  process: number;
  thread: number;
  generation: number;
  /** The worker's pid (its process's), 0 when the slot is dead (printed `-`). */
  pid: number;
  state: SlotChar;
  /** Accesses on the current connection / by this child in this slot / ever in this slot. */
  accessConn: number;
  accessChild: number;
  accessSlot: number;
  /** CPU of the process at this slot's last request end. */
  cpu: CpuTimes;
  /** Seconds since the most recent request began or the slot went idle (now - last_used). */
  secondsSinceUse: number;
  /** Milliseconds the most recent request took (0 while it runs). */
  reqMs: number;
  /** Sum of milliseconds of every request in this slot. */
  durationMs: number;
  bytesConn: number;
  bytesChild: number;
  bytesSlot: number;
  client: string;
  /** Lower case, `http/1.1`. */
  protocol: string;
  /** `ServerName:port` of the last request. */
  vhost: string;
  /** The request line (or its tail with SeeRequestTail), at most 63 characters as Apache keeps. */
  request: string;
}

/** Per-virtual-host counters (mosaic only: `?metrics` and `?json`). */
export interface VhostCounters {
  name: string;
  port: number;
  requests: number;
  bytes: number;
  durationMs: number;
}

/** A cumulative request-duration histogram (Prometheus semantics: `le` upper bounds, in seconds). */
export interface DurationHistogram {
  bounds: readonly number[];
  /** Cumulative counts per bound (same length as bounds); the +Inf bucket is `count`. */
  counts: number[];
  count: number;
  sumSeconds: number;
}

/** One sample of the live view's history (server side, so charts have data as soon as they open). */
export interface HistoryPoint {
  /** ms since epoch. */
  t: number;
  accesses: number;
  bytes: number;
  busy: number;
  idle: number;
  connections: number;
}

/** Everything the renderers need; built by collectSnapshot() from the MPM's scoreboard. */
export interface StatusSnapshot {
  /** Where the figures come from (the MPM's shared scoreboard; a test may build one by hand). */
  source: "scoreboard" | "synthetic";
  /** ap_get_server_name(r) and the local address the request came in on (the `via` of the title). */
  serverName: string;
  localIp: string;
  serverVersion: string;
  mpm: MpmName;
  /** Event MPM: the per-process connection table and the Processes..ConnsAsyncClosing lines. */
  isAsync: boolean;
  built: string;
  /** ms since epoch. */
  now: number;
  restartTime: number;
  configGeneration: number;
  mpmGeneration: number;
  /**
   * The scoreboard's current MPM generation: what "old gen" and the idle count are judged against. It
   * equals mpmGeneration except in a child that has not yet moved to a new generation.
   */
  boardGeneration: number;
  /** Whole seconds since restartTime (apr_time_sec of the difference). */
  uptime: number;
  load: readonly [number, number, number];
  extended: boolean;
  /** Scoreboard shape: ServerLimit x ThreadLimit slots, ThreadsPerChild and MaxRequestWorkers/TPC. */
  serverLimit: number;
  threadLimit: number;
  threadsPerChild: number;
  maxServers: number;
  /** serverLimit * threadLimit characters, slot order (process-major). */
  slots: string;
  /** serverLimit entries; pid 0 where no process runs. */
  processes: ProcessRow[];
  /** Rows of the per-worker table (ExtendedStatus), slot order. */
  workers: WorkerRow[];
  /** Apache's sums over the worker slots (ExtendedStatus): kbytes is what `Total kBytes` prints. */
  totals: { accesses: number; bytes: number; kbytes: number; durationMs: number };
  cpu: CpuTimes;
  /** Whether connection-level figures were measured (false: printed as 0, as Apache with nothing). */
  connectionsMeasured: boolean;
  vhosts: VhostCounters[];
  histogram: DurationHistogram;
  history: HistoryPoint[];
}

/** The counts mod_status derives from the slots (same rules for ?auto, HTML, JSON and metrics). */
export interface StatusCounts {
  /** Non-quiescing processes: busy = not `_ . S I G`; graceful = `G`; idle = `_` in the current generation. */
  busy: number;
  graceful: number;
  idle: number;
  /** Per process slot, the async MPM's thread columns. */
  perProcess: { busy: number; graceful: number; idle: number }[];
  processes: number;
  stopping: number;
  connections: number;
  waitIo: number;
  writing: number;
  keepAlive: number;
  closing: number;
  /** The Scoreboard line: every slot but the disabled ones. */
  scoreboard: string;
}

const C_READY = 95; // _
const C_DEAD = 46; // .
const C_STARTING = 83; // S
const C_IDLE_KILL = 73; // I
const C_GRACEFUL = 71; // G
const C_DISABLED = 32; // " "

/** Counts busy/graceful/idle workers, processes and connections as mod_status 2.4.63 does. */
export function countStatus(s: StatusSnapshot): StatusCounts {
  const out: StatusCounts = {
    busy: 0, graceful: 0, idle: 0, perProcess: [], processes: 0, stopping: 0,
    connections: 0, waitIo: 0, writing: 0, keepAlive: 0, closing: 0, scoreboard: "",
  };
  let board = "";
  for (let i = 0; i < s.serverLimit; i++) {
    const ps = s.processes[i];
    const live = ps !== undefined && ps.pid !== 0;
    const counted = live && !ps.quiescing;
    const current = live && ps.generation === s.boardGeneration;
    const pp = { busy: 0, graceful: 0, idle: 0 };
    const base = i * s.threadLimit;
    let start = base;
    for (let j = 0; j < s.threadLimit; j++) {
      const c = s.slots.charCodeAt(base + j);
      if (c === C_DISABLED) {
        // Flush the run before a disabled slot: substring runs keep this loop allocation-light.
        if (start < base + j) board += s.slots.slice(start, base + j);
        start = base + j + 1;
        continue;
      }
      if (!counted) continue;
      if (c === C_READY) {
        if (current) out.idle++;
        pp.idle++;
      } else if (c !== C_DEAD && c !== C_STARTING && c !== C_IDLE_KILL) {
        if (c === C_GRACEFUL) {
          out.graceful++;
          pp.graceful++;
        } else {
          out.busy++;
          pp.busy++;
        }
      }
    }
    if (start < base + s.threadLimit) board += s.slots.slice(start, base + s.threadLimit);
    out.perProcess.push(pp);
    if (live) {
      out.processes++;
      if (ps.quiescing) out.stopping++;
      out.connections += ps.connections;
      out.waitIo += ps.waitIo;
      out.writing += ps.writing;
      out.keepAlive += ps.keepAlive;
      out.closing += ps.closing;
    }
  }
  out.scoreboard = board;
  return out;
}

/** Slot char for a dead slot: disabled beyond MaxRequestWorkers/ThreadsPerChild, else `.`. */
export function deadChar(process: number, thread: number, maxServers: number, threadsPerChild: number): SlotChar {
  return process >= maxServers || thread >= threadsPerChild ? " " : ".";
}
