// autoindex: server-generated directory listings (Apache's mod_autoindex).
import core from "../core/index.ts";
import { OPT } from "../core/config.ts";
import { DIR_MAGIC_TYPE, INDEX_NAMES_NOTE } from "../dir/index.ts";
import { escapePath } from "../../src/http/url.ts";
import { escapeHtml, HttpError } from "../../src/http/errors.ts";
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { DECLINED, defineModule } from "../../src/module.ts";
import type { HookResult, Module } from "../../src/module.ts";
import { createAutoindexDir, effectiveOptions, IO, mergeAutoindexDir } from "./config.ts";
import type { AutoindexDir } from "./config.ts";
import { autoindexDirectives } from "./directives.ts";
import { readEntries } from "./entries.ts";
import type { Entry } from "./entries.ts";
import { emitHead, emitTail } from "./page.ts";
import { renderListing } from "./render.ts";
import { sortEntries } from "./sort.ts";

/**
 * mod_autoindex. Lists a directory that has no DirectoryIndex when `Options Indexes` allows it;
 * otherwise answers 403 (AH01276) so a directory never falls through to the file handler.
 * @example IndexOptions FancyIndexing HTMLTable FoldersFirst VersionSort
 */
const autoindex: Module<undefined, AutoindexDir> = defineModule<undefined, AutoindexDir>({
  name: "autoindex",
  description: "Generates directory listings (IndexOptions, IndexIgnore, HeaderName, ReadmeName)",
  directives: autoindexDirectives,
  createDirConfig: createAutoindexDir,
  mergeDirConfig: mergeAutoindexDir,
  hooks: { handler: handleAutoindex },
});
export default autoindex;

function handleAutoindex(r: Request): HookResult | Promise<HookResult> {
  const h = r.handler;
  if (h !== undefined && h !== DIR_MAGIC_TYPE && h !== "default-handler") return DECLINED;
  if (!r.finfo?.isDirectory()) return DECLINED;
  // HEAD is a GET without the body; any other method is not ours (handle_autoindex)
  if (r.method !== "GET" && r.method !== "HEAD") return DECLINED;
  if (!(core.dirConf(r).options & OPT.Indexes)) {
    const tried = r.notes.get(INDEX_NAMES_NOTE) ?? "none";
    logError(
      r,
      "error",
      "autoindex",
      `AH01276: Cannot serve directory ${r.filename}: No matching DirectoryIndex (${tried}) found, ` +
        "and server-generated directory index forbidden by Options directive",
    );
    throw new HttpError(403);
  }
  return indexDirectory(r, autoindex.dirConf(r));
}

interface Query {
  key: string;
  direction: string;
  opts: number;
  pattern: string | undefined;
  colargs: string;
}

/** Reads C=, O=, F=, V= and P= as Apache does: each must be well-formed, the first bad one ends it. */
function parseQuery(q: string, s: Query): void {
  let fval = "";
  let vval = "";
  let pval = "";
  let i = 0;
  while (i < q.length) {
    const c0 = q[i];
    const c2 = q[i + 2] ?? "";
    const end = i + 3 >= q.length || q[i + 3] === "&" || q[i + 3] === ";";
    const next = i + 3 >= q.length ? q.length : i + 4;
    if (q[i + 1] !== "=") break;
    if (c0 === "C" && c2 && "NMSD".includes(c2) && end) s.key = c2;
    else if (c0 === "O" && (c2 === "A" || c2 === "D") && end) s.direction = c2;
    else if (c0 === "F" && c2 && "012".includes(c2) && end) {
      if (c2 === "0") s.opts &= ~(IO.FancyIndexing | IO.HTMLTable);
      else if (c2 === "1") s.opts = (s.opts | IO.FancyIndexing) & ~IO.HTMLTable;
      else s.opts |= IO.FancyIndexing | IO.HTMLTable;
      fval = `;F=${c2}`;
    } else if (c0 === "V" && (c2 === "0" || c2 === "1") && end) {
      s.opts = c2 === "1" ? s.opts | IO.VersionSort : s.opts & ~IO.VersionSort;
      vval = `;V=${c2}`;
    } else if (c0 === "P") {
      let eos = i + 2;
      while (eos < q.length && q[eos] !== "&" && q[eos] !== ";") eos++;
      s.pattern = undefined;
      pval = "";
      if (eos > i + 2) {
        const p = unescape(q.slice(i + 2, eos));
        if (p !== undefined) {
          s.pattern = p;
          pval = `;P=${escapePath(p)}`;
        }
      }
      i = eos + 1;
      continue;
    } else break;
    i = next;
  }
  s.colargs = escapeHtml(fval + vval + pval);
}

/** ap_unescape_url: a bad escape, an encoded "/" or NUL makes the pattern unusable. */
function unescape(s: string): string | undefined {
  if (!s.includes("%")) return s;
  try {
    const out = decodeURIComponent(s);
    return out.includes("/") || out.includes("\0") ? undefined : out;
  } catch {
    return undefined;
  }
}

/** The title: the URL path, HTML-escaped, without its trailing slashes (but "/" stays "/"). */
function pageTitle(uri: string): string {
  let end = uri.length;
  while (end > 1 && uri.charCodeAt(end - 1) === 47) end--;
  return escapeHtml(uri.slice(0, end));
}

async function indexDirectory(r: Request, d: AutoindexDir): Promise<Response> {
  const s: Query = {
    key: d.defaultKey ?? "N",
    direction: d.defaultDir ?? "A",
    opts: effectiveOptions(d),
    pattern: undefined,
    colargs: "",
  };
  if (s.opts & IO.IgnoreClient) s.opts |= IO.SuppressColumnSorting;
  else if (r.args) parseQuery(r.args, s);
  const opts = s.opts;
  // mosaic answers UTF-8 unless told otherwise: file names are UTF-8 on every system it runs on.
  const ctype = d.ctype ?? "text/html";
  const charset = d.charset ?? "UTF-8";
  r.contentType = charset ? `${ctype};charset=${charset}` : ctype;
  r.headersOut.set("Content-Type", r.contentType);
  if (opts & IO.TrackModified && r.finfo) {
    r.headersOut.set("Last-Modified", new Date(r.finfo.mtimeMs).toUTCString());
  }
  const dirFilename = r.filename.endsWith("/") ? r.filename : `${r.filename}/`;
  let entries: Entry[];
  try {
    entries = await readEntries({
      r,
      d,
      opts,
      key: s.key,
      pattern: s.pattern,
      dirFilename,
      dirUri: r.uri.slice(0, r.uri.lastIndexOf("/") + 1),
    });
  } catch (e) {
    // only the file system's refusals (EACCES, ENOENT...) are a 403; anything else is a bug
    if (typeof (e as NodeJS.ErrnoException).code !== "string") throw e;
    logError(r, "error", "autoindex", `AH01275: Can't open directory for index: ${r.filename}`, e);
    throw new HttpError(403);
  }
  sortEntries(entries, s.key, s.direction === "A", opts);
  const out: string[] = [];
  const title = pageTitle(r.uri);
  await emitHead(out, r, d, opts, title);
  renderListing(out, entries, { d, opts, key: s.key, direction: s.direction, colargs: s.colargs });
  await emitTail(out, r, d, opts);
  // HEAD gets the same headers, Content-Length included (Apache sends none, RFC 9110 §9.3.2 allows it).
  return r.respond(Buffer.from(out.join(""), "utf8"), 200);
}
