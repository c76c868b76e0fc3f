// The error log: logError() for the whole server, per-server ErrorLog targets, formats and levels.
import fs from "node:fs";
import path from "node:path";
import type { Request } from "../http/request.ts";
import type { ServerRec } from "../server-rec.ts";
import { ConfigError } from "../config/node.ts";
import { compileErrorFormat, renderDefault, renderErrorFormat } from "./error-format.ts";
import type { ErrorFormat, ErrorInfo } from "./error-format.ts";
import {
  createLogLevelSpec,
  DEBUG,
  DEFAULT_LEVEL,
  effectiveLevel,
  LEVEL,
  mergeLogLevel,
  NOTICE,
} from "./levels.ts";
import type { Level, LogLevelSpec } from "./levels.ts";
import { connLogId, hasConnLogId, hasRequestLogId, requestLogId } from "./log-id.ts";
import { nowMicros } from "./time.ts";
import {
  flushAllLogWriters,
  formatOsError,
  LogOpenError,
  onLogWriterProblem,
  openLogWriter,
  reopenAllLogWriters,
} from "./writer.ts";
import type { LogWriter } from "./writer.ts";

export type { Level, LogLevelSpec } from "./levels.ts";
export { connLogId, existingConnLogId, existingRequestLogId, requestLogId } from "./log-id.ts";

/** Core's per-server error-log settings (ErrorLog, ErrorLogFormat, server-level LogLevel). */
export interface ErrorLogConfig {
  /** A path (ServerRoot-relative), `|cmd`, `syslog[:facility[:tag]]`, or `stderr` (embedded default). */
  errorLog?: string;
  /** The main ErrorLogFormat; undefined: Apache's default line. */
  format?: string;
  /** `ErrorLogFormat connection ...` lines, logged once before a connection's first message. */
  connFormats?: string[];
  /** `ErrorLogFormat request ...` lines, logged once before a request's first message. */
  reqFormats?: string[];
  level: LogLevelSpec;
}

export function createErrorLogConfig(): ErrorLogConfig {
  return { level: createLogLevelSpec() };
}

/** A vhost inherits ErrorLog and LogLevel pieces it does not set (core.c merge_core_server_configs). */
export function mergeErrorLogConfig(base: ErrorLogConfig, add: ErrorLogConfig): ErrorLogConfig {
  const out: ErrorLogConfig = {
    errorLog: add.errorLog ?? base.errorLog,
    format: add.format,
    connFormats: add.connFormats,
    reqFormats: add.reqFormats,
    level: mergeLogLevel(base.level, add.level)!,
  };
  // Apache takes all three formats from the main server when the vhost has no main format.
  if (add.format === undefined) {
    out.format = base.format;
    out.connFormats = base.connFormats;
    out.reqFormats = base.reqFormats;
  }
  return out;
}

interface ServerLog {
  writer: LogWriter;
  level: LogLevelSpec;
  format: ErrorFormat | undefined;
  conn: ErrorFormat[];
  req: ErrorFormat[];
  syslog: boolean;
}

const servers = new WeakMap<ServerRec, ServerLog>();
let mainLog: ServerLog | undefined;
let startupWriter: LogWriter | undefined;
let startupLevel = DEFAULT_LEVEL;
let dirLevel: ((r: Request) => LogLevelSpec | undefined) | undefined;

/**
 * Lets logError honour per-directory `LogLevel` (set in <Directory>/<Location>): the core registers
 * a function returning the request's merged per-dir spec, e.g. `(r) => core.dirConf(r).logLevel`.
 * Whatever it leaves unset falls back to the server's LogLevel.
 */
export function setDirLogLevelResolver(
  fn: ((r: Request) => LogLevelSpec | undefined) | undefined,
): void {
  dirLevel = fn;
}

const SYSLOG_FACILITIES = new Set([
  "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
  "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
]);

function compileAll(fmts: string[] | undefined): ErrorFormat[] {
  return (fmts ?? []).map((f) => {
    const c = compileErrorFormat(f, false);
    if (typeof c === "string") throw new ConfigError(c);
    return c;
  });
}

/**
 * Opens a server's error log and compiles its formats; call for the main server first, then each
 * vhost (their merged configs). Vhosts naming the same target share one writer. Throws ConfigError
 * with Apache's startup wording when the target cannot be opened.
 */
export function configureErrorLog(server: ServerRec, cfg: ErrorLogConfig, serverRoot: string): void {
  const target = cfg.errorLog ?? "logs/error_log";
  let format: ErrorFormat | undefined;
  if (cfg.format !== undefined) {
    const c = compileErrorFormat(cfg.format, true);
    if (typeof c === "string") throw new ConfigError(c);
    format = c;
  }
  let syslog = false;
  let writer: LogWriter;
  try {
    if (target === "syslog" || target.startsWith("syslog:")) {
      // No syslog(3) here: the lines go to stderr without a timestamp, as a syslog daemon would add one.
      const facility = target.split(":")[1];
      if (facility && !SYSLOG_FACILITIES.has(facility.toLowerCase())) {
        throw new ConfigError(`AH10036: mosaic: could not open syslog error log ${target.slice(7)}.`);
      }
      syslog = true;
      writer = openLogWriter("stderr");
    } else if (target.startsWith("|") || target === "stderr") {
      writer = openLogWriter(target, { cwd: serverRoot });
    } else {
      writer = openLogWriter(path.resolve(serverRoot, target));
    }
  } catch (e) {
    if (!(e instanceof LogOpenError)) throw e;
    const os = formatOsError(e.osError);
    const what = target.startsWith("|")
      ? `AH00089: Couldn't start ErrorLog process '${target.slice(1)}'.`
      : `AH00091: mosaic: could not open error log file ${path.resolve(serverRoot, target)}.`;
    throw new ConfigError(`${os ? `${os}: ` : ""}${what}\nAH00015: Unable to open logs`);
  }
  const log: ServerLog = {
    writer,
    level: cfg.level,
    format,
    conn: compileAll(cfg.connFormats),
    req: compileAll(cfg.reqFormats),
    syslog,
  };
  servers.set(server, log);
  if (!server.isVirtual) mainLog = log;
}

/**
 * Where messages go before the configuration is read (`-E file`, default stderr) and the level for
 * messages without a server (`-e level`, default warn).
 */
export function setStartupLog(target: "stderr" | string, level: Level): void {
  try {
    startupWriter = openLogWriter(target);
  } catch (e) {
    const os = formatOsError((e as LogOpenError).osError);
    throw new Error(`${os ? `${os}: ` : ""}AH00086: mosaic: could not open error log file ${target}.`);
  }
  startupLevel = LEVEL[level];
}

/** Reopens every log file (logrotate, graceful restart). Piped loggers keep running. */
export function reopenLogs(): void {
  reopenAllLogWriters();
}

/** Writes out every buffered line (error and access logs) and waits for piped loggers to take them. */
export function flushLogs(): Promise<void> {
  return flushAllLogWriters();
}

function isRequest(w: Request | ServerRec): w is Request {
  return (w as Request).raw !== undefined;
}

/** Messages without a server (or before ErrorLog is open) go where Apache's stderr_log points. */
function startupTarget(): LogWriter {
  if (mainLog && !mainLog.syslog) return mainLog.writer;
  return (startupWriter ??= openLogWriter("stderr"));
}

/** `file.ts(line)` of logError's caller; only computed for debug/trace lines or a %F that shows. */
function callSite(): string | undefined {
  const stack = new Error().stack?.split("\n");
  // [0] "Error", [1] callSite, [2] logError, [3] its caller.
  const m = stack?.[3] && /([^/\\( ]+):(\d+):\d+\)?\s*$/.exec(stack[3]);
  return m ? `${m[1]}(${m[2]})` : undefined;
}

function wanted(n: number, r: Request | undefined, log: ServerLog | undefined, module: string): boolean {
  if (log) {
    const dir = r && dirLevel ? dirLevel(r) : undefined;
    const configured = dir ? effectiveLevel(dir, module, log.level) : effectiveLevel(log.level, module);
    // notice is always written to files: startup and shutdown lines must not be filtered away.
    return n <= configured || (n === NOTICE && !log.syslog);
  }
  return n <= startupLevel || n === NOTICE;
}

/**
 * Whether logError would write a message of this level and module for the request: lets a hot path
 * skip building a message nobody reads (a 404's AH00128 at info).
 */
export function logEnabled(r: Request, level: Level, module: string): boolean {
  return wanted(LEVEL[level], r, servers.get(r.server), module);
}

/**
 * Logs one message. `message` starts with its stable id (`AH01630: client denied by server
 * configuration: /x`); `module` is the short name (`authz_core`). Cheap when the level is off: one
 * lookup and a comparison. `err` adds Apache's `(errno)text: ` for a system error.
 * @example
 * logError(r, "error", "authz_core", `AH01630: client denied by server configuration: ${r.filename}`);
 */
export function logError(
  where: Request | ServerRec | undefined,
  level: Level,
  module: string,
  message: string,
  err?: unknown,
): void {
  const n = LEVEL[level];
  const r = where && isRequest(where) ? where : undefined;
  const server = r ? r.server : (where as ServerRec | undefined);
  const log = server && servers.get(server);
  if (!wanted(n, r, log, module)) return;
  const fmt = log?.format;
  const site = n >= (fmt ? fmt.siteFrom : DEBUG) ? callSite() : undefined;
  const info: ErrorInfo = {
    r,
    conn: r?.conn,
    server,
    level: n,
    module,
    message,
    site,
    err,
    usec: nowMicros(),
    syslog: log?.syslog ?? false,
    startup: false,
  };
  const writer = log ? log.writer : startupTarget();
  if (r) oncePerLines(log, info, writer);
  const line = fmt ? renderErrorFormat(fmt, info) : renderDefault(info);
  if (line) writer.write(finish(line));
}

/** Apache truncates a line to MAX_STRING_LEN (8192) including the newline. */
function finish(line: string): string {
  return `${line.length > 8190 ? line.slice(0, 8190) : line}\n`;
}

/**
 * Gives the connection and the request their log ids at their first message and writes the
 * once-per-connection and once-per-request lines then.
 */
function oncePerLines(log: ServerLog | undefined, info: ErrorInfo, writer: LogWriter): void {
  const r = info.r!;
  if (!hasConnLogId(r.conn)) {
    connLogId(r.conn);
    for (const f of log?.conn ?? []) {
      const once = { ...info, r: undefined, level: -1, module: "-", site: undefined };
      const line = renderErrorFormat(f, once);
      if (line) writer.write(finish(line));
    }
  }
  if (!hasRequestLogId(r)) {
    requestLogId(r);
    for (const f of log?.req ?? []) {
      const once = { ...info, r: r.main, level: -1, module: "-", site: undefined };
      const line = renderErrorFormat(f, once);
      if (line) writer.write(finish(line));
    }
  }
}

/**
 * A bare line without time, module or pid (APLOG_STARTUP), e.g. `AH00526: Syntax error on line 3 of
 * /etc/mosaic.conf:` before the configuration could be read.
 */
export function logStartup(message: string, err?: unknown): void {
  const info: ErrorInfo = {
    r: undefined, conn: undefined, server: undefined, level: LEVEL.emerg, module: "core", message,
    site: undefined, err, usec: nowMicros(), syslog: false, startup: true,
  };
  startupTarget().write(finish(renderDefault(info)));
}

onLogWriterProblem((message, err, key) => {
  const info: ErrorInfo = {
    r: undefined, conn: undefined, server: undefined, level: LEVEL.error, module: "core", message,
    site: undefined, err, usec: nowMicros(), syslog: false, startup: false,
  };
  const line = finish(renderDefault(info));
  const w = startupTarget();
  // Reporting a broken target into itself would loop: fall back to the process's stderr.
  if (w.key !== key) w.write(line);
  else {
    try {
      fs.writeSync(2, line);
    } catch {
      // Nothing is left to report to.
    }
  }
});
