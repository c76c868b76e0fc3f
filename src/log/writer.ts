// The buffered line writer behind both logs: a file, a piped program ("reliable piped logs") or stderr.
import path from "node:path";
import { FileSink, PipeSink, problem, StderrSink, tokenizeCommand } from "./sinks.ts";
import type { Sink } from "./sinks.ts";

export { formatOsError, onLogWriterProblem, tokenizeCommand } from "./sinks.ts";

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
    /** The system error behind it (ENOENT, EACCES...). */
    readonly osError?: unknown,
  ) {
    super(message);
    this.name = "LogOpenError";
  }
}

/** Unbuffered logs still batch what one event-loop turn produced; one write per batch or per 4 KB. */
const SMALL_LIMIT = 4096;
/** BufferedLogs On: write at 64 KB or after half a second, whichever comes first. */
const BIG_LIMIT = 64 * 1024;
const BUFFERED_DELAY_MS = 500;

/**
 * One log target with its line buffer. Lines are appended to memory and written in batches, so
 * logging a request never costs a syscall of its own: at the end of the event-loop turn (setImmediate)
 * or when 4 KB are waiting; with BufferedLogs after 500 ms or at 64 KB; always at process exit.
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
      problem(`AH00646: Error writing to ${this.key}`, e, this.key);
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
      problem(`AH00091: mosaic: could not open log file ${this.key}.`, e, this.key);
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
  if (target === "stderr" || target === "/dev/stderr" || target === "/dev/fd/2") return "stderr";
  // The process's own stdout may be a pipe or socket (systemd, containers, Bun.spawn) that cannot be
  // opened again by path (ENXIO): write to fd 1 instead.
  if (target === "stdout" || target === "/dev/stdout" || target === "/dev/fd/1") return "stdout";
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
  return key === "stderr" || key === "stdout" ? "stderr" : key.startsWith("|") ? "pipe" : "file";
}

/**
 * In a child (thread or prefork process), piped loggers are not spawned again: lines for `|cmd` targets
 * are relayed to the control thread, which runs the one logger process (Apache's parent owns piped
 * logs). The MPM child sets this before building its configuration.
 */
let relay: ((key: string, data: string) => void) | undefined;
export function setLogRelay(fn: ((key: string, data: string) => void) | undefined): void {
  relay = fn;
}

/** The control thread's side: a batch relayed by a child, into the writer it opened for that target. */
export function writeRelayed(key: string, data: string): void {
  const w = writers.get(key);
  if (w) w.write(data);
}

class RelaySink implements Sink {
  constructor(private readonly key: string, private readonly send: (key: string, data: string) => void) {}
  write(data: string): void {
    this.send(this.key, data);
  }
  async drain(): Promise<void> {}
  reopen(): void {}
  async close(): Promise<void> {}
}

function createSink(key: string, target: string, cwd: string | undefined): Sink {
  if (relay && key.startsWith("|")) return new RelaySink(key, relay);
  if (key === "stderr") return new StderrSink(2);
  if (key === "stdout") return new StderrSink(1);
  if (key.startsWith("|")) {
    const shell = key.startsWith("|$");
    const program = key.slice(shell ? 2 : 1).trim();
    const argv = shell ? ["/bin/sh", "-c", program] : tokenizeCommand(program);
    if (argv.length === 0) {
      throw new LogOpenError(`Couldn't start piped log process '${program}'.`, target);
    }
    try {
      return new PipeSink(key, program, argv, cwd);
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
  const stale = [...writers.values()].filter((w) => w.generation < generation);
  await Promise.all(stale.map((w) => w.close()));
}

/** Closes every writer (shutdown, tests). */
export async function closeAllLogWriters(): Promise<void> {
  await Promise.all([...writers.values()].map((w) => w.close()));
}
