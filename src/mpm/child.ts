// Entry point of a worker-thread child (event and worker MPMs); build.ts bundles it as an extra entrypoint.
import { runChild } from "./child-main.ts";
import type { ToChild } from "./protocol.ts";

declare const self: Worker;

runChild({
  post: (msg) => self.postMessage(msg),
  onMessage: (fn) => {
    self.onmessage = (e: MessageEvent<ToChild>) => fn(e.data);
  },
  exit: (code) => process.exit(code),
});
