// Piped logs under the threaded MPM: one logger process, run by the control thread, for every child.
import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { startMosaic, until } from "./mpm-helpers.ts";

/** `cat` processes running in this server's ServerRoot: the piped loggers it started. */
function loggers(root: string): number {
  let n = 0;
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, "latin1").trim() === "cat" && fs.readlinkSync(`/proc/${pid}/cwd`) === root) n++;
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return n;
}

test("CustomLog \"|cmd\" runs one logger for all children and gets every line", async () => {
  await using srv = await startMosaic(
    `StartServers 3\nMinSpareThreads 1\nMaxSpareThreads 200\nThreadsPerChild 10\n` +
      `CustomLog "|$cat >> logs/piped_log" "%>s %U"\n`,
  );
  const n = 60;
  for (let i = 0; i < n; i++) {
    // A fresh connection each time, so the kernel spreads them over the children.
    const res = await fetch(`${srv.url}/index.html?${i}`, { keepalive: false });
    expect(res.status).toBe(200);
    await res.text();
  }
  const file = path.join(srv.root, "logs/piped_log");
  // The startup probe's own request is in there too.
  const ours = () => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter((l) => l === "200 /index.html").length : 0);
  const complete = () => ours() >= n;
  const ok = await until(complete, 5000);
  if (!ok) console.error(srv.log(), srv.stderr(), fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "(no file)");
  expect(ok).toBe(true);
  expect(ours()).toBeGreaterThanOrEqual(n);
  expect(loggers(fs.realpathSync(srv.root))).toBe(1);
}, 30_000);
