// /server-status in headless Chromium (DevTools protocol over a WebSocket): scoreboard, live view, phone width.
import { describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import fs from "node:fs";
import path from "node:path";
import { startTestServer, tempDir, writeTree } from "./helpers.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));
if (!CHROMIUM) console.warn("skipping the browser test: no chromium (apt-get install chromium)");
/** Set to a path to keep a screenshot (docs/status.png is made this way), with seconds of load before it. */
const SHOT = process.env.MOSAIC_STATUS_SCREENSHOT;
const WARMUP_S = Number(process.env.MOSAIC_STATUS_SCREENSHOT_WARMUP ?? 0);

/** A minimal DevTools protocol client: one browser connection, flat sessions. */
class Cdp {
  private id = 0;
  private waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private constructor(private ws: WebSocket) {
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const w = m.id === undefined ? undefined : this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id!);
      if (m.error) w.reject(new Error(m.error.message));
      else w.resolve(m.result);
    };
  }

  static async connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("DevTools connection failed"));
    });
    return new Cdp(ws);
  }

  send<T = Record<string, unknown>>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    const id = ++this.id;
    this.ws.send(JSON.stringify({ id, method, params, sessionId }));
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  }

  close(): void {
    this.ws.close();
  }
}

async function launch(): Promise<{ proc: Subprocess; cdp: Cdp; dir: string }> {
  const dir = tempDir("mosaic-chromium-");
  const proc = Bun.spawn(
    [CHROMIUM!, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
      "--disable-dev-shm-usage", "--remote-debugging-port=0", `--user-data-dir=${dir}`, "--window-size=1280,1500", "about:blank"],
    { stdout: "ignore", stderr: "pipe" },
  );
  const reader = proc.stderr.getReader();
  let err = "";
  const deadline = Date.now() + 20_000;
  while (!/ws:\/\/\S+/.test(err) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    err += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const url = /ws:\/\/\S+/.exec(err)?.[0];
  if (!url) throw new Error(`chromium did not start:\n${err}`);
  return { proc, cdp: await Cdp.connect(url), dir };
}

describe.skipIf(!CHROMIUM)("the status page in a browser", () => {
  test("renders the scoreboard, updates its live view from ?json, fits a phone", async () => {
    const root = tempDir();
    writeTree(root, { "htdocs/index.html": "<p>hello</p>\n" });
    await using srv = await startTestServer(
      `ServerName browser.test\nDocumentRoot ${root}/htdocs\nDefine MOSAIC_FAULT_INJECTION\n` +
        "<Location /server-status>\n  SetHandler server-status\n</Location>\n" +
        "<Location /slow>\n  SetHandler mosaic-fault-sleep\n</Location>\n",
      { root },
    );
    const { proc, cdp, dir } = await launch();
    let load = true;
    const traffic = (async () => {
      // Some requests in flight and a steady trickle, so the page has something to show.
      while (load) {
        await Promise.all([fetch(`${srv.url}/slow?ms=700`).then((r) => r.text()), fetch(`${srv.url}/index.html`).then((r) => r.text())]);
      }
    })();
    try {
      if (WARMUP_S > 0) await Bun.sleep(WARMUP_S * 1000);
      const { targetId } = await cdp.send<{ targetId: string }>("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await cdp.send<{ sessionId: string }>("Target.attachToTarget", { targetId, flatten: true });
      const evaluate = async <T>(expression: string): Promise<T> =>
        (await cdp.send<{ result: { value: T } }>("Runtime.evaluate", { expression, returnByValue: true }, sessionId)).result.value;
      await cdp.send("Page.enable", {}, sessionId);
      await cdp.send("Page.navigate", { url: `${srv.url}/server-status` }, sessionId);
      const until = async (expr: string, ms = 10_000) => {
        const end = Date.now() + ms;
        while (Date.now() < end) {
          if (await evaluate<boolean>(expr).catch(() => false)) return true;
          await Bun.sleep(100);
        }
        return false;
      };
      expect(await until(`document.readyState === "complete" && !!document.querySelector("#report pre")`)).toBe(true);
      const board = await evaluate<string>(`document.querySelector("#report pre").textContent`);
      expect(board).toMatch(/^[_WR.\n]+$/);
      expect(board).toContain("W");
      expect(await evaluate<string>(`document.title`)).toBe("Apache Status");
      // The live view: two polls of ?json, the tiles filled in, the charts drawn, the canvas painted.
      expect(await until(`+(document.body.dataset.updates || 0) >= 2`)).toBe(true);
      expect(await evaluate<string>(`document.getElementById("live-status").textContent`)).toMatch(/^live · updated /);
      const acc1 = Number(await evaluate<string>(`document.getElementById("t-acc").textContent`));
      expect(await until(`+(document.body.dataset.updates || 0) >= 3 && +document.getElementById("t-acc").textContent > ${acc1}`)).toBe(true);
      expect(await evaluate<number>(`document.querySelectorAll("#c-workers path.s0, #c-workers path.s1").length`)).toBe(2);
      expect(await evaluate<string>(`document.getElementById("t-rps").textContent`)).toMatch(/^\d+(\.\d+)?$/);
      const painted = await evaluate<boolean>(
        `(() => { const c = document.getElementById("grid"); const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
          for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true; return false; })()`,
      );
      expect(painted).toBe(true);
      if (SHOT) {
        await Bun.sleep(1500);
        const { data } = await cdp.send<{ data: string }>("Page.captureScreenshot", { format: "png", captureBeyondViewport: false }, sessionId);
        fs.writeFileSync(path.resolve(SHOT), Buffer.from(data, "base64"));
      }
      // A phone: nothing wider than the screen but the tables and the scoreboard, which scroll inside.
      await cdp.send("Emulation.setDeviceMetricsOverride", { width: 390, height: 844, deviceScaleFactor: 2, mobile: true }, sessionId);
      await Bun.sleep(300);
      expect(await evaluate<boolean>(`document.documentElement.scrollWidth <= window.innerWidth + 1`)).toBe(true);
    } finally {
      load = false;
      await traffic;
      cdp.close();
      proc.kill();
      await proc.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
