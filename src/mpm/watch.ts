// The control thread's timers: the heartbeat watchdog (250 ms) and idle server maintenance (1 s).
import { P, W, WS } from "../scoreboard/layout.ts";
import type { ChildHandle } from "./children.ts";
import { HANG_MS, START_HANG_MS } from "./control.ts";
import type { Control } from "./control.ts";
import { idleMaintenance } from "./maintenance.ts";
import { sampleConnections, sampleCpu } from "./sampler.ts";

/** Every 250 ms: a child whose heartbeat stopped (busy loop) is terminated and replaced. */
export function watchdog(c: Control): void {
  if (c.stopping) return;
  const now = Date.now();
  for (const child of c.children) {
    if (!child || child.state === "dead" || child.killedFor) continue;
    const beat = c.sb.get(c.sb.proc(child.slot) + P.heartbeat);
    if (beat !== child.lastBeat) {
      child.lastBeat = beat;
      child.lastBeatAt = now;
      continue;
    }
    const limit = child.state === "starting" ? START_HANG_MS : HANG_MS;
    if (now - child.lastBeatAt < limit) continue;
    child.killedFor = "hung";
    c.log("error", `AH00000: child pid ${child.pid}${child.kind === "thread" ? ` thread ${child.tid}` : ""} (slot ${child.slot}) missed its heartbeat for ${now - child.lastBeatAt} ms: terminating and replacing it`);
    // Its exit (terminate() works on a busy loop, bun.md §7) brings the replacement.
    child.kill();
  }
}

/** Every second: measure connections and CPU, then Apache's idle server maintenance. */
export function maintenance(c: Control): void {
  if (c.stopping) return;
  const t0 = performance.now();
  if (t0 >= c.nextSample) {
    const res = sampleConnections(c.sb, c.ports, c.children, Math.round(c.settings.asyncRequestWorkerFactor * 16));
    for (const slot of res.wake) c.children[slot]?.send({ t: "freed" });
    sampleCpu(c.sb, c.children);
    // Reading /proc/net/tcp costs the kernel ~1 µs per socket on the host; with a huge table
    // (other servers' TIME_WAITs) sample less often rather than spend >10% of this thread on it.
    c.nextSample = t0 + Math.max(0, (performance.now() - t0) * 10 - 1000);
  }
  c.successiveKills = 0;
  if (c.opRunning) return;
  for (const child of c.children) if (child?.retirePending && child.state === "ready") c.retire(child, true);
  const s = c.settings;
  let idle = 0;
  let active = 0;
  let total = 0;
  let occupied = 0;
  for (const child of c.children) {
    if (!child) continue;
    occupied++;
    total++;
    if (child.state === "draining" || child.state === "stopping" || child.state === "dead") continue;
    active++;
    if (child.generation !== c.generation && child.state === "ready") continue;
    const p = c.sb.proc(child.slot);
    if (c.sb.get(p + P.notAccepting) === 1 && s.mpm === "event") continue;
    if (s.mpm === "prefork") {
      const st = c.sb.get(c.sb.worker(child.slot, 0) + W.state);
      if (st === WS.READY || st === WS.STARTING) idle++;
      continue;
    }
    for (let t = 0; t < s.threadsPerChild; t++) {
      const st = c.sb.get(c.sb.worker(child.slot, t) + W.state);
      if (st === WS.READY || st === WS.STARTING) idle++;
    }
  }
  const slots = s.mpm === "prefork" ? Math.min(s.maxRequestWorkers, c.sb.serverLimit) : c.sb.serverLimit;
  let free = 0;
  for (let i = 0; i < slots; i++) if (!c.children[i]) free++;
  void occupied;
  const d = idleMaintenance(c.maint, s, { idle, activeChildren: active, totalChildren: total, freeSlots: free });
  for (const l of d.logs) c.log(l.level, l.text);
  if (d.spawn > 0) c.spawnMany(d.spawn);
  if (d.retireOne) {
    const victim = pickRetiree(c);
    if (victim) c.retire(victim, false);
  }
}

/** The child to retire when too many workers idle: an idle one, the highest slot first. */
function pickRetiree(c: Control): ChildHandle | undefined {
  const live = c.children.filter((ch): ch is ChildHandle => !!ch && ch.state === "ready");
  if (live.length <= 1) return undefined;
  const sb = c.sb;
  const busy = (ch: ChildHandle) => {
    let n = 0;
    for (let t = 0; t < sb.threadLimit; t++) if (sb.get(sb.worker(ch.slot, t) + W.state) !== WS.READY) n++;
    return n + sb.get(sb.proc(ch.slot) + P.connections);
  };
  return live.sort((a, b) => busy(a) - busy(b) || b.slot - a.slot)[0];
}
