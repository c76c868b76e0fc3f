// The open-file cache of the default handler: small files' bytes and every file's validators, per path.
import { createHash } from "node:crypto";
import fs from "node:fs";
import type { Stats } from "node:fs";
import { HttpError } from "../../src/http/errors.ts";
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { httpDate } from "./static-conditional.ts";

/** Files up to this size are kept in memory; larger ones are streamed from disk on every request. */
export const CACHE_MAX_FILE = 64 * 1024;
/** Bounds on the whole cache; the oldest entries go first when either is exceeded. */
const CACHE_MAX_BYTES = 64 * 1024 * 1024;
const CACHE_MAX_ENTRIES = 10_000;

/** What the handler knows about one file version: validators, precomputed header values, bytes. */
export interface FileEntry {
  readonly path: string;
  readonly size: number;
  /** The core's stat() values this entry was read for; a hit needs all three to be equal. */
  readonly mtimeMs: number;
  readonly ino: number;
  /** The modification time actually read (ms), for the weak-ETag rule and future-dated files. */
  readonly modifiedMs: number;
  /** The whole file when it is small enough to cache, else null. */
  readonly body: Uint8Array | null;
  /** Last-Modified value and the same time in whole seconds (for conditional requests). */
  readonly lastModified: string;
  readonly lastModifiedSec: number;
  readonly contentLength: string;
  /** Hex parts of Apache's ETag: inode, size, mtime in microseconds. */
  readonly inoHex: string;
  readonly sizeHex: string;
  readonly mtimeHex: string;
  /** Strong ETags by FileETag component mask (bit 1 inode, 2 mtime, 4 size), built on first use. */
  readonly etags: (string | undefined)[];
  /** FileETag Digest: base64 SHA-1 of the content, computed on first use. */
  digest: string | undefined;
  /**
   * A finished 200 response for the common case (cached bytes, no extra headers), cloned per request:
   * cloning shares the bytes and costs a fraction of building headers and a Response each time.
   */
  template?: { key: string; res: Response };
}

const cache = new Map<string, FileEntry>();
let cachedBytes = 0;

/**
 * The entry for `r.filename`, validated against the stat the core already made (size, mtime, inode):
 * a hit costs no system call. A miss opens, fstat()s and (for small files) reads the file once.
 * Throws 403 when the file cannot be opened (Apache's AH00132) and 404 when it vanished.
 */
export function fileEntry(r: Request, st: Stats): FileEntry {
  const path = r.filename;
  const e = cache.get(path);
  if (e !== undefined && e.mtimeMs === st.mtimeMs && e.size === st.size && e.ino === st.ino) return e;
  const fresh = load(r, path, st);
  if (e !== undefined) {
    cache.delete(path);
    cachedBytes -= e.body?.length ?? 0;
  }
  cache.set(path, fresh);
  cachedBytes += fresh.body?.length ?? 0;
  while (cachedBytes > CACHE_MAX_BYTES || cache.size > CACHE_MAX_ENTRIES) {
    const oldest = cache.keys().next().value as string;
    cachedBytes -= cache.get(oldest)?.body?.length ?? 0;
    cache.delete(oldest);
  }
  return fresh;
}

function load(r: Request, path: string, st: Stats): FileEntry {
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      logError(r, "info", "core", `AH00128: File does not exist: ${path}`);
      throw new HttpError(404);
    }
    logError(r, "error", "core", `AH00132: file permissions deny server access: ${path}`, err);
    throw new HttpError(403);
  }
  try {
    // A bigint fstat gives the exact microseconds Apache puts into the ETag (a double loses them).
    const b = fs.fstatSync(fd, { bigint: true });
    const size = Number(b.size);
    let body: Uint8Array | null = null;
    if (size <= CACHE_MAX_FILE) {
      const buf = new Uint8Array(size);
      let got = 0;
      while (got < size) {
        const n = fs.readSync(fd, buf, got, size - got, got);
        if (n === 0) break;
        got += n;
      }
      body = got === size ? buf : buf.subarray(0, got);
    }
    const mtimeUs = b.mtimeNs / 1000n;
    const mtimeMs = Number(mtimeUs) / 1000;
    // Keep the core's stat values as the cache key only when they describe what was read; otherwise
    // the file changed in between and the next request must look again.
    const same = Number(b.ino) === st.ino && size === st.size && Math.abs(mtimeMs - st.mtimeMs) < 0.001;
    const length = body?.length ?? size;
    return {
      path,
      size: length,
      mtimeMs: same ? st.mtimeMs : NaN,
      ino: st.ino,
      modifiedMs: mtimeMs,
      body,
      lastModified: httpDate(Math.floor(mtimeMs)),
      lastModifiedSec: Math.floor(mtimeMs / 1000),
      contentLength: String(length),
      inoHex: b.ino.toString(16),
      sizeHex: length.toString(16),
      mtimeHex: mtimeUs.toString(16),
      etags: [],
      digest: undefined,
    };
  } finally {
    fs.closeSync(fd);
  }
}

/** The FileETag components (core's `fileETag`; undefined is Apache's default `MTime Size`). */
export interface ETagBits {
  inode: boolean;
  mtime: boolean;
  size: boolean;
  digest: boolean;
}

/**
 * Apache's ap_make_etag: `"inode-size-mtime"` in hex with the configured parts, or a base64 SHA-1 for
 * Digest; weak (`W/`) while the file is less than a second old, since it may change again within the
 * same second. Undefined for `FileETag None`.
 */
export function etagOf(e: FileEntry, bits: ETagBits | undefined, requestTime: number): string | undefined {
  let tag: string | undefined;
  if (bits === undefined) tag = e.etags[6] ??= `"${e.sizeHex}-${e.mtimeHex}"`;
  else if (bits.digest) tag = `"${(e.digest ??= digestOf(e))}"`;
  else {
    const mask = (bits.inode ? 1 : 0) | (bits.mtime ? 2 : 0) | (bits.size ? 4 : 0);
    if (mask === 0) return undefined;
    tag = e.etags[mask] ??= buildETag(e, mask);
  }
  return requestTime - e.modifiedMs > 1000 ? tag : `W/${tag}`;
}

function buildETag(e: FileEntry, mask: number): string {
  const parts: string[] = [];
  if (mask & 1) parts.push(e.inoHex);
  if (mask & 4) parts.push(e.sizeHex);
  if (mask & 2) parts.push(e.mtimeHex);
  return `"${parts.join("-")}"`;
}

function digestOf(e: FileEntry): string {
  const h = createHash("sha1");
  if (e.body) return h.update(e.body).digest("base64");
  const fd = fs.openSync(e.path, "r");
  try {
    const buf = new Uint8Array(1024 * 1024);
    for (let pos = 0; pos < e.size; ) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, e.size - pos), pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("base64");
}
