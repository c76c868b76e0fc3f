// mod_autoindex over real sockets: the listing as Apache 2.4 writes it, sorting, IndexIgnore, escaping.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { natCompare } from "../modules/autoindex/sort.ts";
import { strfsize, terminateDescription } from "../modules/autoindex/format.ts";
import { GLOB_CLASSES, GLOB_PERIOD, globMatch } from "../modules/autoindex/glob.ts";
import { expectConfigError, startTestServer, tempDir, useServer, writeTree } from "./helpers.ts";

const root = tempDir();
const docs = path.join(root, "htdocs");
const MTIME = new Date(2024, 4, 6, 7, 8, 9);
const two = (n: number) => String(n).padStart(2, "0");
/** The Last modified column for MTIME, computed here independently: local time, two spaces after. */
const DATE = `${MTIME.getFullYear()}-${two(MTIME.getMonth() + 1)}-${two(MTIME.getDate())} 07:08  `;

writeTree(root, {
  "htdocs/a.txt": "hello",
  "htdocs/big.bin": "x".repeat(2000),
  "htdocs/sub/inner.txt": "in",
  "htdocs/.htaccess": "# never listed",
  "htdocs/.htpasswd": "u:x",
  "htdocs/.hidden": "h",
  "htdocs/odd/<a>&b.txt": "1",
  "htdocs/odd/with space.txt": "1",
  "htdocs/odd/üñí.txt": "1",
  "htdocs/odd/a:b.txt": "1",
  'htdocs/odd/q"uote.txt': "1",
  "htdocs/sort/file9.txt": "12",
  "htdocs/sort/file10.txt": "1",
  "htdocs/sort/File2.txt": "1234",
  "htdocs/sort/zdir/x": "",
  "htdocs/sort/notes.md": "123",
  "htdocs/ign/keep.txt": "k",
  "htdocs/ign/skip.bak": "s",
  "htdocs/ign/old~": "o",
  "htdocs/ign/deep/keep.txt": "k",
  "htdocs/ign/deep/skip.log": "s",
  "htdocs/ign/deep/skip.bak": "s",
  "htdocs/ign/reset/skip.bak": "s",
  "htdocs/ign/reset/x.log": "s",
  "htdocs/closed/file.txt": "f",
  "htdocs/hdr/HEADER.html": "<h2>My header</h2>\n",
  "htdocs/hdr/README.txt": "read <me> & enjoy\n",
  "htdocs/hdr/file.txt": "f",
  "htdocs/acl/public.txt": "p",
  "htdocs/acl/secret.txt": "s",
  "htdocs/acl/private/x.txt": "x",
  "htdocs/links/target.txt": "t",
  "htdocs/links-ok/target.txt": "t",
  "htdocs/table/a.txt": "hello",
  "htdocs/table/sub/x": "",
  "htdocs/desc/a.txt": "hello",
  "htdocs/desc/page.html": "<html><head><title>\nMy Page</title></head></html>",
  "htdocs/icons/a.txt": "hello",
  "htdocs/icons/sub/x": "",
  "htdocs/plain/a.txt": "hello",
  "htdocs/sig/a.txt": "hello",
});
fs.symlinkSync(path.join(docs, "links/target.txt"), path.join(docs, "links/link.txt"));
fs.symlinkSync(path.join(docs, "links-ok/target.txt"), path.join(docs, "links-ok/link.txt"));
for (const p of walk(docs)) fs.lutimesSync(p, MTIME, MTIME);

function walk(dir: string): string[] {
  const out = [dir];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

const conf = `
ServerName localhost
DocumentRoot ${docs}
<Directory />
  Require all denied
</Directory>
<Directory ${docs}>
  Options Indexes FollowSymLinks
  Require all granted
</Directory>
<Directory ${docs}/ign>
  IndexIgnore *.bak *~
</Directory>
<Directory ${docs}/ign/deep>
  IndexIgnore *.log
</Directory>
<Directory ${docs}/ign/reset>
  IndexIgnoreReset On
  IndexIgnore *.log
</Directory>
<Directory ${docs}/closed>
  Options -Indexes
</Directory>
<Directory ${docs}/hdr>
  HeaderName HEADER.html
  ReadmeName README.txt
  IndexIgnore HEADER* README*
</Directory>
<Directory ${docs}/acl>
  <Files secret.txt>
    Require all denied
  </Files>
</Directory>
<Directory ${docs}/acl/private>
  Require all denied
</Directory>
<Directory ${docs}/links>
  Options Indexes
</Directory>
<Directory ${docs}/table>
  IndexOptions FancyIndexing HTMLTable FoldersFirst
</Directory>
<Directory ${docs}/desc>
  IndexOptions +ScanHTMLTitles
  AddDescription "The <b>letter</b> A &amp; a description that runs on and on" a.txt
</Directory>
<Directory ${docs}/icons>
  IndexOptions +IconsAreLinks
  AddIcon /icons/blank.gif ^^BLANKICON^^
  AddIcon (TXT,/icons/text.gif) .txt
  AddIcon /icons/folder.gif ^^DIRECTORY^^
  AddIcon /icons/back.gif ..
  DefaultIcon /icons/unknown.gif
</Directory>
<Directory ${docs}/plain>
  IndexOptions -FancyIndexing
</Directory>
<Directory ${docs}/sig>
  ServerSignature On
  IndexOptions Charset=ISO-8859-1 +SuppressLastModified
</Directory>
`;

const srv = useServer(conf, { root });

const get = (p: string, init: RequestInit = {}) => fetch(srv.url + p, { redirect: "manual", ...init });
async function page(p: string): Promise<string> {
  const res = await get(p);
  expect(res.status).toBe(200);
  return res.text();
}

const HEAD_EXTRA =
  '  <meta name="viewport" content="width=device-width, initial-scale=1">\n' +
  "  <style>body{margin:1em;font-family:system-ui,sans-serif}pre{overflow-x:auto}" +
  "table{border-collapse:collapse}th,td{padding:.1em .5em}" +
  "@media (max-width:40em){pre{font-size:.8em}}</style>\n";
const preamble = (title: string) =>
  '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">\n' +
  `<html>\n <head>\n  <title>Index of ${title}</title>\n${HEAD_EXTRA} </head>\n <body>\n` +
  `<h1>Index of ${title}</h1>\n`;
const columns = (name = "O=D", lm = "O=A", size = "O=A", desc = "O=A") =>
  `<pre>      <a href="?C=N;${name}">Name</a>                    <a href="?C=M;${lm}">Last modified</a>      ` +
  `<a href="?C=S;${size}">Size</a>  <a href="?C=D;${desc}">Description</a><hr>`;
/** One <pre> row, padded to the default NameWidth of 23 as Apache does. */
const row = (name: string, size: string, href = name, label = name) =>
  `      <a href="${href}">${label}</a>${" ".repeat(23 - name.length)} ${DATE}${size}  \n`;
const PARENT = `      <a href="/">Parent Directory</a>${" ".repeat(7 + 1 + 19)}  -   \n`;
const TAIL = "<hr></pre>\n</body></html>\n";

describe("the listing", () => {
  test("the root: FancyIndexing by default, Apache's <pre> layout, .ht* never listed", async () => {
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html;charset=UTF-8");
    const body = await res.text();
    expect(res.headers.get("content-length")).toBe(String(Buffer.byteLength(body)));
    // strcmp order, directories among files: "links-ok/" before "links/" as '-' < '/'
    const dir = (d: string) => row(`${d}/`, "  - ");
    expect(body).toBe(
      preamble("/") +
        columns() +
        row(".hidden", "  1 ") +
        row("a.txt", "  5 ") +
        dir("acl") +
        row("big.bin", "2.0K") +
        ["closed", "desc", "hdr", "icons", "ign", "links-ok", "links", "odd", "plain", "sig"]
          .concat(["sort", "sub", "table"])
          .map(dir)
          .join("") +
        TAIL,
    );
  });

  test("a subdirectory starts with the Parent Directory link", async () => {
    expect(await page("/sub/")).toBe(preamble("/sub") + columns() + PARENT + row("inner.txt", "  2 ") + TAIL);
  });

  test("HEAD: same headers and length, no body", async () => {
    const full = await page("/sub/");
    const res = await get("/sub/", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html;charset=UTF-8");
    expect(res.headers.get("content-length")).toBe(String(Buffer.byteLength(full)));
    expect(await res.text()).toBe("");
  });

  test("names are HTML-escaped and URL-encoded (lower-case hex, ./ before a colon)", async () => {
    const body = await page("/odd/");
    expect(body).toContain('<a href="%3ca%3e&amp;b.txt">&lt;a&gt;&amp;b.txt</a>');
    expect(body).toContain('<a href="with%20space.txt">with space.txt</a>');
    expect(body).toContain('<a href="%c3%bc%c3%b1%c3%ad.txt">üñí.txt</a>');
    expect(body).toContain('<a href="./a:b.txt">a:b.txt</a>');
    expect(body).toContain('<a href="q%22uote.txt">q&quot;uote.txt</a>');
    expect(body).not.toContain("<a>");
  });

  test("without Options Indexes: 403", async () => {
    const res = await get("/closed/");
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain("file.txt");
  });

  test("another method is not a listing", async () => {
    const res = await get("/sub/", { method: "POST" });
    expect(res.status).not.toBe(200);
    expect(await res.text()).not.toContain("inner.txt");
  });

  test("IndexOptions -FancyIndexing gives Apache's plain list", async () => {
    expect(await page("/plain/")).toBe(
      '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">\n' +
        `<html>\n <head>\n  <title>Index of /plain</title>\n${HEAD_EXTRA} </head>\n <body>\n` +
        "<h1>Index of /plain</h1>\n" +
        '<ul><li><a href="/"> Parent Directory</a></li>\n<li><a href="a.txt"> a.txt</a></li>\n</ul>\n' +
        "</body></html>\n",
    );
  });

  test("ServerSignature, Charset= and a suppressed column", async () => {
    const res = await get("/sig/");
    expect(res.headers.get("content-type")).toBe("text/html;charset=ISO-8859-1");
    const body = await res.text();
    expect(body).toContain('<a href="?C=N;O=D">Name</a>                    <a href="?C=S;O=A">Size</a>');
    expect(body).toContain(`<a href="a.txt">a.txt</a>${" ".repeat(18)} ${"  5 "}  \n`);
    const address = /<hr><\/pre>\n<address>mosaic\/[^<]* Server at [^ ]+ Port \d+<\/address>\n/;
    expect(body).toMatch(new RegExp(`${address.source}</body></html>\n$`));
  });
});

describe("sorting", () => {
  const names = (body: string) => [...body.matchAll(/<a href="([^"?]+)">/g)].map((m) => m[1]);
  const BY_NAME = ["/", "File2.txt", "file10.txt", "file9.txt", "notes.md", "zdir/"];

  test("by name, ascending then descending; the current column's link flips", async () => {
    const asc = await page("/sort/");
    expect(names(asc)).toEqual(BY_NAME);
    const desc = await page("/sort/?C=N;O=D");
    expect(names(desc)).toEqual(["/", "zdir/", "notes.md", "file9.txt", "file10.txt", "File2.txt"]);
    expect(desc).toContain(columns("O=A"));
  });

  test("by size (directories have none) and by date", async () => {
    const bySize = ["/", "File2.txt", "notes.md", "file9.txt", "file10.txt", "zdir/"];
    expect(names(await page("/sort/?C=S;O=D"))).toEqual(bySize);
    expect(await page("/sort/?C=S;O=A")).toContain(columns("O=A", "O=A", "O=D"));
    // equal dates fall back to the name
    expect(names(await page("/sort/?C=M;O=A"))).toEqual(BY_NAME);
  });

  test("V=1 sorts versions naturally; F=0 and F=2 switch the format; the links carry them", async () => {
    const v = await page("/sort/?V=1");
    expect(names(v)).toEqual(["/", "File2.txt", "file9.txt", "file10.txt", "notes.md", "zdir/"]);
    expect(v).toContain('<a href="?C=N;O=D;V=1">Name</a>');
    expect(await page("/sort/?F=0")).toContain('<ul><li><a href="/"> Parent Directory</a></li>');
    expect(await page("/sort/?F=2")).toContain('<th><a href="?C=N;O=D;F=2">Name</a></th>');
  });

  test("P= filters by wildcard (leading dots must match literally); a bad query is ignored", async () => {
    const p = await page("/sort/?P=file*");
    expect(names(p)).toEqual(["/", "file10.txt", "file9.txt"]);
    expect(p).toContain('<a href="?C=N;O=D;P=file*">Name</a>');
    expect(names(await page("/?P=*hid*"))).toEqual([]);
    expect(names(await page("/sort/?C=X;O=D"))).toEqual(BY_NAME);
    // an encoded "/" makes the pattern unusable rather than a path
    expect(names(await page("/sort/?P=..%2f*"))).toHaveLength(6);
  });
});

describe("IndexIgnore", () => {
  test("wildcards hide entries; a deeper section adds to the list", async () => {
    const ign = await page("/ign/");
    expect(ign).toContain('<a href="keep.txt">');
    expect(ign).toContain('<a href="deep/">');
    expect(ign).not.toContain("skip.bak");
    expect(ign).not.toContain("old~");
    const deep = await page("/ign/deep/");
    expect(deep).toContain('<a href="keep.txt">');
    expect(deep).not.toContain("skip.log");
    expect(deep).not.toContain("skip.bak");
  });

  test("IndexIgnoreReset On drops the inherited patterns", async () => {
    const body = await page("/ign/reset/");
    expect(body).toContain('<a href="skip.bak">');
    expect(body).not.toContain("x.log");
  });
});

describe("what is listed", () => {
  test("entries the access rules deny are hidden (as Apache's per-entry sub-request does)", async () => {
    const body = await page("/acl/");
    expect(body).toContain('<a href="public.txt">');
    expect(body).not.toContain("secret.txt");
    expect(body).not.toContain("private/");
  });

  test("symlinks show only where FollowSymLinks allows them", async () => {
    expect(await page("/links/")).not.toContain("link.txt");
    expect(await page("/links-ok/")).toContain('<a href="link.txt">link.txt</a>');
  });

  test("HeaderName (HTML) replaces the <h1>; ReadmeName (text, escaped) the signature", async () => {
    expect(await page("/hdr/")).toBe(
      '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">\n' +
        `<html>\n <head>\n  <title>Index of /hdr</title>\n${HEAD_EXTRA} </head>\n <body>\n` +
        "<h2>My header</h2>\n" +
        columns() +
        PARENT +
        row("file.txt", "  1 ") +
        "<hr></pre>\n<pre>\nread &lt;me&gt; &amp; enjoy\n</pre>\n</body></html>\n",
    );
  });
});

describe("IndexOptions", () => {
  test("HTMLTable with FoldersFirst", async () => {
    const body = await page("/table/");
    expect(body).toContain(
      "  <table>\n   <tr><th valign=\"top\">&nbsp;</th><th><a href=\"?C=N;O=D\">Name</a></th>" +
        '<th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th>' +
        '<th><a href="?C=D;O=A">Description</a></th></tr>\n   <tr><th colspan="5"><hr></th></tr>\n' +
        '<tr><td valign="top">&nbsp;</td><td><a href="/">Parent Directory</a>       </td><td>&nbsp;</td>' +
        '<td align="right">  - </td><td>&nbsp;</td></tr>\n' +
        '<tr><td valign="top">&nbsp;</td><td><a href="sub/">sub/</a>                   </td>' +
        `<td align="right">${DATE}</td>` +
        '<td align="right">  - </td><td>&nbsp;</td></tr>\n' +
        '<tr><td valign="top">&nbsp;</td><td><a href="a.txt">a.txt</a>                  </td>' +
        `<td align="right">${DATE}</td>` +
        '<td align="right">  5 </td><td>&nbsp;</td></tr>\n   <tr><th colspan="5"><hr></th></tr>\n</table>\n',
    );
  });

  test("AddDescription is cut to 23 visible characters ('>' last); ScanHTMLTitles", async () => {
    const body = await page("/desc/");
    const desc = "The <b>letter</b> A &amp; a descr>";
    expect(body).toContain(`<a href="a.txt">a.txt</a>${" ".repeat(18)} ${DATE}  5   ${desc}\n`);
    expect(body).toContain("My Page\n");
  });

  test("icons: AddIcon, ^^DIRECTORY^^, ^^BLANKICON^^, the parent's '..', IconsAreLinks", async () => {
    const body = await page("/icons/");
    expect(body).toContain('<pre><img src="/icons/blank.gif" alt="Icon "> <a href="?C=N;O=D">Name</a>');
    const linked = (href: string, src: string, alt: string, text: string) =>
      `<a href="${href}"><img src="${src}" alt="${alt}"></a> <a href="${href}">${text}</a>`;
    expect(body).toContain(linked("/", "/icons/back.gif", "[PARENTDIR]", "Parent Directory"));
    expect(body).toContain(linked("a.txt", "/icons/text.gif", "[TXT]", "a.txt"));
    expect(body).toContain(linked("sub/", "/icons/folder.gif", "[DIR]", "sub/"));
  });

  const errors: [string, string][] = [
    ["IndexOptions Bogus", "Invalid directory indexing option"],
    ["IndexOptions +None", "Cannot combine '+' or '-' with 'None' keyword"],
    ["IndexOptions None FancyIndexing", "Cannot combine other IndexOptions keywords with 'None'"],
    ["IndexOptions NameWidth=3", "NameWidth value must be greater than 5"],
    ["IndexOptions NameWidth", "NameWidth with no value may only appear as '-NameWidth'"],
    ["IndexOrderDefault Up Name", "First keyword must be 'Ascending' or 'Descending'"],
    ["IndexOrderDefault Ascending Color", "Second keyword must be 'Name', 'Date', 'Size', or 'Description'"],
    ["AddIcon (TXT,/x.gif .txt", "missing closing paren"],
  ];
  for (const [text, message] of errors) {
    test(`${text} → ${message}`, () => expectConfigError(text, message));
  }

  test("IndexOrderDefault, and IndexOptions naming options without +/- (no FancyIndexing)", async () => {
    const r = tempDir();
    writeTree(r, { "htdocs/d/a.txt": "1", "htdocs/d/b.txt": "22", "htdocs/e/a.txt": "1" });
    await using s = await startTestServer(
      `DocumentRoot ${r}/htdocs\n` +
        `<Directory ${r}/htdocs>\nOptions Indexes\nRequire all granted\n</Directory>\n` +
        `<Directory ${r}/htdocs/d>\nIndexOrderDefault Descending Size\n</Directory>\n` +
        `<Directory ${r}/htdocs/e>\nIndexOptions FoldersFirst\n</Directory>\n`,
      { root: r },
    );
    const d = await (await fetch(`${s.url}/d/`)).text();
    expect(d.indexOf('href="b.txt"')).toBeLessThan(d.indexOf('href="a.txt"'));
    expect(d).toContain('<a href="?C=S;O=A">Size</a>');
    const e = await (await fetch(`${s.url}/e/`)).text();
    expect(e).toContain('<ul><li><a href="/"> Parent Directory</a></li>');
  });
});

describe("helpers", () => {
  test("apr_strfsize", () => {
    expect([0, 5, 972, 973, 2000, 10239, 10240, 1048576, 5_000_000, 2 ** 40].map(strfsize)).toEqual([
      "  0 ",
      "  5 ",
      "972 ",
      "1.0K",
      "2.0K",
      " 10K",
      " 10K",
      "1.0M",
      "4.8M",
      "1.0T",
    ]);
  });

  test("apr_strnatcmp", () => {
    expect(natCompare("file9", "file10", false)).toBe(-1);
    expect(natCompare("file010", "file09", false)).toBe(-1);
    expect(natCompare("a 1", "a1", false)).toBe(0);
    expect(natCompare("ABC", "abd", true)).toBe(-1);
  });

  test("terminate_description counts tags as nothing and entities as one", () => {
    const long = "<b>Big</b> file here that has a long description";
    expect(terminateDescription(long, 23)).toBe("<b>Big</b> file here that has>");
    expect(terminateDescription("a&amp;b", 3)).toBe("a&amp;b");
    expect(terminateDescription("a&amp;bc", 3)).toBe("a&amp;>");
  });

  test("wildcards: *, ?, classes, FNM_PERIOD", () => {
    expect(globMatch("*.txt", "a.txt")).toBe(true);
    expect(globMatch("*~", "old~")).toBe(true);
    expect(globMatch(".??*", "..")).toBe(false);
    expect(globMatch("f[0-9]*", "f1x", GLOB_CLASSES)).toBe(true);
    expect(globMatch("f[!0-9]*", "f1x", GLOB_CLASSES)).toBe(false);
    expect(globMatch("*", ".hidden", GLOB_PERIOD)).toBe(false);
    expect(globMatch(`${"*a".repeat(20)}b`, "a".repeat(60))).toBe(false);
  });
});
