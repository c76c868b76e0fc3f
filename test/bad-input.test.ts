// Bad input over raw TCP: every request of apache-samples/malformed-requests.txt, path escapes, limits.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import net from "node:net";
import { flushLogs } from "../src/log/error-log.ts";
import { startTestServer, statusOf, tempDir, writeTree } from "./helpers.ts";
import type { TestServer } from "./helpers.ts";

const H = "Host: localhost\r\n";
const REQ = (line: string, more = "") => `${line}\r\n${H}${more}\r\n`;
const GET = (target: string, more = "") => REQ(`GET ${target} HTTP/1.1`, more);
const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-F${i}: v\r\n`).join("");
const FIELD_400 = "understand.<br />\nSize of a request header field exceeds server limit.";

const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";

/** One raw exchange: what came back, and whether the server closed the connection. */
interface Exchange {
  raw: string;
  /** An interim `100 Continue` sent before the response (Bun answers Expect: 100-continue itself). */
  continued: boolean;
  status: number;
  headers: Headers;
  body: string;
  closed: boolean;
}

/**
 * Sends `data` on a new connection and reads one response. Once it is complete (Content-Length
 * bytes, or the end of headers for Bun's bodiless refusals), waits for the close it announced, or
 * `settleMs` to see that it stays open; a connection that never answers is reported when it closes
 * (or after 2 s).
 */
function exchange(port: number, data: string, settleMs = 150): Promise<Exchange> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let settled: ReturnType<typeof setTimeout> | undefined;
    const sock = net.connect(port, "127.0.0.1", () => sock.write(Buffer.from(data, "latin1")));
    const finish = (closed: boolean) => {
      clearTimeout(settled);
      clearTimeout(deadline);
      sock.destroy();
      let raw = buf.toString("latin1");
      const continued = raw.startsWith(CONTINUE);
      if (continued) raw = raw.slice(CONTINUE.length);
      const end = raw.indexOf("\r\n\r\n");
      const headers = new Headers();
      for (const line of raw.slice(0, end < 0 ? raw.length : end).split("\r\n").slice(1)) {
        const c = line.indexOf(":");
        if (c > 0) headers.append(line.slice(0, c), line.slice(c + 1).trim());
      }
      resolve({ raw, continued, status: statusOf(raw), headers, body: end < 0 ? "" : raw.slice(end + 4), closed });
    };
    const deadline = setTimeout(() => finish(false), 2000);
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      let raw = buf.toString("latin1");
      if (raw.startsWith(CONTINUE)) raw = raw.slice(CONTINUE.length);
      const end = raw.indexOf("\r\n\r\n");
      if (end < 0 || settled) return;
      const head = raw.slice(0, end);
      const len = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (len && raw.length - end - 4 < Number(len[1])) return;
      // An announced close is awaited (up to the deadline); otherwise a short wait shows it stays open.
      if (/\r\nconnection: *close/i.test(head)) return;
      settled = setTimeout(() => finish(false), settleMs);
    });
    sock.on("close", () => finish(true));
    sock.on("error", () => {});
  });
}

/** The server survives: a normal request on a new connection still gets 200. */
async function expectSurvives(port: number): Promise<void> {
  const x = await exchange(port, GET("/index.html", "Connection: close\r\n"), 0);
  expect(x.status).toBe(200);
  expect(x.body).toBe("hello\n");
}

interface Case {
  name: string;
  req: string;
  /** What mosaic answers (0: the connection is dropped without an answer). */
  status: number;
  /** Connection: close and a closed socket, or neither. */
  close: boolean;
  /** Who answers: our code (with a Server header) or Bun.serve before it (without). */
  by: "mosaic" | "bun";
  /** What Apache 2.4.71 answers (malformed-requests.txt), for the test name. */
  apache: string;
  headers?: Record<string, string | null>;
  body?: string;
}

type Row = [string, string, number, boolean, "mosaic" | "bun", string, Record<string, string | null>?, string?];
const row = ([name, req, status, close, by, apache, headers, body]: Row): Case => ({ name, req, status, close, by, apache, headers, body });

const BAD = "<p>Your browser sent a request that this server could not understand.<br />";
/** apache-samples/malformed-requests.txt in order, then the smuggling and encoding extras. */
const MALFORMED: Case[] = ([
  ["garbage line", "GARBAGE\r\n\r\n", 400, true, "bun", "400 close"],
  ["HTTP/1.1 no Host", "GET /index.html HTTP/1.1\r\n\r\n", 400, true, "bun", "400 close"],
  ["HTTP/1.0 no Host", "GET /index.html HTTP/1.0\r\n\r\n", 200, true, "mosaic", "200 close", {}, "hello\n"],
  ["HTTP/0.9", "GET /index.html\r\n", 505, true, "bun", "body only"],
  ["HTTP/1.2", REQ("GET /index.html HTTP/1.2"), 505, true, "bun", "200"],
  ["HTTP/2.0 text", REQ("GET /index.html HTTP/2.0"), 505, true, "bun", "200"],
  ["HTTP/3.0", REQ("GET /index.html HTTP/3.0"), 505, true, "bun", "200"],
  ["lowercase proto", REQ("GET /index.html http/1.1"), 505, true, "bun", "400 close"],
  ["lowercase method", GET("/index.html").replace("GET", "get"), 0, true, "bun", "501 close"],
  ["unknown method FOO", GET("/index.html").replace("GET", "FOO"), 0, true, "bun", "501 close"],
  ["TRACE", REQ("TRACE /index.html HTTP/1.1"), 405, false, "mosaic", "405, empty Allow", { allow: "" }, "The requested method TRACE is not allowed"],
  ["OPTIONS *", REQ("OPTIONS * HTTP/1.1"), 400, true, "bun", "200"],
  ["field 8191", GET("/index.html", `X-Big: ${"a".repeat(8184)}\r\n`), 200, false, "mosaic", "200"],
  ["field 8192", GET("/index.html", `X-Big: ${"a".repeat(8185)}\r\n`), 400, true, "mosaic", "400 close", {}, FIELD_400],
  ["100 fields", GET("/index.html", fields(99)), 200, false, "mosaic", "200"],
  ["101 fields", GET("/index.html", fields(100)), 400, true, "mosaic", "400 close"],
  ["dotdot", GET("/../../etc/passwd"), 404, false, "mosaic", "400 close"],
  ["dotdot inside", GET("/sub/../index.html"), 200, false, "mosaic", "200", {}, "hello\n"],
  ["encoded dotdot", GET("/sub/%2e%2e/index.html"), 200, false, "mosaic", "200", {}, "hello\n"],
  ["encoded slash", GET("/sub%2findex.html"), 404, false, "mosaic", "404"],
  ["plain slash", GET("/sub/index.html"), 200, false, "mosaic", "200", {}, "sub\n"],
  ["encoded NUL", GET("/index.html%00.txt"), 404, false, "mosaic", "404"],
  ["raw NUL in URI", GET("/ind\0ex.html"), 505, true, "bun", "400 close"],
  ["raw NUL in header", GET("/index.html", "X-A: a\0b\r\n"), 400, true, "bun", "400 close"],
  ["space in URI", GET("/ind ex.html"), 505, true, "bun", "400 close"],
  ["space before colon", GET("/index.html", "X-A : b\r\n"), 400, true, "bun", "400 close"],
  ["obs-fold", GET("/index.html", "X-A: a\r\n  b\r\n"), 400, true, "bun", "200"],
  ["bad Host chars", "GET /index.html HTTP/1.1\r\nHost: a b\r\n\r\n", 400, true, "mosaic", "400 close", {}, BAD],
  ["Host with underscore", "GET /index.html HTTP/1.1\r\nHost: a_b\r\n\r\n", 200, false, "mosaic", "200"],
  ["two Host headers", "GET /index.html HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, true, "mosaic", "400 close"],
  ["absolute URI", GET("http://other.example/index.html"), 200, false, "mosaic", "200", {}, "hello\n"],
  ["bare LF", "GET /index.html HTTP/1.1\nHost: localhost\n\n", 505, true, "bun", "400 close"],
  ["CL+TE", REQ("POST /index.html HTTP/1.1", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n", 400, true, "bun", "200 close"],
  ["bad CL", REQ("POST /index.html HTTP/1.1", "Content-Length: abc\r\n"), 400, true, "bun", "400 close"],
  ["TE gzip", REQ("POST /index.html HTTP/1.1", "Transfer-Encoding: gzip\r\n"), 400, true, "bun", "400 close"],
  ["Expect bogus", GET("/index.html", "Expect: bogus\r\n"), 417, true, "mosaic", "417, then closes"],
  ["no leading slash", GET("index.html"), 400, true, "bun", "400 close"],
  ["fragment", GET("/index.html#frag"), 400, true, "mosaic", "400 close", {}, BAD],
  ["extra spaces", REQ("GET  /index.html  HTTP/1.1"), 400, true, "bun", "400 close"],
  ["CONNECT", REQ("CONNECT localhost:80 HTTP/1.1"), 405, false, "mosaic", "405", { allow: "OPTIONS,HEAD,GET,POST" }],
  ["ctrl char in header value", GET("/index.html", "X-A: a\x01b\r\n"), 400, true, "bun", "400 close"],
  ["header no colon", GET("/index.html", "NoColon\r\n"), 400, true, "bun", "400 close"],
  ["empty header name", GET("/index.html", ": v\r\n"), 400, true, "bun", "400 close"],
  // Beyond the sample file: smuggling, encodings and Bun's own limits.
  ["two different Content-Lengths", REQ("POST /index.html HTTP/1.1", "Content-Length: 1\r\nContent-Length: 2\r\n") + "ab", 400, true, "bun", "400 close"],
  ["two equal Content-Lengths", REQ("POST /index.html HTTP/1.1", "Content-Length: 2\r\nContent-Length: 2\r\n") + "ab", 400, true, "mosaic", "400 close"],
  ["TE gzip, chunked", REQ("POST /index.html HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n") + "0\r\n\r\n", 400, true, "bun", "400 close"],
  ["bad %-escape", GET("/%zz"), 400, true, "mosaic", "400 close"],
  ["path component too long", GET(`/${"n".repeat(300)}`), 403, false, "mosaic", "403"],
  ["17 KB header", GET("/index.html", `X-Big: ${"a".repeat(17000)}\r\n`), 431, true, "bun", "400 close"],
  ["199 header lines", GET("/index.html", fields(198)), 431, true, "bun", "400 close"],
  ["17 KB request line", GET(`/index.html?${"a".repeat(17000)}`), 431, true, "bun", "414 close"],
] as Row[]).map(row);

const root = tempDir();
writeTree(root, {
  "htdocs/index.html": "hello\n",
  "htdocs/sub/index.html": "sub\n",
  "htdocs/sub/.htgroup": "admins: alice\n",
  "htdocs/.htaccess": "Require all granted\n",
  "htdocs/.htpasswd": "alice:$apr1$secret\n",
  "htdocs/small/f.txt": "small\n",
  "htdocs/follow/.keep": "",
  "private/secret.txt": "TOPSECRET\n",
  "secret.txt": "TOPSECRET\n",
});
// Symbolic links out of the document root, and one inside it where FollowSymLinks is on.
fs.symlinkSync(path.join(root, "secret.txt"), path.join(root, "htdocs/escape.txt"));
fs.symlinkSync(path.join(root, "private"), path.join(root, "htdocs/escdir"));
fs.symlinkSync(path.join(root, "htdocs/index.html"), path.join(root, "htdocs/follow/inside.html"));
fs.symlinkSync(path.join(root, "htdocs/index.html"), path.join(root, "htdocs/sub/link.html"));
const accessLog = path.join(root, "logs/access_log");
const errorLog = path.join(root, "logs/error_log");

/** Apache's upstream defaults that matter here: deny /, grant the root, hide .ht*, TraceEnable Off. */
const conf = String.raw`
ServerName localhost
DocumentRoot ${root}/htdocs
ErrorLog ${errorLog}
LogLevel info core:debug
TraceEnable Off
LogFormat "%h %l %u %t \"%r\" %>s %b" common
CustomLog ${accessLog} common
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory ${root}/htdocs>
  Options None
  Require all granted
</Directory>
<Directory ${root}/htdocs/follow>
  Options FollowSymLinks
</Directory>
<Files ".ht*">
  Require all denied
</Files>
<Location /small>
  LimitRequestBody 10
</Location>
`;

/** Small limits, decoded slashes and a server-wide body limit on a second server. */
const limitsConf = String.raw`
ServerName localhost
DocumentRoot ${root}/htdocs
ErrorLog ${root}/logs/error_log2
LimitRequestLine 100
LimitRequestFieldSize 100
LimitRequestFields 5
LimitRequestBody 10
AllowEncodedSlashes On
<Directory ${root}/htdocs>
  Require all granted
</Directory>
`;

let srv: TestServer;
let lim: TestServer;
beforeAll(async () => {
  srv = await startTestServer(conf, { root });
  lim = await startTestServer(limitsConf, { root });
});
afterAll(async () => {
  await srv[Symbol.asyncDispose]();
  await lim[Symbol.asyncDispose]();
});

async function check(port: number, c: Case): Promise<void> {
  const x = await exchange(port, c.req);
  expect(x.status).toBe(c.status);
  if (c.status === 0) {
    // Dropped without an answer: nothing was written and the socket closed.
    expect(x.raw).toBe("");
    expect(x.closed).toBe(true);
  } else {
    expect(x.closed).toBe(c.close);
    expect(x.headers.get("connection")).toBe(c.close ? "close" : null);
    // A Server header means our code answered; Bun's own refusals carry only Connection: close.
    expect(x.headers.has("server")).toBe(c.by === "mosaic");
  }
  for (const [k, v] of Object.entries(c.headers ?? {})) expect(x.headers.get(k)).toBe(v);
  if (c.body !== undefined) expect(x.body).toContain(c.body);
  await expectSurvives(port);
}

describe("malformed-requests.txt, one by one", () => {
  for (const c of MALFORMED) {
    test(`${c.name} → ${c.status || "dropped"} (Apache: ${c.apache})`, () => check(srv.port, c));
  }
});

test("Expect: 100-continue: Bun sends 100 Continue before reading anything (Apache: only on a body read)", async () => {
  const x = await exchange(srv.port, GET("/index.html", "Expect: 100-continue\r\n"));
  expect(x.continued).toBe(true);
  expect(x.status).toBe(200);
  expect(x.body).toBe("hello\n");
});

describe("limits", () => {
  const m = (req: string, status: number, body?: string): Case =>
    ({ name: "", req, status, close: status >= 400, by: "mosaic", apache: "", body });
  const q = (n: number) => `GET /index.html?${"a".repeat(n - 25)} HTTP/1.1`;
  const field = (n: number) => `X-Big: ${"b".repeat(n - 7)}\r\n`;

  test("request line: 8191 characters pass, 8192 get 414 + close", async () => {
    expect(q(8191).length).toBe(8191);
    await check(srv.port, m(REQ(q(8191)), 200));
    const body = "<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n</p>";
    await check(srv.port, m(REQ(q(8192)), 414, body));
  });

  test("LimitRequestLine 100: 101 characters pass, 102 get 414", async () => {
    await check(lim.port, m(REQ(q(101)), 200));
    await check(lim.port, m(REQ(q(102)), 414));
  });

  test("LimitRequestFieldSize 100: a 101-character line passes, 102 gets 400 with Apache's text", async () => {
    await check(lim.port, m(GET("/index.html", field(101)), 200));
    await check(lim.port, m(GET("/index.html", field(102)), 400, FIELD_400));
  });

  test("LimitRequestFields 5: five fields pass, six get 400", async () => {
    await check(lim.port, m(GET("/index.html", fields(4)), 200));
    const body = "understand.<br />\nThe number of request header fields exceeds this server's limit.";
    await check(lim.port, m(GET("/index.html", fields(5)), 400, body));
  });

  const post = (p: string, body: string) => REQ(`POST ${p} HTTP/1.1`, `Content-Length: ${body.length}\r\n`) + body;
  const chunked = (p: string, parts: string[]) =>
    REQ(`POST ${p} HTTP/1.1`, "Transfer-Encoding: chunked\r\n") +
    parts.map((s) => `${s.length.toString(16)}\r\n${s}\r\n`).join("") +
    "0\r\n\r\n";

  test("<Location> LimitRequestBody 10: 413 + close over it, Content-Length or chunked", async () => {
    await check(srv.port, m(post("/small/f.txt", "hello world"), 413));
    await check(srv.port, m(chunked("/small/f.txt", ["hello ", "world"]), 413));
    // Apache discards the body through the limit before anything else: even a 404 becomes 413.
    await check(srv.port, m(post("/small/missing", "hello world"), 413));
    await check(srv.port, m(post("/small/f.txt", "hello"), 200, "small\n"));
    await check(srv.port, m(chunked("/small/f.txt", ["hel", "lo"]), 200, "small\n"));
    await check(srv.port, m(post("/index.html", "hello world"), 200, "hello\n"));
  });

  test("server-wide LimitRequestBody 10", async () => {
    await check(lim.port, m(post("/index.html", "hello world"), 413));
    await check(lim.port, m(chunked("/index.html", ["hello ", "world"]), 413));
    await check(lim.port, m(post("/index.html", "0123456789"), 200, "hello\n"));
  });
});

describe("nothing outside DocumentRoot is served", () => {
  const cases: [string, number][] = [
    // Bun resolves dot-segments (also %2e%2e) before our code sees the URL: they stay inside.
    ["/../secret.txt", 404],
    ["/../../../../etc/passwd", 404],
    ["/%2e%2e/secret.txt", 404],
    ["/.%2e/%2E./secret.txt", 404],
    ["/sub/..\\..\\secret.txt", 404],
    // %2f is refused before decoding (AllowEncodedSlashes Off), as Apache does.
    ["/sub/..%2f..%2fsecret.txt", 404],
    ["/%2e%2e%2fsecret.txt", 404],
    ["/index.html%00/../../secret.txt", 404],
    // Symbolic links are refused without FollowSymLinks (AH00037), whatever their target.
    ["/escape.txt", 403],
    ["/escdir/secret.txt", 403],
    ["/sub/link.html", 403],
  ];
  for (const [p, status] of cases) {
    test(`${p} → ${status}`, async () => {
      const x = await exchange(srv.port, `GET ${p} HTTP/1.1\r\n${H}\r\n`);
      expect(x.status).toBe(status);
      expect(x.body).not.toContain("TOPSECRET");
    });
  }

  test("a link inside the root is followed where Options FollowSymLinks is on", async () => {
    const x = await exchange(srv.port, `GET /follow/inside.html HTTP/1.1\r\n${H}\r\n`);
    expect(x.status).toBe(200);
    expect(x.body).toBe("hello\n");
  });

  test("with AllowEncodedSlashes On, ..%2f is decoded and climbing above the root is a 400", async () => {
    const x = await exchange(lim.port, `GET /sub/..%2f..%2fsecret.txt HTTP/1.1\r\n${H}\r\n`);
    expect(x.status).toBe(400);
    expect(x.closed).toBe(true);
    expect(x.body).not.toContain("TOPSECRET");
    const y = await exchange(lim.port, `GET /sub%2findex.html HTTP/1.1\r\n${H}\r\n`);
    expect(y.status).toBe(200);
    expect(y.body).toBe("sub\n");
  });
});

describe(".ht* files under <Files \".ht*\"> Require all denied", () => {
  for (const p of ["/.htaccess", "/.htpasswd", "/sub/.htgroup", "/%2ehtpasswd", "/sub/../.htpasswd"]) {
    test(`${p} → 403`, async () => {
      const x = await exchange(srv.port, `GET ${p} HTTP/1.1\r\n${H}\r\n`);
      expect(x.status).toBe(403);
      expect(x.body).toContain("<p>You don't have permission to access this resource.</p>");
      expect(x.body).not.toContain("alice");
    });
  }
});

describe("logging", () => {
  test("400s our code produced are in the access log; Bun's own refusals are not", async () => {
    await flushLogs();
    const lines = fs.readFileSync(accessLog, "utf8").split("\n");
    const has = (re: RegExp) => lines.some((l) => re.test(l));
    expect(has(/"GET \/index\.html#frag HTTP\/1\.1" 400 \d+$/)).toBe(true);
    expect(has(/"GET \/index\.html HTTP\/1\.1" 400 \d+$/)).toBe(true);
    expect(has(/"GET \/index\.html\?a+ HTTP\/1\.1" 414 \d+$/)).toBe(true);
    expect(has(/"GET \/index\.html HTTP\/1\.1" 417 \d+$/)).toBe(true);
    expect(has(/"POST \/index\.html HTTP\/1\.1" 400 \d+$/)).toBe(true);
    expect(has(/"TRACE \/index\.html HTTP\/1\.1" 405 \d+$/)).toBe(true);
    expect(has(/"CONNECT localhost:80 HTTP\/1\.1" 405 \d+$/)).toBe(true);
    expect(has(/"POST \/small\/f\.txt HTTP\/1\.1" 413 \d+$/)).toBe(true);
    // GARBAGE never reached a handler: Bun answered it.
    expect(has(/GARBAGE/)).toBe(false);
  });

  test("the error log has Apache's message ids", async () => {
    await flushLogs();
    const log = fs.readFileSync(errorLog, "utf8");
    for (const id of [
      "[core:debug]", "AH02421: URI must not contain a fragment",
      "AH00550: Client sent malformed Host header: a b",
      "AH00561: Request header exceeds LimitRequestFieldSize: x-big",
      "AH00563: Number of request headers exceeds LimitRequestFields",
      "AH00565: request failed: client's request-line exceeds LimitRequestLine (longer than 8190)",
      "AH00570: client sent an unrecognized expectation value of Expect: bogus",
      "AH00026: found %2f (encoded '/') in URI path (/sub%2findex.html), returning 404",
      "AH10244: invalid URI path (/%zz)",
      "AH10242: client sent invalid Content-Length (2, 2)",
      "AH01588: Requested content-length of 11 is larger than the configured limit of 10",
      "AH01591: Read content length of 11 is larger than the configured limit of 10",
      "AH00037: Symbolic link not allowed or link target not accessible",
      "AH01630: client denied by server configuration",
    ]) {
      expect(log).toContain(id);
    }
  });
});
