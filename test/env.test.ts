// mod_env and mod_setenvif over real sockets, observed through `Header set X %{VAR}e` as in Apache tests.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rawRequest, startTestServer, tempDir, writeTree } from "./helpers.ts";
import type { TestServer } from "./helpers.ts";

const root = tempDir();
writeTree(root, { "htdocs/a.txt": "a\n", "htdocs/sub/b.txt": "b\n", "htdocs/other/c.txt": "c\n" });
process.env.MOSAIC_TEST_PASSED = "from-process";

const VARS = [
  "FOO", "BAR", "EMPTYVAL", "GONE", "SAW", "CAP", "LIT", "SIMPLE", "RX", "NC", "CS", "M", "P", "L", "SL", "RH",
  "CH", "NEG", "CURL", "CURLNC", "QS", "MISSING", "DIRV", "PASSED", "INNER", "OUTER", "LOCV",
];

const conf = String.raw`
ServerName localhost
DocumentRoot ${root}/htdocs
<Directory ${root}/htdocs>
  Require all granted
</Directory>
SetEnvIf Request_URI "^/a" FOO=fromif
SetEnv FOO fromset
SetEnv BAR
SetEnvIf Request_URI "^/a" GONE=1
UnsetEnv GONE
SetEnv VIASET x
SetEnvIf VIASET x SAW=1
SetEnvIf X-Test "^(\w+)-(\w+)$" CAP=$2/$1 LIT=\$1\&
SetEnvIf X-Test "foo" SIMPLE=$1
SetEnvIf ^X-Rx ^val RX=yes
SetEnvIfNoCase X-Case ^abc NC=1
SetEnvIf X-Case ^abc CS=1
SetEnvIf Request_Method GET M=get
SetEnvIf Request_Protocol "^HTTP/(.*)$" P=$1
SetEnvIf Remote_Addr "^127\." L
SetEnvIf Server_Addr "^127\." SL
SetEnvIf Remote_Host "^127" RH=1
SetEnvIf L 1 CH=yes
SetEnvIf Request_URI "^/" NEG=1
SetEnvIf Request_URI "^/" !NEG
BrowserMatch ^Mozilla/5 CURL=1
BrowserMatchNoCase ^mozilla CURLNC=1
SetEnvIf Request_URI "q=1" QS=1
SetEnvIf X-Missing ^$ MISSING=1
SetEnvIf Request_URI "^/a" EMPTYVAL=
PassEnv MOSAIC_TEST_PASSED
SetEnvIf MOSAIC_TEST_PASSED . PASSED=seen-by-setenvif
SetEnv OUTER outer
<Directory ${root}/htdocs/sub>
  SetEnvIf Request_URI "^/sub/(.*)$" DIRV=$1
  SetEnv INNER inner
  UnsetEnv OUTER
</Directory>
<Location /other>
  SetEnvIfNoCase User-Agent mozilla LOCV=loc
</Location>
Header always set X-Env "${VARS.map((v) => `${v}=%{${v}}e`).join(" ")}"
Header always set X-Passed "%{MOSAIC_TEST_PASSED}e"
`;

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer(conf, { root });
});
afterAll(async () => {
  await srv[Symbol.asyncDispose]();
  delete process.env.MOSAIC_TEST_PASSED;
});

async function envOf(p: string, headers: Record<string, string> = {}): Promise<Record<string, string>> {
  const res = await fetch(srv.url + p, { headers: { "User-Agent": "Mozilla/5.0 test", ...headers } });
  await res.arrayBuffer();
  const out: Record<string, string> = {};
  for (const pair of (res.headers.get("x-env") ?? "").split(" ")) {
    const eq = pair.indexOf("=");
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  out["X-Passed"] = res.headers.get("x-passed") ?? "";
  return out;
}

describe("mod_env", () => {
  test("SetEnv sets, SetEnv without a value is empty, UnsetEnv removes an earlier SetEnv", async () => {
    const e = await envOf("/b.txt");
    expect(e.FOO).toBe("fromset");
    expect(e.BAR).toBe("");
    expect(e.OUTER).toBe("outer");
  });

  test("a SetEnvIf value wins over SetEnv (fixups overlay, earlier entry found first)", async () => {
    expect((await envOf("/a.txt")).FOO).toBe("fromif");
  });

  test("UnsetEnv does not touch what SetEnvIf set", async () => {
    expect((await envOf("/a.txt")).GONE).toBe("1");
  });

  test("SetEnv runs in fixups, too late for SetEnvIf", async () => {
    expect((await envOf("/a.txt")).SAW).toBe("(null)");
  });

  test("PassEnv copies the process environment at config time; like SetEnv it arrives after SetEnvIf", async () => {
    const e = await envOf("/a.txt");
    expect(e["X-Passed"]).toBe("from-process");
    expect(e.PASSED).toBe("(null)");
  });

  test("sections: SetEnv adds, UnsetEnv removes the parent's variable", async () => {
    const e = await envOf("/sub/b.txt");
    expect(e.INNER).toBe("inner");
    expect(e.OUTER).toBe("(null)");
    expect(e.FOO).toBe("fromset");
  });

  test("warnings: PassEnv of an unset variable, '=' in a SetEnv name", async () => {
    const r = tempDir();
    delete process.env.MOSAIC_SURELY_UNSET;
    await using s = await startTestServer(`DocumentRoot ${r}\nPassEnv MOSAIC_SURELY_UNSET\nSetEnv A=b\n`, { root: r });
    const w = s.warnings.join("\n");
    expect(w).toContain("AH01506: PassEnv variable MOSAIC_SURELY_UNSET was undefined");
    expect(w).toContain("AH10032: Spurious usage of '=' in an environment variable name. 'SetEnv A b' expected instead?");
  });
});

describe("mod_setenvif", () => {
  test("request headers, captures, escapes and literal patterns", async () => {
    const e = await envOf("/a.txt", { "X-Test": "foo-bar" });
    expect(e.CAP).toBe("bar/foo");
    expect(e.LIT).toBe("$1&");
    // A pattern without metacharacters is a plain substring match: its value is not substituted.
    expect(e.SIMPLE).toBe("$1");
  });

  test("header names given as a pattern, NoCase against case-sensitive", async () => {
    const e = await envOf("/a.txt", { "X-Rxy": "value", "X-Case": "ABCd" });
    expect(e.RX).toBe("yes");
    expect(e.NC).toBe("1");
    expect(e.CS).toBe("(null)");
  });

  test("special attributes", async () => {
    const e = await envOf("/a.txt?q=1");
    expect(e.M).toBe("get");
    expect(e.P).toBe("1.1");
    expect(e.L).toBe("1");
    expect(e.SL).toBe("1");
    expect(e.RH).toBe("1");
    // Request_URI is the path, without the query string.
    expect(e.QS).toBe("(null)");
  });

  test("a variable set earlier is an attribute; !VAR unsets; VAR= sets 1; missing header is ''", async () => {
    const e = await envOf("/a.txt");
    expect(e.CH).toBe("yes");
    expect(e.NEG).toBe("(null)");
    expect(e.EMPTYVAL).toBe("1");
    expect(e.MISSING).toBe("1");
    expect((await envOf("/a.txt", { "X-Missing": "here" })).MISSING).toBe("(null)");
  });

  test("BrowserMatch and BrowserMatchNoCase test User-Agent", async () => {
    const e = await envOf("/a.txt");
    expect(e.CURL).toBe("1");
    expect(e.CURLNC).toBe("1");
    const raw = await rawRequest(srv.port, "GET /a.txt HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\nConnection: close\r\n\r\n");
    expect(raw).toContain(" CURL=(null) CURLNC=(null) ");
  });

  test("conditions in <Directory> and <Location> run in header_parser", async () => {
    expect((await envOf("/sub/b.txt")).DIRV).toBe("b.txt");
    expect((await envOf("/a.txt")).DIRV).toBe("(null)");
    expect((await envOf("/other/c.txt")).LOCV).toBe("loc");
    expect((await envOf("/a.txt")).LOCV).toBe("(null)");
  });

  test("env= conditions of Header follow SetEnvIf per request", async () => {
    const r = tempDir();
    writeTree(r, { "htdocs/x.txt": "x" });
    await using s = await startTestServer(
      `DocumentRoot ${r}/htdocs
SetEnvIfNoCase Accept json WANTS_JSON
Header set Vary Accept env=WANTS_JSON
Header set X-Plain yes env=!WANTS_JSON
`,
      { root: r },
    );
    const json = await fetch(`${s.url}/x.txt`, { headers: { Accept: "application/JSON" } });
    await json.arrayBuffer();
    expect(json.headers.get("vary")).toBe("Accept");
    expect(json.headers.get("x-plain")).toBeNull();
    const plain = await fetch(`${s.url}/x.txt`, { headers: { Accept: "text/html" } });
    await plain.arrayBuffer();
    expect(plain.headers.get("vary")).toBeNull();
    expect(plain.headers.get("x-plain")).toBe("yes");
  });
});

describe("configuration errors (Apache's wording)", () => {
  const cases: [string, string][] = [
    ["SetEnvIf", "Missing header-field name for SetEnvIf"],
    ["SetEnvIf X", "Missing regular expression for SetEnvIf"],
    ["SetEnvIf X y", "Missing envariable expression for SetEnvIf"],
    ["SetEnvIf X ( y", "SetEnvIf regex could not be compiled."],
    ["SetEnvIf ( y z", "SetEnvIfHeader name regex could not be compiled."],
    ["BrowserMatch", "Missing regular expression for BrowserMatch"],
    ["SetEnvIfExpr", "Missing expression for SetEnvIfExpr"],
    ["SetEnvIfExpr true", "Missing envariable expression for SetEnvIfExpr"],
    ["SetEnvIfExpr \"%{NOPE} == 1\" X", "Could not parse expression \"%{NOPE} == 1\": Variable 'NOPE' does not exist (column 3)"],
    ["SetEnv", "SetEnv takes one or two arguments"],
    ["UnsetEnv", "UnsetEnv requires at least one argument"],
  ];
  for (const [text, message] of cases) {
    test(text, async () => {
      const r = tempDir();
      await expect(startTestServer(`DocumentRoot ${r}\n${text}\n`, { root: r })).rejects.toThrow(message);
    });
  }
});
