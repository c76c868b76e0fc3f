// mod_status renderers against Apache 2.4.71's captured pages: ?auto byte for byte, HTML section by section.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { renderAuto } from "../modules/status/auto.ts";
import { aprG, formatByteOut, formatKbyteOut, showTime, statusTime } from "../modules/status/format.ts";
import { renderHtml, wrapScoreboard } from "../modules/status/html.ts";
import type { MpmName, ProcessRow, StatusSnapshot, WorkerRow } from "../modules/status/snapshot.ts";

const SAMPLES = "/work/shared/reference/apache-samples";
const sample = (name: string) => fs.readFileSync(path.join(SAMPLES, name), "latin1");
const haveSamples = fs.existsSync(SAMPLES);

let tz: string | undefined;
beforeAll(() => {
  tz = process.env.TZ;
  process.env.TZ = "UTC";
});
afterAll(() => {
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
});

describe("APR number formats", () => {
  test("%g drops the leading zero and trailing zeros, switches to E-style past APR's limits", () => {
    expect(aprG(1 / 13)).toBe(".0769231");
    expect(aprG(0.02)).toBe(".02");
    expect(aprG(0)).toBe("0");
    expect(aprG(3)).toBe("3");
    expect(aprG(1024)).toBe("1024");
    expect(aprG((1024 * 135) / 83)).toBe("1665.54");
    expect(aprG(1024 / 3)).toBe("341.333");
    expect(aprG(0.0241, 3)).toBe(".0241");
    expect(aprG(0.94, 3)).toBe(".94");
    expect(aprG(1234567)).toBe("1234570");
    expect(aprG(100000)).toBe("1.e+5");
    expect(aprG(0.00001234)).toBe("1.234e-5");
    expect(aprG(0.0001234)).toBe(".0001234");
    expect(aprG(-2.5)).toBe("-2.5");
  });

  test("byte and kilobyte formats, uptime words, the time format", () => {
    expect(formatByteOut(1791)).toBe("1791 B");
    expect(formatByteOut(15053)).toBe("14.7 kB");
    expect(formatByteOut(3 * 1048576)).toBe("3.0 MB");
    expect(formatKbyteOut(136)).toBe("136 kB");
    expect(formatKbyteOut(58880)).toBe("57.5 MB");
    expect(showTime(83)).toBe(" 1 minute 23 seconds");
    expect(showTime(1)).toBe(" 1 second");
    expect(showTime(0)).toBe("");
    expect(showTime(6 * 86400 + 8 * 3600 + 27 * 60 + 13)).toBe(" 6 days 8 hours 27 minutes 13 seconds");
    expect(statusTime(Date.UTC(2026, 10, 22, 22, 4, 56))).toBe("Sunday, 22-Nov-2026 22:04:56 UTC");
  });

  test("the scoreboard wraps at 64 characters; a full last line keeps its newline", () => {
    expect(wrapScoreboard("_".repeat(150))).toBe(`${"_".repeat(64)}\n${"_".repeat(64)}\n${"_".repeat(22)}`);
    expect(wrapScoreboard(".".repeat(128))).toBe(`${".".repeat(64)}\n${".".repeat(64)}\n`);
  });
});

interface Proc {
  slot: number;
  pid: number;
  gen?: number;
  quiescing?: boolean;
  conns?: number;
  closing?: number;
}

/** A snapshot shaped like a captured Apache: the board is the `Scoreboard:` line (disabled slots left out). */
function snapshot(o: {
  mpm: MpmName;
  serverLimit: number;
  threadLimit: number;
  tpc: number;
  maxServers: number;
  board: string;
  procs: Proc[];
  values: Record<string, string>;
  extended: boolean;
  workers?: WorkerRow[];
}): StatusSnapshot {
  const v = o.values;
  const num = (k: string) => Number(v[k] ?? 0);
  let slots = "";
  for (let i = 0; i < o.serverLimit; i++) {
    for (let j = 0; j < o.threadLimit; j++) {
      slots += i < o.maxServers && j < o.tpc ? o.board[i * o.tpc + j]! : " ";
    }
  }
  const processes: ProcessRow[] = [];
  for (let i = 0; i < o.serverLimit; i++) {
    const p = o.procs.find((x) => x.slot === i);
    processes.push({
      slot: i, pid: p?.pid ?? 0, generation: p?.gen ?? 0, quiescing: p?.quiescing ?? false, accepting: !p?.quiescing,
      connections: p?.conns ?? 0, waitIo: 0, writing: 0, keepAlive: 0, closing: p?.closing ?? 0, waiting: 0,
    });
  }
  const uptime = num("ServerUptimeSeconds");
  const current = Date.parse(`${v.CurrentTime!.replace(/^\w+, /, "").replace(/-/g, " ")}`);
  const restart = Date.parse(`${v.RestartTime!.replace(/^\w+, /, "").replace(/-/g, " ")}`);
  // Fractions of a second so that the whole-second uptime comes out as Apache's did.
  const [rf, nf] = (current - restart) / 1000 === uptime ? [500, 500] : [900, 100];
  const kb = num("Total kBytes");
  return {
    source: "synthetic", serverName: "127.0.0.1", localIp: "127.0.0.1", serverVersion: v.ServerVersion!,
    mpm: o.mpm, isAsync: o.mpm === "event", built: v["Server Built"]!, now: current + nf, restartTime: restart + rf,
    configGeneration: num("ParentServerConfigGeneration"), mpmGeneration: num("ParentServerMPMGeneration"),
    boardGeneration: num("ParentServerMPMGeneration"), uptime, load: [num("Load1"), num("Load5"), num("Load15")],
    extended: o.extended, serverLimit: o.serverLimit, threadLimit: o.threadLimit, threadsPerChild: o.tpc,
    maxServers: o.maxServers, slots, processes, workers: o.workers ?? [],
    totals: { accesses: num("Total Accesses"), bytes: kb * 1024 + 100, kbytes: kb, durationMs: num("Total Duration") + 0.4 },
    cpu: { user: num("CPUUser"), system: num("CPUSystem"), childrenUser: num("CPUChildrenUser"), childrenSystem: num("CPUChildrenSystem") },
    connectionsMeasured: true, vhosts: [], histogram: { bounds: [], counts: [], count: 0, sumSeconds: 0 }, history: [],
  };
}

function autoValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n").slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

const EVENT = { mpm: "event" as const, serverLimit: 16, threadLimit: 64, tpc: 25 };

describe.if(haveSamples)("?auto equals Apache's, line for line and value for value", () => {
  const cases: [string, Omit<Parameters<typeof snapshot>[0], "board" | "values">][] = [
    ["server-status-auto-event.txt", { ...EVENT, maxServers: 6, extended: true,
      procs: [{ slot: 0, pid: 8490 }, { slot: 1, pid: 8491, conns: 2, closing: 1 }] }],
    ["server-status-auto-notable.txt", { ...EVENT, maxServers: 6, extended: true,
      procs: [{ slot: 0, pid: 8490 }, { slot: 1, pid: 8491, conns: 2, closing: 1 }] }],
    ["server-status-auto-during-graceful.txt", { ...EVENT, maxServers: 6, extended: true,
      procs: [
        { slot: 0, pid: 8490, gen: 0, quiescing: true, conns: 1 }, { slot: 1, pid: 8491, gen: 0, quiescing: true, conns: 3, closing: 1 },
        { slot: 2, pid: 11782, gen: 1 }, { slot: 3, pid: 11783, gen: 1 },
      ] }],
    ["server-status-auto-event-extendedstatus-off.txt", { ...EVENT, maxServers: 16, extended: false,
      procs: [{ slot: 0, pid: 3637 }, { slot: 1, pid: 3638 }, { slot: 2, pid: 3639 }] }],
    ["server-status-auto-worker.txt", { mpm: "worker", serverLimit: 16, threadLimit: 64, tpc: 25, maxServers: 16, extended: true,
      procs: [{ slot: 0, pid: 4001 }, { slot: 1, pid: 4002 }, { slot: 2, pid: 4003 }] }],
    ["server-status-auto-prefork.txt", { mpm: "prefork", serverLimit: 256, threadLimit: 1, tpc: 1, maxServers: 256, extended: true,
      procs: [0, 1, 2, 3, 4].map((i) => ({ slot: i, pid: 4115 + i })) }],
  ];
  for (const [file, shape] of cases) {
    test(file, () => {
      const text = sample(file);
      const values = autoValues(text);
      const s = snapshot({ ...shape, board: values.Scoreboard!, values });
      expect(renderAuto(s)).toBe(text);
    });
  }
});

/** The part of a page Apache writes after its `<h1>`: mosaic's equals it between `<div id="report">` and `</div>`. */
function apacheBody(html: string): string {
  return html.slice(html.indexOf("</h1>\n\n") + 7, html.indexOf("</body>"));
}
function mosaicBody(html: string): string {
  const start = html.indexOf('<div id="report">\n') + 18;
  return html.slice(start, html.lastIndexOf("</div>\n"));
}

describe.if(haveSamples)("HTML page", () => {
  test("ExtendedStatus Off: every section equals Apache's, PID Key included", () => {
    const html = sample("server-status-event-extendedstatus-off.html");
    const board = /<pre>([\s\S]*?)<\/pre>/.exec(html)![1]!.replace(/\n/g, "");
    const values = autoValues(sample("server-status-auto-event-extendedstatus-off.txt"));
    values.CurrentTime = "Sunday, 22-Nov-2026 22:11:31 UTC";
    const s = snapshot({ ...EVENT, maxServers: 16, extended: false, board, values,
      procs: [{ slot: 0, pid: 3637 }, { slot: 1, pid: 3638 }, { slot: 2, pid: 3639 }] });
    const out = renderHtml(s, { notable: false, extra: "", signature: "", path: "/server-status", live: true });
    expect(mosaicBody(out)).toBe(apacheBody(html));
    expect(out).toContain("<title>Apache Status</title>");
    expect(out).toContain("<h1>Apache Server Status for 127.0.0.1 (via 127.0.0.1)</h1>\n\n");
  });

  test("ExtendedStatus On: header lines, connection table, scoreboard, key and worker rows equal Apache's", () => {
    const html = sample("server-status-event.html");
    const board = /<pre>([\s\S]*?)<\/pre>/.exec(html)![1]!.replace(/\n/g, "");
    const values = autoValues(sample("server-status-auto-event.txt"));
    Object.assign(values, { "Total Accesses": "78", "Total kBytes": "136", "Total Duration": "9034" });
    const rows = parseWorkerRows(html);
    const s = snapshot({ ...EVENT, maxServers: 6, extended: true, board, values, workers: rows,
      procs: [{ slot: 0, pid: 8490 }, { slot: 1, pid: 8491, conns: 2, closing: 1 }] });
    expect(mosaicBody(renderHtml(s, { notable: false, extra: "", signature: "", path: "/s", live: true }))).toBe(apacheBody(html));
  });

  test("?notable: the Server Details blocks equal Apache's", () => {
    const html = sample("server-status-event-notable.html");
    const table = parseWorkerRows(sample("server-status-event.html"));
    const blocks = parseNotable(html, table);
    const board = /<pre>([\s\S]*?)<\/pre>/.exec(html)![1]!.replace(/\n/g, "");
    const values = autoValues(sample("server-status-auto-event.txt"));
    Object.assign(values, { "Total Accesses": "79", "Total kBytes": "151", "Total Duration": "9034" });
    const s = snapshot({ ...EVENT, maxServers: 6, extended: true, board, values, workers: blocks,
      procs: [{ slot: 0, pid: 8490 }, { slot: 1, pid: 8491, conns: 2, closing: 1 }] });
    expect(mosaicBody(renderHtml(s, { notable: true, extra: "", signature: "", path: "/s", live: true }))).toBe(apacheBody(html));
  });

  test("prefork: no connection table, the <pre> follows </dl> directly", () => {
    const html = sample("server-status-prefork.html");
    const board = /<pre>([\s\S]*?)<\/pre>/.exec(html)![1]!.replace(/\n/g, "");
    const values = autoValues(sample("server-status-auto-prefork.txt"));
    Object.assign(values, { "Total Accesses": "4", "Total kBytes": "2", "Total Duration": "3" });
    const s = snapshot({ mpm: "prefork", serverLimit: 256, threadLimit: 1, tpc: 1, maxServers: 256, extended: true,
      board, values, workers: parseWorkerRows(html), procs: [0, 1, 2, 3, 4].map((i) => ({ slot: i, pid: 4115 + i })) });
    expect(mosaicBody(renderHtml(s, { notable: false, extra: "", signature: "", path: "/s", live: true }))).toBe(apacheBody(html));
  });

  test("status hooks and the signature go where Apache puts them; ?refresh pages have no live script", () => {
    const values = autoValues(sample("server-status-auto-prefork.txt"));
    const s = snapshot({ mpm: "prefork", serverLimit: 256, threadLimit: 1, tpc: 1, maxServers: 256, extended: false,
      board: values.Scoreboard!, values, procs: [{ slot: 0, pid: 1 }] });
    const out = renderHtml(s, { notable: false, extra: "<p>EXTRA</p>\n", signature: "<address>sig</address>\n", path: "/s", live: false });
    expect(out.endsWith("ExtendedStatus On</code> directive.\n<p>EXTRA</p>\n</div>\n<hr />\n<address>sig</address>\n</body></html>\n")).toBe(true);
    expect(out).not.toContain("<script>");
  });
});

/** Reads the per-worker table of a captured page back into rows (the inverse of the renderer). */
function parseWorkerRows(html: string): WorkerRow[] {
  const re = /<tr><td><b>(\d+)-(\d+)<\/b><\/td><td>([-\d]+)<\/td><td>(\d+)\/(\d+)\/(\d+)<\/td><td>(?:<b>)?(.)(?:<\/b>)?\n<\/td><td>([\d.]+)<\/td><td>(\d+)<\/td><td>(\d+)<\/td><td>(\d+)<\/td><td>([\d.]+)<\/td><td>([\d.]+)<\/td><td>([\d.]+)\n<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><td nowrap>([^<]*)<\/td><td nowrap>([^<]*)<\/td><\/tr>/g;
  const rows: WorkerRow[] = [];
  for (const m of html.matchAll(re)) {
    const unescape = (x: string) => x.replace(/&amp;/g, "&");
    rows.push({
      process: Number(m[1]), thread: rows.length, generation: Number(m[2]), pid: m[3] === "-" ? 0 : Number(m[3]),
      state: m[7] as WorkerRow["state"], accessConn: Number(m[4]), accessChild: Number(m[5]), accessSlot: Number(m[6]),
      cpu: { user: 0, system: Number(m[8]), childrenUser: 0, childrenSystem: 0 },
      secondsSinceUse: Number(m[9]), reqMs: Number(m[10]), durationMs: Number(m[11]),
      bytesConn: Number(m[12]) * 1024, bytesChild: Number(m[13]) * 1048576, bytesSlot: Number(m[14]) * 1048576,
      client: m[15]!, protocol: m[16]!, vhost: m[17]!, request: unescape(m[18]!),
    });
  }
  return rows;
}

/** Reads the `?notable` blocks back into rows. */
function parseNotable(html: string, like: WorkerRow[]): WorkerRow[] {
  const re = /<b>Server (\d+)-(\d+)<\/b> \(([-\d]+)\): (\d+)\|(\d+)\|(\d+) \[(?:<b>)?(\w+)(?:<\/b>)?\] u([\d.]+) s([\d.]+) cu([\d.]+) cs([\d.]+)\n (\d+) (\d+) (\d+)\(([^|]+)\|([^|]+)\|([^)]+)\)\n <i>(\S*) \{([^}]*)\}<\/i> <i>\(([^)]*)\)<\/i> <b>\[([^\]]*)\]<\/b><br \/>/g;
  const bytes = (t: string) => {
    const [n, unit] = t.split(" ");
    return Number(n) * (unit === "kB" ? 1024 : unit === "MB" ? 1048576 : 1);
  };
  const states: Record<string, WorkerRow["state"]> = { Ready: "_", Write: "W" };
  const out: WorkerRow[] = [];
  for (const m of html.matchAll(re)) {
    out.push({
      ...(like[0] as WorkerRow), process: Number(m[1]), generation: Number(m[2]), pid: Number(m[3]),
      accessConn: Number(m[4]), accessChild: Number(m[5]), accessSlot: Number(m[6]), state: states[m[7]!] ?? "_",
      cpu: { user: Number(m[8]), system: Number(m[9]), childrenUser: Number(m[10]), childrenSystem: Number(m[11]) },
      secondsSinceUse: Number(m[12]), reqMs: Number(m[13]), durationMs: Number(m[14]),
      bytesConn: bytes(m[15]!), bytesChild: bytes(m[16]!), bytesSlot: bytes(m[17]!),
      client: m[18]!, request: m[19]!.replace(/&amp;/g, "&"), protocol: m[20]!, vhost: m[21]!,
    });
  }
  expect(out.length).toBeGreaterThan(30);
  return out;
}
