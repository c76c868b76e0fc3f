// MPM sizing: Apache's defaults, check_config clamping and its warnings; idle server maintenance decisions.
import { describe, expect, test } from "bun:test";
import { resolveMpm } from "../src/mpm/limits.ts";
import { createMaintenanceState, idleMaintenance } from "../src/mpm/maintenance.ts";

describe("defaults (apache.md 2.1)", () => {
  test("event: 3 children of 25 threads, 400 workers, spare 75..250", () => {
    const { settings, warnings } = resolveMpm("event", {});
    expect(warnings).toEqual([]);
    expect(settings).toMatchObject({
      startServers: 3, serverLimit: 16, threadLimit: 64, threadsPerChild: 25, maxRequestWorkers: 400,
      activeDaemonsLimit: 16, minSpare: 75, maxSpare: 250, maxConnectionsPerChild: 0,
      asyncRequestWorkerFactor: 2, listenBacklog: 511, gracefulShutdownTimeout: 0,
    });
  });

  test("prefork: 5 children, 256 slots, spare 5..10, one worker each", () => {
    const { settings } = resolveMpm("prefork", {});
    expect(settings).toMatchObject({
      startServers: 5, serverLimit: 256, maxRequestWorkers: 256, threadsPerChild: 1, threadLimit: 1, minSpare: 5, maxSpare: 10,
    });
  });

  test("Debian's shipped event values stay as they are", () => {
    const { settings, warnings } = resolveMpm("event", {
      startServers: 2, minSpareThreads: 25, maxSpareThreads: 75, threadLimit: 64, threadsPerChild: 25, maxRequestWorkers: 150,
    });
    expect(warnings).toEqual([]);
    expect(settings).toMatchObject({ startServers: 2, activeDaemonsLimit: 6, maxRequestWorkers: 150, minSpare: 25, maxSpare: 75 });
  });
});

describe("clamping with Apache's warnings", () => {
  test("AH00513: MaxRequestWorkers rounds down to a multiple of ThreadsPerChild", () => {
    const { settings, warnings } = resolveMpm("event", { maxRequestWorkers: 300, threadsPerChild: 25 });
    expect(settings.maxRequestWorkers).toBe(300);
    const r = resolveMpm("event", { maxRequestWorkers: 310, threadsPerChild: 25 });
    expect(r.settings.maxRequestWorkers).toBe(300);
    expect(r.settings.activeDaemonsLimit).toBe(12);
    expect(r.warnings).toEqual([{
      startup: true,
      text: "AH00513: WARNING: MaxRequestWorkers of 310 is not an integer multiple of ThreadsPerChild of 25, decreasing to nearest multiple 300, for a maximum of 12 servers.",
    }]);
    expect(warnings).toEqual([]);
  });

  test("AH00515: the default 400 workers with ThreadsPerChild 10 would need 40 servers > ServerLimit 16", () => {
    const { settings, warnings } = resolveMpm("event", { threadsPerChild: 10 });
    expect(settings.maxRequestWorkers).toBe(160);
    expect(settings.activeDaemonsLimit).toBe(16);
    expect(warnings.map((w) => w.text)).toEqual([
      "AH00515: WARNING: MaxRequestWorkers of 400 would require 40 servers and would exceed ServerLimit of 16, decreasing to 160. To increase, please see the ServerLimit directive.",
    ]);
  });

  test("ThreadsPerChild above ThreadLimit, zeros and compile-time maxima", () => {
    const w = resolveMpm("event", {
      threadsPerChild: 100, serverLimit: 0, startServers: 0, minSpareThreads: -1, threadLimit: 200000,
    });
    expect(w.settings).toMatchObject({ serverLimit: 1, threadLimit: 100000, threadsPerChild: 100, startServers: 1, minSpare: 1 });
    expect(w.warnings.map((x) => x.text.slice(0, 7))).toEqual(["AH00499", "AH00502", "AH00515", "AH00517", "AH00519"]);
    const t = resolveMpm("worker", { threadsPerChild: 80 });
    expect(t.settings.threadsPerChild).toBe(64);
    expect(t.warnings[0]!.text).toBe(
      "AH00310: WARNING: ThreadsPerChild of 80 exceeds ThreadLimit of 64 threads, decreasing to 64. To increase, please see the ThreadLimit directive.",
    );
  });

  test("MaxRequestWorkers below ThreadsPerChild is raised (AH00511)", () => {
    const { settings, warnings } = resolveMpm("event", { maxRequestWorkers: 10 });
    expect(settings.maxRequestWorkers).toBe(25);
    expect(warnings[0]!.text).toStartWith("AH00511: WARNING: MaxRequestWorkers of 10 is less than ThreadsPerChild of 25, increasing to 25.");
  });

  test("StartServers above the active limit and MaxSpareThreads below MinSpareThreads + TPC + 1 are silently fixed", () => {
    const { settings, warnings } = resolveMpm("event", { startServers: 10, maxRequestWorkers: 50, minSpareThreads: 10, maxSpareThreads: 5 });
    expect(warnings).toEqual([]);
    expect(settings).toMatchObject({ startServers: 2, activeDaemonsLimit: 2, minSpare: 10, maxSpare: 36 });
  });

  test("a restart may not change ServerLimit or ThreadLimit (AH00501/AH00506), and logs the short form", () => {
    const { settings, warnings } = resolveMpm("event", { serverLimit: 32, threadLimit: 32, maxRequestWorkers: 310 }, { serverLimit: 16, threadLimit: 64 });
    expect(settings.serverLimit).toBe(16);
    expect(settings.threadLimit).toBe(64);
    expect(warnings).toEqual([
      { startup: false, text: "AH00501: changing ServerLimit to 32 from original value of 16 not allowed during restart" },
      { startup: false, text: "AH00506: changing ThreadLimit to 32 from original value of 64 not allowed during restart" },
      { startup: false, text: "AH00514: MaxRequestWorkers of 310 is not an integer multiple of ThreadsPerChild of 25, decreasing to nearest multiple 300" },
    ]);
  });

  test("prefork: MaxRequestWorkers above ServerLimit (AH00180), MinSpareServers 0 (AH00186)", () => {
    const { settings, warnings } = resolveMpm("prefork", { serverLimit: 10, maxRequestWorkers: 20, minSpareServers: 0, maxSpareServers: 0 });
    expect(settings).toMatchObject({ maxRequestWorkers: 10, minSpare: 1, maxSpare: 2, startServers: 5 });
    expect(warnings.map((w) => w.text)).toEqual([
      "AH00180: WARNING: MaxRequestWorkers of 20 exceeds ServerLimit value of 10 servers, decreasing MaxRequestWorkers to 10. To increase, please see the ServerLimit directive.",
      "AH00186: WARNING: MinSpareServers of 0 not allowed, increasing to 1 to avoid almost certain server failure. Please read the documentation.",
    ]);
  });
});

describe("idle server maintenance (apache.md 2.2)", () => {
  const event = resolveMpm("event", { threadsPerChild: 10, maxRequestWorkers: 100, minSpareThreads: 20, maxSpareThreads: 40 }).settings;

  test("spawn rate doubles 1, 2, 4 ... 32 while idle workers stay short, and resets when they do not", () => {
    const st = createMaintenanceState();
    const rates: number[] = [];
    for (let i = 0; i < 7; i++) {
      const d = idleMaintenance(st, { ...event, activeDaemonsLimit: 1000, maxRequestWorkers: 10000 }, { idle: 0, activeChildren: 1, totalChildren: 1, freeSlots: 100 });
      rates.push(d.spawn);
    }
    expect(rates).toEqual([1, 2, 4, 8, 16, 32, 32]);
    idleMaintenance(st, event, { idle: 25, activeChildren: 3, totalChildren: 3, freeSlots: 13 });
    expect(st.spawnRate).toBe(1);
  });

  test("AH00486 from a rate of 8 on, with Apache's counts", () => {
    const st = { ...createMaintenanceState(), spawnRate: 8 };
    const d = idleMaintenance(st, event, { idle: 5, activeChildren: 2, totalChildren: 3, freeSlots: 13 });
    expect(d.spawn).toBe(8);
    expect(d.logs).toEqual([{
      level: "info",
      text: "AH00486: server seems busy, (you may need to increase StartServers, ThreadsPerChild or Min/MaxSpareThreads), spawning 8 children, there are around 5 idle threads, 2 active children, and 3 children that are shutting down",
    }]);
  });

  test("at MaxRequestWorkers: AH00484 once, no spawn", () => {
    const st = createMaintenanceState();
    const full = { idle: 0, activeChildren: 10, totalChildren: 10, freeSlots: 6 };
    expect(idleMaintenance(st, event, full)).toEqual({
      spawn: 0, retireOne: false,
      logs: [{ level: "error", text: "AH00484: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting" }],
    });
    expect(idleMaintenance(st, event, full).logs).toEqual([]);
  });

  test("never more children than MaxRequestWorkers / ThreadsPerChild", () => {
    const st = { ...createMaintenanceState(), spawnRate: 8 };
    expect(idleMaintenance(st, event, { idle: 10, activeChildren: 8, totalChildren: 8, freeSlots: 8 }).spawn).toBe(2);
  });

  test("too many idle: retire one child, unless others are still leaving and the scoreboard is tight", () => {
    const st = createMaintenanceState();
    expect(idleMaintenance(st, event, { idle: 50, activeChildren: 5, totalChildren: 5, freeSlots: 11 }).retireOne).toBe(true);
    expect(idleMaintenance(st, event, { idle: 50, activeChildren: 5, totalChildren: 7, freeSlots: 9 }).retireOne).toBe(false);
  });

  test("prefork counts idle children: AH00161 when no slot is left", () => {
    const pre = resolveMpm("prefork", { maxRequestWorkers: 4 }).settings;
    const st = createMaintenanceState();
    expect(idleMaintenance(st, pre, { idle: 2, activeChildren: 2, totalChildren: 2, freeSlots: 2 }).spawn).toBe(1);
    expect(idleMaintenance(st, pre, { idle: 0, activeChildren: 4, totalChildren: 4, freeSlots: 0 }).logs[0]!.text).toBe(
      "AH00161: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting",
    );
    expect(idleMaintenance(st, pre, { idle: 11, activeChildren: 11, totalChildren: 11, freeSlots: 0 }).retireOne).toBe(true);
  });
});
