// mod_log_config: LogFormat, CustomLog, TransferLog, GlobalLog and BufferedLogs; one line per request.
import fs from "node:fs";
import path from "node:path";
import type { Request } from "../../src/http/request.ts";
import { ConfigError } from "../../src/config/node.ts";
import type { ConfigNode } from "../../src/config/node.ts";
import { parseExpr } from "../../src/expr/index.ts";
import type { BoolExpr } from "../../src/expr/index.ts";
import { logError } from "../../src/log/error-log.ts";
import { defineModule } from "../../src/module.ts";
import type { DirectiveCmd, DirectiveDef, LifecycleContext } from "../../src/module.ts";
import type { ServerRec } from "../../src/server-rec.ts";
import { formatOsError, LogOpenError, openLogWriter } from "../../src/log/writer.ts";
import type { LogWriter } from "../../src/log/writer.ts";
import { compileLogFormat, createLogCtx } from "./format.ts";
import type { LogFormat } from "./format.ts";

/** Apache's DEFAULT_LOG_FORMAT (CLF), used by TransferLog when no LogFormat is set. */
export const DEFAULT_LOG_FORMAT = '%h %l %u %t "%r" %>s %b';

/** Nicknames known without a LogFormat line: upstream httpd.conf's and Debian's apache2.conf's. */
export const PREDEFINED_FORMATS: Readonly<Record<string, string>> = {
  CLF: DEFAULT_LOG_FORMAT,
  common: DEFAULT_LOG_FORMAT,
  combined: `${DEFAULT_LOG_FORMAT} "%{Referer}i" "%{User-Agent}i"`,
  combinedio: `${DEFAULT_LOG_FORMAT} "%{Referer}i" "%{User-Agent}i" %I %O`,
  vhost_combined: '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
  referer: "%{Referer}i -> %U",
  agent: "%{User-agent}i",
};

/** One CustomLog/TransferLog/GlobalLog line. */
export interface CustomLogSpec {
  /** As written: a ServerRoot-relative or absolute path, or a `|...` command. */
  target: string;
  /** Format string or nickname; undefined for TransferLog (the server's LogFormat default). */
  format: string | undefined;
  /** `env=VAR` / `env=!VAR`. */
  env: { name: string; negate: boolean } | undefined;
  /** `expr=EXPR`: log only requests the expression holds for. */
  expr: BoolExpr | undefined;
  /** GlobalLog: vhosts log here even when they have logs of their own. */
  inherit: boolean;
  file: string;
  line: number;
}

export interface LogConfigServer {
  /** LogFormat without a nickname (which may itself name a nickname). */
  defaultFormat: string | undefined;
  formats: ReadonlyMap<string, string>;
  logs: readonly CustomLogSpec[];
  /** For a vhost: the main server's logs, used when it has none (or always, for GlobalLog ones). */
  mainLogs: readonly CustomLogSpec[] | undefined;
  buffered: boolean | undefined;
}

interface ActiveLog {
  writer: LogWriter;
  format: LogFormat;
  env: CustomLogSpec["env"];
  expr: BoolExpr | undefined;
}

const SERVER_VHOST = ["server", "vhost"] as const;
const active = new WeakMap<ServerRec, ActiveLog[]>();

type Condition = Pick<CustomLogSpec, "env" | "expr">;

/**
 * add_custom_log's condition clause. An `expr=` parse error is the engine's message alone, as
 * Apache returns it; the expression's headers stay out of Vary (AP_EXPR_FLAG_DONT_VARY).
 */
function parseCondition(clause: string | undefined, node: ConfigNode): Condition | string {
  if (clause === undefined) return { env: undefined, expr: undefined };
  if (/^env=/i.test(clause)) {
    const v = clause.slice(4);
    if (v === "" || v === "!") return "missing environment variable name";
    const env = v.startsWith("!") ? { name: v.slice(1), negate: true } : { name: v, negate: false };
    return { env, expr: undefined };
  }
  if (/^expr=/i.test(clause)) {
    if (clause.length === 5) return "missing condition";
    const expr = parseExpr(clause.slice(5), node, { module: "log_config", dontVary: true });
    return typeof expr === "string" ? expr : { env: undefined, expr };
  }
  return "error in condition clause";
}

function addLog(
  cmd: DirectiveCmd<LogConfigServer, undefined>,
  format: string | undefined,
  clause: string | undefined,
  inherit: boolean,
): string | void {
  const target = cmd.args[0]!;
  const cond = parseCondition(clause, cmd.node);
  if (typeof cond === "string") return cond;
  if (format !== undefined) {
    const c = compileLogFormat(format);
    if (typeof c === "string") return c;
  }
  const spec: CustomLogSpec = {
    target,
    format,
    env: cond.env,
    expr: cond.expr,
    inherit,
    file: cmd.node.file,
    line: cmd.node.line,
  };
  cmd.server.logs = [...cmd.server.logs, spec];
}

const directives: DirectiveDef<LogConfigServer, undefined>[] = [
  {
    name: "CustomLog",
    args: [2, 3],
    contexts: SERVER_VHOST,
    help:
      "a file name, a custom log format string or format name, " +
      'and an optional "env=" or "expr=" clause (see docs)',
    apply: (cmd) => addLog(cmd, cmd.args[1], cmd.args[2], false),
  },
  {
    name: "GlobalLog",
    args: [2, 3],
    contexts: ["server"],
    help: "Same as CustomLog, but forces virtualhosts to inherit the log",
    apply: (cmd) => addLog(cmd, cmd.args[1], cmd.args[2], true),
  },
  {
    name: "TransferLog",
    args: [1, 1],
    contexts: SERVER_VHOST,
    help: "the filename of the access log",
    apply: (cmd) => addLog(cmd, undefined, undefined, false),
  },
  {
    name: "LogFormat",
    args: [1, 2],
    contexts: SERVER_VHOST,
    help: "a log format string (see docs) and an optional format name",
    apply({ args, server }) {
      const [fmt, name] = args as [string, string | undefined];
      const c = compileLogFormat(fmt);
      if (typeof c === "string") return c;
      if (name === undefined) server.defaultFormat = fmt;
      else server.formats = new Map(server.formats).set(name, fmt);
    },
  },
  {
    name: "BufferedLogs",
    args: "flag",
    contexts: SERVER_VHOST,
    help: "Enable Buffered Logging (experimental)",
    apply({ flag, server }) {
      server.buffered = flag;
    },
  },
];

function resolveFormat(conf: LogConfigServer, fmt: string | undefined): string {
  if (fmt === undefined) {
    const d = conf.defaultFormat;
    return d === undefined ? DEFAULT_LOG_FORMAT : (conf.formats.get(d) ?? PREDEFINED_FORMATS[d] ?? d);
  }
  return conf.formats.get(fmt) ?? PREDEFINED_FORMATS[fmt] ?? fmt;
}

/** The directory of a log file must exist (mod_log_config check_log_dir, AH02297). */
function checkLogDir(spec: CustomLogSpec, resolved: string): void {
  if (resolved.startsWith("|")) return;
  const dir = path.dirname(resolved);
  let err: unknown;
  try {
    if (!fs.statSync(dir).isDirectory()) {
      err = Object.assign(new Error("ENOTDIR"), { code: "ENOTDIR", errno: 20 });
    }
  } catch (e) {
    err = e;
  }
  if (err === undefined) return;
  const where = `${spec.file}:${spec.line}`;
  throw new ConfigError(
    `${formatOsError(err)}: AH02297: Cannot access directory '${dir}/' for log file '${spec.target}' ` +
      `defined at ${where}`,
  );
}

function openSpec(resolved: string, serverRoot: string, buffered: boolean): LogWriter {
  try {
    return openLogWriter(resolved, { buffered, cwd: serverRoot });
  } catch (e) {
    if (!(e instanceof LogOpenError)) throw e;
    const os = formatOsError(e.osError);
    const what = resolved.startsWith("|")
      ? `AH00108: Couldn't start piped log process '${resolved.slice(1)}'.`
      : `AH00649: could not open transfer log file ${resolved}.`;
    throw new ConfigError(`${os ? `${os}: ` : ""}${what}\nAH00015: Unable to open logs`);
  }
}

/** Opens every server's logs and compiles their formats (Apache's open_multi_logs). */
function openLogs(ctx: LifecycleContext): void {
  const confs = ctx.servers.map((s) => logConfig.serverConf(s));
  const buffered = confs[0]?.buffered ?? confs.some((c) => c.buffered);
  const compiled = new Map<string, LogFormat>();
  for (const [i, s] of ctx.servers.entries()) {
    const conf = confs[i]!;
    const inherited = conf.mainLogs ?? [];
    const specs = conf.logs.length ? [...conf.logs, ...inherited.filter((l) => l.inherit)] : inherited;
    const list: ActiveLog[] = [];
    for (const spec of specs) {
      const t = spec.target;
      const resolved = t.startsWith("|") ? t : path.resolve(ctx.serverRoot, t);
      checkLogDir(spec, resolved);
      const source = resolveFormat(conf, spec.format);
      let format = compiled.get(source);
      if (!format) {
        const c = compileLogFormat(source);
        if (typeof c === "string") throw new ConfigError(c, spec.file, spec.line);
        compiled.set(source, (format = c));
      }
      const writer = openSpec(resolved, ctx.serverRoot, buffered === true);
      list.push({ writer, format, env: spec.env, expr: spec.expr });
    }
    active.set(s, list);
  }
}

/** The log_transaction hook: one line per configured log whose env= or expr= condition holds. */
function logTransaction(r: Request): void {
  const logs = active.get(r.server);
  if (!logs || logs.length === 0) return;
  const ctx = createLogCtx(r);
  for (const log of logs) {
    if (log.env && r.subprocessEnv.has(log.env.name) === log.env.negate) continue;
    if (log.expr && !exprHolds(r, log.expr)) continue;
    log.writer.write(log.format.render(ctx));
  }
}

/** config_log_transaction: an expression that fails to evaluate logs AH00644 and skips the line. */
function exprHolds(r: Request, expr: BoolExpr): boolean {
  const rc = expr.exec(r);
  if (rc < 0) logError(r, "warn", "log_config", `AH00644: Error evaluating log condition: ${expr.source}`);
  return rc === 1;
}

const logConfig = defineModule<LogConfigServer, undefined>({
  name: "log_config",
  description: "Logging of the requests made to the server",
  directives,
  createServerConfig: () => ({
    defaultFormat: undefined,
    formats: new Map(),
    logs: [],
    mainLogs: undefined,
    buffered: undefined,
  }),
  // A vhost keeps its own logs and formats, and sees the main server's (merge_config_log_state).
  mergeServerConfig: (base, add) => ({
    defaultFormat: add.defaultFormat ?? base.defaultFormat,
    formats: new Map([...base.formats, ...add.formats]),
    logs: add.logs,
    mainLogs: base.logs,
    buffered: add.buffered ?? base.buffered,
  }),
  postConfig: openLogs,
  hooks: { log_transaction: logTransaction },
});
export default logConfig;
