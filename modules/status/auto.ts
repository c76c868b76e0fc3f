// `?auto`: mod_status's machine-readable report, key for key and number for number as Apache 2.4.71.
import { aprG, f32, fixed, showTime, statusTime } from "./format.ts";
import { countStatus } from "./snapshot.ts";
import type { StatusCounts, StatusSnapshot } from "./snapshot.ts";

/**
 * Renders `?auto` (apache.md §1.2): the server name line, then `Key: value` lines in Apache's order and
 * under Apache's conditions (ExtendedStatus for totals and rates, uptime > 0 for the per-second rates,
 * accesses > 0 for the per-request ones, CPU ticks for CPULoad, the async MPM for the connection lines).
 */
export function renderAuto(s: StatusSnapshot, counts: StatusCounts = countStatus(s)): string {
  const L: string[] = [
    s.serverName,
    `ServerVersion: ${s.serverVersion}`,
    `ServerMPM: ${s.mpm}`,
    `Server Built: ${s.built}`,
    `CurrentTime: ${statusTime(s.now)}`,
    `RestartTime: ${statusTime(s.restartTime)}`,
    `ParentServerConfigGeneration: ${s.configGeneration}`,
    `ParentServerMPMGeneration: ${s.mpmGeneration}`,
    `ServerUptimeSeconds: ${s.uptime}`,
    `ServerUptime:${showTime(s.uptime)}`,
    `Load1: ${fixed(s.load[0], 2)}`,
    `Load5: ${fixed(s.load[1], 2)}`,
    `Load15: ${fixed(s.load[2], 2)}`,
  ];
  if (s.extended) {
    const t = s.totals;
    const c = s.cpu;
    L.push(
      `Total Accesses: ${t.accesses}`,
      `Total kBytes: ${t.kbytes}`,
      `Total Duration: ${Math.trunc(t.durationMs)}`,
      `CPUUser: ${aprG(c.user)}`,
      `CPUSystem: ${aprG(c.system)}`,
      `CPUChildrenUser: ${aprG(c.childrenUser)}`,
      `CPUChildrenSystem: ${aprG(c.childrenSystem)}`,
    );
    const cpu = c.user + c.system + c.childrenUser + c.childrenSystem;
    // `if (cpu)` in C: a zero total (fresh start) leaves the line out. Apache also divides by an uptime
    // of 0 in the first second and prints garbage (`0.e+79`); mosaic leaves the line out then too.
    if (cpu > 0 && s.uptime > 0) L.push(`CPULoad: ${aprG((cpu / s.uptime) * 100)}`);
    L.push(`Uptime: ${s.uptime}`);
    if (s.uptime > 0) {
      L.push(`ReqPerSec: ${aprG(f32(f32(t.accesses) / f32(s.uptime)))}`);
      L.push(`BytesPerSec: ${aprG(f32(f32(1024 * f32(t.kbytes)) / f32(s.uptime)))}`);
    }
    if (t.accesses > 0) {
      L.push(`BytesPerReq: ${aprG(f32(f32(1024 * f32(t.kbytes)) / f32(t.accesses)))}`);
      L.push(`DurationPerReq: ${aprG(f32(f32(Math.trunc(t.durationMs)) / f32(t.accesses)))}`);
    }
  }
  L.push(`BusyWorkers: ${counts.busy}`, `GracefulWorkers: ${counts.graceful}`, `IdleWorkers: ${counts.idle}`);
  if (s.isAsync) {
    L.push(
      `Processes: ${counts.processes}`,
      `Stopping: ${counts.stopping}`,
      `ConnsTotal: ${counts.connections}`,
      `ConnsAsyncWaitIO: ${counts.waitIo}`,
      `ConnsAsyncWriting: ${counts.writing}`,
      `ConnsAsyncKeepAlive: ${counts.keepAlive}`,
      `ConnsAsyncClosing: ${counts.closing}`,
    );
  }
  L.push(`Scoreboard: ${counts.scoreboard}`);
  return L.join("\n") + "\n";
}
