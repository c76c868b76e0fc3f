// ap_expr in mod_headers, mod_setenvif and mod_log_config; mod_remoteip's peer in the logs. Over sockets.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import { loadConfig } from "../src/config/load.ts";
import { ConfigError } from "../src/config/node.ts";
import { flushLogs } from "../src/log/error-log.ts";
import { startTestServer, tempDir, writeTree } from "./helpers.ts";

/** A server over a fresh root with a few files; `@ROOT@` in the body is that root. */
async function start(body: string) {
  const root = tempDir();
  writeTree(root, {
    "htdocs/a.txt": "a\n",
    "htdocs/b.txt": "b\n",
    "htdocs/docs/intro.txt": "intro\n",
    "htdocs/sub/c.txt": "c\n",
  });
  const conf =
    `ServerName localhost\nDocumentRoot ${root}/htdocs\nErrorLog ${root}/error.log\nLogLevel warn\n` +
    `<Directory ${root}/htdocs>\nRequire all granted\n</Directory>\n${body.replaceAll("@ROOT@", root)}`;
  const srv = await startTestServer(conf, { root });
  return Object.assign(srv, {
    root,
    async get(p: string, headers: Record<string, string> = {}) {
      const res = await fetch(`${srv.url}${p}`, { headers });
      return { status: res.status, headers: res.headers, body: await res.text() };
    },
    async read(file: string): Promise<string> {
      await flushLogs();
      const f = `${root}/${file}`;
      return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "";
    },
  });
}

/** The configuration error Apache would print for `body` (line 2 of ROOT/httpd.conf), or "Syntax OK". */
function configError(body: string): string {
  const root = tempDir();
  try {
    const text = `DocumentRoot ${root}\n${body}\n`;
    loadConfig({ text, file: "httpd.conf", serverRoot: root, env: {} });
  } catch (e) {
    if (e instanceof ConfigError) return e.format().replaceAll(root, "ROOT");
    throw e;
  }
  return "Syntax OK";
}

const syntaxError = (msg: string) => `AH00526: Syntax error on line 2 of ROOT/httpd.conf:\n${msg}`;

describe("mod_headers: expr= conditions", () => {
  const conf = String.raw`
Header set X-Cond yes "expr=%{REQUEST_URI} =~ m#^/a#"
Header always set X-Dbg on "expr=req('X-Debug') == 'on'"
Header set X-Not-A yes "expr=! (%{REQUEST_URI} =~ m#^/a#)"
Header set X-Broken applied "expr=-n file('/nonexistent/mosaic')"
RequestHeader set X-In-Cond ok "expr=%{QUERY_STRING} == 'q'"
RequestHeader set X-In-Dbg on "expr=req('X-Debug') == 'on'"
Header echo ^X-In-(Cond|Dbg)$
<Location /sub>
  Header set X-Sub "in sub" "expr=%{REQUEST_METHOD} == 'GET'"
</Location>
`;

  test("a rule applies only when its condition holds", async () => {
    await using srv = await start(conf);
    const a = await srv.get("/a.txt");
    expect(a.status).toBe(200);
    expect(a.headers.get("x-cond")).toBe("yes");
    expect(a.headers.get("x-not-a")).toBeNull();
    const b = await srv.get("/b.txt");
    expect(b.headers.get("x-cond")).toBeNull();
    expect(b.headers.get("x-not-a")).toBe("yes");
    expect((await srv.get("/sub/c.txt")).headers.get("x-sub")).toBe("in sub");
  });

  test("headers a condition reads stay out of Vary (DONT_VARY); always on errors", async () => {
    await using srv = await start(conf);
    const on = await srv.get("/a.txt", { "X-Debug": "on" });
    expect(on.headers.get("x-dbg")).toBe("on");
    expect(on.headers.get("x-in-dbg")).toBe("on");
    expect(on.headers.get("vary")).toBeNull();
    expect((await srv.get("/a.txt", { "X-Debug": "off" })).headers.get("x-dbg")).toBeNull();
    const missing = await srv.get("/nope.txt", { "X-Debug": "on" });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-dbg")).toBe("on");
    expect(missing.headers.get("x-cond")).toBeNull();
  });

  test("RequestHeader conditions see the request", async () => {
    await using srv = await start(conf);
    expect((await srv.get("/a.txt?q")).headers.get("x-in-cond")).toBe("ok");
    expect((await srv.get("/a.txt?r")).headers.get("x-in-cond")).toBeNull();
  });

  test("a condition that fails to evaluate is ignored: the rule applies, errors logged", async () => {
    await using srv = await start(conf);
    expect((await srv.get("/a.txt")).headers.get("x-broken")).toBe("applied");
    const log = await srv.read("error.log");
    expect(log).toContain(`[headers:error] [pid ${process.pid}`);
    // The engine names the directive (line 13: Listen and the 7 lines start() puts first come before).
    expect(log).toContain(
      `Evaluation of expression from ${srv.root}/test.conf:13 failed: ` +
        "Cannot open file /nonexistent/mosaic\n",
    );
    expect(log).toContain(
      "AH01501: Failed to evaluate expression (-n file('/nonexistent/mosaic')) - ignoring\n",
    );
  });
});

describe("mod_headers: expr= values", () => {
  const conf = String.raw`
SetEnv WHO world
Header set X-Md5 "expr=%{md5:abc}"
Header set X-Mix "expr=%{tolower:%{HTTP_USER_AGENT}}-%{REQUEST_METHOD} %{REQUEST_URI}"
Header set X-Token "expr=%{req:X-Token}" "expr=-n %{req_novary:X-Token}"
Header set X-Lit "EXPR=%{WHO}e"
Header set X-Fail "expr=%{file:/nonexistent/mosaic}"
Header set X-Ed "hello there"
Header edit X-Ed "^(\w+)" "$1-%{WHO}e"
Header set X-Ed2 "a-b"
Header edit* X-Ed2 "-" "expr=%{REQUEST_METHOD}"
RequestHeader set X-From-Expr "expr=%{REQUEST_METHOD}:%{QUERY_STRING}"
Header echo ^X-From-Expr$
`;

  test("string expressions with functions, request headers and variables", async () => {
    await using srv = await start(conf);
    const r = await srv.get("/a.txt?x=1", { "User-Agent": "Curl/8.5", "X-Token": "t0k" });
    expect(r.status).toBe(200);
    // Observed on Apache 2.4.71: Header set X "expr=%{md5:abc}".
    expect(r.headers.get("x-md5")).toBe("900150983cd24fb0d6963f7d28e17f72");
    expect(r.headers.get("x-mix")).toBe("curl/8.5-GET /a.txt");
    expect(r.headers.get("x-token")).toBe("t0k");
    expect(r.headers.get("x-from-expr")).toBe("GET:x=1");
    expect((await srv.get("/a.txt")).headers.get("x-token")).toBeNull();
  });

  test("only a lower-case expr= prefix makes an expression (strncmp)", async () => {
    await using srv = await start(conf);
    expect((await srv.get("/a.txt")).headers.get("x-lit")).toBe("EXPR=world");
  });

  test("edit replacements take tags and expressions before $N substitution", async () => {
    await using srv = await start(conf);
    const r = await srv.get("/a.txt");
    expect(r.headers.get("x-ed")).toBe("hello-world there");
    expect(r.headers.get("x-ed2")).toBe("aGETb");
  });

  test("a value that fails to evaluate is empty (AH02557)", async () => {
    await using srv = await start(conf);
    const r = await srv.get("/a.txt");
    expect(r.status).toBe(200);
    expect(r.headers.get("x-fail")).toBe("");
    const log = await srv.read("error.log");
    expect(log).toContain(
      `Evaluation of string expression from ${srv.root}/test.conf:15 failed: ` +
        "Cannot open file /nonexistent/mosaic\n",
    );
    expect(log).toContain("AH02557: Can't evaluate value expression: %{file:/nonexistent/mosaic}\n");
  });
});

describe("SetEnvIfExpr", () => {
  const conf = String.raw`
SetEnvIfExpr "%{REQUEST_URI} =~ m#^/(\w+)/(\w+)\.txt$#" SECTION=$1 NAME=$2 HIT
SetEnvIfExpr "req('X-Mode') == 'beta'" BETA=yes
SetEnvIfExpr "true" PLAIN=[$1] LIT=\$1
SetEnvIfExpr "-n file('/nonexistent/mosaic')" FAILED=1
SetEnvIfExpr "-R '127.0.0.0/8'" LOCAL GONE=1
SetEnvIfExpr "%{REQUEST_METHOD} == 'GET'" !GONE
SetEnvIfExpr "true" BANG=1 KEEP=1
SetEnvIfExpr "true" BANG=!x
Header set X-Bang "%{BANG}e %{KEEP}e"
Header set X-Section "%{SECTION}e/%{NAME}e" env=HIT
Header set X-Beta on env=BETA
Header set X-Plain "%{PLAIN}e %{LIT}e"
Header set X-Failed yes env=FAILED
Header set X-Local yes env=LOCAL
Header set X-Gone yes env=GONE
Header set X-Late "%{LATE}e"
<Directory @ROOT@/htdocs/sub>
  SetEnvIfExpr "%{QUERY_STRING} =~ /^v=(.+)$/" LATE=$1
  SetEnvIfExpr "%{QUERY_STRING} == 'off'" !HIT
</Directory>
`;

  test("$1..$9 come from the expression's last regex match; Header env= follows", async () => {
    await using srv = await start(conf);
    const r = await srv.get("/docs/intro.txt");
    expect(r.status).toBe(200);
    expect(r.headers.get("x-section")).toBe("docs/intro");
    expect((await srv.get("/a.txt")).headers.get("x-section")).toBeNull();
  });

  test("without a regex match $N is empty; \\$ is a literal dollar", async () => {
    await using srv = await start(conf);
    expect((await srv.get("/a.txt")).headers.get("x-plain")).toBe("[] $1");
  });

  test("request headers read go into Vary (flags 0, unlike Header conditions)", async () => {
    await using srv = await start(conf);
    const beta = await srv.get("/a.txt", { "X-Mode": "beta" });
    expect(beta.headers.get("x-beta")).toBe("on");
    expect(beta.headers.get("vary")).toBe("X-Mode");
    const other = await srv.get("/a.txt", { "X-Mode": "stable" });
    expect(other.headers.get("x-beta")).toBeNull();
    expect(other.headers.get("vary")).toBe("X-Mode");
  });

  test("a failing expression is false; -R tests the client; !var removes", async () => {
    await using srv = await start(conf);
    const r = await srv.get("/a.txt");
    expect(r.headers.get("x-failed")).toBeNull();
    expect(r.headers.get("x-local")).toBe("yes");
    expect(r.headers.get("x-gone")).toBeNull();
    // Apache tests the stored value's first character: `var=!x` removes var, like `!var`.
    expect(r.headers.get("x-bang")).toBe("(null) 1");
    const log = await srv.read("error.log");
    expect(log).toContain("[setenvif:error]");
    expect(log).toContain(
      `Evaluation of expression from ${srv.root}/test.conf:13 failed: ` +
        "Cannot open file /nonexistent/mosaic\n",
    );
  });

  test("in a section it runs in header_parser with the merged config", async () => {
    await using srv = await start(conf);
    const v = await srv.get("/sub/c.txt?v=42");
    expect(v.headers.get("x-late")).toBe("42");
    expect((await srv.get("/a.txt?v=42")).headers.get("x-late")).toBe("(null)");
    expect((await srv.get("/docs/intro.txt?off")).headers.get("x-section")).toBe("docs/intro");
    // /sub/c.txt matched the server-level expression; the section's !HIT removed it again.
    expect((await srv.get("/sub/c.txt?off")).headers.get("x-section")).toBeNull();
    expect((await srv.get("/sub/c.txt")).headers.get("x-section")).toBe("sub/c");
  });
});

describe("CustomLog expr=", () => {
  const conf = String.raw`
CustomLog @ROOT@/only-a.log "%U %>s" "expr=%{REQUEST_URI} =~ m#^/a#"
CustomLog @ROOT@/errors.log "%U %>s" "expr=%{REQUEST_STATUS} -ge 400"
CustomLog @ROOT@/tagged.log "%U %{X-Log}i" "expr=req('X-Log') == 'yes'"
CustomLog @ROOT@/failing.log "%U" "expr=-n file('/nonexistent/mosaic')"
CustomLog @ROOT@/all.log "%U"
`;

  test("only matching requests are logged; the log's own headers do not reach Vary", async () => {
    await using srv = await start(conf);
    expect((await srv.get("/a.txt")).status).toBe(200);
    expect((await srv.get("/b.txt", { "X-Log": "yes" })).headers.get("vary")).toBeNull();
    expect((await srv.get("/missing.txt")).status).toBe(404);
    expect((await srv.get("/a.txt", { "X-Log": "no" })).status).toBe(200);
    expect(await srv.read("all.log")).toBe("/a.txt\n/b.txt\n/missing.txt\n/a.txt\n");
    expect(await srv.read("only-a.log")).toBe("/a.txt 200\n/a.txt 200\n");
    expect(await srv.read("errors.log")).toBe("/missing.txt 404\n");
    expect(await srv.read("tagged.log")).toBe("/b.txt yes\n");
  });

  test("a condition that fails to evaluate skips the line with AH00644", async () => {
    await using srv = await start(conf);
    expect((await srv.get("/a.txt")).status).toBe(200);
    expect(await srv.read("failing.log")).toBe("");
    const log = await srv.read("error.log");
    expect(log).toContain("[log_config:warn]");
    expect(log).toContain("AH00644: Error evaluating log condition: -n file('/nonexistent/mosaic')\n");
  });
});

describe("configuration errors: Apache's prefixes, plus the column", () => {
  const cases: [string, string][] = [
    [
      `Header set X 1 "expr=%{REQUEST_URI} =="`,
      "Can't parse envclause/expression: syntax error, unexpected $end (column 18)",
    ],
    [
      `Header always set X 1 expr=%{NOPE}`,
      "Can't parse envclause/expression: Variable 'NOPE' does not exist (column 3)",
    ],
    [
      `RequestHeader set X 1 "expr=nope('a')"`,
      "Can't parse envclause/expression: Function 'nope' does not exist (column 1)",
    ],
    [
      `Header set X "expr=%{REQUEST_URI"`,
      "Can't parse value expression : syntax error, unexpected T_ERROR, expecting T_VAR_END or ':': " +
        "Unterminated string or variable (column 14)",
    ],
    [
      `Header edit X a "expr=%{NOPE}"`,
      "Can't parse value expression : Variable 'NOPE' does not exist (column 3)",
    ],
    [
      `SetEnvIfExpr "1 ==" X`,
      `Could not parse expression "1 ==": syntax error, unexpected $end (column 5)`,
    ],
    [`SetEnvIfExpr "true"`, "Missing envariable expression for SetEnvIfExpr"],
    [`CustomLog x.log common "expr=%{NOPE}"`, "Variable 'NOPE' does not exist (column 3)"],
    [`CustomLog x.log common expr=`, "missing condition"],
  ];
  for (const [line, message] of cases) {
    test(line, () => expect(configError(line)).toBe(syntaxError(message)));
  }

  test("good expressions parse", () => {
    expect(configError(`Header set X "expr=%{md5:abc}" "expr=-n %{HTTP_HOST}"`)).toBe("Syntax OK");
    expect(configError(`SetEnvIfExpr "%{HTTP_HOST} =~ /(x)/" A=$1`)).toBe("Syntax OK");
    expect(configError(`CustomLog x.log common "expr=%{REQUEST_STATUS} == 200"`)).toBe("Syntax OK");
  });
});

describe("mod_remoteip in the access log", () => {
  const conf = String.raw`
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
CustomLog @ROOT@/rip.log "%a %{c}a %h %{c}h"
Header set X-Peer "expr=%{REMOTE_ADDR} via %{CONN_REMOTE_ADDR}"
SetEnvIfExpr "-R '203.0.113.0/24'" DOC_NET
Header set X-Doc-Net yes env=DOC_NET
`;

  test("%a/%h are the client from the header, %{c}a/%{c}h the proxy it came through", async () => {
    await using srv = await start(conf);
    const proxied = await srv.get("/a.txt", { "X-Forwarded-For": "203.0.113.9" });
    expect(proxied.status).toBe(200);
    expect(proxied.headers.get("x-peer")).toBe("203.0.113.9 via 127.0.0.1");
    expect(proxied.headers.get("x-doc-net")).toBe("yes");
    const direct = await srv.get("/a.txt");
    expect(direct.headers.get("x-peer")).toBe("127.0.0.1 via 127.0.0.1");
    expect(direct.headers.get("x-doc-net")).toBeNull();
    expect(await srv.read("rip.log")).toBe(
      "203.0.113.9 127.0.0.1 203.0.113.9 127.0.0.1\n127.0.0.1 127.0.0.1 127.0.0.1 127.0.0.1\n",
    );
  });
});
