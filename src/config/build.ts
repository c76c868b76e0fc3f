// Walks the preprocessed configuration tree and builds servers, sections and module configs.
import path from "node:path";
import { buildHookTable } from "../hooks.ts";
import type { HookTable } from "../hooks.ts";
import type { Context, DirectiveDef, Module } from "../module.ts";
import type { Section, SectionKind, SectionSet, ServerRec, VHostAddr } from "../server-rec.ts";
import { ConfigError } from "./node.ts";
import type { ConfigNode } from "./node.ts";
import { arityError } from "./arity.ts";
import { compileWildcard, hasWildcard } from "./wildcard.ts";

export interface DirectiveEntry {
  def: DirectiveDef<unknown, unknown>;
  module: Module;
}

export interface BuiltConfig {
  main: ServerRec;
  vhosts: ServerRec[];
  /** Loaded modules in registry order. */
  modules: Module[];
  hooks: HookTable;
  directives: Map<string, DirectiveEntry>;
  serverRoot: string;
  tree: ConfigNode[];
  /** Registry size: the length of every config vector. */
  vectorSize: number;
}

export interface BuildOptions {
  /** Every bundled module, indexed (module.index = position). */
  registry: readonly Module[];
  /** Names of the modules enabled for this config. */
  loaded: ReadonlySet<string>;
  serverRoot: string;
  warn(message: string, node?: ConfigNode): void;
  /** Compiles an `<If>` expression; absent when no expression engine is loaded. */
  compileCondition?: (expr: string, node: ConfigNode) => Section["condition"];
}

const SECTION_KINDS: Record<string, SectionKind> = {
  directory: "Directory",
  directorymatch: "DirectoryMatch",
  files: "Files",
  filesmatch: "FilesMatch",
  location: "Location",
  locationmatch: "LocationMatch",
  if: "If",
  elseif: "ElseIf",
  else: "Else",
};

/** Sections the core itself understands (Apache's core.c), for -L and <IfSection>. */
export const CORE_SECTIONS = ["VirtualHost", ...Object.values(SECTION_KINDS)];

let sectionIds = 0;

export function buildConfig(tree: ConfigNode[], opts: BuildOptions): BuiltConfig {
  const modules = opts.registry.filter((m) => opts.loaded.has(m.name));
  const vectorSize = opts.registry.length;
  const directives = new Map<string, DirectiveEntry>();
  for (const m of modules) {
    for (const d of m.directives ?? []) {
      directives.set(d.name.toLowerCase(), { def: d as DirectiveDef<unknown, unknown>, module: m });
    }
  }
  const b = new Builder(opts, modules, directives, vectorSize);
  const main = b.newServer(false, tree[0] ?? { name: "", args: [], file: "", line: 0 });
  for (const m of modules) {
    if (m.createDirConfig) main.lookupDefaults[m.index] = m.createDirConfig();
  }
  const vhosts: ServerRec[] = [];
  b.walk(tree, { server: main, vector: main.lookupDefaults, section: undefined, owner: undefined }, vhosts);
  b.finishSections(main, undefined);
  for (const v of vhosts) {
    b.mergeVhost(main, v);
    b.finishSections(v, main);
  }
  return {
    main,
    vhosts,
    modules,
    hooks: buildHookTable(modules),
    directives,
    serverRoot: opts.serverRoot,
    tree,
    vectorSize,
  };
}

interface WalkCtx {
  server: ServerRec;
  /** The per-dir vector directives write into (lookupDefaults or a section's sparse vector). */
  vector: unknown[];
  /** Enclosing section kind, undefined at server or vhost level. */
  section: SectionKind | undefined;
  /** The section being filled, for nesting Files/If inside Directory. */
  owner: Section | undefined;
}

class Builder {
  private nextServerId = 0;
  /** Sections in config order per server, before grouping. */
  private raw = new Map<ServerRec, Section[]>();

  constructor(
    private opts: BuildOptions,
    private modules: Module[],
    private directives: Map<string, DirectiveEntry>,
    private vectorSize: number,
  ) {}

  newServer(isVirtual: boolean, node: ConfigNode): ServerRec {
    const s: ServerRec = {
      id: this.nextServerId++,
      isVirtual,
      serverName: "",
      port: 0,
      aliases: [],
      aliasPatterns: [],
      addrs: [],
      moduleConfig: new Array(this.vectorSize),
      lookupDefaults: new Array(this.vectorSize),
      sections: { dirs: [], dirMatches: [], files: [], locations: [], ifs: [] },
      mergeCache: new Map(),
      file: node.file,
      line: node.line,
    };
    for (const m of this.modules) {
      if (m.createServerConfig) s.moduleConfig[m.index] = m.createServerConfig();
    }
    this.raw.set(s, []);
    return s;
  }

  walk(nodes: ConfigNode[], ctx: WalkCtx, vhosts: ServerRec[]): void {
    let prevIf: Section | undefined;
    for (const node of nodes) {
      const lname = node.name.toLowerCase();
      if (lname === "virtualhost") {
        prevIf = undefined;
        this.virtualHost(node, ctx, vhosts);
        continue;
      }
      const kind = SECTION_KINDS[lname];
      if (kind) {
        const sec = this.section(node, kind, ctx, prevIf);
        prevIf = kind === "If" || kind === "ElseIf" ? sec : undefined;
        continue;
      }
      prevIf = undefined;
      this.directive(node, ctx);
    }
  }

  private virtualHost(node: ConfigNode, ctx: WalkCtx, vhosts: ServerRec[]): void {
    if (ctx.server.isVirtual) {
      throw ConfigError.at(node, "<VirtualHost> cannot occur within <VirtualHost> section");
    }
    if (ctx.section) {
      throw ConfigError.at(node, `<VirtualHost> cannot occur within <${ctx.section}> section`);
    }
    if (node.args.length === 0) {
      throw ConfigError.at(node, "<VirtualHost> directive requires additional arguments");
    }
    const v = this.newServer(true, node);
    v.addrs = node.args.map((a) => parseVhostAddr(a, node));
    vhosts.push(v);
    this.walk(node.children ?? [], { server: v, vector: v.lookupDefaults, section: undefined, owner: undefined }, vhosts);
  }

  private section(node: ConfigNode, kind: SectionKind, ctx: WalkCtx, prevIf: Section | undefined): Section {
    const isIf = kind === "If" || kind === "ElseIf" || kind === "Else";
    const isFiles = kind === "Files" || kind === "FilesMatch";
    if (ctx.section && !isIf && !(isFiles && (ctx.section === "Directory" || ctx.section === "DirectoryMatch"))) {
      throw ConfigError.at(node, `<${kind}> cannot occur within <${ctx.section}> section`);
    }
    if ((kind === "ElseIf" || kind === "Else") && !prevIf) {
      throw ConfigError.at(
        node,
        "<Else> or <ElseIf> section without previous <If> or <ElseIf> section in same scope",
      );
    }
    if (kind === "Else" ? node.args.length > 0 : node.args.length === 0) {
      throw ConfigError.at(
        node,
        kind === "Else" ? "<Else> does not take an argument" : `<${kind}> directive requires additional arguments`,
      );
    }
    let pathArg = node.args[0] ?? "";
    let regex: RegExp | undefined;
    let isMatch = kind.endsWith("Match");
    if (!isIf && node.args[0] === "~") {
      isMatch = true;
      pathArg = node.args[1] ?? "";
    }
    let condition: Section["condition"];
    if (isIf) {
      if (kind !== "Else") {
        const expr = node.args.join(" ");
        if (!this.opts.compileCondition) {
          throw ConfigError.at(node, `<${kind}> needs the expression engine, which is not loaded`);
        }
        condition = this.opts.compileCondition(expr, node);
      }
    } else if (isMatch) {
      try {
        regex = new RegExp(pathArg);
      } catch (e) {
        throw ConfigError.at(node, `Regular expression could not be compiled: ${(e as Error).message}`);
      }
    } else if (kind === "Directory") {
      pathArg = normaliseDirPath(this.resolve(pathArg));
      if (hasWildcard(pathArg)) regex = compileWildcard(pathArg, true);
    } else if (hasWildcard(pathArg)) {
      regex = compileWildcard(pathArg, kind === "Location");
    }
    const base = isMatch ? (kind === "Directory" ? "DirectoryMatch" : kind === "Files" ? "FilesMatch" : kind === "Location" ? "LocationMatch" : kind) : kind;
    const sec: Section = {
      id: ++sectionIds,
      kind: base as SectionKind,
      path: pathArg,
      regex,
      depth: base === "Directory" ? (pathArg === "/" ? 0 : pathArg.split("/").length - 1) : 0,
      config: new Array(this.vectorSize),
      nested: [],
      condition,
      chainPrev: kind === "ElseIf" || kind === "Else" ? prevIf : undefined,
      node,
    };
    if (ctx.owner) ctx.owner.nested.push(sec);
    else this.raw.get(ctx.server)!.push(sec);
    this.walk(node.children ?? [], { server: ctx.server, vector: sec.config, section: base as SectionKind, owner: sec }, []);
    return sec;
  }

  private directive(node: ConfigNode, ctx: WalkCtx): void {
    const entry = this.directives.get(node.name.toLowerCase());
    if (!entry) {
      const shown = node.children ? `<${node.name}>` : node.name;
      throw ConfigError.at(
        node,
        `Invalid command '${shown}', perhaps misspelled or defined by a module not included in the server configuration`,
      );
    }
    const { def, module } = entry;
    if (node.children && !def.section) {
      throw ConfigError.at(node, `Invalid command '<${node.name}>', perhaps misspelled or defined by a module not included in the server configuration`);
    }
    checkContext(def, node, ctx);
    const err = arityError(def, node.args);
    if (err) throw ConfigError.at(node, err);
    const idx = module.index;
    if (ctx.vector[idx] === undefined && module.createDirConfig) ctx.vector[idx] = module.createDirConfig();
    const result = def.apply({
      args: node.args,
      flag: /^on$/i.test(node.args[0] ?? ""),
      node,
      server: ctx.server.moduleConfig[idx],
      dir: ctx.vector[idx],
      section: ctx.section,
      serverRec: ctx.server,
      resolvePath: (p) => this.resolve(p),
      warn: (m) => this.opts.warn(m, node),
    });
    if (typeof result === "string") throw ConfigError.at(node, result);
  }

  private resolve(p: string): string {
    return path.isAbsolute(p) ? path.normalize(p) : path.join(this.opts.serverRoot, p);
  }

  mergeVhost(main: ServerRec, v: ServerRec): void {
    for (const m of this.modules) {
      const i = m.index;
      if (m.mergeServerConfig && m.createServerConfig) {
        v.moduleConfig[i] = m.mergeServerConfig(main.moduleConfig[i] as never, v.moduleConfig[i] as never);
      }
      const own = v.lookupDefaults[i];
      v.lookupDefaults[i] =
        own === undefined ? main.lookupDefaults[i] : m.mergeDirConfig ? m.mergeDirConfig(main.lookupDefaults[i] as never, own as never) : own;
    }
  }

  /** Groups sections for the walk: main server's first, then the vhost's (Apache appends them). */
  finishSections(s: ServerRec, main: ServerRec | undefined): void {
    const all = [...(main ? this.raw.get(main)! : []), ...this.raw.get(s)!];
    const set: SectionSet = { dirs: [], dirMatches: [], files: [], locations: [], ifs: [] };
    for (const sec of all) {
      if (sec.kind === "Directory") set.dirs.push(sec);
      else if (sec.kind === "DirectoryMatch") set.dirMatches.push(sec);
      else if (sec.kind === "Files" || sec.kind === "FilesMatch") set.files.push(sec);
      else if (sec.kind === "Location" || sec.kind === "LocationMatch") set.locations.push(sec);
      else set.ifs.push(sec);
    }
    // Apache's core_reorder_directories: by component count, stable within the same depth.
    set.dirs.sort((a, b) => a.depth - b.depth);
    s.sections = set;
  }
}

function checkContext(def: DirectiveDef<unknown, unknown>, node: ConfigNode, ctx: WalkCtx): void {
  const contexts: readonly Context[] = def.contexts ?? ["server", "vhost", "directory"];
  const name = def.section ? `<${def.name}` : def.name;
  // Two Apache code paths, two wordings: invoke_cmd's override check ("not allowed in <X> context",
  // "not allowed here") and ap_check_cmd_context for GLOBAL_ONLY ("cannot occur within <VirtualHost>").
  if (ctx.section) {
    if (!contexts.includes("directory") || def.notIn?.includes(ctx.section)) {
      throw ConfigError.at(node, `${name} not allowed in <${ctx.section}> context`);
    }
  } else if (ctx.server.isVirtual) {
    if (!contexts.includes("vhost")) {
      throw ConfigError.at(
        node,
        contexts.includes("server") ? `${name} cannot occur within <VirtualHost> section` : `${name} not allowed in <VirtualHost> context`,
      );
    }
  } else if (!contexts.includes("server")) {
    throw ConfigError.at(node, `${name} not allowed here`);
  }
}

function normaliseDirPath(p: string): string {
  if (p.length > 1 && p.endsWith("/")) return p.slice(0, -1);
  return p;
}

/** `<VirtualHost 127.0.0.1:8080 *:80 _default_ [::1]:443>` */
export function parseVhostAddr(arg: string, node: ConfigNode): VHostAddr {
  if (arg === "_default_" || arg.startsWith("_default_:")) {
    const port = arg.includes(":") ? parsePort(arg.slice(10), node) : 0;
    return { host: "*", port, isDefault: true };
  }
  let host = arg;
  let port = 0;
  const m = /^\[([^\]]+)\](?::(.+))?$/.exec(arg);
  if (m) {
    host = m[1]!;
    if (m[2] !== undefined) port = parsePort(m[2], node);
  } else {
    const colon = arg.lastIndexOf(":");
    if (colon >= 0 && arg.indexOf(":") === colon) {
      host = arg.slice(0, colon);
      port = parsePort(arg.slice(colon + 1), node);
    }
  }
  if (host === "") throw ConfigError.at(node, `Invalid address or port: ${arg}`);
  return { host: host === "*" ? "*" : host.toLowerCase(), port, isDefault: false };
}

function parsePort(s: string, node: ConfigNode): number {
  if (s === "*") return 0;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw ConfigError.at(node, `Invalid address or port: ${s}`);
  return n;
}
