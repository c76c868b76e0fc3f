// httpd.conf lexing and section nesting, checked against Apache 2.4's ap_build_config behaviour.

import { describe, expect, test } from "bun:test";
import { ConfigError, type ConfigNode } from "../src/config/node.ts";
import { parseConfigText } from "../src/config/parse.ts";

const FILE = "conf/httpd.conf";

function parse(text: string): ConfigNode[] {
  return parseConfigText(text, FILE);
}

/** Arguments of each top-level directive, one array per line of input. */
function argsOf(text: string): string[][] {
  return parse(text).map((node) => node.args);
}

function parseError(text: string): ConfigError {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("lines and comments", () => {
  test("one directive per line, with file and line; blanks and comments skipped", () => {
    const text = "# comment\n\nServerName www.example.com\n   \n\t  Listen  80\n   # indented\n";
    expect(parse(text)).toStrictEqual([
      { name: "ServerName", args: ["www.example.com"], file: FILE, line: 3 },
      { name: "Listen", args: ["80"], file: FILE, line: 5 },
    ]);
  });

  test("a trailing # is an argument, not a comment", () => {
    expect(argsOf("Timeout 30 # x\n")).toEqual([["30", "#", "x"]]);
    expect(argsOf("Header set X-Hash #frag\n")).toEqual([["set", "X-Hash", "#frag"]]);
  });

  test("a directive without arguments has an empty args array", () => {
    expect(parse("Foo\n")).toStrictEqual([{ name: "Foo", args: [], file: FILE, line: 1 }]);
  });

  test("CRLF line endings and a UTF-8 BOM are accepted", () => {
    const text = "\uFEFFServerName a\r\n<Location />\r\n  Require all granted\r\n</Location>\r\n";
    expect(parse(text)).toStrictEqual([
      { name: "ServerName", args: ["a"], file: FILE, line: 1 },
      {
        name: "Location",
        args: ["/"],
        file: FILE,
        line: 2,
        children: [{ name: "Require", args: ["all", "granted"], file: FILE, line: 3 }],
      },
    ]);
  });

  test("no trailing newline at the end of the file", () => {
    expect(parse("Listen 80")).toStrictEqual([
      { name: "Listen", args: ["80"], file: FILE, line: 1 },
    ]);
  });
});

describe("line continuation", () => {
  test("a final backslash joins the next line directly; the node keeps the first line", () => {
    const text = 'Header set X "cont\\\ninued"\nListen a\\\n  b\\\n c\nServerName x\n';
    expect(parse(text)).toStrictEqual([
      { name: "Header", args: ["set", "X", "continued"], file: FILE, line: 1 },
      { name: "Listen", args: ["a", "b", "c"], file: FILE, line: 3 },
      { name: "ServerName", args: ["x"], file: FILE, line: 6 },
    ]);
  });

  test("continuation works with CRLF endings", () => {
    expect(argsOf("Listen 80\\\r\n80\r\n")).toEqual([["8080"]]);
  });

  test("a backslash followed by whitespace is not a continuation", () => {
    expect(argsOf("Listen a\\ \nListen b\n")).toEqual([["a\\"], ["b"]]);
  });

  test("a comment ending in a backslash swallows the next line (Apache joins first)", () => {
    expect(parse("# off \\\nListen 80\nListen 81\n")).toStrictEqual([
      { name: "Listen", args: ["81"], file: FILE, line: 3 },
    ]);
  });

  test("a backslash on the last line without a newline stays", () => {
    expect(argsOf("Listen a\\")).toEqual([["a\\"]]);
  });

  test("a backslash before the final newline is dropped", () => {
    expect(argsOf("Listen a\\\n")).toEqual([["a"]]);
  });
});

describe("quoting", () => {
  test("double and single quotes group words", () => {
    expect(argsOf(`DocumentRoot "/srv/my site"\nHeader set X 'a b'\n`)).toEqual([
      ["/srv/my site"],
      ["set", "X", "a b"],
    ]);
  });

  test('inside quotes \\" or \\\' yields the quote and \\\\ yields \\', () => {
    const text = [
      'A "say \\"hi\\""',
      "B 'it\\'s'",
      'C "C:\\\\dir\\\\"',
      "D 'x\\\\y'",
    ].join("\n");
    expect(argsOf(text)).toEqual([['say "hi"'], ["it's"], ["C:\\dir\\"], ["x\\y"]]);
  });

  test("other backslashes stay inside quotes, including the other quote", () => {
    expect(argsOf(`A "a\\nb\\.c"\nB "it\\'s"\nC 'say \\"x'\n`)).toEqual([
      ["a\\nb\\.c"],
      ["it\\'s"],
      ['say \\"x'],
    ]);
  });

  test("unquoted tokens keep backslashes, except that \\\\ collapses (substring_conf)", () => {
    expect(argsOf('Header set X-C unquoted\\"x\nA \\.png$ a\\\\b\n')).toEqual([
      ["set", "X-C", 'unquoted\\"x'],
      ["\\.png$", "a\\b"],
    ]);
  });

  test("quotes only group at the start of a word; a closing quote ends the word", () => {
    expect(argsOf(`A a"b c"\nB "a"b\nC ""\nD "" x\n`)).toEqual([
      ['a"b', 'c"'],
      ["a", "b"],
      [""],
      ["", "x"],
    ]);
  });

  test("tabs separate words", () => {
    expect(argsOf("A\ta\t\tb \t c\n")).toEqual([["a", "b", "c"]]);
  });

  test("an unterminated quote is an error at its line", () => {
    const error = parseError('Listen 80\nHeader set X "abc\n');
    expect(error.message).toBe('Unterminated quoted argument "abc');
    expect([error.file, error.line]).toEqual([FILE, 2]);
  });

  test("a quote escaped up to the end of the line is still unterminated", () => {
    expect(parseError("A 'it\\'\n").message).toBe("Unterminated quoted argument 'it\\'");
  });
});

describe("sections", () => {
  test("nest to any depth; every section has children, directives have none", () => {
    const text = [
      "<VirtualHost *:8080>",
      "  ServerName a",
      "  <Directory /srv>",
      "    <Files .htpasswd>",
      "      Require all denied",
      "    </Files>",
      "  </Directory>",
      "  <Location /empty>",
      "  </Location>",
      "</VirtualHost>",
      "Listen 8080",
    ].join("\n");
    expect(parse(text)).toStrictEqual([
      {
        name: "VirtualHost",
        args: ["*:8080"],
        file: FILE,
        line: 1,
        children: [
          { name: "ServerName", args: ["a"], file: FILE, line: 2 },
          {
            name: "Directory",
            args: ["/srv"],
            file: FILE,
            line: 3,
            children: [
              {
                name: "Files",
                args: [".htpasswd"],
                file: FILE,
                line: 4,
                children: [{ name: "Require", args: ["all", "denied"], file: FILE, line: 5 }],
              },
            ],
          },
          { name: "Location", args: ["/empty"], file: FILE, line: 8, children: [] },
        ],
      },
      { name: "Listen", args: ["8080"], file: FILE, line: 11 },
    ]);
  });

  test("section arguments are tokenized like directive arguments", () => {
    const text = [
      '<Directory "/a b">',
      "</Directory>",
      '<FilesMatch "\\.(gif|png)$">',
      "</FilesMatch>",
      "<If \"%{HTTP_HOST} == 'x'\">",
      "</If>",
      "<VirtualHost 127.0.0.1:80 [::1]:80>",
      "</VirtualHost>",
    ].join("\n");
    expect(argsOf(text)).toEqual([
      ["/a b"],
      ["\\.(gif|png)$"],
      ["%{HTTP_HOST} == 'x'"],
      ["127.0.0.1:80", "[::1]:80"],
    ]);
  });

  test("<Name> without arguments, and a '>' inside quotes", () => {
    expect(parse("<Else>\n</Else>\n<Directory \"/a>b\">\n</Directory>\n")).toStrictEqual([
      { name: "Else", args: [], file: FILE, line: 1, children: [] },
      { name: "Directory", args: ["/a>b"], file: FILE, line: 3, children: [] },
    ]);
  });

  test("names keep their spelling and end tags match case-insensitively", () => {
    expect(parse("<directory /x>\n</DIRECTORY>\n")).toStrictEqual([
      { name: "directory", args: ["/x"], file: FILE, line: 1, children: [] },
    ]);
  });

  test("an end tag with extra words is accepted", () => {
    expect(parse("<Location />\n</Location foo>\n")).toHaveLength(1);
  });

  test("a negated quoted section argument keeps its `!`", () => {
    expect(argsOf('<IfFile !"/a b">\n</IfFile>\n<IfDefine !X>\n</IfDefine>\n')).toEqual([
      ["!/a b"],
      ["!X"],
    ]);
  });

  test("${VAR} is left for the preprocessor", () => {
    expect(argsOf("Listen ${PORT}\n<Directory ${ROOT}>\n</Directory>\n")).toEqual([
      ["${PORT}"],
      ["${ROOT}"],
    ]);
  });
});

describe("section errors", () => {
  test("missing '>' on the open tag", () => {
    const error = parseError("Listen 80\n<Directory /srv\n</Directory>\n");
    expect(error.message).toBe("<Directory> directive missing closing '>'");
    expect([error.file, error.line]).toEqual([FILE, 2]);
  });

  test("mismatched end tag", () => {
    const error = parseError("<Directory /srv>\n  Require all granted\n</Location>\n");
    expect(error.message).toBe("Expected </Directory> but saw </Location>");
    expect(error.line).toBe(3);
  });

  test("end tag without an open section", () => {
    const error = parseError("Listen 80\n</Directory>\n");
    expect(error.message).toBe("</Directory> without matching <Directory> section");
    expect(error.line).toBe(2);
  });

  test("end tag without its '>'", () => {
    expect(parseError("<Location />\n</Location\n").message).toBe(
      "</Location> directive missing closing '>'",
    );
  });

  test("a section still open at the end of the file", () => {
    const error = parseError("Listen 80\n<Directory /srv>\n  Require all granted\n");
    expect(error.message).toBe(`${FILE}:2: <Directory> was not closed.`);
    expect([error.file, error.line]).toEqual([FILE, 2]);
    expect(error.format()).toBe(
      `AH00526: Syntax error on line 2 of ${FILE}:\n${FILE}:2: <Directory> was not closed.`,
    );
  });

  test("several open sections are listed innermost first, the outermost is blamed", () => {
    const error = parseError("<VirtualHost *:80>\n<Directory /srv>\n");
    expect(error.message).toBe(
      `${FILE}:2: <Directory> was not closed.\n${FILE}:1: <VirtualHost> was not closed.`,
    );
    expect(error.line).toBe(1);
  });
});
