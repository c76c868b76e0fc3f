// mod_mime: the extension algorithm, config merging, TypesConfig, and the headers it leads to over sockets.
import { describe, expect, test } from "bun:test";
import path from "node:path";
import { createMimeDir, mergeMimeDir } from "../modules/mime/config.ts";
import type { MimeDir } from "../modules/mime/config.ts";
import { resolve, withCharset } from "../modules/mime/lookup.ts";
import { defaultTypes, parseTypes } from "../modules/mime/types.ts";
import { rawRequest, startTestServer, tempDir, writeTree } from "./helpers.ts";

const TYPES = parseTypes("# comment\ntext/html html htm\ntext/plain txt\napplication/gzip gz\nimage/PNG PNG\n");

function dir(ext: Record<string, object>, more: Partial<MimeDir> = {}): MimeDir {
  return { ...createMimeDir(), extensions: new Map(Object.entries(ext)), ...more };
}

describe("the extension algorithm (find_ct)", () => {
  test("mime.types parsing: comments skipped, extensions lower-cased, types kept", () => {
    expect(TYPES.get("htm")).toBe("text/html");
    expect(TYPES.get("png")).toBe("image/PNG");
    expect(TYPES.has("#")).toBe(false);
    const d = defaultTypes();
    expect([d.get("html"), d.get("css"), d.get("js"), d.get("png"), d.get("json"), d.get("wasm")]).toEqual([
      "text/html", "text/css", "text/javascript", "image/png", "application/json", "application/wasm",
    ]);
  });

  test("every extension counts, in any order, case-insensitively; the base name never does", () => {
    const d = dir({ en: { language: "en" }, fr: { language: "fr" }, gz: { encoding: "gzip" } });
    expect(resolve("index.html.en", d, TYPES)).toEqual({ type: "text/html", encoding: undefined, language: "en", handler: undefined });
    expect(resolve("index.en.HTML", d, TYPES).type).toBe("text/html");
    expect(resolve("a.fr.en.txt", d, TYPES).language).toBe("fr,en");
    expect(resolve("page.html.gz", d, TYPES)).toMatchObject({ type: "application/gzip", encoding: "gzip" });
    expect(resolve("html", d, TYPES).type).toBeUndefined();
    expect(resolve(".txt", d, TYPES).type).toBeUndefined();
    expect(resolve("..hidden.txt", d, TYPES).type).toBe("text/plain");
    expect(resolve("bad..html", d, TYPES).type).toBe("text/html");
    expect(resolve("txt.unknown", d, TYPES).type).toBeUndefined();
  });

  test("AddType beats TypesConfig, RemoveType hides both, charsets join or replace the type's", () => {
    const d = dir({ txt: { type: "text/x-mine" }, html: { type: "" }, utf8: { charset: "utf-8" } });
    expect(resolve("a.txt", d, TYPES).type).toBe("text/x-mine");
    expect(resolve("a.html", d, TYPES).type).toBeUndefined();
    expect(resolve("a.htm.utf8", d, TYPES).type).toBe("text/html; charset=utf-8");
    expect(withCharset("text/html;charset=iso-8859-2 ; q=1", "utf-8")).toBe("text/html; charset=utf-8; q=1");
    expect(withCharset("text/html; level=1", undefined)).toBe("text/html; level=1");
  });

  test("handlers and encodings from every extension; DefaultLanguage only without a language", () => {
    const d = dir({ php: { handler: "x-httpd-php" }, gz: { encoding: "gzip" }, z: { encoding: "compress" } }, { defaultLanguage: "de" });
    expect(resolve("a.php.txt", d, TYPES)).toEqual({ type: "text/plain", encoding: undefined, language: "de", handler: "x-httpd-php" });
    expect(resolve("a.txt.gz.z", d, TYPES).encoding).toBe("gzip, compress");
  });

  test("merging: a deeper AddType keeps an inherited AddHandler; Remove* clear inherited fields", () => {
    const base = dir({ cgi: { handler: "cgi-script", type: "text/x-cgi" }, en: { language: "en" } });
    const add = { ...dir({ cgi: { type: "text/plain" } }), removals: [{ ext: "en", field: "language" as const }] };
    const merged = mergeMimeDir(base, add);
    expect(merged.extensions!.get("cgi")).toEqual({ handler: "cgi-script", type: "text/plain" });
    expect(merged.extensions!.get("en")).toEqual({});
    expect(base.extensions!.get("en")).toEqual({ language: "en" });
    expect(add.extensions!.get("cgi")).toEqual({ type: "text/plain" });
    const removeHandler = { ...createMimeDir(), removals: [{ ext: "cgi", field: "handler" as const }] };
    expect(mergeMimeDir(merged, removeHandler).extensions!.get("cgi")).toEqual({ type: "text/plain" });
  });
});

describe("mod_mime over sockets", () => {
  async function serve(extra: string, files: Record<string, string>) {
    const root = tempDir();
    writeTree(root, files);
    const docs = path.join(root, "htdocs");
    const srv = await startTestServer(`DocumentRoot ${docs}\n<Directory ${docs}>\n  Require all granted\n</Directory>\n${extra.replaceAll("DOCS", docs)}`, { root });
    const get = async (target: string) => {
      const raw = await rawRequest(srv.port, `GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      const end = raw.indexOf("\r\n\r\n");
      const headers = new Map<string, string>();
      for (const l of raw.slice(0, end).split("\r\n").slice(1)) {
        const c = l.indexOf(":");
        headers.set(l.slice(0, c).toLowerCase(), l.slice(c + 1).trim());
      }
      return { status: Number(raw.slice(9, 12)), headers, body: raw.slice(end + 4) };
    };
    return { srv, docs, root, get };
  }

  test("AddType, AddCharset, AddEncoding, AddLanguage", async () => {
    const t = await serve(
      `AddType application/x-thing .thing\nAddType "text/html; charset=ISO-8859-2" .h2\nAddCharset UTF-8 .utf8\n` +
        `AddEncoding x-gzip .gz\nAddLanguage en .en\nAddLanguage fr .fr\n`,
      {
        "htdocs/a.thing": "1", "htdocs/q.utf8.txt": "2", "htdocs/q.h2": "3", "htdocs/q.h2.utf8": "4",
        "htdocs/x.html.gz": "5", "htdocs/page.fr.en.html": "6",
      },
    );
    await using _ = t.srv;
    expect((await t.get("/a.thing")).headers.get("content-type")).toBe("application/x-thing");
    expect((await t.get("/q.utf8.txt")).headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect((await t.get("/q.h2")).headers.get("content-type")).toBe("text/html; charset=iso-8859-2");
    expect((await t.get("/q.h2.utf8")).headers.get("content-type")).toBe("text/html; charset=utf-8");
    const gz = await t.get("/x.html.gz");
    expect([gz.headers.get("content-type"), gz.headers.get("content-encoding"), gz.body]).toEqual(["application/gzip", "x-gzip", "5"]);
    const page = await t.get("/page.fr.en.html");
    expect([page.headers.get("content-type"), page.headers.get("content-language")]).toEqual(["text/html", "fr,en"]);
    expect((await t.get("/a.thing")).headers.has("content-language")).toBe(false);
  });

  test("DefaultLanguage applies in its section to files without a language extension", async () => {
    const t = await serve("AddLanguage fr .fr\n<Directory DOCS/de>\n  DefaultLanguage de\n</Directory>\n", {});
    await using _ = t.srv;
    writeTree(t.docs, { "de/a.txt": "7", "de/b.fr.txt": "8", "c.txt": "9" });
    expect((await t.get("/de/a.txt")).headers.get("content-language")).toBe("de");
    expect((await t.get("/de/b.fr.txt")).headers.get("content-language")).toBe("fr");
    expect((await t.get("/c.txt")).headers.has("content-language")).toBe(false);
  });

  test("AddHandler sets the handler; SetHandler overrides it; an unclaimed handler serves the file", async () => {
    const t = await serve(`AddHandler welcome-page .html\nAddHandler no-such-handler .txt\n<Directory DOCS/plain>\n  SetHandler None\n</Directory>\n`, {
      "htdocs/index.html": "my own index", "htdocs/plain/index.html": "plain index", "htdocs/a.txt": "text",
    });
    await using _ = t.srv;
    const welcome = await t.get("/index.html");
    expect(welcome.status).toBe(200);
    expect(welcome.body).not.toBe("my own index");
    expect((await t.get("/a.txt")).body).toBe("text");
    expect((await t.get("/plain/index.html")).body).toBe("plain index");
  });

  test("per-directory mappings: RemoveType, RemoveHandler, AddType overrides below", async () => {
    const t = await serve(
      `AddHandler welcome-page .html\n<Directory DOCS/sub>\n  RemoveType .txt\n  RemoveHandler .html\n  AddType text/x-special .css\n</Directory>\n`,
      { "htdocs/a.txt": "a", "htdocs/sub/a.txt": "b", "htdocs/sub/index.html": "sub index", "htdocs/sub/s.css": "c", "htdocs/s.css": "d" },
    );
    await using _ = t.srv;
    expect((await t.get("/a.txt")).headers.get("content-type")).toBe("text/plain");
    expect((await t.get("/sub/a.txt")).headers.has("content-type")).toBe(false);
    const index = await t.get("/sub/index.html");
    expect([index.body, index.headers.get("content-type")]).toEqual(["sub index", "text/html"]);
    expect((await t.get("/sub/s.css")).headers.get("content-type")).toBe("text/x-special");
    expect((await t.get("/s.css")).headers.get("content-type")).toBe("text/css");
  });

  test("ForceType (core) overrides the extension's type; directories get no type", async () => {
    const t = await serve(`<Directory DOCS/forced>\n  ForceType image/gif\n</Directory>\n`, {
      "htdocs/forced/a.txt": "gif?", "htdocs/d/x": "x",
    });
    await using _ = t.srv;
    expect((await t.get("/forced/a.txt")).headers.get("content-type")).toBe("image/gif");
    const d = await t.get("/d/");
    expect(d.status).toBe(403);
    expect(d.headers.get("content-type")).toBe("text/html; charset=iso-8859-1");
  });

  test("ModMimeUsePathInfo types by the path info's extension", async () => {
    const t = await serve(`<Directory DOCS/p>\n  AcceptPathInfo On\n  ModMimeUsePathInfo On\n</Directory>\n`, { "htdocs/p/script": "s" });
    await using _ = t.srv;
    expect((await t.get("/p/script/x.html")).headers.get("content-type")).toBe("text/html");
  });

  test("TypesConfig reads a mime.types file; a missing one refuses to start (AH01596)", async () => {
    const root = tempDir();
    writeTree(root, { "conf/my.types": "# mine\nfoo/bar txt html\n", "htdocs/a.txt": "x" });
    await using srv = await startTestServer(`DocumentRoot ${root}/htdocs\nTypesConfig conf/my.types\n`, { root });
    const raw = await rawRequest(srv.port, "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(raw).toContain("\r\nContent-Type: foo/bar\r\n");
    await expect(startTestServer(`DocumentRoot ${root}/htdocs\nTypesConfig conf/missing.types\n`, { root })).rejects.toThrow(
      `AH01596: could not open mime types config file ${root}/conf/missing.types.`,
    );
  });
});
