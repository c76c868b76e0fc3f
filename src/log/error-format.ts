// ErrorLogFormat: compiles the format once (core.c parse_errorlog_item) and renders lines (log.c).
import type { ConnInfo, Request } from "../http/request.ts";
import type { ServerRec } from "../server-rec.ts";
import { escapeErrorLogItem } from "./escape.ts";
import { DEBUG, LEVEL_NAMES } from "./levels.ts";
import { connLogId, requestLogId, TID } from "./log-id.ts";
import { ctime, strftime } from "./time.ts";
import { formatOsError } from "./writer.ts";

/** What one error-log line is about (Apache's ap_errorlog_info). */
export interface ErrorInfo {
  r: Request | undefined;
  conn: ConnInfo | undefined;
  server: ServerRec | undefined;
  /** -1 for once-per-connection/request lines. */
  level: number;
  module: string;
  message: string;
  /** `pipeline.ts(57)`: the caller, when it was worth computing. */
  site: string | undefined;
  /** A system error whose `(errno)text` is logged (%E). */
  err: unknown;
  /** Time of the call in microseconds. */
  usec: number;
  /** Logging to syslog: the default format leaves out the timestamp. */
  syslog: boolean;
  /** APLOG_STARTUP: the bare message, without time, module and pid. */
  startup: boolean;
}

type ItemFn = (info: ErrorInfo, arg: string) => string;

interface Item {
  fn: ItemFn | undefined;
  arg: string;
  /** Starts a field: an empty item deletes back to here and skips to the next field. */
  sep: boolean;
  /** `%+x`: an empty item drops the whole (once-per) line. */
  required: boolean;
  /** `%-x`: log `-` for an empty item. */
  hyphen: boolean;
  /** `%N x`: only for messages of level N or more verbose. */
  minLevel: number;
  message: boolean;
}

export interface ErrorFormat {
  items: Item[];
  /** Lowest level at which a %F shows (Infinity: none), so the call site is only computed then. */
  siteFrom: number;
}

const constant: ItemFn = (_info, arg) => arg;

const remote = (info: ErrorInfo, arg: string): string => {
  const c = info.r && arg !== "c" ? info.r.conn : info.conn;
  return c ? `${c.remoteAddr}:${c.remotePort}` : "";
};

/** The handlers of log.c ap_register_log_hooks. */
const HANDLERS: Record<string, ItemFn> = {
  a: remote,
  A: (i) => (i.conn ? `${i.conn.localAddr}:${i.conn.localPort}` : ""),
  e: (i, a) => escapeErrorLogItem(i.r?.subprocessEnv.get(a) ?? ""),
  E: (i) => formatOsError(i.err),
  F: (i) => i.site ?? "",
  i: (i, a) => escapeErrorLogItem(i.r?.headersIn.get(a) ?? ""),
  k: (i) => (i.conn ? String(i.conn.keepAlives) : ""),
  l: (i) => (i.level < 0 ? "" : LEVEL_NAMES[i.level]!),
  L: (i, a) => {
    // c: the connection's id; C: the same, but not on once-per-request lines.
    if (a === "c" || a === "C") return i.conn && (a === "c" || !i.r) ? connLogId(i.conn) : "";
    return i.r ? requestLogId(i.r) : "";
  },
  m: (i) => i.module,
  n: (i, a) => escapeErrorLogItem(i.r?.notes.get(a) ?? ""),
  P: () => String(process.pid),
  t: (i, a) => {
    if (a.startsWith("%")) return strftime(a, new Date(Math.floor(i.usec / 1000)));
    return ctime(i.usec, { usec: a.includes("u"), compact: a.includes("c"), zone: a.includes("z") });
  },
  T: () => String(TID),
  v: (i) => i.server?.serverName ?? "",
  V: (i) => (i.r ? i.r.hostname || i.r.server.serverName : ""),
};

/** Literal text up to `%` or an unescaped blank that is not leading (parse_errorlog_misc_string). */
function misc(s: string, pos: number, item: Item): number {
  let out = "";
  let atStart = true;
  let i = pos;
  while (i < s.length && s[i] !== "%" && (s[i] !== " " || atStart)) {
    const c = s[i]!;
    if (c !== "\\") {
      if (c !== " ") atStart = false;
      out += c;
      i++;
      continue;
    }
    i++;
    const n = s[i];
    if (n === undefined) out += "\\";
    else {
      out += n === "r" ? "\r" : n === "n" ? "\n" : n === "t" ? "\t" : n;
      i++;
    }
  }
  item.fn = constant;
  item.arg = out;
  return i;
}

/** Parses one item at `pos`; returns the next position or an error string. */
function parseItem(s: string, pos: number, item: Item): number | string {
  if (s[pos] !== "%") {
    if (s[pos] === " ") item.sep = true;
    return misc(s, pos, item);
  }
  let i = pos + 1;
  if (s[i] === " ") {
    item.sep = true;
    return parseItem(s, i + 1, item);
  }
  if (s[i] === "%") {
    item.fn = constant;
    item.arg = "%";
    return i + 1;
  }
  while (i < s.length) {
    const c = s[i]!;
    if (c === "{") {
      const end = s.indexOf("}", i + 1);
      item.arg = s.slice(i + 1, end < 0 ? s.length : end);
      i = end < 0 ? s.length : end + 1;
    } else if (c === "+") {
      item.required = true;
      i++;
    } else if (c === "-") {
      item.hyphen = true;
      i++;
    } else if (c >= "0" && c <= "9") {
      let n = 0;
      while (i < s.length && s[i]! >= "0" && s[i]! <= "9") n = n * 10 + Number(s[i++]);
      item.minLevel = n;
    } else if (c === "M") {
      item.message = true;
      return i + 1;
    } else {
      const fn = HANDLERS[c];
      if (!fn) return `Unrecognized error log format directive %${c}`;
      item.fn = fn;
      return i + 1;
    }
  }
  return "Ran off end of error log format parsing args to some directive";
}

/**
 * Compiles an ErrorLogFormat string. `main` is the per-message format (must contain %M, no `+`);
 * otherwise a once-per-connection/request format. Returns Apache's error text on failure.
 */
export function compileErrorFormat(fmt: string, main: boolean): ErrorFormat | string {
  const items: Item[] = [];
  let siteFrom = Infinity;
  let seenMessage = false;
  let pos = 0;
  while (pos < fmt.length) {
    const item: Item = {
      fn: undefined, arg: "", sep: false, required: false, hyphen: false, minLevel: 0, message: false,
    };
    const next = parseItem(fmt, pos, item);
    if (typeof next === "string") return next;
    pos = next;
    if (item.message) {
      if (!main) return "%M cannot be used in once-per-request or once-per-connection formats";
      seenMessage = true;
    }
    if (main && item.required) return "The '+' flag cannot be used in the main error log format";
    if (!main && item.minLevel) {
      return (
        "The loglevel cannot be used as a condition in once-per-request or once-per-connection formats"
      );
    }
    if (item.minLevel > 15) return "The specified loglevel modifier is out of range";
    if (item.fn === HANDLERS.F) siteFrom = Math.min(siteFrom, item.minLevel);
    items.push(item);
  }
  if (main && !seenMessage) return "main ErrorLogFormat must contain message format string '%M'";
  return { items, siteFrom };
}

/** log.c do_errorlog_format: null when a required (`%+`) item is empty and the line is dropped. */
export function renderErrorFormat(fmt: ErrorFormat, info: ErrorInfo): string | null {
  let buf = "";
  let fieldStart = 0;
  let skipping = false;
  for (const item of fmt.items) {
    if (item.sep) {
      if (skipping) skipping = false;
      else fieldStart = buf.length;
    }
    if (item.message) {
      buf += escapeErrorLogItem(info.message);
    } else if (skipping) {
      continue;
    } else if (info.level !== -1 && item.minLevel > info.level) {
      buf = buf.slice(0, fieldStart);
      skipping = true;
    } else {
      const v = item.fn!(info, item.arg);
      if (v) buf += v;
      else if (item.required) return null;
      else if (item.hyphen) buf += "-";
      else {
        buf = buf.slice(0, fieldStart);
        skipping = true;
      }
    }
  }
  return buf;
}

/**
 * log.c do_errorlog_default:
 * `[time] [module:level] [pid P:tid T] FILE(LINE): (errno)text: [client IP:PORT] MESSAGE, referer: REF`
 */
export function renderDefault(info: ErrorInfo): string {
  let s = "";
  if (!info.syslog && !info.startup) s += `[${ctime(info.usec, { usec: true })}] `;
  if (!info.startup) s += `[${info.module}:${LEVEL_NAMES[info.level]}] [pid ${process.pid}:tid ${TID}] `;
  if (info.level >= DEBUG && info.site) s += `${info.site}: `;
  const os = formatOsError(info.err);
  if (os) s += `${os}: `;
  const r = info.r;
  if (r) s += `[client ${r.conn.remoteAddr}:${r.conn.remotePort}] `;
  s += escapeErrorLogItem(info.message);
  const ref = r?.headersIn.get("referer");
  if (ref) s += `, referer: ${escapeErrorLogItem(ref)}`;
  return s;
}
