// MPM sizing: Apache's defaults per MPM and its check_config clamping, with the same warnings.

export type MpmName = "event" | "worker" | "prefork";

/** Raw MPM settings as configured; undefined means "Apache's default for this MPM". */
export interface MpmConfig {
  startServers?: number;
  serverLimit?: number;
  threadLimit?: number;
  threadsPerChild?: number;
  maxRequestWorkers?: number;
  minSpareThreads?: number;
  maxSpareThreads?: number;
  minSpareServers?: number;
  maxSpareServers?: number;
  maxConnectionsPerChild?: number;
  asyncRequestWorkerFactor?: number;
  listenBacklog?: number;
  gracefulShutdownTimeout?: number;
  scoreBoardFile?: string;
}

/** The sizes a run actually uses, after defaults and clamping. */
export interface MpmSettings {
  mpm: MpmName;
  startServers: number;
  /** Scoreboard process slots; fixed for the life of the control process. */
  serverLimit: number;
  /** Scoreboard worker slots per process; fixed for the life of the control process (1 for prefork). */
  threadLimit: number;
  /** Worker slots a child uses (1 for prefork). */
  threadsPerChild: number;
  maxRequestWorkers: number;
  /** Children that may be active at once: MaxRequestWorkers / ThreadsPerChild. */
  activeDaemonsLimit: number;
  /** MinSpareThreads / MaxSpareThreads (event, worker) or MinSpareServers / MaxSpareServers (prefork). */
  minSpare: number;
  maxSpare: number;
  maxConnectionsPerChild: number;
  asyncRequestWorkerFactor: number;
  listenBacklog: number;
  /** Seconds; 0 waits forever. */
  gracefulShutdownTimeout: number;
  scoreBoardFile: string | undefined;
}

/** A clamping message: `startup` ones are Apache's console (APLOG_STARTUP) text, others go to the error log. */
export interface MpmWarning {
  text: string;
  startup: boolean;
}

/** Limits fixed by the first configuration of a run (Apache's retained first_server_limit etc.). */
export interface RetainedLimits {
  serverLimit: number;
  threadLimit: number;
}

/** Compile-time maxima of httpd 2.4 (MAX_SERVER_LIMIT / MAX_THREAD_LIMIT per MPM). */
const MAX_SERVER_LIMIT: Record<MpmName, number> = { event: 20000, worker: 20000, prefork: 200000 };
const MAX_THREAD_LIMIT: Record<MpmName, number> = { event: 100000, worker: 20000, prefork: 1 };

/** APLOGNO of each check, [startup, restart], per threaded MPM (event.c / worker.c). */
const IDS = {
  event: { slMax: [497, 498], slMin: [499, 500], slRestart: 501, tlMax: [502, 503], tlMin: [504, 505], tlRestart: 506,
    tpcMax: [507, 508], tpcMin: [509, 510], mrwLess: [511, 512], mrwMult: [513, 514], mrwSl: [515, 516],
    start: [517, 518], minSpare: [519, 520] },
  worker: { slMax: [300, 301], slMin: [302, 303], slRestart: 304, tlMax: [305, 306], tlMin: [307, 308], tlRestart: 309,
    tpcMax: [310, 311], tpcMin: [312, 313], mrwLess: [314, 315], mrwMult: [316, 317], mrwSl: [318, 319],
    start: [320, 321], minSpare: [322, 323] },
} as const;

const ah = (n: number) => `AH${String(n).padStart(5, "0")}`;

/**
 * Applies Apache's defaults and check_config clamping to the configured MPM directives.
 * `retained` holds the first run's ServerLimit/ThreadLimit, which a restart may not change
 * (AH00501 / AH00506); without it this is the first start and warnings use the console wording.
 */
export function resolveMpm(
  mpm: MpmName,
  raw: MpmConfig,
  retained?: RetainedLimits,
): { settings: MpmSettings; warnings: MpmWarning[] } {
  const warnings: MpmWarning[] = [];
  const startup = retained === undefined;
  const say = (ids: readonly [number, number] | number, startupText: string, restartText: string) => {
    if (typeof ids === "number") warnings.push({ text: `${ah(ids)}: ${restartText}`, startup: false });
    else if (startup) warnings.push({ text: `${ah(ids[0])}: WARNING: ${startupText}`, startup: true });
    else warnings.push({ text: `${ah(ids[1])}: ${restartText}`, startup: false });
  };
  const common = {
    maxConnectionsPerChild: Math.max(0, raw.maxConnectionsPerChild ?? 0),
    asyncRequestWorkerFactor: raw.asyncRequestWorkerFactor ?? 2,
    listenBacklog: raw.listenBacklog ?? 511,
    gracefulShutdownTimeout: Math.max(0, raw.gracefulShutdownTimeout ?? 0),
    scoreBoardFile: raw.scoreBoardFile,
  };
  if (mpm === "prefork") return { settings: resolvePrefork(raw, retained, say, common), warnings };

  const id = IDS[mpm];
  const maxSl = MAX_SERVER_LIMIT[mpm];
  const maxTl = MAX_THREAD_LIMIT[mpm];
  let serverLimit = raw.serverLimit ?? 16;
  let threadLimit = raw.threadLimit ?? 64;
  let tpc = raw.threadsPerChild ?? 25;
  // The default is DEFAULT_SERVER_LIMIT x DEFAULT_THREADS_PER_CHILD, whatever else is configured.
  let mrw = raw.maxRequestWorkers ?? 400;
  let start = raw.startServers ?? 3;
  let minSpare = raw.minSpareThreads ?? 75;
  let maxSpare = raw.maxSpareThreads ?? 250;

  if (serverLimit > maxSl) {
    say(id.slMax, `ServerLimit of ${serverLimit} exceeds compile-time limit of ${maxSl} servers, decreasing to ${maxSl}.`,
      `ServerLimit of ${serverLimit} exceeds compile-time limit of ${maxSl}, decreasing to match`);
    serverLimit = maxSl;
  } else if (serverLimit < 1) {
    say(id.slMin, `ServerLimit of ${serverLimit} not allowed, increasing to 1.`,
      `ServerLimit of ${serverLimit} not allowed, increasing to 1`);
    serverLimit = 1;
  }
  if (retained && serverLimit !== retained.serverLimit) {
    say(id.slRestart, "", `changing ServerLimit to ${serverLimit} from original value of ${retained.serverLimit} not allowed during restart`);
    serverLimit = retained.serverLimit;
  }
  if (threadLimit > maxTl) {
    say(id.tlMax, `ThreadLimit of ${threadLimit} exceeds compile-time limit of ${maxTl} threads, decreasing to ${maxTl}.`,
      `ThreadLimit of ${threadLimit} exceeds compile-time limit of ${maxTl}, decreasing to match`);
    threadLimit = maxTl;
  } else if (threadLimit < 1) {
    say(id.tlMin, `ThreadLimit of ${threadLimit} not allowed, increasing to 1.`,
      `ThreadLimit of ${threadLimit} not allowed, increasing to 1`);
    threadLimit = 1;
  }
  if (retained && threadLimit !== retained.threadLimit) {
    say(id.tlRestart, "", `changing ThreadLimit to ${threadLimit} from original value of ${retained.threadLimit} not allowed during restart`);
    threadLimit = retained.threadLimit;
  }
  if (tpc > threadLimit) {
    say(id.tpcMax,
      `ThreadsPerChild of ${tpc} exceeds ThreadLimit of ${threadLimit} threads, decreasing to ${threadLimit}. To increase, please see the ThreadLimit directive.`,
      `ThreadsPerChild of ${tpc} exceeds ThreadLimit of ${threadLimit}, decreasing to match`);
    tpc = threadLimit;
  } else if (tpc < 1) {
    say(id.tpcMin, `ThreadsPerChild of ${tpc} not allowed, increasing to 1.`,
      `ThreadsPerChild of ${tpc} not allowed, increasing to 1`);
    tpc = 1;
  }
  if (mrw < tpc) {
    say(id.mrwLess,
      `MaxRequestWorkers of ${mrw} is less than ThreadsPerChild of ${tpc}, increasing to ${tpc}. MaxRequestWorkers must be at least as large as the number of threads in a single server.`,
      `MaxRequestWorkers of ${mrw} is less than ThreadsPerChild of ${tpc}, increasing to match`);
    mrw = tpc;
  }
  let active = Math.floor(mrw / tpc);
  if (mrw % tpc) {
    const rounded = active * tpc;
    say(id.mrwMult,
      `MaxRequestWorkers of ${mrw} is not an integer multiple of ThreadsPerChild of ${tpc}, decreasing to nearest multiple ${rounded}, for a maximum of ${active} servers.`,
      `MaxRequestWorkers of ${mrw} is not an integer multiple of ThreadsPerChild of ${tpc}, decreasing to nearest multiple ${rounded}`);
    mrw = rounded;
  }
  if (active > serverLimit) {
    const capped = serverLimit * tpc;
    say(id.mrwSl,
      `MaxRequestWorkers of ${mrw} would require ${active} servers and would exceed ServerLimit of ${serverLimit}, decreasing to ${capped}. To increase, please see the ServerLimit directive.`,
      `MaxRequestWorkers of ${mrw} would require ${active} servers and exceed ServerLimit of ${serverLimit}, decreasing to ${capped}`);
    active = serverLimit;
    mrw = capped;
  }
  if (start < 1) {
    say(id.start, `StartServers of ${start} not allowed, increasing to 1.`, `StartServers of ${start} not allowed, increasing to 1`);
    start = 1;
  }
  if (minSpare < 1) {
    say(id.minSpare,
      `MinSpareThreads of ${minSpare} not allowed, increasing to 1 to avoid almost certain server failure. Please read the documentation.`,
      `MinSpareThreads of ${minSpare} not allowed, increasing to 1`);
    minSpare = 1;
  }
  // event_run / worker_run, silently, with one listener bucket: StartServers within the active
  // limit, and MaxSpareThreads at least a child's worth above MinSpareThreads (no thrashing).
  if (start > active) start = active;
  if (maxSpare < minSpare + tpc + 1) maxSpare = minSpare + tpc + 1;
  return {
    settings: {
      mpm, startServers: start, serverLimit, threadLimit, threadsPerChild: tpc, maxRequestWorkers: mrw,
      activeDaemonsLimit: active, minSpare, maxSpare, ...common,
    },
    warnings,
  };
}

type Say = (ids: readonly [number, number] | number, startupText: string, restartText: string) => void;

/** prefork_check_config: one worker per child, so MaxRequestWorkers counts children. */
function resolvePrefork(
  raw: MpmConfig,
  retained: RetainedLimits | undefined,
  say: Say,
  common: Pick<MpmSettings, "maxConnectionsPerChild" | "asyncRequestWorkerFactor" | "listenBacklog" | "gracefulShutdownTimeout" | "scoreBoardFile">,
): MpmSettings {
  const max = MAX_SERVER_LIMIT.prefork;
  let serverLimit = raw.serverLimit ?? 256;
  // DEFAULT_SERVER_LIMIT, not the configured ServerLimit (prefork_pre_config).
  let mrw = raw.maxRequestWorkers ?? 256;
  let start = raw.startServers ?? 5;
  let minSpare = raw.minSpareServers ?? 5;
  let maxSpare = raw.maxSpareServers ?? 10;
  if (serverLimit > max) {
    say([175, 176], `ServerLimit of ${serverLimit} exceeds compile-time limit of ${max} servers, decreasing to ${max}.`,
      `ServerLimit of ${serverLimit} exceeds compile-time limit of ${max}, decreasing to match`);
    serverLimit = max;
  } else if (serverLimit < 1) {
    say([177, 178], `ServerLimit of ${serverLimit} not allowed, increasing to 1.`, `ServerLimit of ${serverLimit} not allowed, increasing to 1`);
    serverLimit = 1;
  }
  if (retained && serverLimit !== retained.serverLimit) {
    say(179, "", `changing ServerLimit to ${serverLimit} from original value of ${retained.serverLimit} not allowed during restart`);
    serverLimit = retained.serverLimit;
  }
  if (mrw > serverLimit) {
    say([180, 181],
      `MaxRequestWorkers of ${mrw} exceeds ServerLimit value of ${serverLimit} servers, decreasing MaxRequestWorkers to ${serverLimit}. To increase, please see the ServerLimit directive.`,
      `MaxRequestWorkers of ${mrw} exceeds ServerLimit value of ${serverLimit}, decreasing to match`);
    mrw = serverLimit;
  } else if (mrw < 1) {
    say([182, 183], `MaxRequestWorkers of ${mrw} not allowed, increasing to 1.`, `MaxRequestWorkers of ${mrw} not allowed, increasing to 1`);
    mrw = 1;
  }
  if (start < 1) {
    say([184, 185], `StartServers of ${start} not allowed, increasing to 1.`, `StartServers of ${start} not allowed, increasing to 1`);
    start = 1;
  }
  if (minSpare < 1) {
    say([186, 187],
      `MinSpareServers of ${minSpare} not allowed, increasing to 1 to avoid almost certain server failure. Please read the documentation.`,
      `MinSpareServers of ${minSpare} not allowed, increasing to 1`);
    minSpare = 1;
  }
  if (start > mrw) start = mrw;
  if (maxSpare < minSpare + 1) maxSpare = minSpare + 1;
  return {
    mpm: "prefork", startServers: start, serverLimit, threadLimit: 1, threadsPerChild: 1, maxRequestWorkers: mrw,
    activeDaemonsLimit: mrw, minSpare, maxSpare, ...common,
  };
}
