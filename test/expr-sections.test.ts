// <If>, <ElseIf>, <Else> over real sockets: chains, nesting, merge order, Vary, configuration errors.
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../src/config/load.ts";
import { ConfigError } from "../src/config/node.ts";
import { startTestServer, tempDir, writeTree } from "./helpers.ts";

async function start(body: string) {
  const root = tempDir();
  writeTree(root, { "htdocs/a.txt": "A\n", "htdocs/sub/b.txt": "B\n", "htdocs/loc/c.txt": "C\n" });
  const conf = `ServerName localhost\nDocumentRoot ${root}/htdocs\n${body.replaceAll("@ROOT@", root)}`;
  const srv = await startTestServer(conf, { root });
  return Object.assign(srv, {
    async get(p: string, headers: Record<string, string> = {}) {
      const res = await fetch(`${srv.url}${p}`, { headers });
      await res.arrayBuffer();
      return { status: res.status, vary: res.headers.get("vary") };
    },
  });
}

function configError(body: string): string {
  const root = tempDir();
  try {
    loadConfig({ text: `DocumentRoot ${root}\n${body}`, file: "httpd.conf", serverRoot: root, env: {} });
  } catch (e) {
    if (e instanceof ConfigError) return e.format().replaceAll(root, "ROOT");
    throw e;
  }
  return "Syntax OK";
}

describe("<If> chains", () => {
  test("If / ElseIf / Else: the first true link applies, later ones do not", async () => {
    await using srv = await start(
      "<If \"%{QUERY_STRING} == 'a'\">\nRequire all denied\n</If>\n" +
        "<ElseIf \"%{QUERY_STRING} =~ /^b(\\d)$/ && $1 -gt 4\">\nRequire all denied\n</ElseIf>\n" +
        "<ElseIf \"%{QUERY_STRING} == 'c'\">\nRequire all granted\n</ElseIf>\n" +
        "<Else>\nRequire ip 10.0.0.1\n</Else>\n",
    );
    expect((await srv.get("/a.txt?a")).status).toBe(403);
    expect((await srv.get("/a.txt?b7")).status).toBe(403);
    expect((await srv.get("/a.txt?c")).status).toBe(200);
    expect((await srv.get("/a.txt?b3")).status).toBe(403);
    expect((await srv.get("/a.txt?other")).status).toBe(403);
  });

  test("If inside Directory and Location, nested If, and merge after Location", async () => {
    await using srv = await start(
      "<Directory @ROOT@/htdocs/sub>\n<If \"-n req('X-Deny')\">\nRequire all denied\n</If>\n</Directory>\n" +
        "<Location /loc>\nRequire all denied\n<If \"req('X-Key') == 'k'\">\nRequire all granted\n" +
        "<If \"req('X-Deny') == 'yes'\">\nRequire all denied\n</If>\n</If>\n</Location>\n" +
        // <If> merges after <Location>: a top-level If overrides the Location's rule.
        "<Location /a.txt>\nRequire all denied\n</Location>\n<If \"%{REQUEST_URI} == '/a.txt' && %{QUERY_STRING} == 'open'\">\nRequire all granted\n</If>\n",
    );
    expect((await srv.get("/sub/b.txt")).status).toBe(200);
    expect((await srv.get("/sub/b.txt", { "x-deny": "1" })).status).toBe(403);
    expect((await srv.get("/loc/c.txt")).status).toBe(403);
    expect((await srv.get("/loc/c.txt", { "x-key": "k" })).status).toBe(200);
    expect((await srv.get("/loc/c.txt", { "x-key": "k", "x-deny": "yes" })).status).toBe(403);
    expect((await srv.get("/a.txt")).status).toBe(403);
    expect((await srv.get("/a.txt?open")).status).toBe(200);
  });

  test("headers a condition read are listed in Vary (not Host)", async () => {
    await using srv = await start("<If \"req('X-Lang') == 'fr' || %{HTTP_HOST} == 'x' || %{HTTP_USER_AGENT} =~ /bot/\">\n</If>\n");
    expect((await srv.get("/a.txt", { "x-lang": "de", "user-agent": "ua" })).vary).toBe("X-Lang,User-Agent");
    // Short-circuit: the second and third tests did not run, so only X-Lang counts.
    expect((await srv.get("/a.txt", { "x-lang": "fr" })).vary).toBe("X-Lang");
  });
});

describe("configuration errors", () => {
  test("syntax errors carry file, line and column", () => {
    expect(configError("<If \"%{QUERY_STRING} == \">\n</If>\n")).toBe(
      "AH00526: Syntax error on line 2 of ROOT/httpd.conf:\nCannot parse condition clause: syntax error, unexpected $end (column 20)",
    );
    expect(configError("<Directory />\n<If \"%{NOPE}\">\n</If>\n</Directory>\n")).toBe(
      "AH00526: Syntax error on line 3 of ROOT/httpd.conf:\nCannot parse condition clause: Variable 'NOPE' does not exist (column 3)",
    );
    expect(configError("<Else>\n</Else>\n")).toBe(
      "AH00526: Syntax error on line 2 of ROOT/httpd.conf:\n<Else> or <ElseIf> section without previous <If> or <ElseIf> section in same scope",
    );
    expect(configError("<If \"true\">\n</If>\n<ElseIf \"'a' =~ /(/\">\n</ElseIf>\n")).toBe(
      "AH00526: Syntax error on line 4 of ROOT/httpd.conf:\nCannot parse condition clause: Failed to compile regular expression (column 8)",
    );
    expect(configError("<If \"true\">\n</If>\n<Else>\n</Else>\n")).toBe("Syntax OK");
  });
});
