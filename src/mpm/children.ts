// Child handles for the control thread: worker threads (event, worker) and processes (prefork).
import type { FromChild, InitMessage, ToChild } from "./protocol.ts";

export type ChildState = "starting" | "ready" | "draining" | "stopping" | "dead";

/** The control thread's view of one child, whatever it runs in. */
export interface ChildHandle {
  readonly kind: "thread" | "process";
  readonly slot: number;
  readonly serial: number;
  /** OS process id: the server's own pid for a thread, the child's for a process. */
  readonly pid: number;
  tid: number;
  generation: number;
  state: ChildState;
  startedAt: number;
  /** Heartbeat counter last seen, and when it last moved (hang detection). */
  lastBeat: number;
  lastBeatAt: number;
  /** Set when the control thread ended it on purpose (hung, retired): its exit is not a crash. */
  killedFor: string | undefined;
  /** The last error a thread reported before dying. */
  lastError: string | undefined;
  /** It asked to be retired (MaxConnectionsPerChild) but no slot was free for its replacement yet. */
  retirePending: boolean;
  send(msg: ToChild): void;
  /** Ends it now: terminate() for a thread (works on a busy loop, bun.md §7), SIGKILL for a process. */
  kill(): void;
  /** Resolves with the exit code once it is gone. */
  readonly exited: Promise<number>;
}

export interface SpawnHooks {
  onMessage(child: ChildHandle, msg: FromChild): void;
  onExit(child: ChildHandle, code: number): void;
}

/** True inside the `bun build --compile` binary, where bundled files live under /$bunfs/. */
export const COMPILED = import.meta.url.includes("/$bunfs/");

/**
 * The worker entry: next to this file when run from source; in the binary, build.ts put it at
 * mpm/child.js relative to the entrypoints' common root (src/).
 */
function childUrl(): string {
  return COMPILED ? new URL("./mpm/child.js", import.meta.url).href : new URL("./child.ts", import.meta.url).href;
}

/** argv that re-executes this program as a prefork child (bun.md §6: process.execPath, not argv[0]). */
export function selfCommand(args: string[]): string[] {
  return COMPILED ? [process.execPath, ...args] : [process.execPath, new URL("../main.ts", import.meta.url).pathname, ...args];
}

function baseHandle(kind: ChildHandle["kind"], init: InitMessage, pid: number) {
  const now = Date.now();
  return {
    kind,
    slot: init.slot,
    serial: init.serial,
    pid,
    tid: 0,
    generation: init.generation,
    state: "starting" as ChildState,
    startedAt: now,
    lastBeat: 0,
    lastBeatAt: now,
    killedFor: undefined as string | undefined,
    lastError: undefined as string | undefined,
    retirePending: false,
  };
}

/** Starts a worker-thread child and hands it its init message (the SharedArrayBuffer is shared, not copied). */
export function spawnThread(init: InitMessage, hooks: SpawnHooks): ChildHandle {
  const worker = new Worker(childUrl(), { smol: false });
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  let gone = false;
  const child: ChildHandle = {
    ...baseHandle("thread", init, process.pid),
    send: (msg) => {
      if (!gone) worker.postMessage(msg);
    },
    kill: () => {
      if (!gone) worker.terminate();
    },
    exited,
  };
  worker.addEventListener("message", (e: MessageEvent<FromChild>) => hooks.onMessage(child, e.data));
  worker.addEventListener("error", (e: ErrorEvent) => {
    // Bun formats the message as a source excerpt, then `error: <message>`, then the stack.
    const lines = String(e.message ?? e).split("\n");
    const line = lines.find((l) => /^\w*error: /i.test(l.trim())) ?? lines.find((l) => l.trim()) ?? "error";
    child.lastError = line.trim().replace(/^error: /, "");
  });
  worker.addEventListener("close", (e: Event) => {
    if (gone) return;
    gone = true;
    const code = (e as CloseEvent).code ?? 0;
    hooks.onExit(child, code);
    resolveExit(code);
  });
  worker.postMessage(init);
  return child;
}

/** Starts a prefork child process (`mosaic --mosaic-child`) talking over Bun's IPC channel. */
export function spawnProcess(init: InitMessage, hooks: SpawnHooks): ChildHandle {
  let child!: ChildHandle;
  const proc = Bun.spawn(selfCommand(["--mosaic-child"]), {
    stdio: ["ignore", "inherit", "inherit"],
    ipc: (msg) => hooks.onMessage(child, msg as FromChild),
    serialization: "advanced",
    env: { ...process.env, MOSAIC_CHILD: "1" },
  });
  let gone = false;
  const exited = proc.exited.then((code) => {
    gone = true;
    const sig = proc.signalCode;
    hooks.onExit(child, sig ? 128 + (SIGNALS[sig] ?? 0) : code);
    return code;
  });
  child = {
    ...baseHandle("process", init, proc.pid),
    send: (msg) => {
      if (!gone) {
        try {
          proc.send(msg);
        } catch {
          // The channel is closing; its exit is on the way.
        }
      }
    },
    kill: () => {
      if (!gone) proc.kill("SIGKILL");
    },
    exited,
  };
  child.tid = proc.pid;
  child.send(init);
  return child;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };

/** Apache's wording for a signal number (AH00052 "exit signal Segmentation fault (11)"). */
export const SIGNAL_NAMES: Record<number, string> = {
  1: "Hangup", 2: "Interrupt", 3: "Quit", 4: "Illegal instruction", 6: "Aborted", 7: "Bus error",
  8: "Floating point exception", 9: "Killed", 11: "Segmentation fault", 13: "Broken pipe", 15: "Terminated",
};
