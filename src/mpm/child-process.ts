// Entry of a prefork child process (`mosaic --mosaic-child`): the same child, over Bun's IPC channel.
import { runChild } from "./child-main.ts";
import type { ToChild } from "./protocol.ts";

/** Runs this process as a prefork child; it exits when the control process goes away. */
export function runChildProcess(): void {
  const parent = process.ppid;
  // An orphaned child must not keep serving on its own (Apache's children die with the parent's pipe).
  process.on("disconnect", () => process.exit(0));
  // Ctrl-C and a closed terminal reach the whole process group: the control process decides
  // what happens to its children (it tells them over IPC), so they do not die on their own.
  for (const sig of ["SIGINT", "SIGHUP", "SIGUSR1", "SIGWINCH"] as const) process.on(sig, () => {});
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 1000).unref();
  runChild({
    post: (msg) => process.send?.(msg),
    onMessage: (fn) => process.on("message", (m) => fn(m as ToChild)),
    exit: (code) => process.exit(code),
  });
}
