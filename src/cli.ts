// The command line: httpd's flags with httpd's meaning, plus `mosaic convert`.
import { parseArgs } from "node:util";

/** Parsed httpd-style options. citty's parser folds case (-t/-T, -v/-V) and keeps only the last -D,
 * so the flags go through node:util's parseArgs; citty runs the subcommands. */
export interface CliOptions {
  file?: string;
  serverRoot?: string;
  before: string[];
  after: string[];
  defines: string[];
  logLevel?: string;
  errorFile?: string;
  k?: string;
  test: boolean;
  skipDocRootCheck: boolean;
  dumpVhosts: boolean;
  dumpModules: boolean;
  directives: boolean;
  compiledModules: boolean;
  version: boolean;
  versionFull: boolean;
  debug: boolean;
  help: boolean;
  positionals: string[];
}

export function parseCli(argv: string[]): CliOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      f: { type: "string" },
      d: { type: "string" },
      C: { type: "string", multiple: true },
      c: { type: "string", multiple: true },
      D: { type: "string", multiple: true },
      e: { type: "string" },
      E: { type: "string" },
      k: { type: "string" },
      t: { type: "boolean" },
      T: { type: "boolean" },
      S: { type: "boolean" },
      M: { type: "boolean" },
      L: { type: "boolean" },
      l: { type: "boolean" },
      v: { type: "boolean" },
      V: { type: "boolean" },
      X: { type: "boolean" },
      h: { type: "boolean" },
    },
  });
  const defines = values.D ?? [];
  return {
    file: values.f,
    serverRoot: values.d,
    before: values.C ?? [],
    after: values.c ?? [],
    defines: values.X ? [...defines, "DEBUG"] : defines,
    logLevel: values.e,
    errorFile: values.E,
    k: values.k,
    test: Boolean(values.t || values.S || values.M),
    skipDocRootCheck: Boolean(values.T),
    dumpVhosts: Boolean(values.S) || defines.includes("DUMP_VHOSTS"),
    dumpModules: Boolean(values.M) || defines.includes("DUMP_MODULES"),
    directives: Boolean(values.L),
    compiledModules: Boolean(values.l),
    version: Boolean(values.v),
    versionFull: Boolean(values.V),
    debug: Boolean(values.X),
    help: Boolean(values.h),
    positionals,
  };
}

export const USAGE = `Usage: mosaic [-D name] [-d directory] [-f file]
              [-C "directive"] [-c "directive"]
              [-k start|restart|graceful|graceful-stop|stop]
              [-v] [-V] [-h] [-l] [-L] [-t] [-T] [-S] [-X]
       mosaic convert FILE [--to conf|yaml]
Options:
  -D name            : define a name for use in <IfDefine name> directives
  -d directory       : specify an alternate initial ServerRoot
  -f file            : specify an alternate ServerConfigFile
  -C "directive"     : process directive before reading config files
  -c "directive"     : process directive after reading config files
  -e level           : show startup errors of level (see LogLevel)
  -E file            : log startup errors to file
  -v                 : show version number
  -V                 : show compile settings
  -h                 : list available command line options (this page)
  -l                 : list compiled in modules
  -L                 : list available configuration directives
  -t -D DUMP_VHOSTS  : show parsed vhost settings
  -t -D DUMP_RUN_CFG : show parsed run settings
  -S                 : a synonym for -t -D DUMP_VHOSTS -D DUMP_RUN_CFG
  -t -D DUMP_MODULES : show all loaded modules 
  -M                 : a synonym for -t -D DUMP_MODULES
  -t -D DUMP_INCLUDES: show all included configuration files
  -t -D DUMP_CONFIG  : print the preprocessed configuration (httpd.conf syntax)
  -t                 : run syntax check for config files
  -T                 : start without DocumentRoot(s) check
  -X                 : debug mode (only one worker, do not detach)
`;
