// mod_status on a live in-process server: ?auto against the requests made, HTML, options, ?json, ?metrics.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { registerStatusHook } from "../modules/status/index.ts";
import type { StatusJson } from "../modules/status/json.ts";
import { rawRequest, startTestServer, statusOf, tempDir, writeTree } from "./helpers.ts";

/** Apache 2.4.71's ?auto keys for the event MPM with ExtendedStatus On, in order (CPULoad may be absent). */
const EVENT_KEYS = [
  "ServerVersion", "ServerMPM", "Server Built", "CurrentTime", "RestartTime", "ParentServerConfigGeneration",
  "ParentServerMPMGeneration", "ServerUptimeSeconds", "ServerUptime", "Load1", "Load5", "Load15", "Total Accesses",
  "Total kBytes", "Total Duration", "CPUUser", "CPUSystem", "CPUChildrenUser", "CPUChildrenSystem", "CPULoad",
  "Uptime", "ReqPerSec", "BytesPerSec", "BytesPerReq", "DurationPerReq", "BusyWorkers", "GracefulWorkers",
  "IdleWorkers", "Processes", "Stopping", "ConnsTotal", "ConnsAsyncWaitIO", "ConnsAsyncWriting",
  "ConnsAsyncKeepAlive", "ConnsAsyncClosing", "Scoreboard",
];

function site(extra = "") {
  const root = tempDir();
  writeTree(root, { "htdocs/index.html": "<p>hello</p>\n", "htdocs/big.bin": "x".repeat(3000) });
  const conf = `ServerName status.test
DocumentRoot ${root}/htdocs
Define MOSAIC_FAULT_INJECTION
<Location /server-status>
  SetHandler server-status
</Location>
<Location /slow>
  SetHandler mosaic-fault-sleep
</Location>
${extra}`;
  return { root, conf };
}

interface Auto {
  name: string;
  keys: string[];
  v: Record<string, string>;
}
function parseAuto(text: string): Auto {
  const lines = text.split("\n");
  expect(lines.pop()).toBe("");
  const v: Record<string, string> = {};
  const keys: string[] = [];
  for (const line of lines.slice(1)) {
    const m = /^([A-Za-z0-9 ]+): ?(.*)$/.exec(line);
    expect(m).not.toBeNull();
    keys.push(m![1]!);
    v[m![1]!] = m![2]!;
  }
  return { name: lines[0]!, keys, v };
}

async function auto(url: string): Promise<Auto> {
  const res = await fetch(`${url}/server-status?auto`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; charset=ISO-8859-1");
  return parseAuto(await res.text());
}

const count = (s: string, ch: string) => s.split(ch).length - 1;

describe("?auto against the live server", () => {
  test("keys in Apache's order and formats; Total Accesses grows by exactly the requests made", async () => {
    const { root, conf } = site();
    await using srv = await startTestServer(conf, { root });
    const a0 = await auto(srv.url);
    expect(a0.name).toBe("127.0.0.1");
    expect(a0.keys).toEqual(EVENT_KEYS.filter((k) => k in a0.v));
    // Conditional lines: CPULoad (CPU time > 0), the rates (uptime > 0), the per-request ones (accesses > 0).
    const optional = (k: string) => k === "CPULoad" || k.endsWith("PerSec") || (k.endsWith("PerReq") && a0.v["Total Accesses"] === "0");
    expect(EVENT_KEYS.filter((k) => !(k in a0.v) && !optional(k))).toEqual([]);
    expect(a0.v.ServerMPM).toBe("event");
    expect(a0.v.ServerVersion).toMatch(/^mosaic\/\d+\.\d+\.\d+ \(/);
    expect(a0.v.CurrentTime).toMatch(/^[A-Z][a-z]+day, \d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d \S+$/);
    expect(a0.v.ParentServerConfigGeneration).toBe("1");
    expect(a0.v.ParentServerMPMGeneration).toBe("0");
    expect(a0.v.Load1).toMatch(/^\d+\.\d\d$/);
    for (const k of ["CPUUser", "CPUSystem"]) expect(a0.v[k]).toMatch(/^(0|\d*\.?\d+)$/);
    // The status request is counted once it has been logged, like Apache's eor cleanup does.
    const N = 7;
    for (let i = 0; i < N; i++) expect((await fetch(`${srv.url}/big.bin`)).status).toBe(200);
    expect((await fetch(`${srv.url}/missing`)).status).toBe(404);
    const a1 = await auto(srv.url);
    expect(Number(a1.v["Total Accesses"])).toBe(Number(a0.v["Total Accesses"]) + N + 2);
    const kb0 = Number(a0.v["Total kBytes"]);
    // 7 x 3000 bytes of body at least, in whole KiB.
    expect(Number(a1.v["Total kBytes"]) - kb0).toBeGreaterThanOrEqual(Math.floor((N * 3000) / 1024) - 1);
    expect(Number(a1.v.BusyWorkers)).toBe(1);
    expect(count(a1.v.Scoreboard!, "W")).toBe(1);
    expect(Number(a1.v.IdleWorkers)).toBe(count(a1.v.Scoreboard!, "_"));
    expect(Number(a1.v.Processes)).toBeGreaterThanOrEqual(1);
    const up = Number(a1.v.ServerUptimeSeconds);
    expect(Number(a1.v.Uptime)).toBe(up);
    if (up > 0) expect(a1.v.ReqPerSec).toBeDefined();
    expect(a1.v.BytesPerReq).toBeDefined();
  });

  test("requests in flight are busy workers (W) until they finish", async () => {
    const { root, conf } = site();
    await using srv = await startTestServer(conf, { root });
    const slow = [1, 2, 3].map(() => fetch(`${srv.url}/slow?ms=1500`).then((r) => r.text()));
    let a = await auto(srv.url);
    for (let i = 0; i < 50 && Number(a.v.BusyWorkers) < 4; i++) {
      await Bun.sleep(20);
      a = await auto(srv.url);
    }
    expect(Number(a.v.BusyWorkers)).toBe(4);
    expect(count(a.v.Scoreboard!, "W")).toBe(4);
    const html = await (await fetch(`${srv.url}/server-status`)).text();
    expect(html).toContain("<td nowrap>GET /slow?ms=1500 HTTP/1.1</td>");
    expect(await Promise.all(slow)).toEqual(["slept 1500\n", "slept 1500\n", "slept 1500\n"]);
    a = await auto(srv.url);
    expect(Number(a.v.BusyWorkers)).toBe(1);
  });

  test("a graceful reload bumps the generations and keeps RestartTime and the counts", async () => {
    const { root, conf } = site();
    await using srv = await startTestServer(conf, { root });
    const a0 = await auto(srv.url);
    await srv.reload(conf);
    const a1 = await auto(srv.url);
    expect(a1.v.ParentServerConfigGeneration).toBe("2");
    expect(a1.v.ParentServerMPMGeneration).toBe("1");
    expect(a1.v.RestartTime).toBe(a0.v.RestartTime!);
    expect(Number(a1.v["Total Accesses"])).toBe(Number(a0.v["Total Accesses"]) + 1);
  });

  test("ExtendedStatus Off: the short report and the PID Key", async () => {
    const { root, conf } = site("ExtendedStatus Off\n");
    await using srv = await startTestServer(conf, { root });
    const a = await auto(srv.url);
    expect(a.keys).toEqual(EVENT_KEYS.filter((k) => !/^(Total|CPU|Uptime|.*Per(Sec|Req))/.test(k)));
    const html = await (await fetch(`${srv.url}/server-status`)).text();
    expect(html).toContain("PID Key: <br />\n<pre>\n   ");
    expect(html).toContain("<hr />To obtain a full report with current status information you need to use the <code>ExtendedStatus On</code> directive.\n");
    expect(html).not.toContain("Total accesses:");
  });

  test("ExtendedStatus and SeeRequestTail are server-config only", async () => {
    const { root, conf } = site("<VirtualHost *:80>\n  ExtendedStatus On\n</VirtualHost>\n");
    await expect(startTestServer(conf, { root })).rejects.toThrow(/ExtendedStatus cannot occur within <VirtualHost> section/);
    const bad = site("<Location /x>\n  SeeRequestTail On\n</Location>\n");
    await expect(startTestServer(bad.conf, { root: bad.root })).rejects.toThrow(/SeeRequestTail/);
  });
});

describe("options, methods and the HTML page", () => {
  test("?refresh, substring matching, HEAD, and other methods declined (404)", async () => {
    const { root, conf } = site();
    await using srv = await startTestServer(conf, { root });
    const refresh = async (q: string) => (await fetch(`${srv.url}/server-status?${q}`)).headers.get("refresh");
    expect(await refresh("refresh=5")).toBe("5");
    expect(await refresh("refresh")).toBe("10");
    expect(await refresh("refresh=0")).toBe("10");
    expect(await refresh("notable")).toBeNull();
    const both = await fetch(`${srv.url}/server-status?auto&refresh=3`);
    expect(both.headers.get("refresh")).toBe("3");
    expect(both.headers.get("content-type")).toBe("text/plain; charset=ISO-8859-1");
    expect(await both.text()).toStartWith("127.0.0.1\nServerVersion: ");
    expect((await fetch(`${srv.url}/server-status?foo=autox`)).headers.get("content-type")).toStartWith("text/plain");
    const head = await fetch(`${srv.url}/server-status`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("text/html; charset=ISO-8859-1");
    expect(await head.text()).toBe("");
    // Apache answers GET only; a POST is DECLINED and ends as 404 (apache.md §1.1, observed).
    expect((await fetch(`${srv.url}/server-status`, { method: "POST", body: "x" })).status).toBe(404);
    const raw = await rawRequest(srv.port, "POST /server-status?auto HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    expect(statusOf(raw)).toBe(404);
  });

  test("the page: Apache's sections, the scoreboard and key, the worker table, the live panel", async () => {
    const { root, conf } = site("<Location /server-info>\n  SetHandler server-info\n</Location>\n");
    await using srv = await startTestServer(conf, { root });
    await fetch(`${srv.url}/index.html`);
    const res = await fetch(`${srv.url}/server-status`);
    expect(res.headers.get("content-type")).toBe("text/html; charset=ISO-8859-1");
    const html = await res.text();
    expect(html).toStartWith('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">\n<html><head>\n<title>Apache Status</title>\n');
    expect(html).toContain("<h1>Apache Server Status for 127.0.0.1 (via 127.0.0.1)</h1>\n\n");
    expect(html).toMatch(/<dl><dt>Server Version: mosaic\/[^<]+<\/dt>\n<dt>Server MPM: event<\/dt>\n<dt>Server Built: [^\n]+\n<\/dt><\/dl><hr \/><dl>\n<dt>Current Time: /);
    expect(html).toMatch(/<dt>Parent Server Config\. Generation: 1<\/dt>\n<dt>Parent Server MPM Generation: 0<\/dt>\n<dt>Server uptime: /);
    expect(html).toMatch(/<dt>Total accesses: \d+ - Total Traffic: \d+ kB - Total Duration: \d+<\/dt>\n<dt>CPU Usage: u/);
    expect(html).toMatch(/<dt>1 requests currently being processed, 0 workers gracefully restarting, \d+ idle workers<\/dt>\n<\/dl>\n\n<table rules="all"/);
    expect(html).toMatch(/<tr><td>Sum<\/td><td>\d+<\/td><td>0<\/td>/);
    const pre = /<\/table>\n<pre>([_W.\n]+)<\/pre>\n<p>Scoreboard Key:<br \/>\n/.exec(html);
    expect(pre).not.toBeNull();
    expect(count(pre![1]!, "W")).toBe(1);
    expect(html).toContain('<table border="0"><tr><th>Srv</th><th>PID</th><th>Acc</th><th>M</th><th>CPU\n</th>');
    // The request being served shows itself, busy, in the table.
    expect(html).toMatch(/<td>\d+\/\d+\/\d+<\/td><td><b>W<\/b>\n<\/td>.*\n<\/td><td>127\.0\.0\.1<\/td><td>http\/1\.1<\/td><td nowrap>status\.test:\d+<\/td><td nowrap>GET \/server-status HTTP\/1\.1<\/td><\/tr>/);
    expect(html).toContain("<tr><th>Slot</th><td>Total megabytes transferred this slot</td></tr>\n </table>\n");
    expect(html).toMatch(/<nav class="views">.*href="\/server-status\?json".*href="\/server-info">Server info<\/a><\/nav>/);
    expect(html).toContain('<canvas id="grid"');
    expect(html).toContain("<script>(function(){");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(/);
    // Served as ISO-8859-1, so every byte is ASCII.
    expect(/^[\x00-\x7f]*$/.test(html)).toBe(true);
    expect(html.endsWith("</div>\n</body></html>\n")).toBe(true);
    const notable = await (await fetch(`${srv.url}/server-status?notable`)).text();
    expect(notable).toContain("<hr /><h2>Server Details</h2>\n\n<b>Server 0-");
    expect(notable).not.toContain('<table border="0">');
    const refreshing = await (await fetch(`${srv.url}/server-status?refresh=2`)).text();
    expect(refreshing).not.toContain("<script>");
  });

  test("status hooks append lines to ?auto, markup to the page and entries to ?json", async () => {
    const { root, conf } = site();
    await using srv = await startTestServer(conf, { root });
    const off = registerStatusHook((s, format, flags) =>
      format === "auto" ? `TestHook: ${s.mpm}\n` : `<p>hook ${flags.notable ? "notable" : "table"}</p>\n`,
    );
    try {
      expect(await (await fetch(`${srv.url}/server-status?auto`)).text()).toMatch(/\nScoreboard: [^\n]+\nTestHook: event\n$/);
      expect(await (await fetch(`${srv.url}/server-status?notable`)).text()).toContain("<p>hook notable</p>\n</div>\n</body>");
      const j = (await (await fetch(`${srv.url}/server-status?json`)).json()) as StatusJson;
      expect(j.extensions).toEqual(["TestHook: event"]);
    } finally {
      off();
    }
    expect(await (await fetch(`${srv.url}/server-status?auto`)).text()).not.toContain("TestHook");
  });

  test("the embedded default config serves /server-status and /server-info to local clients", async () => {
    const text = fs.readFileSync(path.join(import.meta.dir, "../conf/httpd.conf"), "utf8")
      .replace("Listen ${MOSAIC_PORT}", "Listen 127.0.0.1:0")
      .replace(/^(ErrorLog|CustomLog) .*$/gm, "");
    expect(text).toMatch(/<IfModule info_module>\n\s+<Location \/server-info>\n\s+SetHandler server-info\n\s+Require local\n/);
    await using srv = await startTestServer(text);
    expect((await fetch(`${srv.url}/server-status?auto`)).status).toBe(200);
    expect((await fetch(`${srv.url}/server-info?list`)).status).toBe(200);
  });
});

describe("?json and ?metrics", () => {
  test("?json follows the documented schema and agrees with ?auto", async () => {
    const { root, conf } = site();
    await using srv = await startTestServer(conf, { root });
    await fetch(`${srv.url}/index.html`);
    const res = await fetch(`${srv.url}/server-status?json&history`);
    expect(res.headers.get("content-type")).toBe("application/json");
    const j = (await res.json()) as StatusJson;
    expect(j.schema).toBe("mosaic-status/1");
    expect(j.source).toBe("scoreboard");
    expect(Object.keys(j.server).sort()).toEqual(
      ["built", "configGeneration", "currentTime", "load", "localIp", "mpm", "mpmGeneration", "name", "restartTime", "uptimeSeconds", "version"],
    );
    expect(j.server.mpm).toBe("event");
    expect(Date.parse(j.server.currentTime)).toBeGreaterThanOrEqual(Date.parse(j.server.restartTime));
    expect(j.extendedStatus).toBe(true);
    expect(j.totals!.accesses).toBeGreaterThan(0);
    expect(j.workers.busy).toBe(1);
    expect(j.scoreboard.slots.length).toBe(j.workers.busy + j.workers.idle + count(j.scoreboard.slots, "."));
    expect(j.processes.length).toBeGreaterThanOrEqual(1);
    expect(j.processes[0]!.pid).toBe(process.pid);
    expect(Array.isArray(j.history)).toBe(true);
    const me = j.workerSlots.find((w) => w.state === "W");
    expect(me?.request).toBe("GET /server-status?json&history HTTP/1.1");
    expect(me?.vhost).toStartWith("status.test:");
    expect(me?.client).toBe("127.0.0.1");
    const a = await auto(srv.url);
    expect(Number(a.v["Total Accesses"])).toBe(j.totals!.accesses + 1);
    expect(j.vhosts.find((v) => v.name === "status.test")?.requests).toBeGreaterThanOrEqual(1);
  });

  test("?metrics parses as Prometheus text; vhost counters and the histogram count the requests", async () => {
    const { root, conf } = site();
    await using srv = await startTestServer(conf, { root });
    await fetch(`${srv.url}/index.html`);
    const m0 = parsePrometheus(await (await fetch(`${srv.url}/server-status?metrics`)).text());
    const key = [...m0.samples.keys()].find((k) => k.startsWith('mosaic_vhost_requests_total{vhost="status.test:'))!;
    expect(key).toBeDefined();
    for (let i = 0; i < 5; i++) await fetch(`${srv.url}/index.html`);
    const res = await fetch(`${srv.url}/server-status?metrics`);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const m1 = parsePrometheus(await res.text());
    // 5 pages and the first scrape.
    expect(m1.samples.get(key)! - m0.samples.get(key)!).toBe(6);
    expect(m1.types.get("mosaic_request_duration_seconds")).toBe("histogram");
    const buckets = [...m1.samples].filter(([k]) => k.startsWith("mosaic_request_duration_seconds_bucket"));
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]![1]).toBeGreaterThanOrEqual(buckets[i - 1]![1]);
    expect(m1.samples.get('mosaic_request_duration_seconds_bucket{le="+Inf"}')).toBe(m1.samples.get("mosaic_request_duration_seconds_count"));
    expect(m1.samples.get('mosaic_workers{state="busy"}')).toBe(1);
    expect(m1.samples.get("mosaic_accesses_total")).toBeGreaterThan(0);
    expect(m1.types.get("mosaic_accesses_total")).toBe("counter");
  });
});

/** A strict reader of the text exposition format 0.0.4: every line a comment, blank or `name{labels} value`. */
function parsePrometheus(text: string) {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  const name = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  const labels = `\\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"(?:,(?=[a-zA-Z_]))?)*\\}`;
  const sample = new RegExp(`^(${name})(${labels})? (-?(?:\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?|\\+Inf|-Inf|NaN))$`);
  expect(text.endsWith("\n")).toBe(true);
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ")) continue;
    const t = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t) {
      expect(types.has(t[1]!)).toBe(false);
      types.set(t[1]!, t[2]!);
      continue;
    }
    const m = sample.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const family = m[1]!.replace(/_(bucket|sum|count)$/, "");
    expect(types.has(m[1]!) || types.has(family)).toBe(true);
    samples.set(m[1]! + (m[2] ?? ""), Number(m[3]!.replace("+Inf", "Infinity")));
  }
  return { types, samples };
}
