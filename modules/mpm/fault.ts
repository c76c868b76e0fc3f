// Fault injection for the MPM's own tests: crash, hang or stall a child (only with -D MOSAIC_FAULT_INJECTION).
import type { LoadedConfig } from "../../src/config/load.ts";
import type { Request } from "../../src/http/request.ts";
import { DECLINED } from "../../src/module.ts";
import type { Declined } from "../../src/module.ts";
import { currentRecorder, snapshot } from "../../src/scoreboard/index.ts";

/** The define that arms these handlers; without it they decline and the request 404s as usual. */
export const FAULT_DEFINE = "MOSAIC_FAULT_INJECTION";

/**
 * `SetHandler mosaic-fault-crash` throws outside any request (the child dies), `mosaic-fault-hang`
 * spins forever (a hung child), `mosaic-fault-sleep?ms=N` answers after N ms, `mosaic-fault-whoami`
 * tells which child answered, `mosaic-fault-scoreboard[?workers]` dumps snapshot() as JSON,
 * `mosaic-fault-gc` runs a full garbage collection in the child (memory benchmarks). The end-to-end tests use them to prove crashed and hung children are
 * replaced; a production config never arms them (two switches: the define and the SetHandler).
 */
export async function faultHandler(r: Request): Promise<Response | Declined> {
  const defines = (r.rt.cfg as Partial<LoadedConfig>).defines;
  if (!defines?.has(FAULT_DEFINE)) return DECLINED;
  // An explicit Content-Length: the pipeline streams (chunks) bodies whose length it cannot see.
  const send = (body: string, type: string) =>
    new Response(body, { headers: { "Content-Type": type, "Content-Length": String(Buffer.byteLength(body)), "Cache-Control": "no-store" } });
  const text = (s: string) => send(s, "text/plain");
  const json = (v: unknown) => send(JSON.stringify(v), "application/json");
  switch (r.handler) {
    case "mosaic-fault-crash":
      setTimeout(() => {
        throw new Error("mosaic-fault-crash: injected crash");
      }, 0);
      return text("crashing\n");
    case "mosaic-fault-hang":
      for (;;) {
        // A busy loop: the child's event loop never turns again.
      }
    case "mosaic-fault-sleep": {
      const ms = Math.min(60_000, Number(new URLSearchParams(r.args).get("ms") ?? "1000") || 0);
      await Bun.sleep(ms);
      return text(`slept ${ms}\n`);
    }
    case "mosaic-fault-scoreboard": {
      const snap = snapshot(new URLSearchParams(r.args).has("workers"));
      return json(snap ?? null);
    }
    case "mosaic-fault-gc": {
      // For memory benchmarks: collect this child's garbage so RSS shows what connections keep.
      Bun.gc(true);
      return json(process.memoryUsage());
    }
    case "mosaic-fault-whoami": {
      const rec = currentRecorder();
      return json({
        pid: process.pid,
        slot: rec?.slot ?? -1,
        generation: r.rt.generation,
        draining: rec?.draining ?? false,
      });
    }
  }
  return DECLINED;
}
