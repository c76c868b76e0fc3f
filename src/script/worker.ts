// The script worker thread: a runner (runner.ts) behind postMessage. A worker is the kill switch: the
// main thread terminates it when a script defeats every other limit (bun.md §7).
import { createRunner } from "./runner.ts";
import { decodeCall } from "./protocol.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";

declare const self: Worker;

/**
 * Replies go out in one message per turn of the event loop (a postMessage costs more than a call),
 * as one string when they are all plain results.
 */
let outbox: (string | FromWorker)[] = [];
function post(m: string | FromWorker): void {
  if (outbox.length === 0) setImmediate(flush);
  outbox.push(m);
}
function flush(): void {
  const batch = outbox;
  outbox = [];
  self.postMessage(batch.every((x) => typeof x === "string") ? batch.join("\n") : batch);
}

const handle = createRunner(post);

self.onmessage = (e: MessageEvent<string | (string | ToWorker)[]>) => {
  const d = e.data;
  if (typeof d === "string") for (const line of d.split("\n")) handle(decodeCall(line));
  else for (const m of d) handle(typeof m === "string" ? decodeCall(m) : m);
};

post({ t: "ready" });
