// Per-request section walk and merge (Apache's directory_walk, file_walk, location_walk, if_walk).
import type { Module } from "../module.ts";
import type { Section, ServerRec } from "../server-rec.ts";
import type { Request } from "./request.ts";

/** Upper bound on cached merges per server, so hostile URL variety cannot grow memory without end. */
const CACHE_LIMIT = 4096;

/** Matches a <Directory>: the path itself or anything below it, by whole components. */
function dirMatches(sec: Section, dir: string): boolean {
  if (sec.regex) return sec.regex.test(dir);
  const p = sec.path;
  if (p === "/") return true;
  return dir === p || (dir.startsWith(p) && dir.charCodeAt(p.length) === 47);
}

/** <Location /a> matches /a, /a/ and /a/b but not /ab (Apache 2.4 location_walk). */
function locationMatches(sec: Section, uri: string): boolean {
  if (sec.kind === "LocationMatch") return sec.regex!.test(uri);
  if (sec.regex) return sec.regex.test(uri);
  const p = sec.path;
  if (!uri.startsWith(p)) return false;
  return uri.length === p.length || p.endsWith("/") || uri.charCodeAt(p.length) === 47;
}

function filesMatches(sec: Section, base: string): boolean {
  if (sec.regex) return sec.kind === "FilesMatch" ? sec.regex.test(base) : sec.regex.test(base);
  return sec.path === base;
}

/**
 * Finds every section that applies to the request in Apache's merge order, then returns the merged
 * per-directory vector, computed once per distinct set of sections and cached on the server.
 */
export function walkSections(r: Request, modules: readonly Module[]): void {
  const s = r.server;
  const set = s.sections;
  const matched: Section[] = [];
  let nestedFiles: Section[] | undefined;
  let nestedIfs: Section[] | undefined;
  const filename = r.filename;
  if (filename) {
    // the directory of the resource; a directory resource is its own directory
    const isDir = r.finfo?.isDirectory() ?? false;
    const dir = isDir ? stripSlash(filename) : filename.slice(0, Math.max(1, filename.lastIndexOf("/")));
    for (const sec of set.dirs) {
      if (dirMatches(sec, dir)) {
        matched.push(sec);
        if (sec.nested.length) collectNested(sec, (nestedFiles ??= []), (nestedIfs ??= []));
      }
    }
    if (set.dirMatches.length) {
      const dirSlash = dir.endsWith("/") ? dir : dir + "/";
      for (const sec of set.dirMatches) {
        if (sec.regex!.test(dirSlash) || sec.regex!.test(dir)) {
          matched.push(sec);
          if (sec.nested.length) collectNested(sec, (nestedFiles ??= []), (nestedIfs ??= []));
        }
      }
    }
    const files = nestedFiles ? [...set.files, ...nestedFiles] : set.files;
    if (files.length) {
      const base = stripSlash(filename).slice(stripSlash(filename).lastIndexOf("/") + 1);
      for (const sec of files) {
        if (filesMatches(sec, base)) {
          matched.push(sec);
          if (sec.nested.length) collectNested(sec, [], (nestedIfs ??= []));
        }
      }
    }
  }
  for (const sec of set.locations) {
    if (locationMatches(sec, r.uri)) {
      matched.push(sec);
      if (sec.nested.length) collectNested(sec, [], (nestedIfs ??= []));
    }
  }
  const ifs = nestedIfs ? [...set.ifs, ...nestedIfs] : set.ifs;
  if (ifs.length) walkIfs(r, ifs, matched);
  if (matched.length === 0) {
    r.perDir = s.lookupDefaults;
    r.matchedSections = "";
    return;
  }
  let key = "";
  for (const sec of matched) key += sec.id + ",";
  r.matchedSections = key;
  let merged = s.mergeCache.get(key);
  if (!merged) {
    merged = mergeSections(s, matched, modules);
    if (s.mergeCache.size >= CACHE_LIMIT) s.mergeCache.clear();
    s.mergeCache.set(key, merged);
  }
  r.perDir = merged;
}

function collectNested(sec: Section, files: Section[], ifs: Section[]): void {
  for (const n of sec.nested) {
    if (n.kind === "Files" || n.kind === "FilesMatch") files.push(n);
    else ifs.push(n);
  }
}

/** <If>/<ElseIf>/<Else> chains: an ElseIf/Else applies only when every earlier link was false. */
function walkIfs(r: Request, ifs: Section[], matched: Section[]): void {
  const taken = new Set<Section>();
  for (const sec of ifs) {
    let prevTaken = false;
    for (let p = sec.chainPrev; p; p = p.chainPrev) if (taken.has(p)) prevTaken = true;
    if (prevTaken) continue;
    if (sec.kind === "Else" || sec.condition!(r)) {
      taken.add(sec);
      matched.push(sec);
      for (const n of sec.nested) if (n.kind === "If") ifs.push(n);
    }
  }
}

export function mergeSections(s: ServerRec, sections: Section[], modules: readonly Module[]): unknown[] {
  const out = s.lookupDefaults.slice();
  for (const sec of sections) {
    for (const m of modules) {
      const add = sec.config[m.index];
      if (add === undefined) continue;
      const base = out[m.index];
      out[m.index] = m.mergeDirConfig && base !== undefined ? m.mergeDirConfig(base as never, add as never) : add;
    }
  }
  return out;
}

function stripSlash(p: string): string {
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}
