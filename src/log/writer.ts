// The buffered line writer behind both logs: a file, a piped program ("reliable piped logs") or stderr.
import fs from "node:fs";
import path from "node:path";

export interface WriterOptions {
  /** BufferedLogs On: a bigger buffer and a longer delay before lines reach the target. */
  buffered?: boolean;
  /** Working directory of a piped program (Apache starts it in ServerRoot). */
  cwd?: string;
}

/** Why a log target could not be opened; `osError` reads like APR's `(2)No such file or directory`. */
export class LogOpenError extends Error {
  constructor(
    message: string,
    readonly target: string,
    readonly cause?: unknown,
  ) {
    super(message);
    this.name = "LogOpenError";
  }
}

interface Sink {
  write(data: string): void;
  /** Resolves once everything handed to write() has left the process. */
  drain(): Promise<void>;
  reopen(): void;
  close(): Promise<void>;
}

/** Unbuffered logs still batch what one event-loop turn produced; one write per batch or per 4 KB. */
const SMALL_LIMIT = 4096;
/** BufferedLogs On: write at 64 KB or after half a second, whichever comes first. */
const BIG_LIMIT = 64 * 1024;
const BUFFERED_DELAY_MS = 500;
/** Lines kept while a piped logger is being respawned; beyond this they are dropped. */
const PENDING_CAP = 1 << 20;

let problemReporter: (message: string, err?: unknown) => void = (message) => {
  writeStderr(`${message}\n`);
};

/** Where writer trouble (a piped logger died, a write failed) is reported; error-log.ts sets this. */
export function onLogWriterProblem(fn: (message: string, err?: unknown) => void): void {
  problemReporter = fn;
}

/** The strerror text Apache prints after `(errno)`. libuv's wording differs, so the usual ones are here. */
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

function writeStderr(data: string): void {
  try {
    fs.writeSync(2, data);
  } catch {
    // A non-blocking stderr that is full: let the stream queue it instead of losing it.
    process.stderr.write(data);
  }
}

class StderrSink implements Sink {
  write(data: string): void {
    writeStderr(data);
  }
  async drain(): Promise<void> {}
  reopen(): void {}
  async close(): Promise<void> {}
}

class FileSink implements Sink {
  private fd: number;
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, "a");
  }
  write(data: string): void {
    if (this.fd < 0) return;
    const buf = Buffer.from(data);
    let off = 0;
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

/** Splits a command line into argv like apr_tokenize_to_argv: blanks separate, quotes group, \ escapes. */
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
class PipeSink implements Sink {
  private proc: Bun.Subprocess<"pipe", "inherit", "inherit"> | undefined;
  private pending = "";
  private closing = false;
  private spawnedAt = 0;
  constructor(
    readonly program: string,
    readonly argv: string[],
    readonly cwd: string | undefined,
  ) {
    this.spawn();
  }

  private spawn(): void {
    const proc = Bun.spawn(this.argv, { stdin: "pipe", stdout: "inherit", stderr: "inherit", cwd: this.cwd });
    // The logger must not keep a finished server alive; close() ends it explicitly.
    proc.unref();
    this.proc = proc;
    this.spawnedAt = Date.now();
    void proc.exited.then(() => this.died(proc));
  }

  private died(proc: Bun.Subprocess): void {
    if (this.closing || proc !== this.proc) return;
    this.proc = undefined;
    problemReporter(`AH00106: piped log program '${this.program}' failed unexpectedly`);
    // A program that dies at once would otherwise be respawned in a tight loop.
    const wait = Date.now() - this.spawnedAt < 1000 ? 1000 : 0;
    setTimeout(() => {
      if (this.closing) return;
      try {
        this.spawn();
      } catch (e) {
        problemReporter(`AH00107: piped_log_maintenance: unable to respawn '${this.program}'`, e);
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

/**
 * One log target with its line buffer. Lines are appended to memory and written in batches, so
 * logging a request never costs a syscall of its own; see flush() for when a batch goes out.
 */
export class LogWriter {
  private buf = "";
  private scheduled = false;
  private closed = false;
  /** Config generation that last asked for this writer (see closeStaleLogWriters). */
  generation = 0;

  constructor(
    /** The registry key: "stderr", an absolute path, or `|cmd` / `|$cmd`. */
    readonly key: string,
    readonly kind: "file" | "pipe" | "stderr",
    private readonly sink: Sink,
    public buffered: boolean,
  ) {}

  /** Queues one line; it must end with "\n". */
  write(line: string): void {
    if (this.closed) return;
    this.buf += line;
    if (this.buf.length >= (this.buffered ? BIG_LIMIT : SMALL_LIMIT)) this.flush();
    else if (!this.scheduled) this.schedule();
  }

  private schedule(): void {
    this.scheduled = true;
    if (this.buffered) setTimeout(this.flushCb, BUFFERED_DELAY_MS).unref();
    else setImmediate(this.flushCb);
  }

  private readonly flushCb = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** Hands the buffer to the target now (synchronous for files and stderr). */
  flush(): void {
    if (!this.buf) return;
    const data = this.buf;
    this.buf = "";
    try {
      this.sink.write(data);
    } catch (e) {
      problemReporter(`AH00646: Error writing to ${this.key}`, e);
    }
  }

  /** Flushes and waits until a piped program has been handed everything. */
  async drain(): Promise<void> {
    this.flush();
    await this.sink.drain();
  }

  reopen(): void {
    this.flush();
    try {
      this.sink.reopen();
    } catch (e) {
      problemReporter(`could not reopen log file ${this.key}`, e);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    writers.delete(this.key);
    await this.sink.close();
  }
}

const writers = new Map<string, LogWriter>();
let generation = 0;
let exitHookInstalled = false;

/** The registry key of a target: pipes normalised (`||cmd` is `|cmd`), files made absolute. */
export function logTargetKey(target: string): string {
  if (target === "stderr") return target;
  if (target.startsWith("||")) return target.slice(1);
  if (target.startsWith("|")) return target;
  return path.resolve(target);
}

/**
 * The shared writer for a target, opened on first use: `stderr`, a file path (appended to, created
 * if missing; its directory must exist, as in Apache), `|cmd` or `||cmd` (no shell), `|$cmd`
 * (through /bin/sh -c). Throws LogOpenError. An existing writer is reused and becomes unbuffered
 * if any user wants it so.
 */
export function openLogWriter(target: string, opts: WriterOptions = {}): LogWriter {
  const key = logTargetKey(target);
  const buffered = opts.buffered ?? false;
  let w = writers.get(key);
  if (w) {
    w.buffered &&= buffered;
    w.generation = generation;
    return w;
  }
  w = new LogWriter(key, kindOf(key), createSink(key, target, opts.cwd), buffered);
  w.generation = generation;
  writers.set(key, w);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Buffered lines must survive a normal exit; files and stderr are written synchronously here.
    process.on("exit", () => {
      for (const wr of writers.values()) wr.flush();
    });
  }
  return w;
}

function kindOf(key: string): LogWriter["kind"] {
  return key === "stderr" ? "stderr" : key.startsWith("|") ? "pipe" : "file";
}

function createSink(key: string, target: string, cwd: string | undefined): Sink {
  if (key === "stderr") return new StderrSink();
  if (key.startsWith("|")) {
    const shell = key.startsWith("|$");
    const program = key.slice(shell ? 2 : 1).trim();
    const argv = shell ? ["/bin/sh", "-c", program] : tokenizeCommand(program);
    if (argv.length === 0) throw new LogOpenError(`Couldn't start piped log process '${program}'.`, target);
    try {
      return new PipeSink(program, argv, cwd);
    } catch (e) {
      throw new LogOpenError(`Couldn't start piped log process '${program}'.`, target, e);
    }
  }
  try {
    return new FileSink(key);
  } catch (e) {
    throw new LogOpenError(`could not open log file ${key}.`, target, e);
  }
}

/** Every open writer (for tests and diagnostics). */
export function logWriters(): LogWriter[] {
  return [...writers.values()];
}

/** Writes out every buffer now and waits for piped programs to take the data. */
export async function flushAllLogWriters(): Promise<void> {
  await Promise.all([...writers.values()].map((w) => w.drain()));
}

/** Reopens every file target (after logrotate, or on a graceful restart). */
export function reopenAllLogWriters(): void {
  for (const w of writers.values()) w.reopen();
}

/**
 * Starts a new config generation: writers opened (or reused) from now on belong to it. Call before
 * building a new configuration; after it is committed, closeStaleLogWriters() drops the others.
 */
export function startLogGeneration(): number {
  return ++generation;
}

/** Closes the writers the current configuration no longer uses (e.g. a CustomLog removed by reload). */
export async function closeStaleLogWriters(): Promise<void> {
  await Promise.all([...writers.values()].filter((w) => w.generation < generation).map((w) => w.close()));
}

/** Closes every writer (shutdown, tests). */
export async function closeAllLogWriters(): Promise<void> {
  await Promise.all([...writers.values()].map((w) => w.close()));
}
