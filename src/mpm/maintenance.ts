// perform_idle_server_maintenance, as event.c / worker.c / prefork.c decide it once a second.
import type { MpmSettings } from "./limits.ts";

/** Survives from one maintenance cycle to the next (Apache's retained data). */
export interface MaintenanceState {
  /** Children to spawn next time idle workers run short: 1, 2, 4 ... 32. */
  spawnRate: number;
  /** Cycles during which the rate may not double (10 after a graceful restart). */
  holdOff: number;
  maxClientsReported: boolean;
  nearMaxClientsReported: boolean;
}

export function createMaintenanceState(): MaintenanceState {
  return { spawnRate: 1, holdOff: 0, maxClientsReported: false, nearMaxClientsReported: false };
}

/** What the scoreboard says this cycle. */
export interface MaintenanceInput {
  /** Idle worker slots (`_`) of current-generation children that accept (prefork: idle children). */
  idle: number;
  /** Children not shutting down, and all children including those draining. */
  activeChildren: number;
  totalChildren: number;
  /** Free process slots a new child may take. */
  freeSlots: number;
}

export interface MaintenanceDecision {
  spawn: number;
  /** Gracefully retire one child (Apache writes one "graceful" byte to the pipe of death). */
  retireOne: boolean;
  logs: { level: "error" | "info"; text: string }[];
}

const MAX_SPAWN_RATE = 32;

const IDS = {
  event: { reached: "AH00484", near: "AH10159", full: "AH03490", busy: "AH00486" },
  worker: { reached: "AH00286", near: "AH00287", full: "AH00288", busy: "AH00289" },
};

/** One maintenance cycle: spawn (at the doubling rate), retire one child, or do nothing. */
export function idleMaintenance(st: MaintenanceState, s: MpmSettings, input: MaintenanceInput): MaintenanceDecision {
  const out: MaintenanceDecision = { spawn: 0, retireOne: false, logs: [] };
  const { idle, activeChildren, totalChildren } = input;
  let free = input.freeSlots;
  const prefork = s.mpm === "prefork";
  if (idle > s.maxSpare) {
    // Do not stack up retiring children unless the scoreboard has room for them (event.c).
    out.retireOne = prefork || activeChildren === totalChildren || s.serverLimit - totalChildren > s.activeDaemonsLimit;
    st.spawnRate = 1;
    return out;
  }
  if (idle >= s.minSpare) {
    st.spawnRate = 1;
    return out;
  }
  if (prefork) {
    if (free === 0) {
      if (!st.maxClientsReported) {
        out.logs.push({ level: "error", text: "AH00161: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting" });
        st.maxClientsReported = true;
      }
      st.spawnRate = 1;
      return out;
    }
    if (st.spawnRate >= 8) {
      out.logs.push({
        level: "info",
        text: `AH00162: server seems busy, (you may need to increase StartServers, or Min/MaxSpareServers), spawning ${st.spawnRate} children, there are ${idle} idle, and ${totalChildren} total children`,
      });
    }
    out.spawn = Math.min(free, st.spawnRate);
    grow(st);
    return out;
  }
  const id = IDS[s.mpm === "worker" ? "worker" : "event"];
  if (activeChildren * s.threadsPerChild >= s.maxRequestWorkers) {
    if (idle === 0) {
      if (!st.maxClientsReported) {
        out.logs.push({ level: "error", text: `${id.reached}: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting` });
        st.maxClientsReported = true;
      }
    } else if (!st.nearMaxClientsReported) {
      out.logs.push({ level: "error", text: `${id.near}: server is within MinSpareThreads of MaxRequestWorkers, consider raising the MaxRequestWorkers setting` });
      st.nearMaxClientsReported = true;
    }
    st.spawnRate = 1;
    return out;
  }
  if (free === 0) {
    out.logs.push({ level: "error", text: `${id.full}: scoreboard is full, not at MaxRequestWorkers.Increase ServerLimit.` });
    st.spawnRate = 1;
    return out;
  }
  free = Math.min(free, st.spawnRate);
  if (free + activeChildren > s.activeDaemonsLimit) {
    if (activeChildren < s.activeDaemonsLimit) free = s.activeDaemonsLimit - activeChildren;
    else {
      st.spawnRate = 1;
      st.holdOff++;
      free = 0;
    }
  }
  if (st.spawnRate >= 8) {
    // worker.c still has the shorter 2.4.0 wording; event.c's counts are its active and total daemons.
    const counts = s.mpm === "worker"
      ? `and ${totalChildren} total children`
      : `${activeChildren} active children, and ${totalChildren} children that are shutting down`;
    out.logs.push({
      level: "info",
      text: `${id.busy}: server seems busy, (you may need to increase StartServers, ThreadsPerChild or Min/MaxSpareThreads), spawning ${free} children, there are around ${idle} idle threads, ${counts}`,
    });
  }
  out.spawn = free;
  grow(st);
  return out;
}

/** The next cycle spawns twice as many, unless a graceful restart asked to hold off. */
function grow(st: MaintenanceState): void {
  if (st.holdOff > 0) st.holdOff--;
  else if (st.spawnRate < MAX_SPAWN_RATE) st.spawnRate *= 2;
}
