// The default handler over real sockets: validators, conditionals (RFC 9110 §13), ranges (§14), methods.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { flushLogs } from "../src/log/error-log.ts";
import { rawRequest, startTestServer, tempDir, writeTree } from "./helpers.ts";
import type { TestServer } from "./helpers.ts";

interface Reply {
  status: number;
  /** Lower-cased header names in wire order, and their values. */
  names: string[];
  headers: Map<string, string>;
  body: string;
}

function parse(raw: string): Reply {
  const end = raw.indexOf("\r\n\r\n");
  const lines = raw.slice(0, end).split("\r\n");
  const headers = new Map<string, string>();
  const names: string[] = [];
  for (const l of lines.slice(1)) {
    const c = l.indexOf(":");
    const name = l.slice(0, c).toLowerCase();
    names.push(name);
    headers.set(name, l.slice(c + 1).trim());
  }
  return { status: Number(lines[0]!.split(" ")[1]), names, headers, body: raw.slice(end + 4) };
}

let srv: TestServer;
let root: string;
let docs: string;

async function send(target: string, headers: Record<string, string> = {}, method = "GET"): Promise<Reply> {
  let h = "";
  for (const [k, v] of Object.entries(headers)) h += `${k}: ${v}\r\n`;
  return parse(await rawRequest(srv.port, `${method} ${target} HTTP/1.1\r\nHost: localhost\r\n${h}Connection: close\r\n\r\n`));
}

/** Apache's default ETag (FileETag MTime Size): "size-mtime" in hex, mtime in microseconds. */
function etagFor(rel: string): string {
  const st = fs.statSync(path.join(docs, rel), { bigint: true });
  return `"${st.size.toString(16)}-${(st.mtimeNs / 1000n).toString(16)}"`;
}

const TEXT = "hello world, this is a text file with some bytes in it.\n";
const OLD = new Date("2020-01-01T00:00:00.123Z");
const LM = "Wed, 01 Jan 2020 00:00:00 GMT";
const big = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 255));
const BIG = big(300 * 1024);
const HUGE = big(2_600_000);

beforeAll(async () => {
  root = tempDir();
  docs = path.join(root, "htdocs");
  writeTree(root, {
    "htdocs/a.txt": TEXT,
    "htdocs/empty.txt": "",
    "htdocs/noext": "abc",
    "htdocs/big.txt": BIG,
    "htdocs/big.bin": BIG,
    "htdocs/huge.bin": HUGE,
    "htdocs/sub/keep.txt": "x",
    "htdocs/pi/x.txt": "path info",
    "htdocs/none/f.txt": TEXT,
    "htdocs/all/f.txt": TEXT,
    "htdocs/digest/f.txt": TEXT,
    "htdocs/cs/f.txt": TEXT,
    "htdocs/cs/f.png": "png",
    "htdocs/nolink/real.txt": "real",
  });
  for (const f of ["a.txt", "empty.txt", "noext", "big.txt", "big.bin", "huge.bin", "none/f.txt", "all/f.txt", "digest/f.txt"]) {
    fs.utimesSync(path.join(docs, f), OLD, OLD);
  }
  fs.symlinkSync(path.join(docs, "a.txt"), path.join(docs, "link.txt"));
  fs.symlinkSync(path.join(docs, "a.txt"), path.join(docs, "nolink/link.txt"));
  srv = await startTestServer(
    `ServerName localhost
DocumentRoot ${docs}
ErrorLog ${root}/error.log
LogLevel info
<Directory ${docs}>
  Require all granted
</Directory>
<Directory ${docs}/pi>
  AcceptPathInfo On
</Directory>
<Directory ${docs}/none>
  FileETag None
</Directory>
<Directory ${docs}/all>
  FileETag All
</Directory>
<Directory ${docs}/digest>
  FileETag Digest
</Directory>
<Directory ${docs}/cs>
  AddDefaultCharset utf-8
</Directory>
<Directory ${docs}/nolink>
  Options -FollowSymLinks
</Directory>
`,
    { root },
  );
});

afterAll(async () => {
  await srv[Symbol.asyncDispose]();
});

describe("GET and HEAD", () => {
  test("a small file carries Apache's validators and entity headers", async () => {
    const r = await send("/a.txt");
    expect(r.status).toBe(200);
    expect(r.headers.get("last-modified")).toBe(LM);
    expect(r.headers.get("etag")).toBe(etagFor("a.txt"));
    expect(r.headers.get("accept-ranges")).toBe("bytes");
    expect(r.headers.get("content-length")).toBe("56");
    expect(r.headers.get("content-type")).toBe("text/plain");
    expect(r.headers.has("content-disposition")).toBe(false);
    expect(r.body).toBe(TEXT);
  });

  test("HEAD over raw TCP: the same headers, Content-Length included, and no body", async () => {
    const get = await send("/a.txt");
    const head = await send("/a.txt", {}, "HEAD");
    expect(head.status).toBe(200);
    for (const h of ["last-modified", "etag", "accept-ranges", "content-length", "content-type"]) {
      expect(head.headers.get(h)).toBe(get.headers.get(h)!);
    }
    expect(head.body).toBe("");
    const big = await send("/big.bin", {}, "HEAD");
    expect(big.headers.get("content-length")).toBe(String(BIG.length));
    expect(big.body).toBe("");
  });

  test("a file modified within the last second gets a weak ETag", async () => {
    fs.writeFileSync(path.join(docs, "fresh.txt"), "fresh\n");
    const r = await send("/fresh.txt");
    expect(r.headers.get("etag")).toBe(`W/${etagFor("fresh.txt")}`);
  });

  test("an empty file is 200 with Content-Length 0, and a Range on it is ignored", async () => {
    for (const h of [{}, { Range: "bytes=0-5" }] as Record<string, string>[]) {
      const r = await send("/empty.txt", h);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-length")).toBe("0");
      expect(r.body).toBe("");
    }
  });

  test("a file of unknown type has no Content-Type (DefaultType none)", async () => {
    const r = await send("/noext");
    expect(r.status).toBe(200);
    expect(r.headers.has("content-type")).toBe(false);
    expect(r.body).toBe("abc");
  });

  test("large files stream with Apache's headers only (no content-disposition)", async () => {
    for (const [name, type] of [["big.txt", "text/plain"], ["big.bin", "application/octet-stream"]] as const) {
      const r = await send(`/${name}`);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe(type);
      expect(r.headers.get("content-length")).toBe(String(BIG.length));
      expect(r.headers.get("etag")).toBe(etagFor(name));
      expect(r.headers.has("content-disposition")).toBe(false);
      expect(Buffer.from(r.body, "latin1").equals(BIG)).toBe(true);
    }
    const res = await fetch(`${srv.url}/huge.bin`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.has("content-disposition")).toBe(false);
    expect(Buffer.from(await res.arrayBuffer()).equals(HUGE)).toBe(true);
  });

  test("the cache notices a file changed on disk: new content and a new ETag", async () => {
    const f = path.join(docs, "changing.txt");
    fs.writeFileSync(f, "version one\n");
    fs.utimesSync(f, OLD, OLD);
    const one = await send("/changing.txt");
    expect(one.body).toBe("version one\n");
    fs.writeFileSync(f, "version two, longer\n");
    fs.utimesSync(f, OLD, OLD);
    const two = await send("/changing.txt");
    expect(two.body).toBe("version two, longer\n");
    expect(two.headers.get("etag")).toBe(etagFor("changing.txt"));
    expect(two.headers.get("etag")).not.toBe(one.headers.get("etag")!);
    // same size, new mtime
    fs.writeFileSync(f, "version 3, longer!!\n");
    const three = await send("/changing.txt");
    expect(three.body).toBe("version 3, longer!!\n");
    expect(three.headers.get("etag")).toBe(`W/${etagFor("changing.txt")}`);
  });

  test("a missing file is 404, a path_info tail is 404 unless AcceptPathInfo On", async () => {
    expect((await send("/nope.txt")).status).toBe(404);
    expect((await send("/a.txt/extra")).status).toBe(404);
    const r = await send("/pi/x.txt/extra/info");
    expect(r.status).toBe(200);
    expect(r.body).toBe("path info");
  });

  test("a directory nothing else handled is 403 with mod_autoindex's AH01276", async () => {
    expect((await send("/sub/")).status).toBe(403);
    await flushLogs();
    const log = fs.readFileSync(path.join(root, "error.log"), "utf8");
    // the index names come from mod_dir's dir-index-names note ("none" without mod_dir)
    expect(log).toMatch(
      new RegExp(
        `AH01276: Cannot serve directory ${docs}/sub/: No matching DirectoryIndex \\((none|index\\.html)\\) ` +
          "found, and server-generated directory index forbidden by Options directive",
      ),
    );
  });

  test("a file dated in the future is announced as modified now; a FIFO is refused, not opened", async () => {
    const f = path.join(docs, "future.txt");
    fs.writeFileSync(f, "future");
    const later = new Date(Date.now() + 86_400_000);
    fs.utimesSync(f, later, later);
    const r = await send("/future.txt");
    const lm = Date.parse(r.headers.get("last-modified")!);
    expect(Math.abs(lm - Date.parse(r.headers.get("date")!))).toBeLessThanOrEqual(1000);
    expect(r.headers.get("etag")).toStartWith("W/");
    Bun.spawnSync(["mkfifo", path.join(docs, "pipe.txt")]);
    expect((await send("/pipe.txt")).status).toBe(403);
  });

  test("symbolic links follow Options FollowSymLinks", async () => {
    expect((await send("/link.txt")).body).toBe(TEXT);
    expect((await send("/nolink/real.txt")).status).toBe(200);
    expect((await send("/nolink/link.txt")).status).toBe(403);
  });
});

describe("methods", () => {
  test("OPTIONS is 200 with the Allow list and an empty body", async () => {
    const r = await send("/a.txt", {}, "OPTIONS");
    expect(r.status).toBe(200);
    expect(r.headers.get("allow")).toBe("GET,POST,OPTIONS,HEAD,TRACE");
    expect(r.headers.get("content-length")).toBe("0");
    expect(r.body).toBe("");
  });

  test("other methods are 405 with Allow (TRACE only while TraceEnable is on)", async () => {
    for (const m of ["PUT", "DELETE", "PATCH"]) {
      const r = await send("/a.txt", { "Content-Length": "0" }, m);
      expect(r.status).toBe(405);
      expect(r.headers.get("allow")).toBe("GET,POST,OPTIONS,HEAD,TRACE");
    }
    await using off = await startTestServer(`DocumentRoot ${docs}\nTraceEnable Off\n`, { root });
    const raw = await rawRequest(off.port, "DELETE /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(parse(raw).status).toBe(405);
    expect(parse(raw).headers.get("allow")).toBe("GET,POST,OPTIONS,HEAD");
  });

  test("POST gets the file, as Apache 2.4.71's default handler answers it", async () => {
    const r = await send("/a.txt", { "Content-Length": "0" }, "POST");
    expect(r.status).toBe(200);
    expect(r.body).toBe(TEXT);
  });
});

describe("FileETag and AddDefaultCharset", () => {
  test("FileETag None sends no ETag; If-None-Match * still matches, If-Match a tag fails", async () => {
    const r = await send("/none/f.txt");
    expect(r.headers.has("etag")).toBe(false);
    expect((await send("/none/f.txt", { "If-None-Match": "*" })).status).toBe(304);
    expect((await send("/none/f.txt", { "If-Match": "*" })).status).toBe(200);
    expect((await send("/none/f.txt", { "If-Match": '"x"' })).status).toBe(412);
  });

  test("FileETag All is inode-size-mtime; Digest is a base64 SHA-1", async () => {
    const st = fs.statSync(path.join(docs, "all/f.txt"), { bigint: true });
    const all = `"${st.ino.toString(16)}-${st.size.toString(16)}-${(st.mtimeNs / 1000n).toString(16)}"`;
    expect((await send("/all/f.txt")).headers.get("etag")).toBe(all);
    const sha = createHash("sha1").update(TEXT).digest("base64");
    expect((await send("/digest/f.txt")).headers.get("etag")).toBe(`"${sha}"`);
  });

  test("AddDefaultCharset applies to text/plain and text/html only", async () => {
    expect((await send("/cs/f.txt")).headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect((await send("/cs/f.png")).headers.get("content-type")).toBe("image/png");
  });
});

describe("conditional requests", () => {
  const cond = async (h: Record<string, string>, method = "GET") => send("/a.txt", h, method);

  test("If-None-Match with the ETag (strong, weak, in a list) is 304 with validators only", async () => {
    const tag = etagFor("a.txt");
    for (const v of [tag, `W/${tag}`, `"zz", ${tag}`]) {
      const r = await cond({ "If-None-Match": v });
      expect(r.status).toBe(304);
      expect(r.names).toEqual(expect.arrayContaining(["etag", "last-modified", "accept-ranges"]));
      expect(r.headers.has("content-length")).toBe(false);
      expect(r.headers.has("content-type")).toBe(false);
      expect(r.body).toBe("");
    }
    expect((await cond({ "If-None-Match": "*" })).status).toBe(304);
    expect((await cond({ "If-None-Match": '"other"' })).status).toBe(200);
    expect((await cond({ "If-None-Match": tag }, "HEAD")).status).toBe(304);
  });

  test("If-None-Match matching on POST is 412 with every header and an empty body", async () => {
    const r = await cond({ "If-None-Match": etagFor("a.txt"), "Content-Length": "0" }, "POST");
    expect(r.status).toBe(412);
    expect(r.headers.get("content-length")).toBe("0");
    expect(r.headers.get("content-type")).toBe("text/plain");
    expect(r.headers.get("etag")).toBe(etagFor("a.txt"));
    expect(r.body).toBe("");
  });

  test("If-Match compares strongly", async () => {
    const tag = etagFor("a.txt");
    expect((await cond({ "If-Match": tag })).status).toBe(200);
    expect((await cond({ "If-Match": `"a", ${tag}` })).status).toBe(200);
    expect((await cond({ "If-Match": "*" })).status).toBe(200);
    expect((await cond({ "If-Match": `W/${tag}` })).status).toBe(412);
    const r = await cond({ "If-Match": '"zz"' });
    expect(r.status).toBe(412);
    expect(r.body).toBe("");
  });

  test("If-Modified-Since in all three date forms; future or invalid dates are ignored", async () => {
    expect((await cond({ "If-Modified-Since": LM })).status).toBe(304);
    expect((await cond({ "If-Modified-Since": "Wednesday, 01-Jan-20 00:00:00 GMT" })).status).toBe(304);
    expect((await cond({ "If-Modified-Since": "Wed Jan  1 00:00:00 2020" })).status).toBe(304);
    expect((await cond({ "If-Modified-Since": "Tue, 31 Dec 2019 23:59:59 GMT" })).status).toBe(200);
    expect((await cond({ "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT" })).status).toBe(200);
    expect((await cond({ "If-Modified-Since": "yesterday" })).status).toBe(200);
    expect((await cond({ "If-Modified-Since": LM }, "POST")).status).toBe(200);
  });

  test("If-Unmodified-Since", async () => {
    expect((await cond({ "If-Unmodified-Since": "Tue, 31 Dec 2019 23:59:59 GMT" })).status).toBe(412);
    expect((await cond({ "If-Unmodified-Since": LM })).status).toBe(200);
    expect((await cond({ "If-Unmodified-Since": "nonsense" })).status).toBe(200);
  });

  test("RFC 9110 §13.2.2 precedence: If-None-Match overrides If-Modified-Since, If-Match overrides IUS", async () => {
    const tag = etagFor("a.txt");
    expect((await cond({ "If-None-Match": '"other"', "If-Modified-Since": LM })).status).toBe(200);
    expect((await cond({ "If-None-Match": tag, "If-Modified-Since": "Tue, 31 Dec 2019 23:59:59 GMT" })).status).toBe(304);
    expect((await cond({ "If-Match": tag, "If-Unmodified-Since": "Tue, 31 Dec 2019 23:59:59 GMT" })).status).toBe(200);
    expect((await cond({ "If-Match": '"x"', "If-None-Match": tag })).status).toBe(412);
  });
});

describe("ranges", () => {
  const range = async (v: string, extra: Record<string, string> = {}, file = "/a.txt") =>
    send(file, { Range: v, ...extra });

  test("single ranges: first-last, suffix, open-ended, clipped, 0-", async () => {
    const cases: [string, number, number][] = [
      ["bytes=0-4", 0, 4],
      ["bytes=-5", 51, 55],
      ["bytes=50-", 50, 55],
      ["bytes=50-100", 50, 55],
      ["bytes=0-", 0, 55],
      ["Bytes=0-1", 0, 1],
      ["bytes=0-4,3-14", 0, 14],
      ["bytes=0-5,6-10", 0, 10],
      ["bytes=1-2,", 1, 2],
    ];
    for (const [v, s, e] of cases) {
      const r = await range(v);
      expect(r.status).toBe(206);
      expect(r.headers.get("content-range")).toBe(`bytes ${s}-${e}/56`);
      expect(r.headers.get("content-length")).toBe(String(e - s + 1));
      expect(r.headers.get("content-type")).toBe("text/plain");
      expect(r.body).toBe(TEXT.slice(s, e + 1));
    }
  });

  test("several ranges: multipart/byteranges in Apache's exact layout", async () => {
    const r = await range("bytes=0-4,10-14");
    expect(r.status).toBe(206);
    const ct = r.headers.get("content-type")!;
    const m = /^multipart\/byteranges; boundary=([0-9a-f]{16})$/.exec(ct);
    expect(m).not.toBeNull();
    const b = m![1];
    const want =
      `\r\n--${b}\r\nContent-type: text/plain\r\nContent-range: bytes 0-4/56\r\n\r\nhello` +
      `\r\n--${b}\r\nContent-type: text/plain\r\nContent-range: bytes 10-14/56\r\n\r\nd, th` +
      `\r\n--${b}--\r\n`;
    expect(r.body).toBe(want);
    expect(r.headers.get("content-length")).toBe("194");
    const head = await send("/a.txt", { Range: "bytes=0-4,10-14" }, "HEAD");
    expect(head.headers.get("content-length")).toBe("194");
    expect(head.body).toBe("");
    const legacy = await send("/a.txt", { "Request-Range": "bytes=0-1,4-5" });
    expect(legacy.headers.get("content-type")).toStartWith("multipart/x-byteranges; boundary=");
  });

  test("an unsatisfiable range is 416 with Content-Range: bytes */size", async () => {
    const r = await range("bytes=100-200");
    expect(r.status).toBe(416);
    expect(r.headers.get("content-range")).toBe("bytes */56");
    expect(r.headers.has("etag")).toBe(false);
  });

  test("malformed or excessive Range headers are ignored (200, whole file)", async () => {
    const bad = ["bytes=abc", "bytes=5-1", "bytes=-0", "bytes=+1-2", "bytes = 0-1", "items=0-1", "bytes=,1-2", "bytes=5-6, 1-2"];
    const many = Array.from({ length: 201 }, (_, i) => `${i * 100}-${i * 100 + 1}`).join(",");
    const overlaps = Array.from({ length: 22 }, (_, i) => `0-${i + 1}`).join(",");
    for (const v of [...bad, "bytes=0-40,50-55,0-40"]) {
      const r = await range(v);
      expect([v, r.status]).toEqual([v, 200]);
      expect(r.body).toBe(TEXT);
    }
    expect((await range(`bytes=${many}`, {}, "/big.bin")).status).toBe(200);
    expect((await range(`bytes=${many.split(",").slice(0, 200).join(",")}`, {}, "/big.bin")).status).toBe(206);
    expect((await range(`bytes=${overlaps}`, {}, "/big.bin")).status).toBe(200);
  });

  test("If-Range: a matching ETag or date keeps the range, anything else sends everything", async () => {
    const tag = etagFor("a.txt");
    expect((await range("bytes=0-3", { "If-Range": tag })).status).toBe(206);
    expect((await range("bytes=0-3", { "If-Range": LM })).status).toBe(206);
    for (const v of ['"stale"', `W/${tag}`, "Tue, 31 Dec 2019 23:59:59 GMT"]) {
      const r = await range("bytes=0-3", { "If-Range": v });
      expect(r.status).toBe(200);
      expect(r.body).toBe(TEXT);
    }
  });

  test("ranges of large files: our slices, never Bun's own range handling", async () => {
    for (const file of ["/big.txt", "/big.bin"]) {
      const r = await range("bytes=1000-1999", {}, file);
      expect(r.status).toBe(206);
      expect(r.headers.get("content-range")).toBe(`bytes 1000-1999/${BIG.length}`);
      expect(r.headers.has("content-disposition")).toBe(false);
      expect(Buffer.from(r.body, "latin1").equals(BIG.subarray(1000, 2000))).toBe(true);
      const stale = await range("bytes=0-9", { "If-Range": '"stale"' }, file);
      expect(stale.status).toBe(200);
      expect(Buffer.from(stale.body, "latin1").equals(BIG)).toBe(true);
      const multi = await range("bytes=0-1,-2", {}, file);
      expect(multi.status).toBe(206);
      expect(multi.body).toContain(`Content-range: bytes ${BIG.length - 2}-${BIG.length - 1}/${BIG.length}`);
    }
    const tail = await fetch(`${srv.url}/huge.bin`, { headers: { Range: "bytes=100000-" } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(HUGE.subarray(100000))).toBe(true);
  });
});
