// mod_mime's find_ct: every extension of a file name contributes type, charset, encoding, language, handler.
import type { MimeDir, Resolved } from "./config.ts";

/** Bound on remembered file names per merged config (hostile URL variety cannot grow it without end). */
const MEMO_MAX = 4096;

/**
 * What mod_mime decides for the last path component `name`, remembered on the merged config so a
 * repeated name costs one map lookup.
 */
export function resolveName(name: string, d: MimeDir, types: ReadonlyMap<string, string>): Resolved {
  const memo = (d.memo ??= new Map());
  let res = memo.get(name);
  if (res === undefined) {
    res = resolve(name, d, types);
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(name, res);
  }
  return res;
}

/**
 * Apache's find_ct over one file name. The base name (leading dots included, so ".png" is a hidden file
 * called png) is never an extension; every later dot-separated part is looked up, case-insensitively, in
 * any order: `index.html.en` and `index.en.html` are both text/html in English. A later extension's type
 * wins; languages accumulate; encodings chain; AddType beats TypesConfig, and RemoveType hides both.
 */
export function resolve(name: string, d: MimeDir, types: ReadonlyMap<string, string>): Resolved {
  let type: string | undefined;
  let charset: string | undefined;
  let encoding: string | undefined;
  let languages: string | undefined;
  let handler: string | undefined;
  let i = 0;
  while (name.charCodeAt(i) === 46) i++;
  let dot = name.indexOf(".", i);
  const mappings = d.extensions;
  while (dot >= 0) {
    const next = name.indexOf(".", dot + 1);
    const raw = name.slice(dot + 1, next < 0 ? name.length : next);
    dot = next;
    if (raw === "") continue;
    const ext = raw.toLowerCase();
    const info = mappings?.get(ext);
    if (info?.type === undefined) {
      const t = types.get(ext);
      if (t !== undefined) type = t;
    }
    if (info === undefined) continue;
    if (info.type) type = info.type;
    if (info.charset) charset = info.charset;
    if (info.language) languages = languages === undefined ? info.language : `${languages},${info.language}`;
    if (info.encoding) encoding = encoding === undefined ? info.encoding : `${encoding}, ${info.encoding}`;
    if (info.handler) handler = info.handler;
  }
  return {
    type: type === undefined ? undefined : withCharset(type, charset),
    encoding,
    language: languages ?? d.defaultLanguage,
    handler,
  };
}

/**
 * Rebuilds `type; attr=value` the way find_ct does after analyze_ct, replacing or appending the
 * AddCharset charset.
 */
export function withCharset(type: string, charset: string | undefined): string {
  if (!type.includes(";")) return charset === undefined ? type : `${type}; charset=${charset}`;
  const parts = type.split(";");
  let out = parts[0]!.trim();
  let replaced = false;
  for (let k = 1; k < parts.length; k++) {
    const p = parts[k]!.trim();
    if (p === "") continue;
    const eq = p.indexOf("=");
    const attr = (eq < 0 ? p : p.slice(0, eq)).trim();
    const val = eq < 0 ? "" : p.slice(eq + 1).trim();
    if (charset !== undefined && attr.toLowerCase() === "charset") {
      if (!replaced) out += `; charset=${charset}`;
      replaced = true;
    } else out += `; ${attr}=${val}`;
  }
  if (charset !== undefined && !replaced) out += `; charset=${charset}`;
  return out;
}
