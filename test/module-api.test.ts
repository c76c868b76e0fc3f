// Unit tests without sockets: hook ordering, arity wording, wildcards, dot-segment removal.
import { describe, expect, test } from "bun:test";
import { sortHooks } from "../src/hooks.ts";
import { arityError } from "../src/config/arity.ts";
import { compileWildcard } from "../src/config/wildcard.ts";
import { removeDotSegments } from "../src/http/front.ts";
import { loadConfig } from "../src/config/load.ts";
import { tempDir } from "./helpers.ts";

const h = (module: string, order: number, before: string[] = [], after: string[] = [], seq = 0) => ({
  fn: module,
  module,
  order,
  before,
  after,
  seq,
});

describe("hook sorting (apr_hook_sort)", () => {
  test("by order value, then module list order", () => {
    const out = sortHooks([h("c", 10, [], [], 0), h("a", 0, [], [], 1), h("b", 10, [], [], 2), h("z", 30, [], [], 3)], "p");
    expect(out.map((x) => x.module)).toEqual(["a", "c", "b", "z"]);
  });
  test("before/after constraints win over order values", () => {
    const out = sortHooks([h("a", 0, [], ["b"], 0), h("b", 20, [], [], 1), h("c", 10, ["a"], [], 2)], "p");
    expect(out.map((x) => x.module)).toEqual(["c", "b", "a"]);
  });
  test("constraints naming modules that are not loaded are ignored; cycles are errors", () => {
    expect(sortHooks([h("a", 10, ["nope"]), h("b", 0)], "p").map((x) => x.module)).toEqual(["b", "a"]);
    expect(() => sortHooks([h("a", 10, ["b"]), h("b", 10, ["a"])], "fixups")).toThrow(/cycle in phase fixups/);
  });
});

describe("arity errors in Apache's words", () => {
  const def = (args: [number, number] | "flag") => ({ name: "X", args, help: "help text", apply() {} });
  test.each([
    [[1, 1], [], "X takes one argument, help text"],
    [[2, 2], ["a"], "X takes two arguments, help text"],
    [[1, 2], [], "X takes one or two arguments, help text"],
    [[2, 3], ["a"], "X takes two or three arguments, help text"],
    [[1, Infinity], [], "X requires at least one argument, help text"],
    [[0, 0], ["a"], "X takes no arguments"],
  ] as const)("%p with %p", (arity, args, msg) => {
    expect(arityError(def(arity as [number, number]), [...args])).toBe(msg);
  });
  test("flags must be On or Off", () => {
    expect(arityError(def("flag"), ["yes"])).toBe("X must be On or Off");
    expect(arityError(def("flag"), ["on"])).toBeUndefined();
  });
});

describe("wildcards", () => {
  test("prefix wildcards match by whole components, * never crosses /", () => {
    const re = compileWildcard("/home/*/public_html", true);
    expect(re.test("/home/ann/public_html")).toBe(true);
    expect(re.test("/home/ann/public_html/x")).toBe(true);
    expect(re.test("/home/a/b/public_html")).toBe(false);
    expect(re.test("/home/ann/public_htmlx")).toBe(false);
    expect(compileWildcard(".ht*", false).test(".htaccess")).toBe(true);
    expect(compileWildcard("[!a]*.txt", false).test("b.txt")).toBe(true);
    expect(compileWildcard("[!a]*.txt", false).test("a.txt")).toBe(false);
  });
});

describe("dot segments (RFC 3986 §5.2.4)", () => {
  test.each([
    ["/a/./b", "/a/b"],
    ["/a/../b", "/b"],
    ["/a/b/..", "/a/"],
    ["/a/.", "/a/"],
  ])("%s → %s", (input, out) => expect(removeDotSegments(input)).toBe(out));
  test("climbing above the root is refused", () => {
    expect(removeDotSegments("/../etc/passwd")).toBeUndefined();
    expect(removeDotSegments("/a/../../b")).toBeUndefined();
  });
});

describe("config building", () => {
  const load = (text: string) => loadConfig({ text, file: "/t/test.conf", serverRoot: tempDir() });
  test("context errors use Apache's two wordings", () => {
    expect(() => load("<VirtualHost *:80>\nListen 80\n</VirtualHost>")).toThrow("Listen cannot occur within <VirtualHost> section");
    expect(() => load("<Location />\nListen 80\n</Location>")).toThrow("Listen not allowed in <Location> context");
    expect(() => load("AllowOverride None")).toThrow("AllowOverride not allowed here");
    expect(() => load("<Location />\n<Directory /x>\n</Directory>\n</Location>")).toThrow("<Directory> cannot occur within <Location> section");
    expect(() => load("<Else>\n</Else>")).toThrow("<Else> or <ElseIf> section without previous <If> or <ElseIf> section in same scope");
  });
  test("unknown module and two MPMs are refused", () => {
    expect(() => load("LoadModule nope_module modules/mod_nope.so")).toThrow(/no bundled module nope_module/);
    expect(() => load("LoadModule mpm_event_module x.so\nLoadModule mpm_prefork_module y.so")).toThrow(/More than one MPM loaded/);
  });
  test("a config with LoadModule lines enables only those (plus the static modules)", () => {
    expect(() => load("LoadModule mpm_event_module x.so\nHeader set X y")).toThrow(/Invalid command 'Header'/);
    const cfg = load("LoadModule headers_module x.so\nHeader set X y");
    expect(cfg.modules.map((m) => m.name)).toContain("headers");
    expect(cfg.modules.map((m) => m.name)).not.toContain("autoindex");
    expect(cfg.mpm).toBe("event");
  });
});

describe("the default MPM", () => {
  test("a config without LoadModule sees mpm_event in <IfModule>", () => {
    const cfg = loadConfig({
      text: "<IfModule mpm_event_module>\nStartServers 2\n</IfModule>\n<IfModule !mpm_event_module>\nBogus\n</IfModule>\n",
      file: "/t/test.conf",
      serverRoot: tempDir(),
    });
    expect(cfg.mpm).toBe("event");
    expect(cfg.tree.map((n) => n.name)).toEqual(["StartServers"]);
  });
});
