// The sections of /server-info: server settings, hooks in run order, module blocks, the module list.
import type { LoadedConfig } from "../../src/config/load.ts";
import { escapeHtml } from "../../src/http/errors.ts";
import type { Request } from "../../src/http/request.ts";
import type { Module } from "../../src/module.ts";
import { resolveMpm } from "../../src/mpm/limits.ts";
import type { MpmConfig, MpmName } from "../../src/mpm/limits.ts";
import { BUILT, SERVER_DESCRIPTION } from "../../src/version.ts";
import core from "../core/index.ts";
import { CORE_DEFAULTS } from "../core/config.ts";
import { MPM_MODULES } from "../mpm/index.ts";
import { TreePrinter } from "./walk.ts";

/** Apache's source-file names: `mod_status.c`, and `core.c`, `event.c` for the core and the MPMs. */
export function sourceName(m: Module): string {
  if (m.name === "core") return "core.c";
  if (m.name.startsWith("mpm_")) return `${m.name.slice(4)}.c`;
  return m.sourceName;
}

/** Startup hooks mosaic modules can take part in (Apache's Post Configuration and Child Init). */
const STARTUP: [string, keyof Module][] = [["Post Configuration", "postConfig"], ["Child Init", "childInit"]];

/** Request hooks under Apache's names, in the order requests run them. */
export const REQUEST_HOOKS: [string, string][] = [
  ["Post-Read Request", "post_read_request"], ["Translate Name", "translate_name"],
  ["Map to Storage", "map_to_storage"], ["Header Parse", "header_parser"], ["Check Access", "access_checker"],
  ["Verify User ID", "check_user_id"], ["Verify User Access", "auth_checker"], ["Check Type", "type_checker"],
  ["Fixups", "fixups"], ["Content Handlers", "handler"], ["Output Filters", "output_filter"],
  ["Logging", "log_transaction"],
];

type Cfg = Partial<LoadedConfig> & LoadedConfig;

/** The MPM in use and its settings after Apache's defaults and clamping. */
export function mpmOf(cfg: Cfg) {
  const mod = MPM_MODULES.find((m) => cfg.main.moduleConfig[m.index] !== undefined);
  const name = (mod?.name.slice(4) ?? cfg.mpm ?? "event") as MpmName;
  return resolveMpm(name, ((mod && mod.serverConf(cfg.main)) ?? {}) as MpmConfig).settings;
}

export function serverSettings(r: Request): string {
  const cfg = r.rt.cfg as Cfg;
  const cs = core.serverConf(r.server);
  const m = mpmOf(cfg);
  const tt = (k: string, v: string | number) => `<dt><strong>${k}:</strong> <tt>${v}</tt></dt>\n`;
  const defines = [...(cfg.defines?.entries() ?? [])].map(([k, v]) => ` -D ${escapeHtml(v ? `${k}=${v}` : k)}\n`);
  const sizes: [string, number][] = m.mpm === "prefork"
    ? [["StartServers", m.startServers], ["MinSpareServers", m.minSpare], ["MaxSpareServers", m.maxSpare],
        ["ServerLimit", m.serverLimit], ["MaxRequestWorkers", m.maxRequestWorkers]]
    : [["StartServers", m.startServers], ["ServerLimit", m.serverLimit], ["ThreadLimit", m.threadLimit],
        ["ThreadsPerChild", m.threadsPerChild], ["MaxRequestWorkers", m.maxRequestWorkers],
        ["MinSpareThreads", m.minSpare], ["MaxSpareThreads", m.maxSpare]];
  sizes.push(["MaxConnectionsPerChild", m.maxConnectionsPerChild], ["ListenBacklog", m.listenBacklog],
    ["GracefulShutdownTimeout", m.gracefulShutdownTimeout]);
  if (m.mpm === "event") sizes.push(["AsyncRequestWorkerFactor", m.asyncRequestWorkerFactor]);
  return (
    '<h2><a name="server">Server Settings</a></h2>' +
    `<dl><dt><strong>Server Version:</strong> <font size="+1"><tt>${SERVER_DESCRIPTION}</tt></font></dt>\n` +
    `<dt><strong>Server Built:</strong> <font size="+1"><tt>${BUILT}</tt></font></dt>\n` +
    tt("Server loaded Bun Version", Bun.version) +
    tt("Hostname/port", `${escapeHtml(r.hostname || r.server.serverName)}:${r.server.port || r.conn.localPort}`) +
    `<dt><strong>Timeouts:</strong> <tt>connection: ${cs.timeout ?? CORE_DEFAULTS.timeout} &nbsp;&nbsp; ` +
    `keep-alive: ${cs.keepAliveTimeout ?? CORE_DEFAULTS.keepAliveTimeout}</tt></dt>` +
    tt("MPM Name", m.mpm) +
    tt("MPM Information", `Max Daemons: ${m.activeDaemonsLimit} Threaded: ${m.mpm === "prefork" ? "no" : "yes"} ` +
      `Forked: ${m.mpm === "prefork" ? "yes" : "no"}`) +
    tt("MPM Settings", sizes.map(([k, v]) => `${k} ${v}`).join(", ")) +
    tt("Server Architecture", `${process.arch === "x64" || process.arch === "arm64" ? 64 : 32}-bit`) +
    tt("Server Root", escapeHtml(cfg.serverRoot)) +
    tt("Config File", escapeHtml(cfg.file ?? "")) +
    `<dt><strong>Server Built With:</strong>\n<tt style="white-space: pre;">\n${defines.join("")}</tt></dt>\n` +
    "</dl><hr />"
  );
}

/** Each phase's hooks in the order they run: `%02d` order value and the module, linked. */
export function activeHooks(r: Request, asQuery: boolean): string {
  const cfg = r.rt.cfg;
  const q = asQuery ? "?" : "#";
  const link = (name: string) => `<a href="${q}${name}">${name}</a>`;
  const order = (n: number) => (n < 0 ? `-${String(-n).padStart(2, "0")}` : String(n).padStart(2, "0"));
  const byName = new Map(cfg.modules.map((m) => [m.name, m]));
  let out = '<h2><a name="startup_hooks">Startup Hooks</a></h2>\n<dl>';
  for (const [title, key] of STARTUP) {
    out += `<dt><strong>${title}:</strong>\n <br /><tt>\n`;
    for (const m of cfg.modules) if (m[key]) out += `&nbsp;&nbsp; 10 ${link(sourceName(m))} <br/>`;
    out += "\n  </tt>\n</dt>\n";
  }
  out += '</dl>\n<hr />\n<h2><a name="request_hooks">Request Hooks</a></h2>\n<dl>';
  for (const [title, key] of REQUEST_HOOKS) {
    out += `<dt><strong>${title}:</strong>\n <br /><tt>\n`;
    const list = key === "output_filter" || key === "log_transaction"
      ? cfg.hooks[key]
      : cfg.hooks.phases[key as keyof typeof cfg.hooks.phases];
    for (const h of list) {
      const m = byName.get(h.module);
      out += `&nbsp;&nbsp; ${order(h.order)} ${link(m ? sourceName(m) : h.module)} <br/>`;
    }
    out += "\n  </tt>\n</dt>\n";
  }
  return out + "</dl>\n<hr />\n";
}

/** One module's block: handlers, config participation, hooks, directives with help, where configured. */
export function moduleBlock(r: Request, m: Module, more: string | undefined): string {
  const cfg = r.rt.cfg;
  const name = sourceName(m);
  const phases = cfg.hooks.phases;
  let out =
    `<dl><dt><a name="${name}"><strong>Module Name:</strong></a> ` +
    `<font size="+1"><tt><a href="?${name}">${name}</a></tt></font></dt>\n`;
  if (m.description) out += `<dt><strong>Description:</strong> <tt>${escapeHtml(m.description)}</tt></dt>\n`;
  out += `<dt><strong>Content handlers:</strong> <tt> <em>${phases.handler.some((h) => h.module === m.name) ? "yes" : "none"}</em></tt></dt>`;
  const conf = [
    m.createDirConfig && "Create Directory Config", m.mergeDirConfig && "Merge Directory Configs",
    m.createServerConfig && "Create Server Config", m.mergeServerConfig && "Merge Server Configs",
  ].filter((x): x is string => typeof x === "string");
  out += "<dt><strong>Configuration Phase Participation:</strong>\n";
  out += conf.length ? conf.map((c) => `<tt>${c}</tt>`).join(", ") : "<tt> <em>none</em></tt>";
  out += "</dt><dt><strong>Request Phase Participation:</strong>\n";
  const taking = REQUEST_HOOKS.filter(([, key]) => (m.hooks as Record<string, unknown> | undefined)?.[key] !== undefined);
  out += taking.length ? taking.map(([t]) => `<tt>${t}</tt>`).join(", ") : "<tt> <em>none</em></tt>";
  out += "</dt>\n";
  const dirs = m.directives ?? [];
  if (dirs.length) {
    out += "<dt><strong>Module Directives:</strong></dt>";
    for (const d of dirs) {
      out += `<dd><tt>${d.section ? "&lt;" : ""}${escapeHtml(d.name)}${d.section ? "&gt;" : ""} - <i>${escapeHtml(d.help)}</i></tt></dd>\n`;
    }
    out += "<dt><strong>Current Configuration:</strong></dt>\n";
    out += new TreePrinter(new Set(dirs.map((d) => d.name.toLowerCase()))).render(cfg.tree);
  } else out += "<dt><strong>Module Directives:</strong> <tt>none</tt></dt>";
  if (more !== undefined) out += `<dt><strong>Additional Information:</strong>\n</dt><dd>${more}</dd>`;
  return out + "</dl><hr />\n";
}

/** `?config`: the whole tree with file and line. */
export function configTree(r: Request): string {
  return `<dl><dt><strong>Configuration:</strong>\n${new TreePrinter(undefined).render(r.rt.cfg.tree)}</dl><hr />`;
}
