// The `%` items of mod_log_config and mod_logio, each compiled from its `{arg}` once.
import type { Request } from "../../src/http/request.ts";
import { STATUS_TEXT } from "../../src/http/errors.ts";
import { escapeLogItem as esc } from "../../src/log/escape.ts";
import { existingConnLogId, existingRequestLogId, TID } from "../../src/log/log-id.ts";
import { clfTime, strftime } from "../../src/log/time.ts";
import { peerConn } from "../remoteip/index.ts";

/** One transaction: final request, original request, and the end time fixed at first use. */
export interface LogCtx {
  r: Request;
  o: Request;
  /** Wall-clock end (ms), 0 until an item needs it; all items and logs of a request share it. */
  endMs: number;
  /** Time to serve in µs, -1 until computed. */
  durUs: number;
}

/** Returns the value, or undefined for Apache's `-`. `orig`: this is the `%<x` (original) form. */
export type ItemFn = (r: Request, ctx: LogCtx, orig: boolean) => string | undefined;

export interface Handler {
  /** Apache's want_orig_default: %s %U %T %D %r %R %L use the original request. */
  orig: boolean;
  compile(arg: string): ItemFn;
}

function plain(orig: boolean, fn: ItemFn): Handler {
  return { orig, compile: () => fn };
}

function escOpt(v: string | null | undefined): string | undefined {
  return v === null || v === undefined ? undefined : esc(v);
}

function endMs(ctx: LogCtx): number {
  return ctx.endMs || (ctx.endMs = Date.now());
}

function durationUs(ctx: LogCtx): number {
  if (ctx.durUs < 0) ctx.durUs = Math.max(0, Math.round((performance.now() - ctx.o.start) * 1000));
  return ctx.durUs;
}

/** %{fmt}t: `begin:`/`end:` prefixes, sec/msec/usec/msec_frac/usec_frac, else strftime. */
function timeItem(arg: string): ItemFn {
  let fmt = arg;
  let end = false;
  if (fmt.startsWith("begin")) {
    if (fmt === "begin") fmt = "";
    else if (fmt[5] === ":") fmt = fmt.slice(6);
  } else if (fmt.startsWith("end")) {
    if (fmt === "end") [fmt, end] = ["", true];
    else if (fmt[3] === ":") [fmt, end] = [fmt.slice(4), true];
  }
  const when = end ? (r: Request, c: LogCtx) => endMs(c) : (r: Request) => r.requestTime;
  switch (fmt) {
    case "":
      return (r, c) => clfTime(when(r, c));
    case "sec":
      return (r, c) => String(Math.floor(when(r, c) / 1000));
    case "msec":
      return (r, c) => String(Math.floor(when(r, c)));
    case "usec":
      // The wall clock is known to the millisecond; the microsecond digits are zeros.
      return (r, c) => String(Math.floor(when(r, c)) * 1000);
    case "msec_frac":
      return (r, c) => String(Math.floor(when(r, c)) % 1000).padStart(3, "0");
    case "usec_frac":
      return (r, c) => String((Math.floor(when(r, c)) % 1000) * 1000).padStart(6, "0");
    default:
      return (r, c) => strftime(fmt, new Date(when(r, c)));
  }
}

/** %{NAME}C: Netscape cookies, case-insensitive names, blanks trimmed (mod_log_config log_cookie). */
function cookie(r: Request, name: string): string | undefined {
  const header = r.headersIn.get("cookie");
  if (!header) return undefined;
  const want = name.toLowerCase();
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq < 0) continue;
    const k = pair.slice(0, eq).trim();
    const v = pair.slice(eq + 1).trim();
    if (k && v && k.toLowerCase() === want) return esc(v);
  }
  return undefined;
}

function headerBytes(h: Headers): number {
  let n = 0;
  for (const [k, v] of h) n += k.length + v.length + 4;
  return n;
}

/** %I: request line, headers and body as received (estimated from the parsed request). */
function bytesIn(r: Request): number {
  const body = Number(r.headersIn.get("content-length") ?? 0) || 0;
  return r.theRequest.length + 2 + headerBytes(r.headersIn) + 2 + body;
}

/** `Date: ...` is added by Bun's HTTP layer after r.headersOut is final. */
const DATE_HEADER_BYTES = "Date: Sun, 22 Nov 2026 22:10:40 GMT\r\n".length;

/** %O: status line, headers (plus Bun's Date) and body sent. */
function bytesOut(r: Request): number {
  const status = `HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status] ?? ""}\r\n`.length;
  return status + headerBytes(r.headersOut) + DATE_HEADER_BYTES + 2 + r.bytesSent;
}

export const HANDLERS: Record<string, Handler> = {
  // No HostnameLookups here: the remote host is the address. `%{c}h` and `%{c}a` are the peer (the
  // proxy when mod_remoteip put the client from its header in r.conn), compared case-sensitively.
  h: {
    orig: false,
    compile: (a) => (a === "c" ? (r) => esc(peerConn(r).remoteAddr) : (r) => esc(r.conn.remoteAddr)),
  },
  a: {
    orig: false,
    compile: (a) => (a === "c" ? (r) => peerConn(r).remoteAddr : (r) => r.conn.remoteAddr),
  },
  A: plain(false, (r) => r.conn.localAddr),
  l: plain(false, () => undefined),
  u: plain(false, (r) => (r.user === undefined ? undefined : r.user === "" ? '""' : esc(r.user))),
  t: { orig: false, compile: timeItem },
  f: plain(false, (r) => (r.filename ? esc(r.filename) : undefined)),
  b: plain(false, (r) => (r.bytesSent ? String(r.bytesSent) : undefined)),
  B: plain(false, (r) => String(r.bytesSent)),
  i: { orig: false, compile: (a) => (r) => escOpt(r.headersIn.get(a)) },
  o: {
    orig: false,
    compile: (a) => {
      const name = a.toLowerCase();
      if (name === "content-type") {
        return (r) =>
          r.contentType ? esc(r.contentType.split(";")[0]!.trim()) : escOpt(r.headersOut.get(a));
      }
      if (name === "set-cookie") {
        return (r) => {
          const all = r.headersOut.getSetCookie();
          return all.length ? esc(all.join(", ")) : undefined;
        };
      }
      return (r) => escOpt(r.headersOut.get(a));
    },
  },
  n: { orig: false, compile: (a) => (r) => escOpt(r.notes.get(a)) },
  e: { orig: false, compile: (a) => (r) => escOpt(r.subprocessEnv.get(a)) },
  L: {
    orig: true,
    compile: (a) => (a === "c" ? (r) => existingConnLogId(r.conn) : (r) => existingRequestLogId(r)),
  },
  V: plain(false, (r) => esc(r.hostname || r.server.serverName)),
  v: plain(false, (r) => esc(r.server.serverName)),
  p: {
    orig: false,
    compile: (a) => {
      const k = a.toLowerCase();
      if (k === "" || k === "canonical") {
        return (r) => String(r.server.port || (r.conn.secure ? 443 : 80));
      }
      if (k === "remote") return (r) => String(r.conn.remotePort);
      if (k === "local") return (r) => String(r.conn.localPort);
      return () => a;
    },
  },
  P: {
    orig: false,
    compile: (a) => {
      const k = a.toLowerCase();
      if (k === "" || k === "pid") return () => String(process.pid);
      if (k === "tid") return () => String(TID);
      if (k === "hextid") return () => TID.toString(16);
      return () => a;
    },
  },
  H: plain(false, (r) => esc(r.protocol)),
  m: plain(false, (r) => esc(r.method)),
  q: plain(false, (r) => (r.args ? `?${esc(r.args)}` : "")),
  X: plain(false, (r) => (r.raw.signal.aborted ? "X" : r.closeConnection ? "-" : "+")),
  C: { orig: false, compile: (a) => (r) => cookie(r, a) },
  k: plain(false, (r) => String(r.conn.keepAlives)),
  r: plain(true, (r) => esc(r.theRequest)),
  D: plain(true, (_r, c) => String(durationUs(c))),
  T: {
    orig: true,
    compile: (a) => {
      const k = a.toLowerCase();
      if (k === "" || k === "s") return (_r, c) => String(Math.floor(durationUs(c) / 1_000_000));
      if (k === "ms") return (_r, c) => String(Math.floor(durationUs(c) / 1000));
      if (k === "us") return (_r, c) => String(durationUs(c));
      return () => a;
    },
  },
  U: plain(true, (r) => esc(r.uri)),
  // %s is the status before ErrorDocument took over; %>s the one sent.
  s: plain(true, (r, _c, orig) => {
    const st = orig ? r.originalStatus || r.status : r.status;
    return st > 0 ? String(st) : undefined;
  }),
  R: plain(true, (r) => (r.handler === undefined ? undefined : esc(r.handler))),
  I: plain(false, (r) => String(bytesIn(r))),
  O: plain(false, (r) => String(bytesOut(r))),
  S: plain(false, (r) => String(bytesIn(r) + bytesOut(r))),
  // Trailers are not surfaced by Bun's server: always `-`.
  "^ti": plain(false, () => undefined),
  "^to": plain(false, () => undefined),
};
