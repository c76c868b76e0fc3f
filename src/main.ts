#!/usr/bin/env bun
// mosaic's entry point: the httpd command line, config checks and dumps, and running the server.
import { defineCommand, runMain } from "citty";
import { consola } from "consola";
import fs from "node:fs";
import path from "node:path";
import defaultConf from "../conf/httpd.conf" with { type: "text" };
import { parseCli, USAGE } from "./cli.ts";
import type { CliOptions } from "./cli.ts";
import { dumpConfig, dumpDirectives, dumpModules, dumpVhosts, compiledModules, versionFull, versionShort } from "./dump.ts";
import { loadConfig } from "./config/load.ts";
import type { LoadOptions } from "./config/load.ts";
import { ConfigError } from "./config/node.ts";
import { parseFile } from "./config/load.ts";
import { printConfig, printConfigYaml } from "./config/print.ts";
import { setStartupLog } from "./log/error-log.ts";
import type { Level } from "./log/error-log.ts";
import { runForeground } from "./run.ts";
import { runCtl } from "./mpm/ctl.ts";
import { runDebug } from "./mpm/debug.ts";
import { runChildProcess } from "./mpm/child-process.ts";

/** Load options from the command line: -f file (relative → ServerRoot) or the embedded default. */
export function loadOptionsFrom(cli: CliOptions, onInclude?: LoadOptions["onInclude"]): LoadOptions {
  const serverRoot = path.resolve(cli.serverRoot ?? process.cwd());
  const defines = [...cli.defines];
  const base = { serverRoot, defines, before: cli.before, after: cli.after, env: process.env, onInclude };
  if (cli.file) return { ...base, file: cli.file };
  if (!process.env.MOSAIC_PORT && !defines.some((d) => d.startsWith("MOSAIC_PORT="))) defines.push("MOSAIC_PORT=8080");
  return { ...base, file: path.join(serverRoot, "(embedded httpd.conf)"), text: defaultConf };
}

let startupFile: string | undefined;

/** Startup errors are bare text, as Apache prints them: to stderr, or to the -E file. */
function startupError(text: string): void {
  if (startupFile) fs.appendFileSync(startupFile, text + "\n");
  else process.stderr.write(text + "\n");
}

function fail(e: unknown): never {
  if (e instanceof ConfigError) {
    startupError(e.format());
    // Apache follows a check that failed after parsing (no file:line) with AH00014.
    if (e.file === undefined) startupError("AH00014: Configuration check failed");
  } else startupError(`${(e as Error).message ?? e}`);
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  let cli: CliOptions;
  try {
    cli = parseCli(argv);
  } catch (e) {
    // httpd's getopt wording: "mosaic: illegal option -- Z", then the usage.
    const m = /'(-+[^']*)'/.exec((e as Error).message);
    const opt = m ? m[1]!.replace(/^-+/, "") : "";
    process.stderr.write(`mosaic: ${m ? `illegal option -- ${opt}` : (e as Error).message}\n${USAGE}`);
    process.exit(1);
  }
  startupFile = cli.errorFile;
  if (cli.errorFile || cli.logLevel) {
    try {
      setStartupLog(cli.errorFile ?? "stderr", (cli.logLevel ?? "warn") as Level);
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exit(1);
    }
  }
  if (cli.help) {
    process.stderr.write(USAGE);
    process.exit(1);
  }
  if (cli.version) return void process.stdout.write(versionShort());
  if (cli.compiledModules) return void process.stdout.write(compiledModules());
  const includes: string[] = [];
  const opts = loadOptionsFrom(cli, (p, depth, line) => includes.push(`${"  ".repeat(depth + 1)}(${line}) ${p}`));
  const warn = (m: string) => consola.warn(m);
  if (cli.versionFull || cli.directives || cli.test || cli.defines.includes("DUMP_CONFIG") || cli.defines.includes("DUMP_INCLUDES")) {
    let cfg;
    try {
      cfg = loadConfig({ ...opts, warn: cli.test ? warn : () => {} });
    } catch (e) {
      fail(e);
    }
    if (cli.versionFull) return void process.stdout.write(versionFull(cfg.mpm));
    if (cli.directives) return void process.stdout.write(dumpDirectives(cfg));
    if (cli.dumpVhosts) process.stdout.write(dumpVhosts(cfg, cli));
    if (cli.dumpModules) process.stdout.write(dumpModules(cfg));
    if (cli.defines.includes("DUMP_INCLUDES")) {
      process.stdout.write(`Included configuration files:\n  (*) ${cfg.file}\n${includes.map((l) => l + "\n").join("")}`);
    }
    if (cli.defines.includes("DUMP_CONFIG")) process.stdout.write(dumpConfig(cfg));
    if (!cli.skipDocRootCheck) {
      for (const w of docRootWarnings(cfg)) warn(w);
    }
    const dumped = cli.dumpVhosts || cli.dumpModules || cli.defines.includes("DUMP_INCLUDES") || cli.defines.includes("DUMP_CONFIG");
    if (!dumped) process.stderr.write("Syntax OK\n");
    return;
  }
  if (cli.k) return runCtl(cli, opts);
  if (cli.debug) return runDebug(cli, opts);
  await runForeground(cli, opts);
}

function docRootWarnings(cfg: ReturnType<typeof loadConfig>): string[] {
  const out: string[] = [];
  for (const s of [cfg.main, ...cfg.vhosts]) {
    const root = (s.moduleConfig[0] as { documentRoot?: string } | undefined)?.documentRoot;
    if (root && !fs.existsSync(root)) out.push(`AH00112: Warning: DocumentRoot [${root}] does not exist`);
  }
  return out;
}

const convert = defineCommand({
  meta: { name: "convert", description: "Print a configuration in the other syntax (httpd.conf <-> YAML)" },
  args: {
    file: { type: "positional", description: "httpd.conf or .yaml file", required: true },
    to: { type: "string", description: "conf or yaml (default: the other one)" },
  },
  run({ args }) {
    try {
      const nodes = parseFile(path.resolve(args.file));
      const toYaml = args.to ? args.to === "yaml" : !/\.ya?ml$/i.test(args.file);
      process.stdout.write(toYaml ? printConfigYaml(nodes) : printConfig(nodes));
    } catch (e) {
      fail(e);
    }
  },
});

const argv = process.argv.slice(2);
if (argv[0] === "--mosaic-child") {
  runChildProcess();
} else if (argv[0] === "convert") {
  await runMain(defineCommand({ meta: { name: "mosaic" }, subCommands: { convert } }), { rawArgs: argv });
} else {
  await main(argv);
}
