// autoindex: listing order (dsortf) and APR's natural string compare (apr_strnatcmp) for VersionSort.
import { IO } from "./config.ts";
import type { Entry } from "./entries.ts";

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const upper = (c: number): number => (c >= 97 && c <= 122 ? c - 32 : c);
const lower = (c: number): number => (c >= 65 && c <= 90 ? c + 32 : c);

/** charCodeAt past the end reads as 0, like the C string terminator. */
const at = (s: string, i: number): number => (i < s.length ? s.charCodeAt(i) : 0);

/** Right-aligned digit runs: the longer run is bigger, else the first difference decides. */
function compareRight(a: string, ai: number, b: string, bi: number): number {
  let bias = 0;
  for (;; ai++, bi++) {
    const ca = at(a, ai);
    const cb = at(b, bi);
    if (!isDigit(ca) && !isDigit(cb)) return bias;
    if (!isDigit(ca)) return -1;
    if (!isDigit(cb)) return 1;
    if (ca < cb) bias ||= -1;
    else if (ca > cb) bias ||= 1;
  }
}

/** Runs with a leading zero compare as fractions: the first difference decides. */
function compareLeft(a: string, ai: number, b: string, bi: number): number {
  for (;; ai++, bi++) {
    const ca = at(a, ai);
    const cb = at(b, bi);
    if (!isDigit(ca) && !isDigit(cb)) return 0;
    if (!isDigit(ca)) return -1;
    if (!isDigit(cb)) return 1;
    if (ca !== cb) return ca < cb ? -1 : 1;
  }
}

/**
 * apr_strnatcmp / apr_strnatcasecmp: digit runs compare by value, so file9 sorts before file10.
 * @example natCompare("file9", "file10", false) // -1
 */
export function natCompare(a: string, b: string, foldCase: boolean): number {
  let ai = 0;
  let bi = 0;
  for (;;) {
    let ca = at(a, ai);
    let cb = at(b, bi);
    while (isSpace(ca)) ca = at(a, ++ai);
    while (isSpace(cb)) cb = at(b, ++bi);
    if (isDigit(ca) && isDigit(cb)) {
      const r = ca === 48 || cb === 48 ? compareLeft(a, ai, b, bi) : compareRight(a, ai, b, bi);
      if (r !== 0) return r;
    }
    if (ca === 0 && cb === 0) return 0;
    if (foldCase) {
      ca = upper(ca);
      cb = upper(cb);
    }
    if (ca !== cb) return ca < cb ? -1 : 1;
    ai++;
    bi++;
  }
}

/** strcasecmp in the C locale: only ASCII letters fold. */
function caseCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = lower(a.charCodeAt(i));
    const cb = lower(b.charCodeAt(i));
    if (ca !== cb) return ca < cb ? -1 : 1;
  }
  return a.length - b.length;
}

const plainCompare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Sorts as dsortf: the parent first, then (FoldersFirst) directories, then by the key column in
 * the asked direction, ties broken by name so equal keys always come out in the same order.
 */
export function sortEntries(list: Entry[], key: string, ascending: boolean, opts: number): void {
  const version = (opts & IO.VersionSort) !== 0;
  const fold = (opts & IO.IgnoreCase) !== 0;
  list.sort((e1, e2) => {
    if (e1.parent) return -1;
    if (e2.parent) return 1;
    if (e1.isDir !== e2.isDir) return e1.isDir ? -1 : 1;
    const c1 = ascending ? e1 : e2;
    const c2 = ascending ? e2 : e1;
    if (key === "M" && c1.lm !== c2.lm) return c1.lm > c2.lm ? 1 : -1;
    if (key === "S" && c1.size !== c2.size) return c1.size > c2.size ? 1 : -1;
    if (key === "D") {
      const d1 = c1.desc ?? "";
      const d2 = c2.desc ?? "";
      const r = version ? natCompare(d1, d2, false) : plainCompare(d1, d2);
      if (r !== 0) return r;
    }
    let result = 0;
    if (fold) result = version ? natCompare(c1.name, c2.name, true) : caseCompare(c1.name, c2.name);
    if (result === 0 && version) result = natCompare(c1.name, c2.name, false);
    if (result === 0) result = plainCompare(c1.name, c2.name);
    return result;
  });
}
