// A serving unit (one child's listeners): Bun.serve per Listen address, hot-swappable runtime.
import type { Server } from "bun";
import { logError } from "./log/error-log.ts";
import { serveRequest } from "./http/front.ts";
import type { ListenerVhosts, Runtime } from "./runtime.ts";

export interface Listening {
  /** Actual bound ports, in Listen order (differs from the config for port 0). */
  readonly ports: number[];
  readonly servers: Server<undefined>[];
  /** Swap in a new configuration without closing sockets whose address did not change. */
  reload(rt: Runtime): void;
  /** Stops listening; `force` cuts in-flight requests. */
  stop(force?: boolean): Promise<void>;
}

export interface ServeOptions {
  /** SO_REUSEPORT, so several children can share a port. */
  reusePort?: boolean;
}

function listenKey(lv: ListenerVhosts): string {
  return `${lv.listen.host}|${lv.listen.port}`;
}

function bunIdleTimeout(seconds: number): number {
  return Math.max(1, Math.min(255, Math.ceil(seconds)));
}

/** The listener as bound: `Listen 127.0.0.1:0` gets the port the kernel chose (for %p, redirects). */
function bound(lv: ListenerVhosts, server: Server<undefined>): ListenerVhosts {
  if (lv.listen.port !== 0 || !server.port) return lv;
  return { ...lv, listen: { ...lv.listen, port: server.port } };
}

export function startListening(initial: Runtime, opts: ServeOptions = {}): Listening {
  let rt = initial;
  const entries = new Map<string, { server: Server<undefined>; lv: ListenerVhosts }>();

  const open = (lv: ListenerVhosts) => {
    const entry = { server: undefined as unknown as Server<undefined>, lv };
    entry.server = Bun.serve({
      hostname: lv.listen.host,
      port: lv.listen.port,
      reusePort: opts.reusePort ?? false,
      development: false,
      idleTimeout: bunIdleTimeout(rt.keepAliveTimeout),
      maxRequestBodySize: rt.maxBody,
      fetch(req, server) {
        const cur = rt;
        const p = serveRequest(cur, entry.lv, req, server.requestIP(req));
        // Bun's idleTimeout also bounds in-flight requests: while a request waits on something
        // (a script, a body upload) the connection's timeout is widened to Timeout, then restored.
        if (!(p instanceof Promise) || cur.timeout === cur.keepAliveTimeout) return p;
        server.timeout(req, bunIdleTimeout(cur.timeout));
        return p.then((res) => {
          server.timeout(req, bunIdleTimeout(cur.keepAliveTimeout));
          return res;
        });
      },
      error(e) {
        logError(undefined, "error", "core", `AH00000: uncaught error: ${e.stack ?? e.message}`);
        return new Response("Internal Server Error", { status: 500 });
      },
    });
    entry.lv = bound(lv, entry.server);
    entries.set(listenKey(lv), entry);
  };
  for (const lv of rt.listeners) open(lv);

  return {
    get ports() {
      return [...entries.values()].map((e) => e.server.port ?? 0);
    },
    get servers() {
      return [...entries.values()].map((e) => e.server);
    },
    reload(next) {
      rt = next;
      const wanted = new Map(next.listeners.map((lv) => [listenKey(lv), lv]));
      for (const [k, e] of entries) {
        const lv = wanted.get(k);
        if (lv) e.lv = bound(lv, e.server);
        else {
          e.server.stop();
          entries.delete(k);
        }
      }
      for (const [k, lv] of wanted) if (!entries.has(k)) open(lv);
    },
    async stop(force = false) {
      await Promise.all([...entries.values()].map((e) => e.server.stop(force)));
      entries.clear();
    },
  };
}
