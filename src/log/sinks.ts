// Log targets: a file (append), a piped program respawned when it dies, or the process's stderr.
import fs from "node:fs";

/** Where a LogWriter's batches go. */
export interface Sink {
  write(data: string): void;
  /** Resolves once everything handed to write() has left the process. */
  drain(): Promise<void>;
  reopen(): void;
  close(): Promise<void>;
}

/** Lines kept while a piped logger is being respawned; beyond this they are dropped. */
const PENDING_CAP = 1 << 20;

type ProblemReporter = (message: string, err: unknown, key: string) => void;
let problemReporter: ProblemReporter = (message) => {
  writeStderr(`${message}\n`);
};

/**
 * Where writer trouble (a piped logger died, a write failed) is reported, with the key of the writer
 * concerned; error-log.ts sets this.
 */
export function onLogWriterProblem(fn: ProblemReporter): void {
  problemReporter = fn;
}

/** Reports writer trouble through whatever onLogWriterProblem installed. */
export function problem(message: string, err: unknown, key: string): void {
  problemReporter(message, err, key);
}

/** The strerror text Apache prints after `(errno)`; libuv words them differently. */
const STRERROR: Record<string, string> = {
  ENOENT: "No such file or directory",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  EISDIR: "Is a directory",
  ENOTDIR: "Not a directory",
  EROFS: "Read-only file system",
  ENOSPC: "No space left on device",
  EMFILE: "Too many open files",
  ENAMETOOLONG: "File name too long",
  ELOOP: "Too many levels of symbolic links",
  EPIPE: "Broken pipe",
  EEXIST: "File exists",
};

/** `(2)No such file or directory` for a Node/Bun system error, or "" when it is not one. */
export function formatOsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  if (!e || typeof e !== "object" || typeof e.code !== "string") return "";
  const errno = typeof e.errno === "number" ? Math.abs(e.errno) : 0;
  let text = STRERROR[e.code];
  if (!text) {
    const m = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message ?? "");
    text = m ? m[1]!.charAt(0).toUpperCase() + m[1]!.slice(1) : e.code;
  }
  return `(${errno})${text}`;
}

function writeStderr(data: string, fd: 1 | 2 = 2): void {
  try {
    fs.writeSync(fd, data);
  } catch {
    // A non-blocking stream that is full: let the stream queue it instead of losing it.
    (fd === 1 ? process.stdout : process.stderr).write(data);
  }
}

/** The process's stderr (fd 2) or stdout (fd 1), written directly. */
export class StderrSink implements Sink {
  constructor(private readonly fd: 1 | 2 = 2) {}
  write(data: string): void {
    writeStderr(data, this.fd);
  }
  async drain(): Promise<void> {}
  reopen(): void {}
  async close(): Promise<void> {}
}

export class FileSink implements Sink {
  private fd: number;
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, "a");
  }
  write(data: string): void {
    if (this.fd < 0) return;
    // One write of the string; only a short write (disk full, signal) pays for a byte copy.
    const n = fs.writeSync(this.fd, data);
    const buf = n < data.length || /[^\x00-\x7f]/.test(data) ? Buffer.from(data) : undefined;
    if (buf === undefined) return;
    let off = n;
    while (off < buf.length) off += fs.writeSync(this.fd, buf, off);
  }
  async drain(): Promise<void> {}
  /** After logrotate moved the file: open the path again, keep the old fd if that fails. */
  reopen(): void {
    const fd = fs.openSync(this.file, "a");
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = fd;
  }
  async close(): Promise<void> {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Splits a command line like apr_tokenize_to_argv: blanks separate, quotes group, \ escapes. */
export function tokenizeCommand(cmd: string): string[] {
  const out: string[] = [];
  let cur = "";
  let has = false;
  let quote = "";
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (c === "\\" && i + 1 < cmd.length) {
      cur += cmd[++i];
      has = true;
    } else if (quote) {
      if (c === quote) quote = "";
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === " " || c === "\t") {
      if (has) out.push(cur);
      cur = "";
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

/** A piped logger, respawned when it dies (Apache's piped_log_maintenance). */
export class PipeSink implements Sink {
  private proc: Bun.Subprocess<"pipe", "inherit", "inherit"> | undefined;
  private pending = "";
  private closing = false;
  private spawnedAt = 0;
  constructor(
    readonly key: string,
    readonly program: string,
    readonly argv: string[],
    readonly cwd: string | undefined,
  ) {
    this.spawn();
  }

  private spawn(): void {
    const proc = Bun.spawn(this.argv, {
      stdin: "pipe",
      stdout: "inherit",
      stderr: "inherit",
      cwd: this.cwd,
    });
    // The logger must not keep a finished server alive; close() ends it explicitly.
    proc.unref();
    this.proc = proc;
    this.spawnedAt = Date.now();
    void proc.exited.then(() => this.died(proc));
  }

  private died(proc: Bun.Subprocess): void {
    if (this.closing || proc !== this.proc) return;
    this.proc = undefined;
    problem(`AH00106: piped log program '${this.program}' failed unexpectedly`, undefined, this.key);
    // A program that dies at once would otherwise be respawned in a tight loop.
    const wait = Date.now() - this.spawnedAt < 1000 ? 1000 : 0;
    setTimeout(() => {
      if (this.closing) return;
      try {
        this.spawn();
      } catch (e) {
        problem(`AH00107: piped_log_maintenance: unable to respawn '${this.program}'`, e, this.key);
        return;
      }
      const data = this.pending;
      this.pending = "";
      if (data) this.write(data);
    }, wait).unref();
  }

  write(data: string): void {
    const proc = this.proc;
    if (!proc) {
      if (this.pending.length + data.length <= PENDING_CAP) this.pending += data;
      return;
    }
    proc.stdin.write(data);
    void proc.stdin.flush();
  }

  async drain(): Promise<void> {
    const r = this.proc?.stdin.flush();
    if (r instanceof Promise) await r;
  }

  /** The program rotates by itself (rotatelogs); a graceful restart keeps it running. */
  reopen(): void {}

  async close(): Promise<void> {
    this.closing = true;
    const proc = this.proc;
    if (!proc) return;
    await proc.stdin.end();
    const timer = setTimeout(() => proc.kill(), 2000);
    await proc.exited;
    clearTimeout(timer);
  }
}
