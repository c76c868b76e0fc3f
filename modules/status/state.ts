// Per-server status state (mosaic's counters, the history ring), carried across graceful restarts.
import type { Runtime } from "../../src/runtime.ts";
import { currentRecorder, snapshot } from "../../src/scoreboard/index.ts";
import { HF } from "../../src/scoreboard/layout.ts";
import type { ServerRec } from "../../src/server-rec.ts";
import { buildSnapshot } from "./collect.ts";
import { RequestCounters } from "./counters.ts";
import type { HistoryPoint } from "./snapshot.ts";
import { countStatus } from "./snapshot.ts";

/** History: one point every 2 s for 10 minutes. */
export const HISTORY_EVERY_MS = 2000;
const HISTORY_POINTS = 300;

/** Reads the status module's per-server config (ExtendedStatus, SeeRequestTail) of a server. */
export type StatusConfigReader = (s: ServerRec) => { extended?: boolean; seeRequestTail?: boolean };

/**
 * What one running server accumulates beyond the scoreboard: mosaic's request counters and the
 * history ring of the live view. A fresh start (configuration generation 1) gets a new one; a
 * graceful restart keeps it, as Apache keeps its scoreboard.
 */
export class StatusInstance {
  readonly counters = new RequestCounters();
  readonly history: HistoryPoint[] = [];
  extended = true;
  seeRequestTail = false;
  configGeneration = 1;
  /** The recorder whose scoreboard names the sharing channel (joined once per scoreboard). */
  private sharedWith: ReturnType<typeof currentRecorder> = undefined;

  constructor(rt: Runtime, conf: StatusConfigReader) {
    this.adopt(rt, conf);
  }

  /** A (new) configuration generation: ExtendedStatus and SeeRequestTail are global in Apache. */
  adopt(rt: Runtime, conf: StatusConfigReader): void {
    const main = conf(rt.cfg.main);
    this.extended = main.extended ?? true;
    this.seeRequestTail = main.seeRequestTail ?? false;
    this.configGeneration = rt.generation;
  }

  /**
   * Joins the sibling children's counters: the channel is named after the scoreboard's first-start time,
   * which every child of one server reads from the same shared memory.
   */
  shareCounters(): void {
    const rec = currentRecorder();
    if (rec === this.sharedWith) return;
    this.sharedWith = rec;
    if (rec) this.counters.share(`mosaic-status:${rec.sb.f64[HF.startTime]}`);
  }

  /** Appends one history point (the sampler's tick); nothing before the scoreboard exists. */
  sample(now: number): void {
    const sb = snapshot(true);
    if (!sb) return;
    this.shareCounters();
    const s = buildSnapshot(sb, {
      serverName: "", localIp: "", configGeneration: this.configGeneration, extended: this.extended, now,
      vhosts: [], histogram: { bounds: [], counts: [], count: 0, sumSeconds: 0 }, history: [],
    });
    const c = countStatus(s);
    this.history.push({
      t: now, accesses: s.totals.accesses, bytes: s.totals.bytes, busy: c.busy, idle: c.idle, connections: c.connections,
    });
    if (this.history.length > HISTORY_POINTS) this.history.splice(0, this.history.length - HISTORY_POINTS);
  }
}

const instances = new WeakMap<Runtime, StatusInstance>();
let lastRt: Runtime | undefined;
let lastInst: StatusInstance | undefined;
let sampler: ReturnType<typeof setInterval> | undefined;

/**
 * The instance serving a runtime. One identity check per request in the common case; a runtime seen
 * for the first time is either a fresh start (generation 1) or a graceful restart of the last one.
 */
export function instanceFor(rt: Runtime, conf: StatusConfigReader): StatusInstance {
  if (rt === lastRt) return lastInst!;
  let inst = instances.get(rt);
  if (inst === undefined) {
    if (rt.generation === 1 || lastInst === undefined) {
      lastInst?.counters.close();
      inst = new StatusInstance(rt, conf);
    } else {
      inst = lastInst;
      inst.adopt(rt, conf);
    }
    instances.set(rt, inst);
  }
  lastRt = rt;
  lastInst = inst;
  startSampler();
  return inst;
}

function startSampler(): void {
  if (sampler !== undefined) return;
  sampler = setInterval(() => lastInst?.sample(Date.now()), HISTORY_EVERY_MS);
  // Never keep a process alive for the sake of a chart.
  sampler.unref?.();
}
