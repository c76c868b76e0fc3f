// Prometheus' apache_exporter (Debian's prometheus-apache-exporter) scraping mosaic's ?auto unchanged.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import { freePort, startTestServer, tempDir, writeTree } from "./helpers.ts";

const EXPORTER = "/usr/bin/prometheus-apache-exporter";
const have = fs.existsSync(EXPORTER);
if (!have) console.warn(`skipping apache_exporter test: ${EXPORTER} is missing (apt-get install prometheus-apache-exporter)`);

/** Reads `name{labels} value` lines into a map (the exporter's own output). */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe.skipIf(!have)("prometheus-apache-exporter", () => {
  test("reads mosaic's ?auto: apache_up 1, workers, scoreboard, accesses", async () => {
    const root = tempDir();
    writeTree(root, { "htdocs/index.html": "hello\n" });
    await using srv = await startTestServer(
      `ServerName exporter.test\nDocumentRoot ${root}/htdocs\n<Location /server-status>\n  SetHandler server-status\n</Location>\n`,
      { root },
    );
    for (let i = 0; i < 5; i++) await fetch(`${srv.url}/index.html`);
    const port = await freePort();
    const proc = Bun.spawn(
      [EXPORTER, `--scrape_uri=${srv.url}/server-status?auto`, `--telemetry.address=127.0.0.1:${port}`, "--log.level=warn"],
      { stdout: "pipe", stderr: "pipe" },
    );
    try {
      let text = "";
      for (let i = 0; i < 100 && !text; i++) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/metrics`);
          if (res.ok) text = await res.text();
        } catch {
          await Bun.sleep(50);
        }
      }
      const m = samples(text);
      expect(m.get("apache_up")).toBe(1);
      // The scrape itself is the one busy worker; the rest of the child's slots are idle.
      expect(m.get('apache_workers{state="busy"}')).toBe(1);
      expect(m.get('apache_workers{state="idle"}')).toBeGreaterThan(0);
      expect(m.get('apache_scoreboard{state="reply"}')).toBe(1);
      expect(m.get('apache_scoreboard{state="idle"}')).toBe(m.get('apache_workers{state="idle"}')!);
      expect(m.has('apache_scoreboard{state="open_slot"}')).toBe(true);
      expect(m.get("apache_accesses_total")).toBeGreaterThanOrEqual(5);
      expect(m.has("apache_sent_kilobytes_total")).toBe(true);
      expect(m.has("apache_uptime_seconds_total")).toBe(true);
      expect(m.get('apache_processes{state="all"}')).toBeGreaterThanOrEqual(1);
      expect(m.has('apache_connections{state="total"}')).toBe(true);
      expect([...m.keys()].some((k) => k.startsWith("apache_info{") && k.includes('mpm="event"'))).toBe(true);
      expect(m.get('apache_generation{type="config"}')).toBe(1);
      expect(m.has('apache_cpu_time_ms_total{type="user"}')).toBe(true);
    } finally {
      // SIGTERM makes the exporter wait 2 s before it exits; nothing of it needs keeping.
      proc.kill("SIGKILL");
      await proc.exited;
    }
  });
});
