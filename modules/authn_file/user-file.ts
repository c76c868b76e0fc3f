// AuthUserFile / AuthGroupFile contents, read once and again only when the file changes.
import fs from "node:fs";

/** Check a file's stat at most this often: a busy site costs one stat a second per file, not one per request. */
export const RECHECK_MS = 1000;

/** A problem with one line, reported once per (re)load with the file and line number. */
export interface LineProblem {
  line: number;
  message: string;
}

interface Parsed<T> {
  data: T;
  problems: LineProblem[];
}

/**
 * A text file parsed into `T`, cached until its size, mtime, ctime or inode change. `get` returns
 * undefined (and `error` says why) while the file cannot be read. `problems` are the line problems
 * of the current contents (each configuration that names the file shows them at startup); `pending`
 * holds those of a fresh load until a request reports them to its server's error log.
 */
export class WatchedFile<T> {
  private data: T | undefined;
  private sig = "";
  private checked = 0;
  /** The open/read error of the last attempt, undefined once readable. */
  error: Error | undefined;
  problems: LineProblem[] = [];
  pending: LineProblem[] = [];

  constructor(
    readonly path: string,
    private parse: (text: string) => Parsed<T>,
  ) {}

  /** Takes the problems of the latest load not yet reported to an error log. */
  drain(): LineProblem[] {
    const p = this.pending;
    this.pending = [];
    return p;
  }

  get(now = Date.now()): T | undefined {
    if (now - this.checked < RECHECK_MS && (this.data !== undefined || this.error !== undefined)) return this.data;
    this.checked = now;
    let st: fs.Stats;
    try {
      st = fs.statSync(this.path);
    } catch (e) {
      this.fail(e);
      return undefined;
    }
    const sig = `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
    if (sig === this.sig && this.data !== undefined) return this.data;
    try {
      const parsed = this.parse(fs.readFileSync(this.path, "utf8"));
      this.data = parsed.data;
      this.sig = sig;
      this.error = undefined;
      this.problems = parsed.problems;
      this.pending = parsed.problems;
    } catch (e) {
      this.fail(e);
    }
    return this.data;
  }

  private fail(e: unknown): void {
    this.error = e instanceof Error ? e : new Error(String(e));
    this.data = undefined;
    this.sig = "";
  }
}

/** One file object per path, so every section naming the same file shares the cache. */
export function sharedFile<T>(
  registry: Map<string, WatchedFile<T>>,
  path: string,
  make: () => WatchedFile<T>,
): WatchedFile<T> {
  let f = registry.get(path);
  if (!f) registry.set(path, (f = make()));
  return f;
}

/**
 * An htpasswd file: `user:hash[:anything]` per line (the hash ends at the next colon, as
 * ap_getword reads it), `#` comments and blank lines ignored, the first entry of a user wins.
 * Lines without a user or a hash are skipped and reported.
 */
export function parseUserFile(text: string, check?: (hash: string) => string | undefined): Parsed<Map<string, string>> {
  const users = new Map<string, string>();
  const problems: LineProblem[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l === "" || l.startsWith("#")) continue;
    const colon = l.indexOf(":");
    if (colon < 0) {
      problems.push({ line: i + 1, message: "no ':' separating user and password hash, line skipped" });
      continue;
    }
    const user = l.slice(0, colon);
    const rest = l.slice(colon + 1);
    const end = rest.indexOf(":");
    const hash = end >= 0 ? rest.slice(0, end) : rest;
    if (user === "") {
      problems.push({ line: i + 1, message: "empty user name, line skipped" });
      continue;
    }
    if (hash === "") {
      problems.push({ line: i + 1, message: `empty password hash for user ${user}, line skipped` });
      continue;
    }
    if (users.has(user)) continue;
    const why = check?.(hash);
    if (why) problems.push({ line: i + 1, message: `user ${user}: ${why}` });
    users.set(user, hash);
  }
  return { data: users, problems };
}
