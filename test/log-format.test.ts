// mod_log_config: every % item and modifier with exact strings, nicknames, and the module end to end.
process.env.TZ = "UTC";
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Request } from "../src/http/request.ts";
import type { ConnInfo } from "../src/http/request.ts";
import type { ServerRec } from "../src/server-rec.ts";
import type { ConfigNode } from "../src/config/node.ts";
import type { DirectiveCmd } from "../src/module.ts";
import { logError } from "../src/log/error-log.ts";
import { closeAllLogWriters, flushAllLogWriters } from "../src/log/writer.ts";
import { clfTime, strftime } from "../src/log/time.ts";
import { compileLogFormat, createLogCtx } from "../modules/log_config/format.ts";
import logConfig, { PREDEFINED_FORMATS } from "../modules/log_config/index.ts";
import type { LogConfigServer } from "../modules/log_config/index.ts";

const T = Date.UTC(2026, 10, 22, 22, 10, 40, 704);

function fakeServer(over: Partial<ServerRec> = {}): ServerRec {
  return {
    id: 0, isVirtual: false, serverName: "www.example.com", port: 0, aliases: [], aliasPatterns: [],
    addrs: [], moduleConfig: [], lookupDefaults: [], sections: [], mergeCache: new Map(), file: "", line: 0,
    ...over,
  } as ServerRec;
}

function conn(over: Partial<ConnInfo> = {}): ConnInfo {
  return { remoteAddr: "192.0.2.7", remotePort: 51972, localAddr: "127.0.0.1", localPort: 8080, keepAlives: 1, secure: false, ...over };
}

function req(init: RequestInit = {}, server = fakeServer(), c = conn()): Request {
  const r = new Request(new globalThis.Request("http://h/x?y", init), "GET", "HTTP/1.1", c, server, "/x", "y", "/x?y", "h");
  (r as { requestTime: number }).requestTime = T;
  return r;
}

function fmt(source: string, r: Request): string {
  const f = compileLogFormat(source);
  if (typeof f === "string") throw new Error(f);
  return f.render(createLogCtx(r));
}

describe("format items", () => {
  const r = req({ headers: { "User-Agent": 'curl "x"\\y', Cookie: "a=1; sid = abc ; z=" } });
  r.bytesSent = 1553;
  r.filename = "/srv/htdocs/x";
  r.handler = "lua-map-handler";
  r.user = "alice";
  r.notes.set("n1", "note value");
  r.subprocessEnv.set("FOO", "bar");
  r.headersOut.set("X-Out", "ok");
  const cases: [string, string][] = [
    ["%%", "%"],
    ["%a %{c}a %A", "192.0.2.7 192.0.2.7 127.0.0.1"],
    ["%B %b", "1553 1553"],
    ["%{sid}C %{SID}C %{z}C %{nope}C", "abc abc - -"],
    ["%{FOO}e %{NOPE}e", "bar -"],
    ["%f", "/srv/htdocs/x"],
    ["%h %{c}h", "192.0.2.7 192.0.2.7"],
    ["%H %m %q", "HTTP/1.1 GET ?y"],
    ["%{User-Agent}i", 'curl \\"x\\"\\\\y'],
    ["%{Referer}i", "-"],
    ["%k %l", "1 -"],
    ["%{n1}n %{n2}n", "note value -"],
    ["%{X-Out}o %{X-None}o", "ok -"],
    ["%p %{canonical}p %{local}p %{remote}p %{bogus}p", "80 80 8080 51972 bogus"],
    ["%r", "GET /x?y HTTP/1.1"],
    ["%R", "lua-map-handler"],
    ["%t", "[22/Nov/2026:22:10:40 +0000]"],
    ["%{begin}t|%{begin:%d/%b}t", "[22/Nov/2026:22:10:40 +0000]|22/Nov"],
    ["%{sec}t %{msec}t", `${Math.floor(T / 1000)} ${T}`],
    ["%{usec}t", `${T * 1000}`],
    ["%{msec_frac}t %{usec_frac}t", "704 704000"],
    ["%{%Y-%m-%d %H:%M:%S %z %j %a %A %B %e %I %p}t", "2026-11-22 22:10:40 +0000 326 Sun Sunday November 22 10 PM"],
    ["%u %U %v %V", "alice /x www.example.com h"],
    ["%X", "+"],
    ["%P %{pid}P", `${process.pid} ${process.pid}`],
    ["%{tid}P %{hextid}P", `${process.pid} ${process.pid.toString(16)}`],
    ["%L %{c}L", "- -"],
    ["%{Foo}^ti %{Foo}^to", "- -"],
    ["a\\tb\\nc\\\\d\\qe", "a\tb\nc\\d\\qe"],
  ];
  for (const [source, want] of cases) {
    test(source, () => expect(fmt(source, r)).toBe(`${want}\n`));
  }
});

describe("missing values and status", () => {
  test("%b is - for no body, %B is 0; %f, %R, %u are - when unset", () => {
    const r = req();
    expect(fmt("%b %B %f %R %u", r)).toBe("- 0 - - -\n");
  });
  test('an empty user is logged as ""', () => {
    const r = req();
    r.user = "";
    expect(fmt("%u", r)).toBe('""\n');
  });
  test("%q is empty without a query", () => {
    const r = req();
    r.args = "";
    expect(fmt("[%q]", r)).toBe("[]\n");
  });
  test("%s is the original status, %>s the final one, %<s forces the original", () => {
    const r = req();
    r.status = 302;
    r.originalStatus = 404;
    expect(fmt("%s %>s %<s", r)).toBe("404 302 404\n");
    r.originalStatus = 0;
    expect(fmt("%s %>s", r)).toBe("302 302\n");
  });
  test("status filters: listed statuses only, or all others with !", () => {
    const r = req({ headers: { "User-Agent": "ua" } });
    r.status = 200;
    expect(fmt("%400,501{User-agent}i|%!200,304{User-agent}i", r)).toBe("-|-\n");
    r.status = 501;
    expect(fmt("%400,501{User-agent}i|%!200,304{User-agent}i", r)).toBe("ua|ua\n");
    r.status = 304;
    expect(fmt("%400,501{User-agent}i|%!200,304{User-agent}i", r)).toBe("-|-\n");
  });
  test("%X: - when the connection will close, X when the client went away", () => {
    const ac = new AbortController();
    const r = req({ signal: ac.signal });
    r.closeConnection = true;
    expect(fmt("%X", r)).toBe("-\n");
    ac.abort();
    expect(fmt("%X", r)).toBe("X\n");
  });
  test("%p follows the ServerName port and https", () => {
    expect(fmt("%p", req({}, fakeServer({ port: 8443 })))).toBe("8443\n");
    expect(fmt("%p", req({}, fakeServer(), conn({ secure: true })))).toBe("443\n");
  });
  test("%{Content-Type}o drops parameters; %{Set-Cookie}o joins every cookie", () => {
    const r = req();
    r.contentType = "text/html; charset=utf-8";
    r.headersOut.append("Set-Cookie", "a=1");
    r.headersOut.append("Set-Cookie", "b=2");
    expect(fmt("%{Content-Type}o|%{Set-Cookie}o", r)).toBe("text/html|a=1, b=2\n");
  });
  test("%L shows the request's log id once the error log gave it one", () => {
    const r = req();
    expect(fmt("%L", r)).toBe("-\n");
    r.subprocessEnv.set("UNIQUE_ID", "awNoYGJumjbfJPFQCWI7MwAAAIE");
    expect(fmt("%L", r)).toBe("awNoYGJumjbfJPFQCWI7MwAAAIE\n");
  });
});

describe("durations and byte counts", () => {
  test("%D, %T, %{ms}T, %{us}T from the request's start; one end time per transaction", () => {
    const r = req();
    (r as { start: number }).start = performance.now() - 2500.6;
    const out = fmt("%D %T %{s}T %{ms}T %{us}T %{bogus}T", r).trim().split(" ");
    const d = Number(out[0]);
    expect(d).toBeGreaterThanOrEqual(2_500_000);
    expect(d).toBeLessThan(3_500_000);
    expect(out.slice(1, 3)).toEqual(["2", "2"]);
    expect(Number(out[3])).toBe(Math.floor(d / 1000));
    expect(Number(out[4])).toBe(d);
    expect(out[5]).toBe("bogus");
  });
  test("%{end:sec}t is the time of logging", () => {
    const before = Math.floor(Date.now() / 1000);
    const v = Number(fmt("%{end:sec}t", req()).trim());
    expect(v).toBeGreaterThanOrEqual(before);
    expect(v).toBeLessThanOrEqual(before + 1);
  });
  test("%I %O %S estimate header and body bytes", () => {
    const r = req({ headers: { "User-Agent": "t" } });
    r.headersOut = new Headers({ "Content-Length": "5" });
    r.bytesSent = 5;
    // "GET /x?y HTTP/1.1\r\n" 19 + "user-agent: t\r\n" 15 + "\r\n" 2
    // "HTTP/1.1 200 OK\r\n" 17 + "content-length: 5\r\n" 19 + Date 37 + "\r\n" 2 + body 5
    expect(fmt("%I %O %S", r)).toBe("36 80 116\n");
  });
});

describe("escaping", () => {
  test("control characters, quotes, backslashes and non-ASCII bytes", () => {
    const r = req();
    r.uri = "/caf\u00e9 \u0001\n\t\"\\";
    expect(fmt("%U", r)).toBe('/caf\\xc3\\xa9 \\x01\\n\\t\\"\\\\\n');
  });
  test("%q and %r escape too", () => {
    const r = req();
    r.args = 'a="b"';
    r.theRequest = 'GET /"x HTTP/1.1';
    expect(fmt("%q %r", r)).toBe('?a=\\"b\\" GET /\\"x HTTP/1.1\n');
  });
});

describe("compile errors", () => {
  test("unknown items and unterminated ones read like Apache", () => {
    expect(compileLogFormat("%h %Z")).toBe("Unrecognized LogFormat directive %Z");
    expect(compileLogFormat("%{abc")).toBe("Ran off end of LogFormat parsing args to some directive");
    expect(compileLogFormat("%>")).toBe("Ran off end of LogFormat parsing args to some directive");
  });
});

describe("time", () => {
  test("CLF time in a zone east of UTC, and strftime", () => {
    process.env.TZ = "Asia/Kolkata";
    try {
      const t = Date.UTC(2026, 10, 22, 22, 11, 7);
      expect(clfTime(t)).toBe("[23/Nov/2026:03:41:07 +0530]");
      expect(strftime("%c|%D|%F|%R|%T|%y|%C|%s|%%|%G-W%V|%u%w|%k|%l|%Z", new Date(t))).toBe(
        `Mon Nov 23 03:41:07 2026|11/23/26|2026-11-23|03:41|03:41:07|26|20|${t / 1000}|%|2026-W48|11| 3| 3|GMT+5:30`,
      );
    } finally {
      process.env.TZ = "UTC";
    }
  });
});

test("predefined nicknames", () => {
  const r = req({ headers: { Referer: "http://ref/", "User-Agent": "UA/1" } });
  r.bytesSent = 1553;
  const common = '192.0.2.7 - alice [22/Nov/2026:22:10:40 +0000] "GET /x?y HTTP/1.1" 200 1553';
  r.user = "alice";
  expect(fmt(PREDEFINED_FORMATS.common!, r)).toBe(`${common}\n`);
  expect(fmt(PREDEFINED_FORMATS.combined!, r)).toBe(`${common} "http://ref/" "UA/1"\n`);
  expect(fmt(PREDEFINED_FORMATS.referer!, r)).toBe("http://ref/ -> /x\n");
  expect(fmt(PREDEFINED_FORMATS.agent!, r)).toBe("UA/1\n");
});

// The module end to end: directives, postConfig, log_transaction into real files.
const root = fs.mkdtempSync(path.join(os.tmpdir(), "mosaic-logcfg-"));
afterAll(async () => {
  await closeAllLogWriters();
  fs.rmSync(root, { recursive: true, force: true });
});

function setup(main: string[][], vhost?: string[][]) {
  // The module keeps its registry index (other test files run servers in this same process).
  const idx = logConfig.index;
  const servers: ServerRec[] = [fakeServer()];
  if (vhost) servers.push(fakeServer({ id: 1, isVirtual: true, serverName: "vhost.example" }));
  const confs = servers.map(() => logConfig.createServerConfig!());
  const apply = (s: ServerRec, conf: LogConfigServer, lines: string[][]): string | void => {
    for (const [name, ...args] of lines) {
      const def = logConfig.directives!.find((d) => d.name === name)!;
      const node: ConfigNode = { name: name!, args, file: "test.conf", line: 7 };
      const cmd: DirectiveCmd<LogConfigServer, undefined> = {
        args, flag: /^on$/i.test(args[0] ?? ""), node, server: conf, dir: undefined, section: undefined,
        serverRec: s, resolvePath: (p) => p, warn: () => {},
      };
      const err = def.apply(cmd);
      if (err) return err;
    }
  };
  const err = apply(servers[0]!, confs[0]!, main) ?? (vhost ? apply(servers[1]!, confs[1]!, vhost) : undefined);
  if (err) throw new Error(err);
  servers[0]!.moduleConfig[idx] = confs[0];
  if (vhost) servers[1]!.moduleConfig[idx] = logConfig.mergeServerConfig!(confs[0]!, confs[1]!);
  logConfig.postConfig!({ servers, main: servers[0]!, serverRoot: root, warn: () => {} });
  return servers;
}

async function logAndRead(r: Request, file: string): Promise<string> {
  (logConfig.hooks!.log_transaction as (r: Request) => void)(r);
  await flushAllLogWriters();
  return fs.readFileSync(path.join(root, file), "utf8");
}

describe("module", () => {
  test("CustomLog with a nickname defined after it, env= conditions", async () => {
    const [s] = setup([
      ["CustomLog", "a.log", "short"],
      ["CustomLog", "b.log", "%m", "env=!NOLOG"],
      ["CustomLog", "c.log", "%m", "env=YES"],
      ["LogFormat", "%>s %U", "short"],
    ]);
    const r = req({}, s);
    r.subprocessEnv.set("NOLOG", "1");
    expect(await logAndRead(r, "a.log")).toBe("200 /x\n");
    expect(fs.existsSync(path.join(root, "b.log")) && fs.readFileSync(path.join(root, "b.log"), "utf8")).toBe("");
    const r2 = req({}, s);
    r2.subprocessEnv.set("YES", "1");
    expect(await logAndRead(r2, "c.log")).toBe("GET\n");
    expect(fs.readFileSync(path.join(root, "b.log"), "utf8")).toBe("GET\n");
  });

  test("TransferLog uses the LogFormat default (CLF without one); vhosts inherit main logs", async () => {
    const [main, vhost] = setup([["TransferLog", "t.log"]], [["LogFormat", "%v %U"]]);
    expect(await logAndRead(req({}, main), "t.log")).toBe('192.0.2.7 - - [22/Nov/2026:22:10:40 +0000] "GET /x?y HTTP/1.1" 200 -\n');
    expect(await logAndRead(req({}, vhost), "t.log")).toEndWith("\nvhost.example /x\n");
  });

  test("a vhost with its own log skips the main ones except GlobalLog", async () => {
    const [, vhost] = setup(
      [["CustomLog", "m.log", "main %U"], ["GlobalLog", "g.log", "global %v"]],
      [["CustomLog", "v.log", "combined"]],
    );
    const r = req({}, vhost);
    expect(await logAndRead(r, "v.log")).toStartWith('192.0.2.7 - - [22/Nov/2026:22:10:40 +0000] "GET /x?y HTTP/1.1" 200 - "-" "-"');
    expect(fs.readFileSync(path.join(root, "g.log"), "utf8")).toBe("global vhost.example\n");
    expect(fs.existsSync(path.join(root, "m.log")) ? fs.readFileSync(path.join(root, "m.log"), "utf8") : "").toBe("");
  });

  test("directive errors and a missing log directory", () => {
    expect(() => setup([["CustomLog", "x.log", "%Q"]])).toThrow("Unrecognized LogFormat directive %Q");
    expect(() => setup([["CustomLog", "x.log", "common", "env="]])).toThrow("missing environment variable name");
    expect(() => setup([["CustomLog", "x.log", "common", "foo=1"]])).toThrow("error in condition clause");
    expect(() => setup([["CustomLog", "x.log", "common", "expr="]])).toThrow("missing condition");
    expect(() => setup([["CustomLog", "x.log", "common", "expr=1 =="]])).toThrow("syntax error, unexpected $end (column 5)");
    expect(() => setup([["CustomLog", "nodir/x.log", "common"]])).toThrow(
      `(2)No such file or directory: AH02297: Cannot access directory '${root}/nodir/' for log file 'nodir/x.log' defined at test.conf:7`,
    );
  });

  test("piped CustomLog reaches the program", async () => {
    const out = path.join(root, "piped.log");
    const [s] = setup([["CustomLog", `|$cat >> ${out}`, "%U %>s"]]);
    (logConfig.hooks!.log_transaction as (r: Request) => void)(req({}, s));
    await closeAllLogWriters();
    expect(fs.readFileSync(out, "utf8")).toBe("/x 200\n");
  });

  test("a logged error gives the request a log id that %L then shows", async () => {
    const [s] = setup([["CustomLog", "id.log", "%L"]]);
    const r = req({}, s);
    logError(r, "emerg", "core", "AH00000: test");
    expect(await logAndRead(r, "id.log")).toMatch(/^[A-Za-z0-9+/]{11}\n$/);
  });
});
