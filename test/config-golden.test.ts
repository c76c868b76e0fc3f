// Golden tests: each httpd.conf case and its YAML twin give one tree, and both printers round-trip.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../src/config/node.ts";
import type { ConfigNode } from "../src/config/node.ts";
import { parseConfigText } from "../src/config/parse.ts";
import {
  printConfig,
  printConfigYaml,
  quoteArg,
  stripLocations,
  yamlScalar,
} from "../src/config/print.ts";
import { parseConfigYaml } from "../src/config/yaml.ts";

const GOLDEN = join(import.meta.dir, "golden");
const cases = readdirSync(GOLDEN)
  .filter((name) => name.endsWith(".conf"))
  .map((name) => name.slice(0, -".conf".length))
  .sort();

function read(name: string): string {
  return readFileSync(join(GOLDEN, name), "utf8");
}

test("there are at least 8 golden cases, each with a YAML twin and a tree", () => {
  expect(cases.length).toBeGreaterThanOrEqual(8);
  const files = new Set(readdirSync(GOLDEN));
  for (const name of cases) {
    expect(files.has(`${name}.yaml`)).toBe(true);
    expect(files.has(`${name}.tree.json`)).toBe(true);
  }
});

describe.each(cases)("golden %s", (name) => {
  const expected = JSON.parse(read(`${name}.tree.json`));
  const conf = parseConfigText(read(`${name}.conf`), `${name}.conf`);
  const yaml = parseConfigYaml(read(`${name}.yaml`), `${name}.yaml`);

  test("httpd.conf gives the expected tree", () => {
    expect(stripLocations(conf)).toEqual(expected);
  });

  test("the YAML twin gives the same tree", () => {
    expect(stripLocations(yaml)).toEqual(expected);
  });

  test("printConfig round-trips through parseConfigText", () => {
    const text = printConfig(conf);
    expect(stripLocations(parseConfigText(text, "printed.conf"))).toEqual(expected);
    // Printing is a fixed point: a second pass changes nothing.
    expect(printConfig(parseConfigText(text, "printed.conf"))).toBe(text);
  });

  test("printConfigYaml round-trips through parseConfigYaml", () => {
    const text = printConfigYaml(conf);
    expect(stripLocations(parseConfigYaml(text, "printed.yaml"))).toEqual(expected);
    expect(printConfigYaml(parseConfigYaml(text, "printed.yaml"))).toBe(text);
  });

  test("the printers agree whichever front end parsed the source", () => {
    expect(printConfig(yaml)).toBe(printConfig(conf));
    expect(printConfigYaml(yaml)).toBe(printConfigYaml(conf));
  });

  test("every node carries its file and a line", () => {
    const check = (nodes: ConfigNode[], file: string): void => {
      for (const node of nodes) {
        expect(node.file).toBe(file);
        expect(node.line).toBeGreaterThan(0);
        if (node.children !== undefined) check(node.children, file);
      }
    };
    check(conf, `${name}.conf`);
    check(yaml, `${name}.yaml`);
  });
});

/** Name, args and line of every node, depth first, to assert line numbers compactly. */
function lines(nodes: ConfigNode[]): string[] {
  return nodes.flatMap((node) => [
    `${node.line} ${[node.name, ...node.args].join(" ")}`,
    ...lines(node.children ?? []),
  ]);
}

function yamlError(text: string): ConfigError {
  try {
    parseConfigYaml(text, "bad.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

describe("parseConfigYaml", () => {
  test("nodes carry the line of their key or list item", () => {
    const text = [
      "Listen: 80", // 1
      "Header:", // 2
      "  - set A 1", // 3
      "  - set B 2", // 4
      "", // 5
      "'VirtualHost *:80':", // 6
      "  ServerName: a", // 7
      "  Directory:", // 8
      "    - _args: /a", // 9
      "      Require: all granted", // 10
      "    - { _args: /b }", // 11
      "Header: unset C", // 12
    ].join("\n");
    expect(lines(parseConfigYaml(text, "lines.yaml"))).toEqual([
      "1 Listen 80",
      "3 Header set A 1",
      "4 Header set B 2",
      "6 VirtualHost *:80",
      "7 ServerName a",
      "9 Directory /a",
      "10 Require all granted",
      "11 Directory /b",
      "12 Header unset C",
    ]);
    expect(parseConfigYaml(text, "lines.yaml")[0]!.file).toBe("lines.yaml");
  });

  test("scalars keep their source text: no number or boolean conversion", () => {
    const tree = parseConfigYaml("A: On\nB: 0x1F\nC: 1e3\nD: ~\nE: null\nF: 08\nG: yes\n", "t");
    expect(tree.map((node) => node.args)).toEqual([
      ["On"], ["0x1F"], ["1e3"], ["~"], ["null"], ["08"], ["yes"],
    ]);
  });

  test("an empty value, an empty item and an empty document give no arguments", () => {
    expect(stripLocations(parseConfigYaml("TraceEnable:\nListen:\n  -\n  - 80\n", "t"))).toEqual([
      { name: "TraceEnable", args: [] },
      { name: "Listen", args: [] },
      { name: "Listen", args: ["80"] },
    ]);
    expect(parseConfigYaml("", "t")).toEqual([]);
    expect(parseConfigYaml("# only a comment\n", "t")).toEqual([]);
    expect(parseConfigYaml("{}\n", "t")).toEqual([]);
  });

  test("key arguments come before value arguments, for directives and sections", () => {
    const tree = parseConfigYaml(
      "Header set: X-A 1\n<Directory /a>: {}\nProxy:\n  - { _args: b }\n",
      "t",
    );
    expect(stripLocations(tree)).toEqual([
      { name: "Header", args: ["set", "X-A", "1"] },
      { name: "Directory", args: ["/a"], children: [] },
      { name: "Proxy", args: ["b"], children: [] },
    ]);
    const both = parseConfigYaml(
      "IfFile: { _args: '!\"/a b\"' }\nLimit GET: { _args: POST }\n",
      "t",
    );
    expect(both.map((node) => node.args)).toEqual([["!/a b"], ["GET", "POST"]]);
  });

  test("aliases repeat the anchored value", () => {
    const text = "Directory /a: &common\n  Require: all granted\nDirectory /b: *common\n";
    const children = [{ name: "Require", args: ["all", "granted"] }];
    expect(stripLocations(parseConfigYaml(text, "t"))).toEqual([
      { name: "Directory", args: ["/a"], children },
      { name: "Directory", args: ["/b"], children },
    ]);
  });

  test.each([
    ["a YAML syntax error", "Listen: 80\nHeader: [a,\nX: b: c\n", 3, /^Invalid YAML: /],
    ["a bad indentation", "Listen: 80\nFoo:\n    a: 1\n  b: 2\n", 4, /^Invalid YAML: /],
    ["two documents", "Listen: 80\n---\nListen: 81\n", 2, /^Invalid YAML: /],
    ["a top-level scalar", "\n\nListen 80\n", 3, /top level must be a mapping/],
    ["a top-level list of scalars", "- Listen: 80\n- Listen 81\n", 2, /must hold mappings/],
    ["a nested list", "Listen: 80\nHeader:\n  - set A 1\n  - - set B 2\n", 4, /not nested lists/],
    ["_args outside a section", "Listen: 80\n_args: x\n", 2, /only allowed in a section/],
    ["_args twice", "Directory:\n  _args: /a\n  _args: /b\n", 3, /given twice/],
    ["_args as a list", "Directory:\n  _args: [a, b]\n", 2, /must be a string/],
    ["a closing tag", "Directory /a: {}\n</Directory>: x\n", 2, /ends with its indentation/],
    ["an unclosed <", "Listen: 80\n<Directory /a: {}\n", 2, /missing its closing '>'/],
    ["a non-string key", "Listen: 80\n[a, b]: c\n", 2, /plain string key/],
    ["an invalid name", "Listen: 80\n'\"Quoted\" x': y\n", 2, /not a directive name/],
    ["an alias cycle", "Listen: 80\nDirectory: &d\n  Files: *d\n", 3, /own anchor/],
    ["an unterminated quote", "Listen: 80\nHeader: 'set A \"b'\n", 2, /Unterminated/],
  ])("%s is a ConfigError with the line", (_what, text, line, message) => {
    const error = yamlError(text);
    expect(error.file).toBe("bad.yaml");
    expect(error.line).toBe(line);
    expect(error.message).toMatch(message);
    expect(error.format()).toStartWith(`AH00526: Syntax error on line ${line} of bad.yaml:\n`);
  });
});

describe("printers", () => {
  const at = { file: "t", line: 1 };

  test.each([
    ["plain", "plain"],
    ["", '""'],
    ["a b", '"a b"'],
    ['say "hi"', '"say \\"hi\\""'],
    ["it's", '"it\'s"'],
    ["#x", '"#x"'],
    ["a#x", "a#x"],
    ["\\.php$", "\\.php$"],
    ["C:\\dir\\", '"C:\\dir\\\\"'],
    ["a\\\\b", '"a\\\\\\b"'],
  ])("quoteArg(%j) is %j", (arg, quoted) => {
    expect(quoteArg(arg)).toBe(quoted);
  });

  test("a '>' is quoted only in a section header", () => {
    expect(quoteArg(">=")).toBe(">=");
    expect(quoteArg(">=", true)).toBe('">="');
  });

  test("printConfig indents 4 spaces per section level", () => {
    const tree: ConfigNode[] = [
      { name: "Listen", args: ["80"], ...at },
      {
        name: "VirtualHost",
        args: ["*:80"],
        ...at,
        children: [
          {
            name: "Directory",
            args: ["/a b"],
            ...at,
            children: [{ name: "Require", args: ["all", "granted"], ...at }],
          },
        ],
      },
      { name: "Else", args: [], children: [], ...at },
    ];
    expect(printConfig(tree)).toBe(
      [
        "Listen 80",
        "<VirtualHost *:80>",
        '    <Directory "/a b">',
        "        Require all granted",
        "    </Directory>",
        "</VirtualHost>",
        "<Else>",
        "</Else>",
        "",
      ].join("\n"),
    );
    expect(printConfig([])).toBe("");
  });

  test("printConfigYaml groups consecutive runs and keeps order", () => {
    const tree = parseConfigText(
      "Listen 80\nListen 443\nHeader set A 1\nServerName x\nHeader set B 2\n" +
        "<Directory /a>\n</Directory>\n<Directory /b>\nRequire all denied\n</Directory>\n" +
        "<VirtualHost *:80>\nServerName y\n</VirtualHost>\nTraceEnable\n",
      "t.conf",
    );
    expect(printConfigYaml(tree)).toBe(
      [
        "Listen:",
        "  - 80",
        "  - 443",
        "Header: set A 1",
        "ServerName: x",
        "Header: set B 2",
        "Directory:",
        "  - _args: /a",
        "  - _args: /b",
        "    Require: all denied",
        "'VirtualHost *:80':",
        "  ServerName: y",
        "TraceEnable:",
        "",
      ].join("\n"),
    );
    expect(printConfigYaml([])).toBe("{}\n");
    expect(parseConfigYaml(printConfigYaml([]), "t")).toEqual([]);
  });

  test("tricky arguments survive both printers", () => {
    const tricky = [
      "", " ", "a b", "\ttab", "'", '"', "\\", "\\\\", "a\\", "\\\"", "#", "a #b", "- x", "-x",
      "---",
      "?", ":", "a: b", "a:", "*", "&a", "!x", "%{X}", "@", "`", "|", ">", ">=", "[a]", "{a}", "~",
      "null", "true", "0x10", "007", "é", "ü ß", "${VAR}", "x,y", "a'b", "it's \"q\"", "a'b:c",
    ];
    const tree: ConfigNode[] = [
      { name: "Test", args: tricky, ...at },
      ...tricky.map((arg) => ({ name: "One", args: [arg], ...at })),
      { name: "Section", args: tricky, children: [{ name: "In", args: tricky, ...at }], ...at },
      ...tricky.map((arg) => ({ name: "Sec", args: [arg], children: [], ...at })),
    ];
    const plain = stripLocations(tree);
    expect(stripLocations(parseConfigText(printConfig(tree), "t.conf"))).toEqual(plain);
    expect(stripLocations(parseConfigYaml(printConfigYaml(tree), "t.yaml"))).toEqual(plain);
  });

  test("line breaks and control characters: YAML escapes them, httpd.conf refuses", () => {
    const tree: ConfigNode[] = [{ name: "Header", args: ["set", "X", "a\nb\u0001\u007f"], ...at }];
    const yaml = printConfigYaml(tree);
    expect(stripLocations(parseConfigYaml(yaml, "t"))).toEqual(stripLocations(tree));
    expect(() => printConfig(tree)).toThrow(ConfigError);
  });

  test("long section arguments move from the key to _args", () => {
    const expr = `"%{REQUEST_URI} =~ m#^/${"x".repeat(1100)}#"`;
    const tree = parseConfigText(`<If ${expr}>\nRequire all denied\n</If>\n`, "t.conf");
    const yaml = printConfigYaml(tree);
    expect(yaml).toStartWith("If:\n  _args: ");
    expect(stripLocations(parseConfigYaml(yaml, "t"))).toEqual(stripLocations(tree));
  });

  test("a name neither front end could read back is refused", () => {
    const tree: ConfigNode[] = [{ name: "#x", args: [], ...at }];
    expect(() => printConfig(tree)).toThrow(ConfigError);
    expect(() => printConfigYaml(tree)).toThrow(ConfigError);
  });

  test("yamlScalar leaves safe text bare", () => {
    expect(yamlScalar("On")).toBe("On");
    expect(yamlScalar("-Indexes +FollowSymLinks")).toBe("-Indexes +FollowSymLinks");
    expect(yamlScalar('set X "a b"')).toBe('set X "a b"');
    expect(yamlScalar("*:80")).toBe("'*:80'");
    expect(yamlScalar("a: b")).toBe("'a: b'");
    expect(yamlScalar("a\nb")).toBe('"a\\nb"');
  });
});
