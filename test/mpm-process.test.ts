// The compiled binary as a process: children per StartServers, -k commands, raw signals, broken configs.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { alive, BIN, liveChildren, startMosaic, track, until, whoami } from "./mpm-helpers.ts";

const SMALL = "StartServers 2\nMinSpareThreads 1\nMaxSpareThreads 100\nThreadsPerChild 5\nMaxRequestWorkers 80";

describe("event MPM", () => {
  test("StartServers children serve, each a process slot with ThreadsPerChild worker slots", async () => {
    await using m = await startMosaic(SMALL);
    const s = await m.scoreboard(true);
    expect(s.globals).toMatchObject({ mpm: "event", serverLimit: 16, threadLimit: 64, threadsPerChild: 5, maxRequestWorkers: 80, configGeneration: 1 });
    const kids = liveChildren(s);
    expect(kids.length).toBe(2);
    expect(kids.map((k) => k.slot)).toEqual([0, 1]);
    for (const k of kids) expect(k).toMatchObject({ pid: m.pid(), state: "ready", generation: 1, threadsPerChild: 5, quiescing: false });
    // Two children of 5 slots, the rest of the 16 x 64 scoreboard dead: one W (this request).
    const states = s.workers.filter((w) => w.process < 2 && w.thread < 5).map((w) => w.state).join("");
    expect(states.replace("W", "_")).toBe("__________");
    expect(s.workers.filter((w) => w.thread >= 5 || w.process >= 2).every((w) => w.state === ".")).toBe(true);
    await m.waitLog(/AH00094: Command line: 'mosaic -d .* -f httpd.conf -D MOSAIC_FAULT_INJECTION'/);
    const log = m.log();
    expect(log).toMatch(/\[mpm_event:notice\] \[pid \d+:tid \d+\] AH00489: mosaic\/[\d.]+ \(Linux\) configured -- resuming normal operations/);
    expect(log).toMatch(/\[mpm_event:info\] .*AH00490: Server built: /);
  });

  test("-k start detaches, -k start again, graceful, stop, stop again (Apache's messages)", async () => {
    await using m = await startMosaic(SMALL, { detach: true });
    const pid = m.pid();
    expect(alive(pid)).toBe(true);
    expect(m.ctl("-k", "start")).toEqual({ code: 0, stdout: `mosaic (pid ${pid}) already running\n`, stderr: "" });
    expect(m.ctl("-k", "graceful").code).toBe(0);
    await m.waitLog(/AH00493: SIGUSR1 received\.  Doing graceful restart\n[^]*AH00489/);
    expect((await whoami(m.url)).generation).toBe(2);
    expect(m.ctl("-k", "stop")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await until(() => !alive(pid), 5000)).toBe(true);
    const log = m.log();
    expect(log).toMatch(new RegExp(`\\[core:info\\] .*AH00096: removed PID file ${m.root}/logs/httpd.pid \\(pid=${pid}\\)\n.*\\[mpm_event:notice\\] .*AH00491: caught SIGTERM, shutting down`));
    expect(fs.existsSync(path.join(m.root, "logs/httpd.pid"))).toBe(false);
    expect(m.ctl("-k", "stop")).toEqual({ code: 0, stdout: "mosaic (no pid file) not running\n", stderr: "" });
    fs.writeFileSync(path.join(m.root, "logs/httpd.pid"), `${pid}\n`);
    expect(m.ctl("-k", "graceful-stop").stdout).toBe(`mosaic (pid ${pid}?) not running\n`);
    fs.writeFileSync(path.join(m.root, "logs/httpd.pid"), "garbage\n");
    expect(m.ctl("-k", "stop")).toEqual({
      code: 1,
      stdout: "",
      stderr: `AH00058: Error retrieving pid file ${m.root}/logs/httpd.pid\nAH00059: Remove it before continuing if it is corrupted.\n`,
    });
  });

  test("-k graceful refuses a broken config (AH00526, exit 1); a raw USR1 keeps the old config serving", async () => {
    await using m = await startMosaic(`${SMALL}\nServerTokens Prod`);
    const confFile = path.join(m.root, "httpd.conf");
    const good = fs.readFileSync(confFile, "utf8");
    const lines = good.split("\n").length;
    fs.writeFileSync(confFile, `${good}Bogus x\n`);
    expect(m.ctl("-k", "graceful")).toEqual({
      code: 1,
      stdout: "",
      stderr: `AH00526: Syntax error on line ${lines} of ${confFile}:\nInvalid command 'Bogus', perhaps misspelled or defined by a module not included in the server configuration\n`,
    });
    expect(m.log()).not.toContain("AH00493");
    process.kill(m.pid(), "SIGUSR1");
    await m.waitLog(/AH00000: configuration reload failed, still serving generation 1: AH00526: Syntax error on line \d+ of .*Invalid command 'Bogus'/);
    const res = await fetch(`${m.url}/index.html`);
    expect(res.status).toBe(200);
    expect(res.headers.get("server")).toBe("mosaic");
    expect((await whoami(m.url)).generation).toBe(1);
    // Fixed, the next graceful restart goes through, and the new config is what serves.
    fs.writeFileSync(confFile, good.replace("ServerTokens Prod", "ServerTokens Major"));
    process.kill(m.pid(), "SIGUSR1");
    await until(async () => (await fetch(`${m.url}/index.html`)).headers.get("server") === "mosaic/0");
    // The refused reload did not use up a generation.
    expect((await whoami(m.url)).generation).toBe(2);
  });

  test("HUP: a hard restart gets new children and a new RestartTime; WINCH drains in-flight requests", async () => {
    await using m = await startMosaic(SMALL);
    const before = await m.scoreboard();
    const oldTids = liveChildren(before).map((p) => p.tid);
    await Bun.sleep(20);
    process.kill(m.pid(), "SIGHUP");
    await m.waitLog(/AH00494: SIGHUP received\.  Attempting to restart\n[^]*AH00489/);
    const after = await m.scoreboard();
    expect(after.globals.restartTime).toBeGreaterThan(before.globals.restartTime);
    expect(after.globals.configGeneration).toBe(2);
    expect(liveChildren(after).map((p) => p.tid).some((t) => oldTids.includes(t))).toBe(false);
    // Graceful stop: the PID file goes at once, the running request still gets its answer.
    const slow = fetch(`${m.url}/sleep?ms=1200`).then(async (r) => [r.status, await r.text()]);
    await Bun.sleep(200);
    process.kill(m.pid(), "SIGWINCH");
    await m.waitLog(/AH00096: removed PID file .*\n.*AH00492: caught SIGWINCH, shutting down gracefully/, 1000);
    await Bun.sleep(100);
    const refused = await fetch(`${m.url}/index.html`).then(() => false, () => true);
    expect(refused).toBe(true);
    expect(await slow).toEqual([200, "slept 1200\n"]);
    expect(await m.proc!.exited).toBe(0);
  });

  test("-X: one child in the foreground, in the process itself", async () => {
    const m = await startMosaic(SMALL);
    await m.stop();
    const proc = Bun.spawn([BIN, "-X", "-d", m.root, "-f", "httpd.conf", "-D", "MOSAIC_FAULT_INJECTION"], { stdout: "ignore", stderr: "pipe" });
    track(proc.pid);
    await until(async () => fetch(`${m.url}/index.html`).then((r) => r.ok, () => false), 5000);
    const s = await m.scoreboard();
    expect(liveChildren(s).map((p) => p.pid)).toEqual([proc.pid]);
    expect(s.globals.serverLimit).toBe(1);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });
});

describe("prefork MPM", () => {
  test("children are processes; one killed by a signal is logged (AH00052) and replaced", async () => {
    await using m = await startMosaic("LoadModule mpm_prefork_module modules/mod_mpm_prefork.so\nStartServers 2\nMinSpareServers 1\nMaxSpareServers 5");
    const s = await m.scoreboard();
    expect(s.globals).toMatchObject({ mpm: "prefork", threadLimit: 1, threadsPerChild: 1, serverLimit: 256 });
    const kids = liveChildren(s);
    expect(kids.length).toBe(2);
    for (const k of kids) {
      expect(k.pid).not.toBe(m.pid());
      expect(fs.readFileSync(`/proc/${k.pid}/stat`, "utf8").split(" ")[3]).toBe(String(m.pid()));
    }
    process.kill(kids[0]!.pid, "SIGKILL");
    await m.waitLog(new RegExp(`\\[mpm_prefork:error\\] .*AH00052: child pid ${kids[0]!.pid} exit signal Killed \\(9\\)`));
    expect(await until(async () => liveChildren(await m.scoreboard()).filter((k) => k.state === "ready").length === 2)).toBe(true);
    const now = liveChildren(await m.scoreboard()).map((k) => k.pid);
    expect(now).not.toContain(kids[0]!.pid);
    expect(now).toContain(kids[1]!.pid);
  });
});
