// mod_status over the real MPM (children, shared scoreboard): counts across children, in-flight work, graceful.
import { afterAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import fs from "node:fs";
import path from "node:path";
import { freePort, tempDir, writeTree } from "./helpers.ts";

const MAIN = path.resolve(import.meta.dir, "../src/main.ts");
const running = new Set<Subprocess>();
afterAll(async () => {
  for (const p of running) p.kill("SIGKILL");
});

function parseAuto(text: string): Record<string, string> {
  const v: Record<string, string> = {};
  for (const line of text.split("\n").slice(1)) {
    const i = line.indexOf(": ");
    if (i > 0) v[line.slice(0, i)] = line.slice(i + 2);
  }
  return v;
}

describe("status under the event MPM", () => {
  test("children, exact totals across children, busy workers, a graceful restart", async () => {
    const root = tempDir();
    const port = await freePort();
    writeTree(root, {
      "htdocs/index.html": "hello\n",
      "logs/.keep": "",
      "httpd.conf": [
        `Listen 127.0.0.1:${port}`, "ServerName mpm.test", `DocumentRoot ${root}/htdocs`, "ErrorLog logs/error_log",
        "PidFile logs/httpd.pid", "Define MOSAIC_FAULT_INJECTION", "StartServers 2", "ThreadsPerChild 5",
        "MaxRequestWorkers 20", "MinSpareThreads 5", "MaxSpareThreads 20",
        "<Location /server-status>", "  SetHandler server-status", "</Location>",
        "<Location /slow>", "  SetHandler mosaic-fault-sleep", "</Location>", "",
      ].join("\n"),
    });
    const proc = Bun.spawn([process.execPath, MAIN, "-d", root, "-f", "httpd.conf"], { stdout: "ignore", stderr: "pipe" });
    running.add(proc);
    const url = `http://127.0.0.1:${port}`;
    const auto = async () => parseAuto(await (await fetch(`${url}/server-status?auto`)).text());
    try {
      let a: Record<string, string> = {};
      for (let i = 0; i < 100; i++) {
        a = await auto().catch(() => ({}));
        if (Number(a.Processes ?? 0) >= 2) break;
        await Bun.sleep(100);
      }
      expect(Number(a.Processes)).toBeGreaterThanOrEqual(2);
      // MaxRequestWorkers / ThreadsPerChild = 4 children of 5 slots: 20 characters.
      expect(a.Scoreboard!.length).toBe(20);
      const html = await (await fetch(`${url}/server-status`)).text();
      const rows = [...html.matchAll(/<tr><td>(\d+)<\/td><td>(\d+)<\/td><td>(no|yes)/g)];
      expect(rows.length).toBe(Number((await auto()).Processes));

      // Requests land on different children; the shared scoreboard counts every one of them.
      const before = await auto();
      const N = 20;
      await Promise.all(Array.from({ length: N }, () => fetch(`${url}/index.html`).then((r) => r.text())));
      const after = await auto();
      expect(Number(after["Total Accesses"])).toBe(Number(before["Total Accesses"]) + N + 1);

      // mosaic's per-vhost counters are summed over the children (published once a second).
      const metric = async () => {
        const t = await (await fetch(`${url}/server-status?metrics`)).text();
        return Number(/^mosaic_vhost_requests_total\{vhost="mpm\.test:\d+"\} (\d+)$/m.exec(t)?.[1] ?? 0);
      };
      // Sums settle within a second of the last request (each child publishes once a second).
      await Bun.sleep(1600);
      const m0 = await metric();
      await Promise.all(Array.from({ length: N }, () => fetch(`${url}/index.html`).then((r) => r.text())));
      await Bun.sleep(1600);
      expect(await metric()).toBe(m0 + N + 1);

      // Three requests in flight, on any children, plus this one: four busy workers.
      const slow = [1, 2, 3].map(() => fetch(`${url}/slow?ms=2500`).then((r) => r.status));
      let busy = await auto();
      for (let i = 0; i < 40 && Number(busy.BusyWorkers) < 4; i++) {
        await Bun.sleep(25);
        busy = await auto();
      }
      expect(Number(busy.BusyWorkers)).toBe(4);
      expect(busy.Scoreboard!.split("W").length - 1).toBe(4);

      // A graceful restart while they run: new generations, the same RestartTime, nothing lost.
      const restart = busy.RestartTime;
      proc.kill("SIGUSR1");
      let g = await auto();
      for (let i = 0; i < 60 && g.ParentServerConfigGeneration !== "2"; i++) {
        await Bun.sleep(50);
        g = await auto();
      }
      expect(g.ParentServerConfigGeneration).toBe("2");
      expect(g.ParentServerMPMGeneration).toBe("1");
      expect(g.RestartTime).toBe(restart!);
      expect(await Promise.all(slow)).toEqual([200, 200, 200]);
      expect(Number((await auto()).BusyWorkers)).toBe(1);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
      running.delete(proc);
      if (fs.existsSync(path.join(root, "logs/error_log"))) {
        const log = fs.readFileSync(path.join(root, "logs/error_log"), "utf8");
        expect(log).not.toMatch(/\[status:error\]/);
      }
    }
  }, 30_000);
});
