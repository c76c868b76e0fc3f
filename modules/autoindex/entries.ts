// autoindex: reading a directory into listing entries (make_parent_entry, make_autoindex_entry).
import fs from "node:fs";
import { removeDotSegments } from "../../src/http/front.ts";
import type { Request } from "../../src/http/request.ts";
import { lookupDirent } from "../../src/http/subreq.ts";
import { IO } from "./config.ts";
import type { AutoindexDir, DescItem, IconItem } from "./config.ts";
import { GLOB_CLASSES, GLOB_NOCASE, GLOB_PERIOD, globMatch } from "./glob.ts";

/** One row of the listing (Apache's struct ent). */
export interface Entry {
  /** As listed: directories end in "/"; the parent entry holds its URI path ("/a/"). */
  name: string;
  parent: boolean;
  /** Set only with FoldersFirst, which sorts directories ahead in either direction. */
  isDir: boolean;
  /** Bytes, or -1 for directories (shown as "-"). */
  size: number;
  /** mtime in ms, or -1 when unknown (the parent) or not shown. */
  lm: number;
  icon: string | undefined;
  alt: string | undefined;
  desc: string | undefined;
}

export interface ReadOptions {
  r: Request;
  d: AutoindexDir;
  opts: number;
  /** The sort key, for the "unknown date sorts as 0" rule. */
  key: string;
  /** The P= pattern from the query, if any. */
  pattern: string | undefined;
  /** The directory on disk and its URL, both ending in "/". */
  dirFilename: string;
  dirUri: string;
}

const FANCY = IO.FancyIndexing | IO.HTMLTable;

/**
 * The parent entry and every entry of the directory a listing may show: not "." or "..", never a
 * `.ht*` file, matching P=, not IndexIgnore'd, a regular file or directory, and allowed by the
 * access rules for its own URL (as Apache's per-entry sub-request; ShowForbidden keeps 401/403s).
 * Throws what readdir throws when the directory cannot be opened.
 */
export async function readEntries(o: ReadOptions): Promise<Entry[]> {
  const { r, d, opts } = o;
  const out: Entry[] = [];
  const parent = parentEntry(o);
  if (parent) out.push(parent);
  const dirents = fs.readdirSync(o.dirFilename, { withFileTypes: true });
  const fancy = (opts & FANCY) !== 0;
  const scan = (opts & IO.ScanHTMLTitles) !== 0;
  const needType = fancy && (scan || hasTypeItems(d.icons) || hasTypeItems(d.alts));
  for (const de of dirents) {
    const name = de.name;
    if (name === "." || name === ".." || name.startsWith(".ht")) continue;
    if (o.pattern !== undefined && !globMatch(o.pattern, name, GLOB_CLASSES | GLOB_PERIOD)) continue;
    if (ignored(d.ignore, name)) continue;
    const filename = o.dirFilename + name;
    const st = fs.statSync(filename, { throwIfNoEntry: false });
    if (!st || !(st.isFile() || st.isDirectory())) continue;
    const isDir = st.isDirectory();
    const sub = await lookupDirent(r, o.dirUri + name, filename, st, de.isSymbolicLink(), needType);
    const forbidden = sub.status === 401 || sub.status === 403;
    if (sub.status >= 400 && !(forbidden && opts & IO.ShowForbidden)) continue;
    const e = entry(isDir ? `${name}/` : name, false);
    if (fancy) {
      e.lm = st.mtimeMs;
      const type = sub.rr.contentType;
      const enc = sub.rr.contentEncoding;
      if (isDir) {
        e.isDir = (opts & IO.FoldersFirst) !== 0;
        e.icon = findItem(d.icons, filename) ?? findItem(d.icons, DIRECTORY);
        e.alt = findItem(d.alts, filename) ?? findItem(d.alts, DIRECTORY) ?? "DIR";
      } else {
        e.size = st.size;
        e.icon = findItem(d.icons, filename, type, enc, false);
        e.alt = findItem(d.alts, filename, type, enc, false);
      }
      e.desc = findDesc(d.descs, filename);
      if (e.desc === undefined && scan && !isDir) e.desc = findTitle(filename, type, enc);
    }
    if (o.key === "M" && e.lm < 0) e.lm = 0;
    out.push(e);
  }
  return out;
}

const DIRECTORY = "^^DIRECTORY^^";

/** The way up, unless this is the root or IndexIgnore names "..". */
function parentEntry(o: ReadOptions): Entry | undefined {
  const uri = o.r.uri.endsWith("/") ? o.r.uri : `${o.r.uri}/`;
  const up = removeDotSegments(`${uri}../`);
  if (up === undefined || up === "") return undefined;
  // IndexIgnore, AddIcon and AddDescription have always seen the parent as "/this/path/.."
  const testpath = `${o.dirFilename}..`;
  if (ignored(o.d.ignore, "..")) return undefined;
  const e = entry(up, true);
  if (o.opts & FANCY) {
    const d = o.d;
    e.icon = findItem(d.icons, testpath) ?? findItem(d.icons, DIRECTORY);
    e.alt = findItem(d.alts, testpath) ?? findItem(d.alts, DIRECTORY) ?? "PARENTDIR";
    e.desc = findDesc(d.descs, testpath);
  }
  return e;
}

function entry(name: string, parent: boolean): Entry {
  const none = undefined;
  return { name, parent, isDir: false, size: -1, lm: -1, icon: none, alt: none, desc: none };
}

function ignored(list: readonly string[], name: string): boolean {
  for (let i = 0; i < list.length; i++) if (globMatch(list[i]!, name)) return true;
  return false;
}

function hasTypeItems(list: readonly IconItem[]): boolean {
  for (let i = 0; i < list.length; i++) if (list[i]!.by !== "path") return true;
  return false;
}

/**
 * find_item: the first icon or alt whose pattern matches the path (AddIcon), or the content type
 * (ByType, when there is no encoding) or the encoding (ByEncoding). "^^NAME^^" looks up specials.
 */
export function findItem(
  list: readonly IconItem[],
  path: string,
  type?: string,
  enc?: string,
  pathOnly = true,
): string | undefined {
  const special = path.charCodeAt(0) === 94;
  for (let i = 0; i < list.length; i++) {
    const it = list[i]!;
    if (it.by === "path" || special) {
      if (globMatch(it.pattern, path)) return it.data;
    } else if (!pathOnly) {
      // by type only while there is no encoding, by encoding otherwise
      const wanted = enc === undefined ? "type" : "encoding";
      const subject = it.by !== wanted ? undefined : enc === undefined ? type : enc;
      if (subject !== undefined && globMatch(it.pattern, subject, GLOB_NOCASE)) return it.data;
    }
  }
  return undefined;
}

/** find_desc: patterns with "/" see the whole path, others the name; plain ones match as substrings. */
function findDesc(list: readonly DescItem[], filename: string): string | undefined {
  const trimmed = filename.endsWith("/") ? filename.slice(0, -1) : filename;
  const base = trimmed.slice(trimmed.lastIndexOf("/") + 1);
  for (let i = 0; i < list.length; i++) {
    const it = list[i]!;
    const subject = it.fullPath ? trimmed : base;
    if (it.wildcards ? globMatch(it.pattern, subject, GLOB_CLASSES) : subject.includes(it.pattern)) {
      return it.text;
    }
  }
  return undefined;
}

const TITLE_SCAN = 8191;
/** HTML, XHTML or mod_include's INCLUDES_MAGIC_TYPE, as find_title accepts. */
const HTML_TYPE = /^(?:text\/html|application\/xhtml\+xml|text\/x-server-parsed-html)\b/i;
const TITLE_TAG = /<title>/i;
const HTML_EXT = /\.html?$/i;
const LEADING_BREAKS = /^[\r\n]+/;
const BREAKS = /[\r\n]/g;

/** ScanHTMLTitles (find_title): the text after <title> up to the next "<", line breaks as spaces. */
function findTitle(filename: string, type?: string, enc?: string): string | undefined {
  if (enc !== undefined) return undefined;
  const html = type !== undefined ? HTML_TYPE.test(type) : HTML_EXT.test(filename);
  if (!html) return undefined;
  let text: string;
  try {
    const fd = fs.openSync(filename, "r");
    try {
      const buf = Buffer.allocUnsafe(TITLE_SCAN);
      text = buf.toString("utf8", 0, fs.readSync(fd, buf, 0, TITLE_SCAN, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const tag = TITLE_TAG.exec(text);
  if (!tag) return undefined;
  let title = text.slice(tag.index + 7);
  const end = title.indexOf("<");
  if (end >= 0) title = title.slice(0, end);
  return title.replace(LEADING_BREAKS, "").replace(BREAKS, " ");
}
