// Read-time directives: Define and ${VAR}, the <If*> sections, Include, LoadModule, ServerRoot.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ConfigError, type ConfigNode } from "../src/config/node.ts";
import { parseConfigText } from "../src/config/parse.ts";
import {
  expandVars,
  moduleIdentifier,
  preprocess,
  type PreprocessContext,
} from "../src/config/preprocess.ts";

const FILE = "httpd.conf";
const BUNDLED = new Set(["status_module", "headers_module", "alias_module"]);
const temps: string[] = [];

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** A temp ServerRoot holding `files` (path → content). */
function tree(files: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "mosaic-preprocess-"));
  temps.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

interface Harness {
  ctx: PreprocessContext;
  warnings: string[];
  loads: string[];
  includes: string[];
}

function harness(serverRoot = "/", overrides: Partial<PreprocessContext> = {}): Harness {
  const warnings: string[] = [];
  const loads: string[] = [];
  const includes: string[] = [];
  const ctx: PreprocessContext = {
    serverRoot,
    defines: new Map(),
    env: {},
    loadModule(name, node) {
      if (!BUNDLED.has(name)) throw ConfigError.at(node, `Unknown module ${name}`);
      loads.push(`${name} ${node.args[1]} @${node.line}`);
    },
    isModuleLoaded: (name) => loads.some((load) => load.startsWith(`${name} `)),
    hasDirective: (name) => ["listen", "servername"].includes(name.toLowerCase()),
    hasSection: (name) => ["virtualhost", "directory"].includes(name.toLowerCase()),
    warn: (message, node) => warnings.push(`${node.file}:${node.line} ${message}`),
    loadFile: (path) => parseConfigText(readFileSync(path, "utf8"), path),
    onInclude: (path, depth, line) => includes.push(`${depth} ${line} ${path}`),
    ...overrides,
  };
  return { ctx, warnings, loads, includes };
}

function run(text: string, h: Harness = harness()): ConfigNode[] {
  return preprocess(parseConfigText(text, FILE), h.ctx);
}

/** The tree without file/line, for compact assertions. */
type Shape = { name: string; args: string[]; children?: Shape[] };
function shape(nodes: ConfigNode[]): Shape[] {
  return nodes.map((node) =>
    node.children === undefined
      ? { name: node.name, args: node.args }
      : { name: node.name, args: node.args, children: shape(node.children) },
  );
}

/** One line per directive: "Name arg arg". */
function lines(nodes: ConfigNode[]): string[] {
  return nodes.map((node) => [node.name, ...node.args].join(" "));
}

function failure(text: string, h: Harness = harness()): ConfigError {
  try {
    run(text, h);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("Define and ${VAR}", () => {
  test("Define sets a variable, is removed, and ${VAR} expands in later arguments", () => {
    const h = harness();
    const out = run("Define PORT 8080\nListen ${PORT}\nServerName ${PORT}-${PORT}.x\n", h);
    expect(out).toStrictEqual([
      { name: "Listen", args: ["8080"], file: FILE, line: 2 },
      { name: "ServerName", args: ["8080-8080.x"], file: FILE, line: 3 },
    ]);
    expect(h.ctx.defines.get("PORT")).toBe("8080");
    expect(h.warnings).toEqual([]);
  });

  test("Define wins over the environment, which is the fallback", () => {
    const h = harness("/", { env: { A: "env-a", B: "env-b", EMPTY: "" } });
    h.ctx.defines.set("A", "def-a");
    expect(lines(run("X ${A} ${B} [${EMPTY}]\n", h))).toEqual(["X def-a env-b []"]);
  });

  test("an undefined variable stays literal and warns AH00111 once per use", () => {
    const h = harness();
    expect(lines(run("Listen ${NOPE}\nServerName a${NOPE}b\n", h))).toEqual([
      "Listen ${NOPE}",
      "ServerName a${NOPE}b",
    ]);
    expect(h.warnings).toEqual([
      `${FILE}:1 AH00111: Config variable \${NOPE} is not defined`,
      `${FILE}:2 AH00111: Config variable \${NOPE} is not defined`,
    ]);
  });

  test("names with ':' (RewriteMap lookups) are left alone without a warning", () => {
    const h = harness("/", { env: { "map:key": "no" } });
    expect(lines(run("RewriteRule ^/(.*) ${map:$1}\n", h))).toEqual([
      "RewriteRule ^/(.*) ${map:$1}",
    ]);
    expect(h.warnings).toEqual([]);
  });

  test("a lone $ or an unclosed ${ is literal; expansion is not recursive", () => {
    const h = harness("/", { env: { A: "${B}", B: "b" } });
    expect(lines(run("X $A a$ ${A ${A}\n", h))).toEqual(["X $A a$ ${A ${B}"]);
    expect(h.warnings).toEqual([]);
  });

  test("a bare Define (or -D) has no value: ${NAME} falls back to the environment", () => {
    const h = harness("/", { env: { FROMENV: "e" } });
    h.ctx.defines.set("FROMENV", "");
    const out = run("Define BARE\nX ${BARE} ${FROMENV}\n", h);
    expect(lines(out)).toEqual(["X ${BARE} e"]);
    expect(h.ctx.defines.get("BARE")).toBe("");
    expect(h.warnings).toEqual([`${FILE}:2 AH00111: Config variable \${BARE} is not defined`]);
  });

  test("a bare Define keeps an earlier value; a second Define replaces it", () => {
    const h = harness();
    expect(lines(run("Define A 1\nDefine A\nX ${A}\nDefine A 2\nX ${A}\n", h))).toEqual([
      "X 1",
      "X 2",
    ]);
  });

  test("Define arguments are themselves expanded", () => {
    expect(lines(run("Define A x\nDefine B ${A}/y\nX ${B}\n"))).toEqual(["X x/y"]);
  });

  test("Define inside a section is global from that point on", () => {
    const out = run(
      "X ${V}\n<VirtualHost *:80>\n  Define V inner\n  Y ${V}\n</VirtualHost>\nZ ${V}\n",
    );
    expect(shape(out)).toEqual([
      { name: "X", args: ["${V}"] },
      { name: "VirtualHost", args: ["*:80"], children: [{ name: "Y", args: ["inner"] }] },
      { name: "Z", args: ["inner"] },
    ]);
  });

  test("UnDefine removes the name and its value", () => {
    const h = harness();
    h.ctx.defines.set("D", "");
    const text = "Define V 1\nUnDefine V\nUnDefine D\nX ${V}\n<IfDefine D>\nY\n</IfDefine>\n";
    const out = run(text, h);
    expect(lines(out)).toEqual(["X ${V}"]);
    expect([...h.ctx.defines.keys()]).toEqual([]);
  });

  test("Define and UnDefine arity errors read like Apache's", () => {
    const define =
      "Define takes 1-2 arguments, Define a variable, optionally to a value.  " +
      "Same as passing -D to the command line.";
    expect(failure("Define\n").message).toBe(define);
    expect(failure("Define a b c\n").message).toBe(define);
    expect(failure('Define "" b\n').message).toBe(define);
    const error = failure("Listen 80\nUnDefine a b\n");
    expect(error.message).toBe(
      "UnDefine takes one argument, Undefine the existence of a variable. Undo a Define.",
    );
    expect([error.file, error.line]).toEqual([FILE, 2]);
  });

  test("variable names must not contain ':'", () => {
    expect(failure("Define a:b 1\n").message).toBe("Variable name must not contain ':'");
    expect(failure("UnDefine a:b\n").message).toBe("Variable name must not contain ':'");
  });

  test("section arguments are expanded too", () => {
    const h = harness("/", { env: { ROOT: "/srv/www" } });
    expect(shape(run("<Directory ${ROOT}/x>\nRequire all granted\n</Directory>\n", h))).toEqual([
      {
        name: "Directory",
        args: ["/srv/www/x"],
        children: [{ name: "Require", args: ["all", "granted"] }],
      },
    ]);
  });

  test("expandVars is usable on its own", () => {
    const h = harness("/", { env: { A: "1" } });
    const node: ConfigNode = { name: "X", args: [], file: "f", line: 9 };
    expect(expandVars("${A}${Z}", h.ctx, node)).toBe("1${Z}");
    expect(h.warnings).toEqual(["f:9 AH00111: Config variable ${Z} is not defined"]);
  });

  test("the input tree is not mutated", () => {
    const input = parseConfigText("Define A 1\n<IfDefine A>\nX ${A}\n</IfDefine>\nY\n", FILE);
    const before = structuredClone(input);
    preprocess(input, harness().ctx);
    expect(input).toStrictEqual(before);
  });
});

describe("<IfDefine>", () => {
  const text = "<IfDefine SSL>\nA\n</IfDefine>\n<IfDefine !SSL>\nB\n</IfDefine>\n";

  test("is replaced by its children when defined, dropped when not, and ! negates", () => {
    const h = harness();
    expect(lines(run(text, h))).toEqual(["B"]);
    h.ctx.defines.set("SSL", "");
    expect(lines(run(text, h))).toEqual(["A"]);
  });

  test("sees Define from earlier in the config, nested sections are handled", () => {
    const out = run(
      "Define X\n<IfDefine X>\n<IfDefine ! Y>\n" +
        "<Location />\nA\n</Location>\n</IfDefine>\n</IfDefine>\n",
    );
    expect(shape(out)).toEqual([
      { name: "Location", args: ["/"], children: [{ name: "A", args: [] }] },
    ]);
  });

  test("a false section is not preprocessed at all", () => {
    const h = harness();
    expect(run("<IfDefine NO>\nDefine Y\nX ${UNSET}\nInclude /nope\n</IfDefine>\n", h)).toEqual([]);
    expect(h.warnings).toEqual([]);
    expect(h.ctx.defines.size).toBe(0);
  });

  test("a missing argument is an error", () => {
    expect(failure("<IfDefine>\n</IfDefine>\n").message).toBe(
      "<IfDefine> directive requires additional arguments",
    );
    expect(failure("<IfDefine !>\n</IfDefine>\n").message).toBe(
      "<IfDefine> directive requires additional arguments",
    );
  });
});

describe("<IfModule>", () => {
  test("accepts both mod_x.c and x_module, and ! negates; LoadModule earlier counts", () => {
    const text = [
      "<IfModule mod_status.c>\nA\n</IfModule>",
      "<IfModule status_module>\nB\n</IfModule>",
      "<IfModule !mod_status.c>\nC\n</IfModule>",
      "LoadModule status_module modules/mod_status.so",
      "<IfModule mod_status.c>\nD\n</IfModule>",
      "<IfModule status_module>\nE\n</IfModule>",
      "<IfModule !status_module>\nF\n</IfModule>",
    ].join("\n");
    expect(lines(run(text))).toEqual([
      "C",
      "LoadModule status_module modules/mod_status.so",
      "D",
      "E",
    ]);
  });

  test("a missing argument is an error with Apache's spelling", () => {
    expect(failure("<ifmodule>\n</ifmodule>\n").message).toBe(
      "<IfModule> directive requires additional arguments",
    );
  });

  test("moduleIdentifier maps source file names to identifiers", () => {
    expect(moduleIdentifier("mod_status.c")).toBe("status_module");
    expect(moduleIdentifier("mod_auth_basic.c")).toBe("auth_basic_module");
    expect(moduleIdentifier("status_module")).toBe("status_module");
    expect(moduleIdentifier("core.c")).toBe("core_module");
    expect(moduleIdentifier("http_core.c")).toBe("http_module");
    expect(moduleIdentifier("event.c")).toBe("mpm_event_module");
  });
});

describe("<IfFile>, <IfDirective>, <IfSection>", () => {
  test("IfFile resolves relative paths against ServerRoot, takes quotes and !", () => {
    const root = tree({ "conf/a.conf": "", "my dir/b": "" });
    const text = [
      "<IfFile conf/a.conf>\nA\n</IfFile>",
      `<IfFile ${root}/conf/a.conf>\nB\n</IfFile>`,
      '<IfFile "my dir/b">\nC\n</IfFile>',
      "<IfFile conf>\nD\n</IfFile>",
      "<IfFile conf/missing>\nE\n</IfFile>",
      "<IfFile !conf/missing>\nF\n</IfFile>",
      '<IfFile !"my dir/b">\nG\n</IfFile>',
      "<IfFile !conf/a.conf/x>\nH\n</IfFile>",
    ].join("\n");
    expect(lines(run(text, harness(root)))).toEqual(["A", "B", "C", "D", "F", "H"]);
  });

  test("IfDirective and IfSection ask the registry, ! negates", () => {
    const text = [
      "<IfDirective Listen>\nA\n</IfDirective>",
      "<IfDirective !Listen>\nB\n</IfDirective>",
      "<IfDirective Bogus>\nC\n</IfDirective>",
      "<IfDirective !Bogus>\nD\n</IfDirective>",
      "<IfSection VirtualHost>\nE\n</IfSection>",
      "<IfSection !VirtualHost>\nF\n</IfSection>",
      "<IfSection Bogus>\nG\n</IfSection>",
      "<IfSection !Bogus>\nH\n</IfSection>",
    ].join("\n");
    expect(lines(run(text))).toEqual(["A", "D", "E", "H"]);
  });

  test("missing arguments", () => {
    expect(failure("<IfFile>\n</IfFile>\n").message).toBe(
      "<IfFile> directive requires additional arguments",
    );
    expect(failure("<IfDirective>\n</IfDirective>\n").message).toBe(
      "<IfDirective> directive requires additional arguments",
    );
    expect(failure("<IfSection>\n</IfSection>\n").message).toBe(
      "<IfSection> directive requires additional arguments",
    );
  });
});

describe("Include", () => {
  test("a relative file is spliced in place and keeps its own file:line", () => {
    const root = tree({
      "conf/extra.conf": "# extra\nServerName inner\n<Location />\nA\n</Location>\n",
    });
    const h = harness(root);
    const out = run("Listen 80\nInclude conf/extra.conf\nListen 81\n", h);
    const extra = join(root, "conf/extra.conf");
    expect(out).toStrictEqual([
      { name: "Listen", args: ["80"], file: FILE, line: 1 },
      { name: "ServerName", args: ["inner"], file: extra, line: 2 },
      {
        name: "Location",
        args: ["/"],
        file: extra,
        line: 3,
        children: [{ name: "A", args: [], file: extra, line: 4 }],
      },
      { name: "Listen", args: ["81"], file: FILE, line: 3 },
    ]);
    expect(h.includes).toEqual([`1 2 ${extra}`]);
  });

  test("a glob in the file part matches in alphabetical order, skipping dotfiles", () => {
    const root = tree({
      "conf.d/b.conf": "B\n",
      "conf.d/a.conf": "A\n",
      "conf.d/C.conf": "C\n",
      "conf.d/.hidden.conf": "H\n",
      "conf.d/a.txt": "T\n",
      "conf.d/z1.conf": "Z1\n",
      "conf.d/z2.conf": "Z2\n",
    });
    expect(lines(run("Include conf.d/*.conf\n", harness(root)))).toEqual([
      "C",
      "A",
      "B",
      "Z1",
      "Z2",
    ]);
    expect(lines(run("Include conf.d/[ab].conf\nInclude conf.d/z?.conf\n", harness(root)))).toEqual(
      ["A", "B", "Z1", "Z2"],
    );
    expect(lines(run("Include conf.d/[!a-b]*.conf\n", harness(root)))).toEqual(["C", "Z1", "Z2"]);
    expect(lines(run("Include conf.d/.*.conf\n", harness(root)))).toEqual(["H"]);
  });

  test("a glob in the directory part matches directories only", () => {
    const root = tree({
      "sites/b/site.conf": "B\n",
      "sites/a/site.conf": "A\n",
      "sites/file": "not a dir\n",
    });
    const h = harness(root);
    expect(lines(run(`Include ${root}/sites/*/site.conf\n`, h))).toEqual(["A", "B"]);
    expect(h.includes).toEqual([
      `1 1 ${root}/sites/a/site.conf`,
      `1 1 ${root}/sites/b/site.conf`,
    ]);
  });

  test("after a wildcard, a literal last segment is opened as is", () => {
    const root = tree({ "sites/a/site.conf": "A\n", "sites/c/other.conf": "C\n" });
    expect(lines(run("IncludeOptional sites/*/site.conf\n", harness(root)))).toEqual(["A"]);
    expect(failure("Include sites/*/site.conf\n", harness(root)).message).toBe(
      `Could not open configuration file ${root}/sites/c/site.conf: No such file or directory`,
    );
  });

  test("a directory includes every file below it, recursively and alphabetically", () => {
    const root = tree({
      "conf/z.conf": "Z\n",
      "conf/sub/b.conf": "SB\n",
      "conf/sub/a.conf": "SA\n",
      "conf/a.conf": "A\n",
      "conf/.dot": "DOT\n",
    });
    expect(lines(run("Include conf\n", harness(root)))).toEqual(["DOT", "A", "SA", "SB", "Z"]);
    expect(lines(run("Include conf/\n", harness(root)))).toEqual(["DOT", "A", "SA", "SB", "Z"]);
  });

  test("a glob that matches a directory includes the whole directory", () => {
    const root = tree({ "mods/x/a.load": "XA\n", "mods/y.load": "Y\n" });
    expect(lines(run("Include mods/*\n", harness(root)))).toEqual(["XA", "Y"]);
  });

  test("a missing plain file fails", () => {
    const root = tree();
    const error = failure("Listen 80\nInclude conf/missing.conf\n", harness(root));
    expect(error.message).toBe(
      `Could not open configuration file ${root}/conf/missing.conf: No such file or directory`,
    );
    expect([error.file, error.line]).toEqual([FILE, 2]);
  });

  test("a glob that matches nothing fails", () => {
    const root = tree({ "conf.d/a.txt": "" });
    expect(failure("Include conf.d/*.conf\n", harness(root)).message).toBe(
      `Include/IncludeOptional: No matches for the wildcard '*.conf' in '${root}/conf.d', failing`,
    );
  });

  test("a missing directory before a glob fails", () => {
    const root = tree();
    expect(failure("Include nope/x/*.conf\n", harness(root)).message).toBe(
      `Include/IncludeOptional: Could not open directory ${root}/nope/x: No such file or directory`,
    );
    expect(failure("Include nope/*/a.conf\n", harness(root)).message).toBe(
      `Include/IncludeOptional: Could not open directory ${root}/nope: No such file or directory`,
    );
  });

  test("IncludeOptional ignores a missing file, an empty glob and a missing directory", () => {
    const root = tree({ "conf.d/a.txt": "", "conf.d/real.conf": "R\n" });
    const h = harness(root);
    const text = [
      "IncludeOptional conf/missing.conf",
      "IncludeOptional conf.d/*.conf",
      "IncludeOptional conf.d/*.nothing",
      "IncludeOptional nope/x/*.conf",
      "IncludeOptional nope/*/a.conf",
      "Listen 80",
    ].join("\n");
    expect(lines(run(text, h))).toEqual(["R", "Listen 80"]);
  });

  test("an error inside an included file is reported from the Include line, nested", () => {
    const root = tree({
      "a.conf": "Listen 1\nInclude b.conf\n",
      "b.conf": "<Directory /x>\n</Location>\n",
    });
    const error = failure("Listen 0\nInclude a.conf\n", harness(root));
    expect([error.file, error.line]).toEqual([FILE, 2]);
    expect(error.message).toBe(
      `Syntax error on line 2 of ${root}/a.conf: ` +
        `Syntax error on line 2 of ${root}/b.conf: Expected </Directory> but saw </Location>`,
    );
  });

  test("a missing file inside an included file is nested too", () => {
    const root = tree({ "a.conf": "Include nope.conf\n" });
    expect(failure("Include a.conf\n", harness(root)).message).toBe(
      `Syntax error on line 1 of ${root}/a.conf: ` +
        `Could not open configuration file ${root}/nope.conf: No such file or directory`,
    );
  });

  test("Define in an included file is visible after it; onInclude reports depth and line", () => {
    const root = tree({ "a.conf": "Define V 1\n\nInclude b.conf\n", "b.conf": "B ${V}\n" });
    const h = harness(root);
    expect(lines(run("Include a.conf\nX ${V}\n", h))).toEqual(["B 1", "X 1"]);
    expect(h.includes).toEqual([`1 1 ${root}/a.conf`, `2 3 ${root}/b.conf`]);
  });

  test("a file including itself fails at Apache's depth limit", () => {
    const root = tree({ "loop.conf": "Include loop.conf\n" });
    const error = failure("Include loop.conf\n", harness(root));
    const nesting = `Syntax error on line 1 of ${root}/loop.conf: `;
    expect(error.message).toBe(
      nesting.repeat(128) +
        "Exceeded maximum include depth of 128, There appears to be a recursion.",
    );
  });

  test("a guarded self-include is fine, as in Apache", () => {
    const root = tree({
      "once.conf": "<IfDefine !ONCE>\nDefine ONCE\nA\nInclude once.conf\n</IfDefine>\n",
    });
    expect(lines(run("Include once.conf\n", harness(root)))).toEqual(["A"]);
  });

  test("Include inside a section splices into that section", () => {
    const root = tree({ "vhost.conf": "ServerName v\n" });
    const out = run("<VirtualHost *:80>\nInclude vhost.conf\n</VirtualHost>\n", harness(root));
    expect(shape(out)).toEqual([
      { name: "VirtualHost", args: ["*:80"], children: [{ name: "ServerName", args: ["v"] }] },
    ]);
  });

  test("Include takes exactly one argument", () => {
    expect(failure("Include a b\n").message).toBe(
      "Include takes one argument, Name(s) of the config file(s) to be included; fails if the " +
        "wildcard does not match at least one file",
    );
    expect(failure("IncludeOptional\n").message).toBe(
      "IncludeOptional takes one argument, Name or pattern of the config file(s) to be included; " +
        "ignored if the file does not exist or the pattern does not match any files",
    );
  });

  test("Include paths use ${VAR}", () => {
    const root = tree({ "site.conf": "S\n" });
    const h = harness("/", { env: { ROOT: root } });
    expect(lines(run("Include ${ROOT}/site.conf\n", h))).toEqual(["S"]);
  });
});

describe("LoadModule and ServerRoot", () => {
  test("LoadModule calls loadModule with the expanded node and stays in the output", () => {
    const h = harness("/", { env: { M: "modules" } });
    const out = run("Listen 80\nLoadModule status_module ${M}/mod_status.so\n", h);
    expect(h.loads).toEqual(["status_module modules/mod_status.so @2"]);
    expect(out[1]).toStrictEqual({
      name: "LoadModule",
      args: ["status_module", "modules/mod_status.so"],
      file: FILE,
      line: 2,
    });
  });

  test("an unknown module fails with the registry's error", () => {
    const error = failure("LoadModule bogus_module modules/mod_bogus.so\n");
    expect(error.message).toBe("Unknown module bogus_module");
    expect(error.line).toBe(1);
  });

  test("LoadModule takes two arguments", () => {
    expect(failure("LoadModule status_module\n").message).toBe(
      "LoadModule takes two arguments, a module name and the name of a shared object file to " +
        "load it from",
    );
  });

  test("ServerRoot updates the context and later relative paths use it", () => {
    const root = tree({ "etc/site.conf": "S\n", "etc/flag": "" });
    const h = harness("/");
    const out = run(
      `ServerRoot ${root}/etc/\nInclude site.conf\n<IfFile flag>\nF\n</IfFile>\n`,
      h,
    );
    expect(lines(out)).toEqual([`ServerRoot ${root}/etc/`, "S", "F"]);
    expect(h.ctx.serverRoot).toBe(`${root}/etc`);
    const relative = harness(root);
    run("ServerRoot etc\n", relative);
    expect(relative.ctx.serverRoot).toBe(`${root}/etc`);
  });

  test("ServerRoot must be a directory", () => {
    const root = tree({ file: "" });
    expect(failure(`ServerRoot ${root}/file\n`).message).toBe(
      "ServerRoot must be a valid directory",
    );
    expect(failure(`ServerRoot ${root}/missing\n`).message).toBe(
      "ServerRoot must be a valid directory",
    );
    expect(failure("ServerRoot\n").message).toBe(
      "ServerRoot takes one argument, Common directory of server-related files (logs, confs, etc.)",
    );
  });

  test("other directives and sections are copied with their children preprocessed", () => {
    const out = run(
      "<Directory /x>\n<Files a>\nDefine Z 1\nHeader set Z ${Z}\n</Files>\n</Directory>\n",
    );
    expect(shape(out)).toEqual([
      {
        name: "Directory",
        args: ["/x"],
        children: [
          { name: "Files", args: ["a"], children: [{ name: "Header", args: ["set", "Z", "1"] }] },
        ],
      },
    ]);
  });
});
