// `?metrics`: the status report in Prometheus' text exposition format 0.0.4 (mapping in docs/status.md).
import { countStatus } from "./snapshot.ts";
import type { StatusCounts, StatusSnapshot } from "./snapshot.ts";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Scoreboard characters by the state names apache_exporter gives its `apache_scoreboard` series. */
const SCOREBOARD_STATES: [string, string][] = [
  ["_", "idle"], ["S", "startup"], ["R", "read"], ["W", "reply"], ["K", "keepalive"], ["D", "dns"],
  ["C", "closing"], ["L", "logging"], ["G", "graceful_stop"], ["I", "idle_cleanup"], [".", "open_slot"],
];

/** Label value escaping of the text format: backslash, double quote and newline. */
function label(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** A number as Prometheus reads it (Go's ParseFloat): integers plain, +Inf/-Inf/NaN spelled out. */
function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

class Writer {
  out: string[] = [];
  family(name: string, type: "counter" | "gauge" | "histogram", help: string): void {
    this.out.push(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
  }
  sample(name: string, value: number, labels?: Record<string, string>): void {
    let l = "";
    if (labels) {
      const parts = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`);
      l = `{${parts.join(",")}}`;
    }
    this.out.push(`${name}${l} ${num(value)}\n`);
  }
}

/**
 * Renders the metrics. Gauges and counters mirror `?auto`'s figures (same counting rules); the
 * `mosaic_vhost_*` counters and the duration histogram are mosaic's own, counted by this module.
 */
export function renderMetrics(s: StatusSnapshot, c: StatusCounts = countStatus(s)): string {
  const w = new Writer();
  w.family("mosaic_info", "gauge", "Server version, MPM and build time (value is always 1).");
  w.sample("mosaic_info", 1, { version: s.serverVersion, mpm: s.mpm, built: s.built, source: s.source });
  w.family("mosaic_generation", "gauge", "ParentServerConfigGeneration and ParentServerMPMGeneration.");
  w.sample("mosaic_generation", s.configGeneration, { type: "config" });
  w.sample("mosaic_generation", s.mpmGeneration, { type: "mpm" });
  w.family("mosaic_start_time_seconds", "gauge", "RestartTime as a Unix time.");
  w.sample("mosaic_start_time_seconds", Math.floor(s.restartTime / 1000));
  w.family("mosaic_uptime_seconds_total", "counter", "ServerUptimeSeconds.");
  w.sample("mosaic_uptime_seconds_total", s.uptime);
  w.family("mosaic_load", "gauge", "System load averages (Load1, Load5, Load15).");
  w.sample("mosaic_load", s.load[0], { interval: "1min" });
  w.sample("mosaic_load", s.load[1], { interval: "5min" });
  w.sample("mosaic_load", s.load[2], { interval: "15min" });
  if (s.extended) {
    w.family("mosaic_accesses_total", "counter", "Total Accesses (requests counted on the scoreboard).");
    w.sample("mosaic_accesses_total", s.totals.accesses);
    w.family("mosaic_sent_bytes_total", "counter", "Bytes sent (Total kBytes x 1024, unrounded).");
    w.sample("mosaic_sent_bytes_total", s.totals.bytes);
    w.family("mosaic_duration_seconds_total", "counter", "Total Duration in seconds.");
    w.sample("mosaic_duration_seconds_total", Math.trunc(s.totals.durationMs) / 1000);
    w.family("mosaic_cpu_seconds_total", "counter", "CPUUser, CPUSystem, CPUChildrenUser, CPUChildrenSystem.");
    w.sample("mosaic_cpu_seconds_total", s.cpu.user, { mode: "user" });
    w.sample("mosaic_cpu_seconds_total", s.cpu.system, { mode: "system" });
    w.sample("mosaic_cpu_seconds_total", s.cpu.childrenUser, { mode: "children_user" });
    w.sample("mosaic_cpu_seconds_total", s.cpu.childrenSystem, { mode: "children_system" });
  }
  w.family("mosaic_workers", "gauge", "BusyWorkers, GracefulWorkers and IdleWorkers.");
  w.sample("mosaic_workers", c.busy, { state: "busy" });
  w.sample("mosaic_workers", c.graceful, { state: "graceful" });
  w.sample("mosaic_workers", c.idle, { state: "idle" });
  w.family("mosaic_scoreboard", "gauge", "Scoreboard slots by state (the Scoreboard line, counted).");
  const tally = new Map<string, number>();
  for (let i = 0; i < c.scoreboard.length; i++) {
    const ch = c.scoreboard[i]!;
    tally.set(ch, (tally.get(ch) ?? 0) + 1);
  }
  for (const [ch, name] of SCOREBOARD_STATES) w.sample("mosaic_scoreboard", tally.get(ch) ?? 0, { state: name });
  w.family("mosaic_processes", "gauge", "Processes and Stopping (children quiescing).");
  w.sample("mosaic_processes", c.processes, { state: "all" });
  w.sample("mosaic_processes", c.stopping, { state: "stopping" });
  w.family("mosaic_connections", "gauge", "ConnsTotal and the ConnsAsync* figures.");
  w.sample("mosaic_connections", c.connections, { state: "total" });
  w.sample("mosaic_connections", c.waitIo, { state: "wait_io" });
  w.sample("mosaic_connections", c.writing, { state: "writing" });
  w.sample("mosaic_connections", c.keepAlive, { state: "keepalive" });
  w.sample("mosaic_connections", c.closing, { state: "closing" });
  w.family("mosaic_vhost_requests_total", "counter", "Requests finished, by virtual host (ServerName:port).");
  for (const v of s.vhosts) w.sample("mosaic_vhost_requests_total", v.requests, { vhost: `${v.name}:${v.port}` });
  w.family("mosaic_vhost_sent_bytes_total", "counter", "Response body bytes sent, by virtual host.");
  for (const v of s.vhosts) w.sample("mosaic_vhost_sent_bytes_total", v.bytes, { vhost: `${v.name}:${v.port}` });
  const h = s.histogram;
  w.family("mosaic_request_duration_seconds", "histogram", "Time from request arrival to the end of its response.");
  h.bounds.forEach((b, i) => w.sample("mosaic_request_duration_seconds_bucket", h.counts[i] ?? 0, { le: String(b) }));
  w.sample("mosaic_request_duration_seconds_bucket", h.count, { le: "+Inf" });
  w.sample("mosaic_request_duration_seconds_sum", h.sumSeconds);
  w.sample("mosaic_request_duration_seconds_count", h.count);
  return w.out.join("");
}
