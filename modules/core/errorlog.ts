// core's error-log directives, ErrorLog, ErrorLogFormat and LogLevel (Apache's core.c), for core's list.
import type { DirectiveDef } from "../../src/module.ts";
import { compileErrorFormat } from "../../src/log/error-format.ts";
import type { ErrorLogConfig } from "../../src/log/error-log.ts";
import { parseLogLevel } from "../../src/log/levels.ts";
import type { LogLevelSpec } from "../../src/log/levels.ts";

/** What these directives need from core's per-server and per-directory configs. */
export type ErrorLogServer = { log: ErrorLogConfig };
export type ErrorLogDir = { logLevel?: LogLevelSpec };

/**
 * Merges core's per-directory LogLevel (Apache's merge_core_dir_configs via ap_merge_log_config);
 * re-exported so core's mergeDirConfig can call it.
 */
export { mergeLogLevel as mergeDirLogLevel } from "../../src/log/levels.ts";

export const errorLogDirectives: DirectiveDef<ErrorLogServer, ErrorLogDir>[] = [
  {
    name: "ErrorLog",
    args: [1, 1],
    contexts: ["server", "vhost"],
    help: "The filename of the error log",
    apply({ args, server }) {
      server.log = { ...server.log, errorLog: args[0]! };
    },
  },
  {
    name: "ErrorLogFormat",
    args: [1, 2],
    contexts: ["server", "vhost"],
    help: "Format string for the ErrorLog",
    apply({ args, server }) {
      const [a1, a2] = args as [string, string | undefined];
      if (a2 === undefined) {
        const c = compileErrorFormat(a1, true);
        if (typeof c === "string") return c;
        server.log = { ...server.log, format: a1 };
        return;
      }
      const kind = a1.toLowerCase();
      if (kind !== "connection" && kind !== "request") {
        return "ErrorLogFormat type must be one of request, connection";
      }
      if (a2) {
        const c = compileErrorFormat(a2, false);
        if (typeof c === "string") return c;
      }
      const key = kind === "connection" ? "connFormats" : "reqFormats";
      // An empty format adds no line (Apache still creates the list, which blocks nothing).
      server.log = { ...server.log, [key]: [...(server.log[key] ?? []), ...(a2 ? [a2] : [])] };
    },
  },
  {
    name: "LogLevel",
    args: [1, Infinity],
    help: "Level of verbosity in error logging",
    apply({ args, server, dir, section }) {
      // At server/vhost level it is the server's LogLevel; inside a section a per-directory one.
      const spec = parseLogLevel(args, section === undefined ? server.log.level : dir.logLevel);
      if (typeof spec === "string") return spec;
      if (section === undefined) server.log = { ...server.log, level: spec };
      else dir.logLevel = spec;
    },
  },
];
