// The scoreboard's binary layout: a header, process slots, worker slots and a connection table.

/**
 * Worker states, as the characters mod_status prints (Apache's SERVER_* constants). Stored as
 * char codes so a state change is one Atomics.store.
 */
export const WS = {
  DEAD: 46, // "."
  STARTING: 83, // "S"
  READY: 95, // "_"
  READ: 82, // "R"
  WRITE: 87, // "W"
  KEEPALIVE: 75, // "K"
  LOG: 76, // "L"
  DNS: 68, // "D"
  CLOSING: 67, // "C"
  GRACEFUL: 71, // "G"
  IDLE_KILL: 73, // "I"
} as const;

/** Process slot lifecycle, as the control thread sees it. */
export const PS = { FREE: 0, STARTING: 1, READY: 2, DRAINING: 3, STOPPING: 4 } as const;

export const MPM_CODE = { event: 0, worker: 1, prefork: 2 } as const;
export const MPM_NAMES = ["event", "worker", "prefork"] as const;

export const MAGIC = 0x4d534231; // "MSB1"
export const LAYOUT_VERSION = 1;

/** Byte sizes. A worker slot spans whole cache lines, so two children never share one (bun.md §5). */
export const HEADER_BYTES = 512;
export const PROC_BYTES = 128;
export const WORKER_BYTES = 256;
export const CONN_BYTES = 32;
/** Connection-table entries: enough for 10,000+ idle keep-alive connections by default. */
export const MIN_CONN_CAPACITY = 65536;

/** Header, Int32 indices. */
export const H = {
  magic: 0,
  version: 1,
  serverLimit: 2,
  threadLimit: 3,
  connCapacity: 4,
  mpm: 5,
  threadsPerChild: 6,
  maxRequestWorkers: 7,
  configGeneration: 8,
  mpmGeneration: 9,
  parentPid: 10,
  /** Kernel socket-table figures for the listening ports, from the last sample. */
  kConns: 11,
  kEstablished: 12,
  kClosing: 13,
  kSynRecv: 14,
  kAcceptQueue: 15,
  kUnattributed: 16,
  kListeners: 17,
  /** net.ipv4.tcp_migrate_req: -1 unknown, 0 off, 1 on. */
  tcpMigrateReq: 18,
  /** 1 once /proc/net/tcp could be read (the connection figures are measured). */
  sampled: 19,
  activeDaemonsLimit: 20,
  /** AsyncRequestWorkerFactor x 16, as event.c keeps it. */
  workerFactor16: 21,
  /** Connections the table could not record because it was full. */
  connOverflow: 22,
} as const;

/** Header, Float64 indices (byte offset / 8). */
export const HF = {
  restartTime: 16, // byte 128: last start or hard restart (ms since epoch)
  startTime: 17, // byte 136: first start
  sampleTime: 18, // byte 144: last kernel sample
  cpuUser: 19, // byte 152: whole server process (seconds)
  cpuSystem: 20,
  cpuChildrenUser: 21,
  cpuChildrenSystem: 22,
} as const;

/** Process slot, Int32 offsets within the slot. */
export const P = {
  pid: 0,
  tid: 1,
  generation: 2,
  quiescing: 3,
  notAccepting: 4,
  state: 5,
  heartbeat: 6,
  connections: 7,
  keepAlive: 8,
  closing: 9,
  writing: 10,
  /** Requests (event) or connections (worker) waiting for a free worker slot in this child. */
  waiting: 11,
  threadsPerChild: 12,
  /** Which occupant of the slot this is (bumped on every start), to tell old rows from new. */
  serial: 13,
  /** Connections this child has seen (MaxConnectionsPerChild counts these). */
  newConns: 14,
} as const;

/** Process slot, Float64 offsets within the slot (byte offset / 8). */
export const PF = {
  startedAt: 8, // byte 64
  cpuUser: 9,
  cpuSystem: 10,
} as const;

/** Worker slot, Int32 offsets. */
export const W = {
  state: 0,
  generation: 1,
  connAccess: 2,
  childAccess: 3,
  slotAccess: 4,
  /** Connection-table entry + 1 of the connection this slot serves (0: none). */
  connEntry: 5,
  /** Process-slot serial of the child that last used this slot (resets child counters). */
  owner: 6,
} as const;

/** Worker slot, Float64 offsets (byte offset / 8). */
export const WF = {
  startTime: 4, // byte 32: when the last request began (ms since epoch)
  stopTime: 5,
  lastDuration: 6, // ms
  totalDuration: 7, // ms
  bytesConn: 8,
  bytesChild: 9,
  bytesSlot: 10,
} as const;

/** Worker slot text fields: byte offset and size (NUL-terminated Latin-1, truncated like Apache's). */
export const WT = {
  request: [96, 64],
  client: [160, 48],
  vhost: [208, 32],
  protocol: [240, 16],
} as const;

/** Connection-table entry, Int32 offsets. */
export const C = {
  state: 0, // 0 free, 1 being written, 2 live
  addrKey: 1,
  port: 2,
  proc: 3,
  recordedAt: 4, // seconds since startTime
  flags: 5,
  requests: 6,
} as const;
export const CS = { FREE: 0, CLAIMED: 1, LIVE: 2 } as const;
/** Entry flags: a request is in progress; the server answered Connection: close. */
export const CF = { BUSY: 1, CLOSING: 2 } as const;

/** Bytes needed for a scoreboard of this size. */
export function scoreboardBytes(serverLimit: number, threadLimit: number, connCapacity: number): number {
  return HEADER_BYTES + serverLimit * PROC_BYTES + serverLimit * threadLimit * WORKER_BYTES + connCapacity * CONN_BYTES;
}

export function connCapacityFor(serverLimit: number, threadLimit: number): number {
  return Math.max(MIN_CONN_CAPACITY, serverLimit * threadLimit * 4);
}
