// uid/gid → name (apr_uid_name_get / apr_gid_name_get) from /etc/passwd and /etc/group, cached.
import fs from "node:fs";

interface Table {
  names: Map<number, string>;
  loaded: number;
}

/** Re-read the files at most this often: accounts change rarely and a lookup must not stat per request. */
const REFRESH_MS = 60_000;

const tables = new Map<string, Table>();

function load(file: string, now: number): Table {
  let t = tables.get(file);
  if (t && now - t.loaded < REFRESH_MS) return t;
  t = { names: new Map(), loaded: now };
  let text = "";
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    // No such file (a minimal container): every id stays unnamed, as getpwuid would fail.
  }
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 3 || line.startsWith("#")) continue;
    const id = Number(f[2]);
    if (!Number.isInteger(id) || t.names.has(id)) continue;
    t.names.set(id, f[0]!);
  }
  tables.set(file, t);
  return t;
}

/** The user name of a uid, or undefined when the system has none. */
export function userName(uid: number): string | undefined {
  return load("/etc/passwd", Date.now()).names.get(uid);
}

/** The group name of a gid, or undefined when the system has none. */
export function groupName(gid: number): string | undefined {
  return load("/etc/group", Date.now()).names.get(gid);
}
