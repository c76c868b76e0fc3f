// The command line from source (`bun src/main.ts`): httpd's flags, their output and exit codes, `convert`.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { tempDir, writeTree } from "./helpers.ts";

const MAIN = path.resolve(import.meta.dir, "../src/main.ts");
const SITE = path.join(import.meta.dir, "fixtures/site");
const SITE_ENV = { SITE_ROOT: SITE, SITE_PORT: "18080" };

/** Runs `bun src/main.ts ...args` to completion in `cwd` (a fresh temp dir by default). */
function mosaic(args: string[], env: Record<string, string> = {}, cwd = tempDir()) {
  const p = Bun.spawnSync([process.execPath, MAIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

/** A temp ServerRoot holding `files`; returns its path. */
function root(files: Record<string, string>): string {
  const dir = tempDir();
  writeTree(dir, files);
  return dir;
}

describe("information flags", () => {
  test("-v: version and build time, as httpd -v", () => {
    const r = mosaic(["-v"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Server version: mosaic\/0\.1\.0 \(Linux\)\nServer built: {3}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\n$/);
  });

  test("-V: compile settings with the MPM", () => {
    const r = mosaic(["-V"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("Server version: mosaic/0.1.0 (Linux)\nServer built:   ");
    expect(r.stdout).toContain("\nArchitecture:   64-bit\nServer MPM:     event\n");
    expect(r.stdout).toContain("\nServer compiled with....\n -D ");
  });

  test("-h: httpd's usage text on stderr", () => {
    const r = mosaic(["-h"]);
    expect(r.stdout).toBe("");
    expect(r.stderr).toStartWith(
      "Usage: mosaic [-D name] [-d directory] [-f file]\n" +
        "              [-C \"directive\"] [-c \"directive\"]\n" +
        "              [-k start|restart|graceful|graceful-stop|stop]\n" +
        "              [-v] [-V] [-h] [-l] [-L] [-t] [-T] [-S] [-X]\n",
    );
    for (const line of [
      "  -D name            : define a name for use in <IfDefine name> directives\n",
      "  -S                 : a synonym for -t -D DUMP_VHOSTS -D DUMP_RUN_CFG\n",
      "  -t -D DUMP_MODULES : show all loaded modules \n",
      "  -X                 : debug mode (only one worker, do not detach)\n",
    ]) {
      expect(r.stderr).toContain(line);
    }
  });

  test("an unknown flag prints the usage and exits 1", () => {
    const r = mosaic(["-Z"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Usage: mosaic [-D name]");
  });

  test("-l: compiled-in modules", () => {
    const r = mosaic(["-l"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("Compiled in modules:\n  ");
  });

  test("-L: every directive with its module, help and where it may appear", () => {
    const r = mosaic(["-L"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "\nRedirect (mod_alias.c)\n\tan optional status, then document to be redirected and destination URL\n\tAllowed in *.conf anywhere\n",
    );
    expect(r.stdout).toContain(
      "\nAliasMatch (mod_alias.c)\n\ta regular expression and a filename\n\tAllowed in *.conf only outside <Directory>, <Files>, <Location>, or <If>\n",
    );
    // Three lines per directive, the first unindented.
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.length % 3).toBe(0);
    for (let i = 0; i < lines.length; i += 3) {
      expect(lines[i]).toMatch(/^<?\w+ \(\w+\.c\)$/);
      expect(lines[i + 1]).toStartWith("\t");
      expect(lines[i + 2]).toStartWith("\tAllowed in *.conf ");
    }
  });
});

describe("-t and configuration errors", () => {
  const conf = path.join(SITE, "httpd.conf");

  test("a good configuration: Syntax OK on stderr, exit 0", () => {
    expect(mosaic(["-t", "-f", conf], SITE_ENV)).toEqual({ code: 0, stdout: "", stderr: "Syntax OK\n" });
    expect(mosaic(["-t", "-f", path.join(SITE, "site.yaml")], SITE_ENV)).toEqual({ code: 0, stdout: "", stderr: "Syntax OK\n" });
  });

  const errors: [string, string, number, string][] = [
    ["unknown directive", "ServerName x\nFrobnicate on\n", 2, "Invalid command 'Frobnicate', perhaps misspelled or defined by a module not included in the server configuration"],
    ["wrong argument count", "ServerName x\nDocumentRoot\n", 2, "DocumentRoot takes one argument, Root directory of the document tree"],
    ["directive out of context", "<Directory /tmp>\n  Listen 80\n</Directory>\n", 2, "Listen not allowed in <Directory> context"],
    ["unclosed section", "ServerName x\n<Directory /tmp>\nRequire all granted\n", 2, "<Directory> was not closed."],
    ["mismatched section", "<Directory /tmp>\nRequire all granted\n</Location>\n", 3, "Expected </Directory> but saw </Location>"],
    ["unknown module", "LoadModule foo_module modules/mod_foo.so\n", 1, "Cannot load modules/mod_foo.so into server: mosaic has no bundled module foo_module"],
    ["bad Options", "<Directory /srv>\n  Options +Bogus\n</Directory>\n", 2, "Illegal option Bogus"],
  ];
  for (const [name, text, line, message] of errors) {
    test(`${name}: AH00526 with file and line, exit 1`, () => {
      const dir = root({ "bad.conf": text });
      const r = mosaic(["-t", "-f", path.join(dir, "bad.conf")]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toStartWith(`AH00526: Syntax error on line ${line} of ${dir}/bad.conf:\n`);
      expect(r.stderr).toContain(message);
    });
  }

  test("an error in an included file names that file", () => {
    const dir = root({ "main.conf": "ServerName x\nInclude conf.d/*.conf\n", "conf.d/a.conf": "\n\nNoSuchThing 1\n" });
    const r = mosaic(["-t", "-d", dir, "-f", "main.conf"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith(`AH00526: Syntax error on line 3 of ${dir}/conf.d/a.conf:\nInvalid command 'NoSuchThing'`);
  });

  test("a missing configuration file: exit 1", () => {
    const r = mosaic(["-t", "-f", "/nonexistent/httpd.conf"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Could not open configuration file /nonexistent/httpd.conf: No such file or directory");
  });
});

describe("dumps", () => {
  test("-S: vhosts with file:line, then the run settings", () => {
    const r = mosaic(["-S", "-f", path.join(SITE, "httpd.conf")], SITE_ENV);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(
      "VirtualHost configuration:\n*:18080                is a NameVirtualHost\n" +
        `         default server www.example.test (${SITE}/httpd.conf:59)\n`,
    );
    expect(r.stdout).toContain(`blog.example.test (${SITE}/httpd.conf:65)\n`);
    expect(r.stdout).toContain(`\nServerRoot: "${SITE}"\nMain DocumentRoot: "${SITE}/htdocs"\n`);
  });

  test("-M: with no LoadModule every bundled module; LoadModule enables only what it names", () => {
    const all = mosaic(["-M", "-f", path.join(SITE, "httpd.conf")], SITE_ENV);
    expect(all.stdout).toStartWith("Loaded Modules:\n core_module (static)\n so_module (static)\n");
    for (const m of ["alias", "autoindex", "dir", "headers", "mime", "authz_core", "authz_host", "log_config"]) {
      expect(all.stdout).toMatch(new RegExp(`^ ${m}_module \\((static|shared)\\)$`, "m"));
    }
    const dir = root({ "one.conf": "LoadModule alias_module modules/mod_alias.so\nServerName x\n" });
    const one = mosaic(["-M", "-f", path.join(dir, "one.conf")]);
    expect(one.stdout).toContain(" alias_module (shared)\n");
    expect(one.stdout).not.toContain("headers_module");
  });

  test("-t -D DUMP_INCLUDES: the include tree with the line of each Include", () => {
    const dir = root({
      "main.conf": "ServerName x\n\nInclude conf.d/a.conf\nInclude conf.d/b.conf\n",
      "conf.d/a.conf": "IncludeOptional more/*.conf\n",
      "conf.d/b.conf": "ServerAdmin b@x\n",
      "more/m.conf": "Timeout 5\n",
    });
    const r = mosaic(["-d", dir, "-f", "main.conf", "-t", "-D", "DUMP_INCLUDES"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `Included configuration files:\n  (*) ${dir}/main.conf\n    (3) ${dir}/conf.d/a.conf\n` +
        `      (1) ${dir}/more/m.conf\n    (4) ${dir}/conf.d/b.conf\n`,
    );
  });

  test("-t -D DUMP_CONFIG: the preprocessed configuration, with -C before and -c after", () => {
    const dir = root({
      "main.conf": "ServerName x\n<IfDefine SHOW>\nServerAdmin shown@x\n</IfDefine>\n<IfDefine !SHOW>\nServerAdmin hidden@x\n</IfDefine>\nServerAdmin ${ADMIN}\n",
    });
    const r = mosaic(["-d", dir, "-f", "main.conf", "-D", "SHOW", "-C", "Timeout 30", "-c", "KeepAlive Off", "-t", "-D", "DUMP_CONFIG"], { ADMIN: "env@x" });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Timeout 30\nServerName x\nServerAdmin shown@x\nServerAdmin env@x\nKeepAlive Off\n");
  });
});

describe("convert", () => {
  test("httpd.conf → YAML → httpd.conf round trip, and the YAML loads as the same configuration", () => {
    const conf = path.join(SITE, "httpd.conf");
    const yaml = mosaic(["convert", conf]);
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toContain("VirtualHost:\n  - _args: '*:${SITE_PORT}'\n");
    const dir = root({ "site.yaml": yaml.stdout });
    const back = mosaic(["convert", path.join(dir, "site.yaml")]);
    expect(back.code).toBe(0);
    expect(back.stdout).toBe(mosaic(["convert", "--to", "conf", conf]).stdout);
    expect(back.stdout).toContain("<VirtualHost *:${SITE_PORT}>\n    ServerName blog.example.test\n");
    const dumped = (f: string) => mosaic(["-t", "-D", "DUMP_CONFIG", "-f", f], SITE_ENV).stdout;
    expect(dumped(path.join(dir, "site.yaml"))).toBe(dumped(conf));
  });

  test("a broken file is reported with its line, exit 1", () => {
    const dir = root({ "bad.conf": "ServerName x\n<Directory /a>\n" });
    const r = mosaic(["convert", path.join(dir, "bad.conf")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith(`AH00526: Syntax error on line 2 of ${dir}/bad.conf:\n`);
  });

  test("the YAML fixture twin prints back as the httpd.conf fixture", () => {
    const fromYaml = mosaic(["convert", path.join(SITE, "site.yaml")]);
    expect(fromYaml.stdout).toBe(mosaic(["convert", "--to", "conf", path.join(SITE, "httpd.conf")]).stdout);
    expect(fs.existsSync(path.join(SITE, "logs"))).toBe(false);
  });
});
