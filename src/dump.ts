// Text for -v, -V, -l, -L, -M, -S and -D DUMP_CONFIG, in httpd's shapes.
import core from "../modules/core/index.ts";
import { REGISTRY, STATIC_MODULES } from "../modules/index.ts";
import type { CliOptions } from "./cli.ts";
import type { LoadedConfig } from "./config/load.ts";
import { printConfig } from "./config/print.ts";
import type { Context } from "./module.ts";
import { BUILT, SERVER_DESCRIPTION } from "./version.ts";

export function versionShort(): string {
  return `Server version: ${SERVER_DESCRIPTION}\nServer built:   ${BUILT}\n`;
}

export function versionFull(mpm: string): string {
  const threaded = mpm === "prefork" ? "no" : "yes (fixed thread count)";
  const forked = mpm === "prefork" ? "yes (variable process count)" : "no (worker threads in one process)";
  return (
    versionShort() +
    `Server loaded:  Bun ${Bun.version}\nCompiled using: Bun ${Bun.version}\n` +
    `Architecture:   ${process.arch === "x64" || process.arch === "arm64" ? "64" : "32"}-bit\n` +
    `Server MPM:     ${mpm}\n  threaded:     ${threaded}\n    forked:     ${forked}\n` +
    "Server compiled with....\n -D APR_HAS_SENDFILE\n -D APR_HAVE_IPV6 (IPv4-mapped addresses enabled)\n" +
    ` -D DYNAMIC_MODULE_LIMIT=0\n -D DEFAULT_ERRORLOG="logs/error_log"\n -D AP_TYPES_CONFIG_FILE="(embedded mime.types)"\n` +
    ` -D SERVER_CONFIG_FILE="(embedded httpd.conf)"\n`
  );
}

export function compiledModules(): string {
  return `Compiled in modules:\n${REGISTRY.map((m) => `  ${m.sourceName}\n`).join("")}`;
}

export function dumpModules(cfg: LoadedConfig): string {
  const lines = cfg.modules.map((m) => ` ${m.identifier} (${STATIC_MODULES.has(m.name) ? "static" : "shared"})\n`);
  return `Loaded Modules:\n${lines.join("")}`;
}

function contextLine(contexts: readonly Context[] | undefined): string {
  const c = contexts ?? ["server", "vhost", "directory"];
  if (c.includes("directory") && c.includes("server")) return "Allowed in *.conf anywhere";
  if (c.includes("directory")) return "Allowed in *.conf only inside <Directory>, <Files>, <Location>, or <If>";
  if (c.includes("vhost")) return "Allowed in *.conf only outside <Directory>, <Files>, <Location>, or <If>";
  return "Allowed in *.conf only outside <Directory>, <Files>, <Location>, or <If>, and not in <VirtualHost>";
}

export function dumpDirectives(cfg: LoadedConfig): string {
  let out = "";
  for (const m of cfg.modules) {
    for (const d of m.directives ?? []) {
      out += `${d.section ? "<" : ""}${d.name} (${m.sourceName})\n\t${d.help}\n\t${contextLine(d.contexts)}\n`;
    }
  }
  return out;
}

/** `-S`: the vhost table and run settings, as httpd's DUMP_VHOSTS / DUMP_RUN_CFG. */
export function dumpVhosts(cfg: LoadedConfig, cli: CliOptions): string {
  let out = "VirtualHost configuration:\n";
  const byAddr = new Map<string, { port: number; list: typeof cfg.vhosts }>();
  for (const v of cfg.vhosts) {
    for (const a of v.addrs) {
      const key = `${a.isDefault ? "_default_" : a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port || "*"}`;
      const entry = byAddr.get(key) ?? { port: a.port, list: [] };
      entry.list.push(v);
      byAddr.set(key, entry);
    }
  }
  const where = (v: (typeof cfg.vhosts)[number]) => `${v.serverName || "(unnamed)"} (${v.file}:${v.line})`;
  for (const [addr, { port, list }] of byAddr) {
    if (list.length === 1) {
      out += `${addr.padEnd(22)} ${where(list[0]!)}\n`;
      continue;
    }
    out += `${addr.padEnd(22)} is a NameVirtualHost\n`;
    out += `         default server ${where(list[0]!)}\n`;
    for (const v of list) {
      out += `         port ${port || "*"} namevhost ${where(v)}\n`;
      for (const a of v.aliases) out += `                 alias ${a}\n`;
      for (const a of v.wildAliases ?? []) out += `                 wild alias ${a}\n`;
    }
  }
  const cs = core.serverConf(cfg.main);
  const abs = (p: string) => (p.startsWith("/") || p.startsWith("|") || p.startsWith("syslog") ? p : `${cfg.serverRoot}/${p}`);
  out += `ServerRoot: "${cfg.serverRoot}"\n`;
  out += `Main DocumentRoot: "${cs.documentRoot ?? cfg.serverRoot + "/htdocs"}"\n`;
  out += `Main ErrorLog: "${abs(cs.log.errorLog ?? "logs/error_log")}"\n`;
  out += `PidFile: "${cs.pidFile ?? cfg.serverRoot + "/logs/httpd.pid"}"\n`;
  for (const [k, v] of cfg.defines) out += `Define: ${v ? `${k}=${v}` : k}\n`;
  for (const d of cli.defines) if (!cfg.defines.has(d.split("=")[0]!)) out += `Define: ${d}\n`;
  if (cs.user) out += `User: name="${cs.user}"\n`;
  if (cs.group) out += `Group: name="${cs.group}"\n`;
  return out;
}

export function dumpConfig(cfg: LoadedConfig): string {
  return printConfig(cfg.tree);
}
