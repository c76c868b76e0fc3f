// Reads a configuration (file or embedded text), preprocesses it and builds the servers.
import fs from "node:fs";
import path from "node:path";
import { findModule, normaliseModuleName, REGISTRY, STATIC_MODULES } from "../../modules/index.ts";
import { compileCondition } from "../expr/index.ts";
import { buildConfig, CORE_SECTIONS } from "./build.ts";
import type { BuiltConfig } from "./build.ts";
import { ConfigError } from "./node.ts";
import type { ConfigNode } from "./node.ts";
import { parseConfigText } from "./parse.ts";
import { preprocess } from "./preprocess.ts";
import type { PreprocessContext } from "./preprocess.ts";
import { parseConfigYaml } from "./yaml.ts";

export interface LoadOptions {
  /** Path of the config file (relative → serverRoot), or undefined with `text`. */
  file?: string;
  /** Config text (the embedded default), labelled `file` in messages. */
  text?: string;
  serverRoot: string;
  /** -D names (NAME or NAME=value). */
  defines?: string[];
  /** -C directives (before the config) and -c directives (after). */
  before?: string[];
  after?: string[];
  env?: Record<string, string | undefined>;
  warn?(message: string): void;
  onInclude?(path: string, depth: number, line: number): void;
}

export interface LoadedConfig extends BuiltConfig {
  file: string;
  defines: Map<string, string>;
  /** The MPM module name (event, worker, prefork). */
  mpm: string;
}

const MPMS = ["mpm_event", "mpm_worker", "mpm_prefork"];

export function parseFile(file: string, text?: string): ConfigNode[] {
  const src = text ?? readConfigFile(file);
  return /\.ya?ml$/i.test(file) ? parseConfigYaml(src, file) : parseConfigText(src, file);
}

function readConfigFile(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(`Could not open configuration file ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "No such file or directory" : (e as Error).message}`);
  }
}

/**
 * Loads and builds a configuration. A config that has no LoadModule at all enables every bundled module
 * (mosaic is one binary); once it has LoadModule lines, only those plus the static modules are on.
 */
export function loadConfig(opts: LoadOptions): LoadedConfig {
  const file = opts.file ? (path.isAbsolute(opts.file) ? opts.file : path.join(opts.serverRoot, opts.file)) : "(embedded)";
  const raw: ConfigNode[] = [
    ...(opts.before ?? []).flatMap((d, i) => parseConfigText(d, `-C directive ${i + 1}`)),
    ...parseFile(file, opts.text),
    ...(opts.after ?? []).flatMap((d, i) => parseConfigText(d, `-c directive ${i + 1}`)),
  ];
  const warnings: string[] = [];
  const run = (loadAll: boolean) => {
    const loaded = new Set<string>(STATIC_MODULES);
    // Everything bundled, with the default MPM, so <IfModule mpm_event_module> sees it as Apache would.
    if (loadAll) for (const m of REGISTRY) if (!MPMS.includes(m.name) || m.name === "mpm_event") loaded.add(m.name);
    let sawLoadModule = false;
    const defines = new Map<string, string>();
    for (const d of opts.defines ?? []) {
      const eq = d.indexOf("=");
      defines.set(eq >= 0 ? d.slice(0, eq) : d, eq >= 0 ? d.slice(eq + 1) : "");
    }
    const ctx: PreprocessContext = {
      serverRoot: opts.serverRoot,
      defines,
      env: opts.env ?? process.env,
      loadModule(name, node) {
        sawLoadModule = true;
        const m = findModule(name);
        if (!m) {
          throw ConfigError.at(node, `Cannot load ${node.args[1] ?? name} into server: mosaic has no bundled module ${name}`);
        }
        if (MPMS.includes(m.name) && [...loaded].some((l) => MPMS.includes(l) && l !== m.name)) {
          throw ConfigError.at(node, "AH00534: mosaic: Configuration error: More than one MPM loaded.");
        }
        if (loaded.has(m.name)) warnings.push(`module ${m.identifier} is already loaded, skipping`);
        loaded.add(m.name);
      },
      isModuleLoaded: (name) => loaded.has(normaliseModuleName(name)),
      hasDirective: (name) => [...loaded].some((l) => findModule(l)?.directives?.some((d) => d.name.toLowerCase() === name.toLowerCase())),
      hasSection: (name) => CORE_SECTIONS.some((s) => s.toLowerCase() === name.toLowerCase()) || [...loaded].some((l) => findModule(l)?.directives?.some((d) => d.section && d.name.toLowerCase() === name.toLowerCase())),
      warn: (message, node) => warnings.push(`${message}${node ? ` (${node.file}:${node.line})` : ""}`),
      loadFile: (p) => parseFile(p),
      onInclude: loadAll || !opts.onInclude ? opts.onInclude : undefined,
    };
    const tree = preprocess(raw, ctx);
    if (![...loaded].some((l) => MPMS.includes(l))) loaded.add("mpm_event");
    return { tree, loaded, sawLoadModule, defines, serverRoot: ctx.serverRoot };
  };
  let pass = run(false);
  if (!pass.sawLoadModule) {
    warnings.length = 0;
    pass = run(true);
  }
  for (const w of warnings) opts.warn?.(w);
  const built = buildConfig(pass.tree, {
    registry: REGISTRY,
    loaded: pass.loaded,
    serverRoot: pass.serverRoot,
    compileCondition,
    warn: (m, node) => opts.warn?.(node ? `${m} (${node.file}:${node.line})` : m),
  });
  const mpm = MPMS.find((m) => pass.loaded.has(m))!.slice(4);
  return { ...built, file, defines: pass.defines, mpm };
}
