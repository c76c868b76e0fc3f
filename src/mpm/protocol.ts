// Messages between the control thread and its children (postMessage for threads, IPC for processes).
import type { LoadOptions } from "../config/load.ts";
import type { MpmSettings } from "./limits.ts";

/** LoadOptions without its callbacks: plain data that crosses threads and processes. */
export type ChildLoadOptions = Omit<LoadOptions, "warn" | "onInclude">;

export interface InitMessage {
  t: "init";
  opts: ChildLoadOptions;
  generation: number;
  slot: number;
  /** Which occupant of the process slot this child is. */
  serial: number;
  settings: MpmSettings;
  /** The scoreboard: shared memory for threads, the mapped file's path for processes. */
  board: SharedArrayBuffer | string;
  /** The port of each Listen, in order: `Listen x:0` resolved once so that every child shares it. */
  ports: number[];
}

export type ToChild =
  | InitMessage
  | { t: "reload"; opts: ChildLoadOptions; generation: number; settings: MpmSettings; ports: number[] }
  /** Retire: answer with Connection: close for `lingerMs`, close idle connections, stop within `timeoutMs` (0: no limit). */
  | { t: "drain"; lingerMs: number; timeoutMs: number }
  /** Graceful stop (`force` false: listeners close now, in-flight requests finish) or hard stop. */
  | { t: "stop"; force: boolean; timeoutMs: number }
  /** The control thread released worker slots of this child (worker MPM): waiting connections may go. */
  | { t: "freed" };

export type FromChild =
  | { t: "ready"; tid: number; ports: number[] }
  | { t: "reloaded"; generation: number }
  | { t: "reload-failed"; generation: number; error: string }
  /** The child could not start (config or bind error): the text is what Apache would print. */
  | { t: "fatal"; error: string }
  /** MaxConnectionsPerChild reached: please start a replacement and retire me. */
  | { t: "recycle" }
  | { t: "stopped" }
  /** Lines for a piped log: the control thread runs the one logger process (see setLogRelay). */
  | { t: "log"; key: string; data: string };

/** Strips the callbacks (and the environment, which children inherit anyway) from LoadOptions. */
export function childLoadOptions(opts: LoadOptions): ChildLoadOptions {
  const { warn: _w, onInclude: _o, env: _e, ...rest } = opts;
  return rest;
}
