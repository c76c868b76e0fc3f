// The server-status handler: collects one snapshot and renders the view the query asks for.
import { HttpError } from "../../src/http/errors.ts";
import { signature } from "../../src/http/pipeline.ts";
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import type { ServerRec } from "../../src/server-rec.ts";
import core from "../core/index.ts";
import { renderAuto } from "./auto.ts";
import { collectSnapshot } from "./collect.ts";
import { runStatusHooks } from "./hooks.ts";
import { renderHtml } from "./html.ts";
import { toStatusJson } from "./json.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "./metrics.ts";
import { parseStatusOptions } from "./options.ts";
import { countStatus } from "./snapshot.ts";
import type { StatusInstance } from "./state.ts";

/** The handler name of Apache 1.3 configs (`AddHandler`/`SetHandler application/x-httpd-status`). */
export const STATUS_MAGIC_TYPE = "application/x-httpd-status";

/**
 * Renders /server-status for one request. Apache's `?auto` and HTML are ISO-8859-1; every byte mosaic
 * writes there is ASCII except what the configuration itself puts in (server names).
 */
export function serveStatus(r: Request, inst: StatusInstance): Response {
  const o = parseStatusOptions(r.args);
  if (o.refresh) r.headersOut.set("Refresh", String(o.refresh));
  inst.shareCounters();
  const snap = collectSnapshot({
    serverName: r.hostname || r.server.serverName,
    localIp: r.conn.localAddr,
    configGeneration: r.rt.generation,
    extended: inst.extended,
    now: Date.now(),
    vhosts: inst.counters.vhosts(),
    histogram: inst.counters.histogram(),
    history: inst.history,
  });
  if (!snap) {
    // No scoreboard in this thread: Apache's answer when it has none (inetd mode).
    logError(r, "error", "status", "AH01237: Server status unavailable in inetd mode");
    throw new HttpError(500);
  }
  const counts = countStatus(snap);
  const flags = { notable: o.notable, extended: snap.extended };
  let body: string;
  switch (o.view) {
    case "auto":
      r.contentType = "text/plain; charset=ISO-8859-1";
      body = renderAuto(snap, counts) + runStatusHooks(snap, "auto", flags);
      break;
    case "json":
      r.contentType = "application/json";
      body = JSON.stringify(
        toStatusJson(snap, { history: o.history, extensions: runStatusHooks(snap, "auto", flags) }, counts),
      );
      break;
    case "metrics":
      r.contentType = METRICS_CONTENT_TYPE;
      body = renderMetrics(snap, counts);
      break;
    default:
      r.contentType = "text/html; charset=ISO-8859-1";
      body = renderHtml(
        snap,
        {
          notable: o.notable,
          extra: runStatusHooks(snap, "html", flags),
          signature: signature(r),
          path: r.uri,
          live: o.refresh === 0,
          infoPath: handlerLocation(r.server, "server-info"),
        },
        counts,
      );
  }
  return r.respond(body);
}

/** The first `<Location>` (main server's first) whose SetHandler is `name`: for links between views. */
export function handlerLocation(server: ServerRec, name: string): string | undefined {
  for (const sec of server.sections.locations) {
    if (sec.kind !== "Location" || sec.regex) continue;
    const d = sec.config[core.index] as { handler?: string } | undefined;
    if (d?.handler === name) return sec.path;
  }
  return undefined;
}
