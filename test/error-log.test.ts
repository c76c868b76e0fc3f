// The error log: LogLevel parsing, the default line, ErrorLogFormat, targets and the buffered writer.
process.env.TZ = "UTC";
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Request } from "../src/http/request.ts";
import type { ServerRec } from "../src/server-rec.ts";
import type { ConfigNode } from "../src/config/node.ts";
import type { DirectiveCmd } from "../src/module.ts";
import {
  configureErrorLog,
  createErrorLogConfig,
  flushLogs,
  logError,
  mergeErrorLogConfig,
  setDirLogLevelResolver,
  setStartupLog,
} from "../src/log/error-log.ts";
import type { ErrorLogConfig } from "../src/log/error-log.ts";
import { compileErrorFormat } from "../src/log/error-format.ts";
import {
  createLogLevelSpec,
  formatLogLevel,
  LEVEL_KEYWORD_ERROR,
  levelEnabled,
  mergeLogLevel,
  parseLogLevel,
} from "../src/log/levels.ts";
import type { LogLevelSpec } from "../src/log/levels.ts";
import { ctime } from "../src/log/time.ts";
import { closeAllLogWriters, openLogWriter, tokenizeCommand } from "../src/log/writer.ts";
import { errorLogDirectives } from "../modules/core/errorlog.ts";
import type { ErrorLogDir, ErrorLogServer } from "../modules/core/errorlog.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "mosaic-errlog-"));
afterAll(async () => {
  await closeAllLogWriters();
  fs.rmSync(root, { recursive: true, force: true });
});

let nextId = 0;
function fakeServer(over: Partial<ServerRec> = {}): ServerRec {
  return {
    id: nextId++, isVirtual: true, serverName: "www.example.com", port: 0, aliases: [], aliasPatterns: [],
    addrs: [], moduleConfig: [], lookupDefaults: [], sections: [], mergeCache: new Map(), file: "", line: 0,
    ...over,
  } as ServerRec;
}

const conn = { remoteAddr: "192.0.2.7", remotePort: 51972, localAddr: "127.0.0.1", localPort: 8080, keepAlives: 0, secure: false };

function req(server: ServerRec, headers: Record<string, string> = {}, c = conn): Request {
  return new Request(new globalThis.Request("http://h/x?y", { headers }), "GET", "HTTP/1.1", c, server, "/x", "y", "/x?y", "h");
}

function spec(args: string[], base?: LogLevelSpec): LogLevelSpec {
  const s = parseLogLevel(args, base);
  if (typeof s === "string") throw new Error(s);
  return s;
}

/** A server whose error log is `name` in the temp root; returns it and a reader of that file. */
function logged(name: string, cfg: Partial<ErrorLogConfig> = {}) {
  const server = fakeServer();
  configureErrorLog(server, { ...createErrorLogConfig(), errorLog: name, ...cfg }, root);
  const file = path.join(root, name);
  return {
    server,
    async read(): Promise<string> {
      await flushLogs();
      return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    },
  };
}

const TIME = String.raw`\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2}\.\d{6} \d{4}`;
const PID = String.raw`\[pid ${process.pid}:tid ${process.pid}\]`;

describe("LogLevel", () => {
  test("a bare level, module levels under their three names", () => {
    const s = spec(["info", "mod_ssl.c:debug", "rewrite_module:trace3", "authz_core:error"]);
    expect(s.level).toBe(6);
    expect([...s.modules]).toEqual([["ssl", 7], ["rewrite", 10], ["authz_core", 3]]);
    expect(formatLogLevel(s)).toBe("info ssl:debug rewrite:trace3 authz_core:error");
  });
  test("a bare level resets module levels; later lines add to earlier ones", () => {
    expect(spec(["ssl:debug", "notice"]).modules.size).toBe(0);
    const s = spec(["ssl:debug"], spec(["info"]));
    expect(formatLogLevel(s)).toBe("info ssl:debug");
  });
  test("Apache's error texts", () => {
    expect(parseLogLevel(["bogus"])).toBe(LEVEL_KEYWORD_ERROR);
    expect(LEVEL_KEYWORD_ERROR).toBe(
      "Log level keyword must be one of emerg/alert/crit/error/warn/notice/info/debug/trace1/.../trace8",
    );
    expect(parseLogLevel(["ssl:bogus"])).toBe(`ssl:bogus: ${LEVEL_KEYWORD_ERROR}`);
    expect(parseLogLevel(["ssl:"])).toBe("Module specifier 'ssl' must be followed by a log level keyword");
    expect(parseLogLevel(["nosuch:info"], undefined, (m) => m === "ssl")).toBe("Cannot find module nosuch");
  });
  test("levelEnabled and merging (ap_merge_log_config)", () => {
    const s = spec(["warn", "ssl:debug"]);
    expect(levelEnabled(s, "core", "warn")).toBe(true);
    expect(levelEnabled(s, "core", "notice")).toBe(false);
    expect(levelEnabled(s, "ssl", "debug")).toBe(true);
    expect(levelEnabled(s, "ssl", "trace1")).toBe(false);
    // A scope with module levels only keeps the outer level and overlays modules.
    expect(formatLogLevel(mergeLogLevel(s, spec(["core:info"]))!)).toBe("warn ssl:debug core:info");
    // A scope that sets a bare level drops the outer module levels.
    expect(formatLogLevel(mergeLogLevel(s, spec(["error"]))!)).toBe("error");
    expect(levelEnabled(createLogLevelSpec(), "core", "warn")).toBe(true);
    expect(levelEnabled({ level: undefined, modules: new Map() }, "core", "notice")).toBe(false);
  });
});

describe("the default line", () => {
  test("ctime with microseconds, the day zero-padded", () => {
    const us = Date.UTC(2026, 10, 2, 2, 3, 32, 763) * 1000 + 576;
    expect(ctime(us, { usec: true })).toBe("Mon Nov 02 02:03:32.763576 2026");
    expect(ctime(us, { compact: true, usec: true, zone: true })).toBe("2026-11-02 02:03:32.763576 +0000");
  });

  test("[time] [module:level] [pid:tid] [client] message, referer", async () => {
    const { server, read } = logged("default.log");
    const r = req(server, { Referer: "http://ref/\u0001" });
    logError(r, "error", "authz_core", 'AH01630: client denied by server configuration: /x "q"\n\\');
    expect(await read()).toMatch(
      new RegExp(
        String.raw`^\[${TIME}\] \[authz_core:error\] ${PID} \[client 192\.0\.2\.7:51972\] ` +
          String.raw`AH01630: client denied by server configuration: /x "q"\\n\\\\, referer: http://ref/\\x01\n$`,
      ),
    );
  });

  test("FILE(LINE) at debug, (errno)text for a system error, no client without a request", async () => {
    const { server, read } = logged("debug.log", { level: spec(["debug"]) });
    logError(server, "debug", "core", "AH00000: checking");
    let err: unknown;
    try {
      fs.openSync(path.join(root, "nodir", "f"), "r");
    } catch (e) {
      err = e;
    }
    logError(server, "error", "core", "AH00000: open failed", err);
    const lines = (await read()).split("\n");
    expect(lines[0]).toMatch(new RegExp(String.raw`^\[${TIME}\] \[core:debug\] ${PID} error-log\.test\.ts\(\d+\): AH00000: checking$`));
    expect(lines[1]).toMatch(/\[core:error\] \[pid \d+:tid \d+\] \(2\)No such file or directory: AH00000: open failed$/);
  });

  test("levels: below LogLevel is dropped, notice always written, per-module and per-directory levels", async () => {
    const { server, read } = logged("levels.log", { level: spec(["error", "proxy:info"]) });
    logError(server, "warn", "core", "AH00001: dropped");
    logError(server, "notice", "core", "AH00002: notice is kept");
    logError(server, "info", "proxy", "AH00003: module level");
    logError(server, "debug", "proxy", "AH00004: dropped");
    const r = req(server);
    setDirLogLevelResolver((rr) => (rr === r ? spec(["rewrite:trace2"]) : undefined));
    try {
      logError(r, "trace2", "rewrite", "AH00005: per-dir");
      logError(r, "warn", "core", "AH00006: server level still applies");
    } finally {
      setDirLogLevelResolver(undefined);
    }
    const text = await read();
    expect(text.match(/AH\d+: [^\n]*/g)).toEqual(["AH00002: notice is kept", "AH00003: module level", "AH00005: per-dir"]);
  });
});

describe("ErrorLogFormat", () => {
  const documented = String.raw`[%{u}t] [%-m:%l] [pid %P:tid %T] %7F: %E: [client\ %a] %M% ,\ referer\ %{Referer}i`;

  test("the documented equivalent of the default deletes empty fields", async () => {
    const { server, read } = logged("fmt1.log", { format: documented, level: spec(["debug"]) });
    logError(server, "error", "core", "AH00010: plain");
    logError(req(server, { Referer: "http://r/" }), "debug", "core", "AH00011: with request");
    const lines = (await read()).split("\n");
    expect(lines[0]).toMatch(new RegExp(String.raw`^\[${TIME}\] \[core:error\] ${PID} AH00010: plain$`));
    expect(lines[1]).toMatch(
      new RegExp(
        String.raw`^\[${TIME}\] \[core:debug\] ${PID} error-log\.test\.ts\(\d+\): ` +
          String.raw`\[client 192\.0\.2\.7:51972\] AH00011: with request, referer http://r/$`,
      ),
    );
  });

  test("%-x logs a hyphen, % separates without a blank, %{%fmt}t is strftime", async () => {
    const { server, read } = logged("fmt2.log", { format: "[%-{x}n] %{%Y}t %M% (%{x}n)" });
    const r = req(server);
    logError(r, "error", "core", "AH00020: a");
    r.notes.set("x", "note");
    logError(r, "error", "core", "AH00021: b");
    const year = new Date().getFullYear();
    expect(await read()).toBe(`[-] ${year} AH00020: a\n[note] ${year} AH00021: b(note)\n`);
  });

  test("connection and request lines come once, before the first message", async () => {
    const { server, read } = logged("fmt3.log", {
      format: "%l %M",
      connFormats: ["conn %a %{c}L"],
      reqFormats: ["req %{X-Id}i %L", "req2 %+{X-None}i"],
    });
    const c = { ...conn };
    const r1 = req(server, { "X-Id": "one" }, c);
    logError(r1, "error", "core", "AH00030: first");
    logError(r1, "error", "core", "AH00031: second");
    logError(req(server, { "X-Id": "two" }, c), "error", "core", "AH00032: next request");
    const lines = (await read()).trimEnd().split("\n");
    expect(lines.map((l) => l.replace(/ [A-Za-z0-9+/]{11}$/, " ID"))).toEqual([
      "conn 192.0.2.7:51972 ID",
      "req one ID",
      "error AH00030: first",
      "error AH00031: second",
      "req two ID",
      "error AH00032: next request",
    ]);
  });

  test("format errors read like Apache", () => {
    expect(compileErrorFormat("%Z %M", true)).toBe("Unrecognized error log format directive %Z");
    expect(compileErrorFormat("%{abc", true)).toBe("Ran off end of error log format parsing args to some directive");
    expect(compileErrorFormat("%t", true)).toBe("main ErrorLogFormat must contain message format string '%M'");
    expect(compileErrorFormat("%+t %M", true)).toBe("The '+' flag cannot be used in the main error log format");
    expect(compileErrorFormat("%16t %M", true)).toBe("The specified loglevel modifier is out of range");
    expect(compileErrorFormat("%M", false)).toBe("%M cannot be used in once-per-request or once-per-connection formats");
    expect(compileErrorFormat("%7t", false)).toBe(
      "The loglevel cannot be used as a condition in once-per-request or once-per-connection formats",
    );
  });
});

describe("directives", () => {
  function run(name: string, args: string[], server: ErrorLogServer, dir: ErrorLogDir, section?: string) {
    const def = errorLogDirectives.find((d) => d.name === name)!;
    const node: ConfigNode = { name, args, file: "t.conf", line: 1 };
    const cmd: DirectiveCmd<ErrorLogServer, ErrorLogDir> = {
      args, flag: false, node, server, dir, section, serverRec: fakeServer(),
      resolvePath: (p) => p, warn: () => {},
    };
    return def.apply(cmd);
  }

  test("ErrorLog, ErrorLogFormat and LogLevel fill core's configs", () => {
    const s: ErrorLogServer = { log: createErrorLogConfig() };
    const d: ErrorLogDir = {};
    expect(run("ErrorLog", ["logs/x.log"], s, d)).toBeUndefined();
    expect(run("ErrorLogFormat", ["%M"], s, d)).toBeUndefined();
    expect(run("ErrorLogFormat", ["connection", "c %a"], s, d)).toBeUndefined();
    expect(run("ErrorLogFormat", ["request", "r %L"], s, d)).toBeUndefined();
    expect(run("LogLevel", ["info", "ssl:debug"], s, d)).toBeUndefined();
    expect(run("LogLevel", ["rewrite:trace3"], s, d, "Directory")).toBeUndefined();
    expect(s.log).toMatchObject({ errorLog: "logs/x.log", format: "%M", connFormats: ["c %a"], reqFormats: ["r %L"] });
    expect(formatLogLevel(s.log.level)).toBe("info ssl:debug");
    expect(formatLogLevel(d.logLevel!)).toBe("rewrite:trace3");
    expect(run("ErrorLogFormat", ["sideways", "x"], s, d)).toBe("ErrorLogFormat type must be one of request, connection");
    expect(run("ErrorLogFormat", ["%t"], s, d)).toBe("main ErrorLogFormat must contain message format string '%M'");
    expect(run("LogLevel", ["loud"], s, d)).toBe(LEVEL_KEYWORD_ERROR);
  });

  test("a vhost inherits ErrorLog, formats and the level it does not set", () => {
    const main: ErrorLogConfig = { errorLog: "logs/main", format: "%M", connFormats: ["c"], level: spec(["info", "ssl:debug"]) };
    const v = mergeErrorLogConfig(main, { level: spec(["core:warn"]) });
    expect(v.errorLog).toBe("logs/main");
    expect(v.format).toBe("%M");
    expect(v.connFormats).toEqual(["c"]);
    expect(formatLogLevel(v.level)).toBe("info ssl:debug core:warn");
    expect(mergeErrorLogConfig(main, { errorLog: "logs/v", format: "v %M", level: createLogLevelSpec() })).toMatchObject({
      errorLog: "logs/v",
      format: "v %M",
      connFormats: undefined,
    });
  });
});

describe("targets", () => {
  test("a missing directory fails like Apache's AH00091", () => {
    const target = path.join(root, "nodir", "error.log");
    expect(() => configureErrorLog(fakeServer(), { ...createErrorLogConfig(), errorLog: "nodir/error.log" }, root)).toThrow(
      `(2)No such file or directory: AH00091: mosaic: could not open error log file ${target}.\nAH00015: Unable to open logs`,
    );
  });

  test("startup messages: -e level, notice always, then the main server's log", async () => {
    const file = path.join(root, "startup.log");
    setStartupLog(file, "warn");
    logError(undefined, "info", "core", "AH00040: dropped");
    logError(undefined, "notice", "core", "AH00041: kept");
    const main = fakeServer({ isVirtual: false });
    configureErrorLog(main, { ...createErrorLogConfig(), errorLog: "main.log" }, root);
    logError(undefined, "warn", "core", "AH00042: now in main");
    await flushLogs();
    expect(fs.readFileSync(file, "utf8")).toMatch(/\[core:notice\] \[pid \d+:tid \d+\] AH00041: kept\n$/);
    expect(fs.readFileSync(path.join(root, "main.log"), "utf8")).toMatch(/\[core:warn\] .* AH00042: now in main\n$/);
  });

  test("syslog goes to stderr without a timestamp; a bad facility is refused", () => {
    expect(() => configureErrorLog(fakeServer(), { ...createErrorLogConfig(), errorLog: "syslog:local7" }, root)).not.toThrow();
    expect(() => configureErrorLog(fakeServer(), { ...createErrorLogConfig(), errorLog: "syslog:nope" }, root)).toThrow(
      "AH10036: mosaic: could not open syslog error log nope.",
    );
  });

  test("piped logs: |$cmd through the shell, ||cmd without one", async () => {
    const a = path.join(root, "pipe-a.log");
    const b = path.join(root, "pipe b.log");
    expect(tokenizeCommand(`/bin/sh -c 'cat >> "${b}"'`)).toEqual(["/bin/sh", "-c", `cat >> "${b}"`]);
    const s1 = fakeServer();
    configureErrorLog(s1, { ...createErrorLogConfig(), errorLog: `|$cat >> ${a}` }, root);
    const s2 = fakeServer();
    configureErrorLog(s2, { ...createErrorLogConfig(), errorLog: `||/bin/sh -c 'cat >> "${b}"'` }, root);
    logError(s1, "error", "core", "AH00050: via shell");
    logError(s2, "error", "core", "AH00051: via argv");
    await closeAllLogWriters();
    expect(fs.readFileSync(a, "utf8")).toMatch(/\] AH00050: via shell\n$/);
    expect(fs.readFileSync(b, "utf8")).toMatch(/\] AH00051: via argv\n$/);
  });

  test("a piped logger that dies is respawned", async () => {
    const out = path.join(root, "respawn.log");
    const w = openLogWriter(`|$head -n 1 >> ${out}`);
    w.write("one\n");
    w.flush();
    await Bun.sleep(1500);
    w.write("two\n");
    w.flush();
    await Bun.sleep(300);
    await w.close();
    expect(fs.readFileSync(out, "utf8")).toBe("one\ntwo\n");
  });
});

describe("buffered writer", () => {
  test("lines wait in memory until the end of the event-loop turn", async () => {
    const file = path.join(root, "buf1.log");
    const w = openLogWriter(file);
    w.write("a\n");
    w.write("b\n");
    expect(fs.readFileSync(file, "utf8")).toBe("");
    await new Promise((r) => setImmediate(r));
    expect(fs.readFileSync(file, "utf8")).toBe("a\nb\n");
  });

  test("a full buffer is written at once; flush() writes the rest", () => {
    const file = path.join(root, "buf2.log");
    const w = openLogWriter(file);
    const line = `${"x".repeat(99)}\n`;
    for (let i = 0; i < 41; i++) w.write(line);
    expect(fs.readFileSync(file, "utf8").length).toBe(4100);
    w.write("tail\n");
    expect(fs.statSync(file).size).toBe(4100);
    w.flush();
    expect(fs.statSync(file).size).toBe(4105);
  });

  test("BufferedLogs keeps lines past the event-loop turn; one writer per path", async () => {
    const file = path.join(root, "buf3.log");
    const w = openLogWriter(file, { buffered: true });
    expect(openLogWriter(path.join(root, ".", "buf3.log"), { buffered: true })).toBe(w);
    w.write("late\n");
    await new Promise((r) => setImmediate(r));
    expect(fs.readFileSync(file, "utf8")).toBe("");
    await flushLogs();
    expect(fs.readFileSync(file, "utf8")).toBe("late\n");
  });

  test("reopen() follows a rotated file", async () => {
    const file = path.join(root, "rot.log");
    const w = openLogWriter(file);
    w.write("before\n");
    w.flush();
    fs.renameSync(file, `${file}.1`);
    w.write("after-move\n");
    w.reopen();
    w.write("after-reopen\n");
    w.flush();
    expect(fs.readFileSync(`${file}.1`, "utf8")).toBe("before\nafter-move\n");
    expect(fs.readFileSync(file, "utf8")).toBe("after-reopen\n");
  });
});
