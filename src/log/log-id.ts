// Log ids of requests and connections (%L, %{c}L), as Apache's core_generate_log_id makes them.
import { isMainThread, threadId } from "node:worker_threads";
import type { ConnInfo, Request } from "../http/request.ts";
import { nowMicros } from "./time.ts";

/**
 * The thread id of `[pid P:tid T]`: mosaic serves on the main thread of each process, where the
 * pid stands in; worker threads log their threadId.
 */
export const TID = isMainThread ? process.pid : threadId;

const connIds = new WeakMap<ConnInfo, string>();
const requestIds = new WeakMap<Request, string>();

/** Apache's core_generate_log_id: request time (µs) xor pid and thread, base64 without the pad. */
function generateLogId(usec: number): string {
  let id = BigInt(Math.floor(usec));
  const pid = BigInt(process.pid);
  id ^= pid << 40n;
  id ^= (pid >> 24n) << 56n;
  id ^= BigInt(TID) << 32n;
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(BigInt.asUintN(64, id));
  return buf.toString("base64").slice(0, 11);
}

/** The request's log id (%L), created on first use; mod_unique_id's UNIQUE_ID when present. */
export function requestLogId(r: Request): string {
  const main = r.main;
  let id = requestIds.get(main);
  if (id === undefined) {
    id = main.subprocessEnv.get("UNIQUE_ID") ?? generateLogId(main.requestTime * 1000);
    requestIds.set(main, id);
  }
  return id;
}

/** The request's log id if one was assigned (an error was logged for it), for the access log's %L. */
export function existingRequestLogId(r: Request): string | undefined {
  return requestIds.get(r.main) ?? r.main.subprocessEnv.get("UNIQUE_ID");
}

/** The connection's log id if one was assigned, for the access log's %{c}L. */
export function existingConnLogId(c: ConnInfo): string | undefined {
  return connIds.get(c);
}

/** The connection's log id (%{c}L), created on first use. */
export function connLogId(c: ConnInfo): string {
  let id = connIds.get(c);
  if (id === undefined) {
    id = generateLogId(nowMicros());
    connIds.set(c, id);
  }
  return id;
}

export function hasConnLogId(c: ConnInfo): boolean {
  return connIds.has(c);
}

export function hasRequestLogId(r: Request): boolean {
  return requestIds.has(r.main);
}
