// The HTML status page: Apache 2.4.71's sections byte for byte, inside a responsive, live shell.
import { escapeLogItem } from "../../src/log/escape.ts";
import { aprG, escapeHtml, f32, fixed, formatByteOut, formatKbyteOut, showTime, statusTime } from "./format.ts";
import { liveHead, livePanel } from "./live.ts";
import { countStatus } from "./snapshot.ts";
import type { StatusCounts, StatusSnapshot, WorkerRow } from "./snapshot.ts";

export interface HtmlOptions {
  /** `?notable`: the "Server Details" list instead of the per-worker table. */
  notable: boolean;
  /** Output of registered status hooks (already HTML). */
  extra: string;
  /** ServerSignature's address line (empty when Off), printed after `<hr />`. */
  signature: string;
  /** The page's own path, for the links between views. */
  path: string;
  /** Add the live view (charts and polling); off for `?refresh` pages that reload themselves anyway. */
  live: boolean;
  /** Where /server-info is configured, for a link (undefined: no link). */
  infoPath?: string;
}

const DOCTYPE = '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">\n';

const KEY =
  "<p>Scoreboard Key:<br />\n" +
  '"<b><code>_</code></b>" Waiting for Connection, \n' +
  '"<b><code>S</code></b>" Starting up, \n' +
  '"<b><code>R</code></b>" Reading Request,<br />\n' +
  '"<b><code>W</code></b>" Sending Reply, \n' +
  '"<b><code>K</code></b>" Keepalive (read), \n' +
  '"<b><code>D</code></b>" DNS Lookup,<br />\n' +
  '"<b><code>C</code></b>" Closing connection, \n' +
  '"<b><code>L</code></b>" Logging, \n' +
  '"<b><code>G</code></b>" Gracefully finishing,<br /> \n' +
  '"<b><code>I</code></b>" Idle cleanup of worker, \n' +
  '"<b><code>.</code></b>" Open slot with no current process<br />\n' +
  "</p>\n";

const CONN_TABLE_HEAD =
  '\n\n<table rules="all" cellpadding="1%">\n' +
  '<tr><th rowspan="2">Slot</th><th rowspan="2">PID</th><th rowspan="2">Stopping</th><th colspan="2">Connections</th>\n' +
  '<th colspan="3">Threads</th><th colspan="4">Async connections</th></tr>\n' +
  "<tr><th>total</th><th>accepting</th><th>busy</th><th>graceful</th><th>idle</th>" +
  "<th>wait-io</th><th>writing</th><th>keep-alive</th><th>closing</th></tr>\n";

const WORKER_TABLE_HEAD =
  '\n\n<table border="0"><tr><th>Srv</th><th>PID</th><th>Acc</th><th>M</th><th>CPU\n</th>' +
  "<th>SS</th><th>Req</th><th>Dur</th><th>Conn</th><th>Child</th><th>Slot</th>" +
  "<th>Client</th><th>Protocol</th><th>VHost</th><th>Request</th></tr>\n\n";

const LEGEND =
  "</table>\n <hr /> <table>\n" +
  " <tr><th>Srv</th><td>Child Server number - generation</td></tr>\n" +
  " <tr><th>PID</th><td>OS process ID</td></tr>\n" +
  " <tr><th>Acc</th><td>Number of accesses this connection / this child / this slot</td></tr>\n" +
  " <tr><th>M</th><td>Mode of operation</td></tr>\n" +
  "<tr><th>CPU</th><td>CPU usage, number of seconds</td></tr>\n" +
  "<tr><th>SS</th><td>Seconds since beginning of most recent request</td></tr>\n" +
  " <tr><th>Req</th><td>Milliseconds required to process most recent request</td></tr>\n" +
  " <tr><th>Dur</th><td>Sum of milliseconds required to process all requests</td></tr>\n" +
  " <tr><th>Conn</th><td>Kilobytes transferred this connection</td></tr>\n" +
  " <tr><th>Child</th><td>Megabytes transferred this child</td></tr>\n" +
  " <tr><th>Slot</th><td>Total megabytes transferred this slot</td></tr>\n" +
  " </table>\n";

/** The M column: busy states in bold, as mod_status prints them. */
const MODE_CELL: Record<string, string> = {
  _: "_", S: "<b>S</b>", R: "<b>R</b>", W: "<b>W</b>", K: "<b>K</b>", L: "<b>L</b>", D: "<b>D</b>",
  C: "<b>C</b>", ".": ".", G: "G", I: "I",
};
/** The `?notable` spelling of each state. */
const MODE_WORD: Record<string, string> = {
  _: "Ready", S: "Starting", R: "<b>Read</b>", W: "<b>Write</b>", K: "<b>Keepalive</b>",
  L: "<b>Logging</b>", D: "<b>DNS lookup</b>", C: "<b>Closing</b>", ".": "Dead", G: "Graceful", I: "Dying",
};

/**
 * Renders the HTML page. Between `<body>` and `</body>` every Apache section keeps its exact markup, so
 * scrapers of Apache's page keep working; mosaic adds a viewport, a stylesheet, links between the views
 * and (unless `live` is false) the live panel right after the `<h1>`.
 */
export function renderHtml(s: StatusSnapshot, o: HtmlOptions, counts: StatusCounts = countStatus(s)): string {
  const out: string[] = [];
  out.push(
    DOCTYPE,
    "<html><head>\n<title>Apache Status</title>\n",
    liveHead(),
    "</head><body>\n",
    `<h1>Apache Server Status for ${escapeHtml(s.serverName)} (via ${s.localIp})</h1>\n\n`,
  );
  const tiles = {
    busy: String(counts.busy),
    idle: String(counts.idle),
    conns: s.connectionsMeasured ? String(counts.connections) : "n/a",
    acc: s.extended ? String(s.totals.accesses) : "n/a",
    up: showTime(s.uptime).trim() || "0 seconds",
  };
  out.push(livePanel(o.path, o.live, tiles, o.infoPath));
  out.push('<div id="report">\n');
  out.push(
    `<dl><dt>Server Version: ${s.serverVersion}</dt>\n`,
    `<dt>Server MPM: ${s.mpm}</dt>\n`,
    `<dt>Server Built: ${s.built}\n</dt></dl><hr /><dl>\n`,
    `<dt>Current Time: ${statusTime(s.now)}</dt>\n`,
    `<dt>Restart Time: ${statusTime(s.restartTime)}</dt>\n`,
    `<dt>Parent Server Config. Generation: ${s.configGeneration}</dt>\n`,
    `<dt>Parent Server MPM Generation: ${s.mpmGeneration}</dt>\n`,
    `<dt>Server uptime: ${showTime(s.uptime)}</dt>\n`,
    `<dt>Server load: ${fixed(s.load[0], 2)} ${fixed(s.load[1], 2)} ${fixed(s.load[2], 2)}</dt>\n`,
  );
  if (s.extended) out.push(extendedLines(s));
  out.push(
    `<dt>${counts.busy} requests currently being processed, ${counts.graceful} workers gracefully restarting, ` +
      `${counts.idle} idle workers</dt>\n`,
    "</dl>",
  );
  if (s.isAsync) out.push(connectionTable(s, counts));
  out.push("<pre>", wrapScoreboard(counts.scoreboard), "</pre>\n", KEY);
  if (!s.extended) out.push(pidKey(s));
  if (s.extended) out.push(o.notable ? notable(s) : workerTable(s));
  else out.push("<hr />To obtain a full report with current status information you need to use the <code>ExtendedStatus On</code> directive.\n");
  out.push(o.extra);
  out.push("</div>\n");
  if (o.signature) out.push("<hr />\n", o.signature);
  out.push("</body></html>\n");
  return out.join("");
}

function extendedLines(s: StatusSnapshot): string {
  const t = s.totals;
  const c = s.cpu;
  const cpu = c.user + c.system + c.childrenUser + c.childrenSystem;
  let out = `<dt>Total accesses: ${t.accesses} - Total Traffic: ${formatKbyteOut(t.kbytes)} - Total Duration: ${Math.trunc(t.durationMs)}</dt>\n`;
  out += `<dt>CPU Usage: u${aprG(c.user)} s${aprG(c.system)} cu${aprG(c.childrenUser)} cs${aprG(c.childrenSystem)}`;
  out += cpu > 0 && s.uptime > 0 ? ` - ${aprG((cpu / s.uptime) * 100, 3)}% CPU load</dt>\n` : "</dt>\n";
  out += "<dt>";
  const kb = f32(1024 * f32(t.kbytes));
  if (s.uptime > 0) {
    out += `${aprG(f32(f32(t.accesses) / f32(s.uptime)), 3)} requests/sec - `;
    out += `${formatByteOut(Math.trunc(f32(kb / f32(s.uptime))))}/second`;
  }
  if (t.accesses > 0) {
    if (s.uptime > 0) out += " - ";
    out += `${formatByteOut(Math.trunc(f32(kb / f32(t.accesses))))}/request - `;
    out += `${aprG(f32(f32(Math.trunc(t.durationMs)) / f32(t.accesses)))} ms/request`;
  }
  return out + "</dt>\n";
}

function connectionTable(s: StatusSnapshot, c: StatusCounts): string {
  let out = CONN_TABLE_HEAD;
  for (const ps of s.processes) {
    if (ps.pid === 0) continue;
    const pp = c.perProcess[ps.slot] ?? { busy: 0, graceful: 0, idle: 0 };
    const stopping = (ps.quiescing ? "yes" : "no") + (ps.generation !== s.boardGeneration ? " (old gen)" : "");
    out +=
      `<tr><td>${ps.slot}</td><td>${ps.pid}</td><td>${stopping}</td><td>${ps.connections}</td>` +
      `<td>${ps.accepting ? "yes" : "no"}</td><td>${pp.busy}</td><td>${pp.graceful}</td><td>${pp.idle}</td>` +
      `<td>${ps.waitIo}</td><td>${ps.writing}</td><td>${ps.keepAlive}</td><td>${ps.closing}</td></tr>\n`;
  }
  let busy = 0;
  let graceful = 0;
  let idle = 0;
  for (const pp of c.perProcess) {
    busy += pp.busy;
    graceful += pp.graceful;
    idle += pp.idle;
  }
  return (
    out +
    `<tr><td>Sum</td><td>${c.processes}</td><td>${c.stopping}</td><td>${c.connections}</td><td>&nbsp;</td>` +
    `<td>${busy}</td><td>${graceful}</td><td>${idle}</td>` +
    `<td>${c.waitIo}</td><td>${c.writing}</td><td>${c.keepAlive}</td><td>${c.closing}</td></tr>\n</table>\n`
  );
}

/** 64 characters per line (STATUS_MAXLINE); a full last line still ends with a newline. */
export function wrapScoreboard(board: string): string {
  let out = "";
  for (let i = 0; i < board.length; i += 64) {
    const line = board.slice(i, i + 64);
    out += line.length === 64 ? `${line}\n` : line;
  }
  return out;
}

/** ExtendedStatus Off: every slot that is not `.` with its process's pid, three per line. */
function pidKey(s: StatusSnapshot): string {
  const out: string[] = ["PID Key: <br />\n<pre>\n"];
  let k = 0;
  for (let i = 0; i < s.serverLimit; i++) {
    const pid = s.processes[i]?.pid ?? 0;
    for (let j = 0; j < s.threadLimit; j++) {
      const c = s.slots[i * s.threadLimit + j]!;
      if (c === ".") continue;
      out.push(`   ${pid} in state: ${c} `);
      if (++k >= 3) {
        out.push("\n");
        k = 0;
      } else out.push(",");
    }
  }
  out.push("\n</pre>\n");
  return out.join("");
}

function workerTable(s: StatusSnapshot): string {
  const out: string[] = [WORKER_TABLE_HEAD];
  for (const w of s.workers) {
    const pid = w.state === "." ? "-" : String(w.pid);
    const cpu = w.cpu.user + w.cpu.system + w.cpu.childrenUser + w.cpu.childrenSystem;
    out.push(
      `<tr><td><b>${w.process}-${w.generation}</b></td><td>${pid}</td>` +
        `<td>${w.accessConn}/${w.accessChild}/${w.accessSlot}</td><td>${MODE_CELL[w.state] ?? "?"}\n</td>` +
        `<td>${fixed(cpu, 2)}</td><td>${w.secondsSinceUse}</td><td>${w.reqMs}</td><td>${Math.trunc(w.durationMs)}` +
        `</td><td>${fixed(f32(w.bytesConn) / 1024, 1)}</td><td>${fixed(f32(w.bytesChild) / 1048576, 2)}</td>` +
        `<td>${fixed(f32(w.bytesSlot) / 1048576, 2)}\n</td><td>${escapeHtml(w.client)}</td>` +
        `<td>${escapeHtml(w.protocol)}</td><td nowrap>${escapeHtml(w.vhost)}</td>` +
        `<td nowrap>${escapeHtml(escapeLogItem(w.request))}</td></tr>\n\n`,
    );
  }
  out.push(LEGEND);
  return out.join("");
}

function notable(s: StatusSnapshot): string {
  const out: string[] = ["<hr /><h2>Server Details</h2>\n\n"];
  for (const w of s.workers) out.push(notableBlock(w));
  return out.join("");
}

function notableBlock(w: WorkerRow): string {
  const pid = w.state === "." ? "-" : String(w.pid);
  const c = w.cpu;
  return (
    `<b>Server ${w.process}-${w.generation}</b> (${pid}): ${w.accessConn}|${w.accessChild}|${w.accessSlot} ` +
    `[${MODE_WORD[w.state] ?? "?STATE?"}] u${aprG(c.user)} s${aprG(c.system)} cu${aprG(c.childrenUser)} cs${aprG(c.childrenSystem)}\n` +
    ` ${w.secondsSinceUse} ${w.reqMs} ${Math.trunc(w.durationMs)}(` +
    `${formatByteOut(w.bytesConn)}|${formatByteOut(w.bytesChild)}|${formatByteOut(w.bytesSlot)})\n` +
    ` <i>${escapeHtml(w.client)} {${escapeHtml(escapeLogItem(w.request))}}</i> <i>(${escapeHtml(w.protocol)})</i> ` +
    `<b>[${escapeHtml(w.vhost)}]</b><br />\n\n`
  );
}
