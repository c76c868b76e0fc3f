// Read-time directives (Define, ${VAR}, <If*>, Include, LoadModule, ServerRoot) over a raw tree.

import { readdirSync, statSync, type Dirent, type Stats } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, type ConfigNode } from "./node.ts";

/** What the preprocessor needs from the server being configured. */
export interface PreprocessContext {
  /** Relative Include/IfFile paths resolve against it; a `ServerRoot` directive updates it. */
  serverRoot: string;
  /** `-D` and `Define`; bare names have value "". Define/UnDefine mutate it. */
  defines: Map<string, string>;
  /** Usually `process.env`. */
  env: Record<string, string | undefined>;
  /** Called for each LoadModule (`name` is e.g. "status_module"); throws ConfigError if unknown. */
  loadModule(name: string, node: ConfigNode): void;
  /** Gets the module identifier (`status_module`); `mod_status.c` is normalised before the call. */
  isModuleLoaded(name: string): boolean;
  hasDirective(name: string): boolean;
  hasSection(name: string): boolean;
  warn(message: string, node: ConfigNode): void;
  /** Reads and parses a file (the caller picks httpd.conf or YAML by extension). */
  loadFile(path: string): ConfigNode[];
  /** For `-t -D DUMP_INCLUDES`: each included file, its include depth and the Include line. */
  onInclude?(path: string, depth: number, line: number): void;
}

// AP_MAX_INCLUDE_DEPTH and AP_MAX_FNMATCH_DIR_DEPTH in httpd.
const MAX_INCLUDE_DEPTH = 128;
const MAX_DIR_DEPTH = 128;
const INCLUDE_PREFIX = "Include/IncludeOptional: ";

// The help strings Apache appends to arity errors (`-L` prints the same text).
const HELP = {
  Define: "Define a variable, optionally to a value.  Same as passing -D to the command line.",
  UnDefine: "Undefine the existence of a variable. Undo a Define.",
  Include:
    "Name(s) of the config file(s) to be included; fails if the wildcard does not match at least " +
    "one file",
  IncludeOptional:
    "Name or pattern of the config file(s) to be included; ignored if the file does not exist or " +
    "the pattern does not match any files",
  LoadModule: "a module name and the name of a shared object file to load it from",
  ServerRoot: "Common directory of server-related files (logs, confs, etc.)",
} as const;

type Condition = (arg: string, ctx: PreprocessContext) => boolean;

// Keyed by lower-case name; the value keeps Apache's spelling for error messages. Maps, not
// object literals, so that a section called `<constructor>` finds nothing.
const CONDITIONS = new Map<string, [string, Condition]>([
  ["ifdefine", ["IfDefine", (arg, ctx) => ctx.defines.has(arg)]],
  ["ifmodule", ["IfModule", (arg, ctx) => ctx.isModuleLoaded(moduleIdentifier(arg))]],
  ["iffile", ["IfFile", (arg, ctx) => statPath(resolve(ctx.serverRoot, arg)) !== undefined]],
  ["ifdirective", ["IfDirective", (arg, ctx) => ctx.hasDirective(arg)]],
  ["ifsection", ["IfSection", (arg, ctx) => ctx.hasSection(arg)]],
]);

// Modules whose source file is not simply mod_<name>.c.
const SOURCE_NAMES = new Map([
  ["core.c", "core_module"],
  ["http_core.c", "http_module"],
  ["event.c", "mpm_event_module"],
  ["worker.c", "mpm_worker_module"],
  ["prefork.c", "mpm_prefork_module"],
]);

/**
 * Run the read-time directives over a raw tree, in document order, and return a new tree: `${VAR}`
 * expanded in every argument, Define/UnDefine applied and removed, true `<If*>` sections replaced
 * by their children and false ones dropped, Include spliced in, LoadModule and ServerRoot applied
 * and kept. The input is never mutated.
 *
 * @example
 * preprocess(parseConfigText("Define X 1\nListen ${X}\n", "httpd.conf"), ctx);
 * // [{ name: "Listen", args: ["1"], file: "httpd.conf", line: 2 }]
 */
export function preprocess(nodes: ConfigNode[], ctx: PreprocessContext): ConfigNode[] {
  return walk(nodes, ctx, 0);
}

/**
 * Expand `${NAME}` like ap_resolve_env: Define values win over the environment; an unknown name
 * stays literal and warns AH00111; a name with `:` (a RewriteMap lookup) is left alone.
 */
export function expandVars(s: string, ctx: PreprocessContext, node: ConfigNode): string {
  let out = "";
  let pos = 0;
  for (;;) {
    const start = s.indexOf("${", pos);
    const end = start < 0 ? -1 : s.indexOf("}", start + 2);
    if (end < 0) return out + s.slice(pos);
    const name = s.slice(start + 2, end);
    out += s.slice(pos, start);
    pos = end + 1;
    if (name.includes(":")) {
      out += `\${${name}}`;
      continue;
    }
    // One-argument Define only marks the name as defined: it has no value to expand.
    const defined = ctx.defines.get(name);
    const value = defined === undefined || defined === "" ? ctx.env[name] : defined;
    if (value === undefined) {
      ctx.warn(`AH00111: Config variable \${${name}} is not defined`, node);
      out += `\${${name}}`;
    } else {
      out += value;
    }
  }
}

/** `mod_status.c` → `status_module`, as both name the same module in `<IfModule>`. */
export function moduleIdentifier(name: string): string {
  const known = SOURCE_NAMES.get(name);
  if (known !== undefined) return known;
  const match = /^mod_(.+)\.c$/.exec(name);
  return match ? `${match[1]}_module` : name;
}

function walk(nodes: ConfigNode[], ctx: PreprocessContext, depth: number): ConfigNode[] {
  const out: ConfigNode[] = [];
  for (const source of nodes) {
    const node: ConfigNode = {
      name: source.name,
      args: source.args.map((arg) => expandVars(arg, ctx, source)),
      file: source.file,
      line: source.line,
    };
    const key = source.name.toLowerCase();

    if (source.children !== undefined) {
      const condition = CONDITIONS.get(key);
      if (condition === undefined) {
        out.push({ ...node, children: walk(source.children, ctx, depth) });
      } else if (testCondition(node, condition, ctx)) {
        out.push(...walk(source.children, ctx, depth));
      }
      continue;
    }

    switch (key) {
      case "define": {
        const [name = "", value = ""] = arity(node, "Define", 1, 2);
        checkVarName(node, name);
        // Apache reads an empty second word as no value, and a bare Define keeps an old value.
        if (value !== "" || !ctx.defines.has(name)) ctx.defines.set(name, value);
        break;
      }
      case "undefine": {
        const [name = ""] = arity(node, "UnDefine", 1, 1);
        checkVarName(node, name);
        ctx.defines.delete(name);
        break;
      }
      case "include":
      case "includeoptional": {
        const optional = key === "includeoptional";
        const [path = ""] = arity(node, optional ? "IncludeOptional" : "Include", 1, 1);
        out.push(...include(node, resolve(ctx.serverRoot, path), optional, ctx, depth));
        break;
      }
      case "loadmodule": {
        const [name = ""] = arity(node, "LoadModule", 2, 2);
        ctx.loadModule(name, node);
        out.push(node);
        break;
      }
      case "serverroot": {
        const [path = ""] = arity(node, "ServerRoot", 1, 1);
        const root = resolve(ctx.serverRoot, path);
        if (statPath(root)?.isDirectory() !== true) {
          throw ConfigError.at(node, "ServerRoot must be a valid directory");
        }
        ctx.serverRoot = root;
        out.push(node);
        break;
      }
      default:
        out.push(node);
    }
  }
  return out;
}

// start_cond_section: a leading `!` negates, the first word is tested, further words are ignored.
function testCondition(
  node: ConfigNode,
  [name, test]: [string, Condition],
  ctx: PreprocessContext,
): boolean {
  let [arg = "", next = ""] = node.args;
  const negate = arg.startsWith("!");
  if (negate) arg = arg === "!" ? next : arg.slice(1);
  if (arg === "") throw ConfigError.at(node, `<${name}> directive requires additional arguments`);
  return test(arg, ctx) !== negate;
}

// Apache's TAKE1/TAKE12/TAKE2 checks: an empty word counts as a missing one.
function arity(node: ConfigNode, name: keyof typeof HELP, min: number, max: number): string[] {
  const { args } = node;
  const ok =
    args.length >= min && args.length <= max && args.slice(0, min).every((arg) => arg !== "");
  if (!ok) {
    const count =
      min !== max ? `${min}-${max} arguments` : min === 1 ? "one argument" : "two arguments";
    throw ConfigError.at(node, `${name} takes ${count}, ${HELP[name]}`);
  }
  return args;
}

function checkVarName(node: ConfigNode, name: string): void {
  if (name.includes(":")) throw ConfigError.at(node, "Variable name must not contain ':'");
}

function include(
  node: ConfigNode,
  pattern: string,
  optional: boolean,
  ctx: PreprocessContext,
  depth: number,
): ConfigNode[] {
  if (depth + 1 > MAX_INCLUDE_DEPTH) {
    throw ConfigError.at(
      node,
      `Exceeded maximum include depth of ${MAX_INCLUDE_DEPTH}, There appears to be a recursion.`,
    );
  }
  const out: ConfigNode[] = [];
  const files = hasWildcard(pattern)
    ? matchPath(node, "/", pattern.slice(1), optional)
    : expandPath(node, pattern, optional, { depth: 0 });
  // Files are read one at a time, like ap_dir_fnmatch's callback, so errors come in Apache's order.
  for (const file of files) {
    let loaded: ConfigNode[];
    try {
      // Stat first so a missing file reads the same whatever loadFile throws for it.
      statSync(file);
      loaded = ctx.loadFile(file);
    } catch (error) {
      throw nested(node, error, file);
    }
    ctx.onInclude?.(file, depth + 1, node.line);
    try {
      out.push(...walk(loaded, ctx, depth + 1));
    } catch (error) {
      throw nested(node, error, file);
    }
  }
  return out;
}

// An error inside an included file is reported from the Include line, wrapping the inner one:
// "Syntax error on line 3 of /etc/x.conf: ..." is what ap_process_resource_config returns.
function nested(node: ConfigNode, error: unknown, file: string): unknown {
  if (error instanceof ConfigError) {
    if (error.file !== undefined && error.line !== undefined && error.line > 0) {
      const inner = `Syntax error on line ${error.line} of ${error.file}: ${error.message}`;
      return ConfigError.at(node, inner);
    }
    return ConfigError.at(node, error.message);
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined) {
    return ConfigError.at(node, `Could not open configuration file ${file}: ${errno(error)}`);
  }
  return error;
}

// ap_dir_nofnmatch: a directory means every file below it (dotfiles too), sorted by full path.
function* expandPath(
  node: ConfigNode,
  path: string,
  optional: boolean,
  walker: { depth: number },
): Generator<string> {
  if (statPath(path)?.isDirectory() === true) {
    if (++walker.depth > MAX_DIR_DEPTH) {
      throw ConfigError.at(
        node,
        `${INCLUDE_PREFIX}Directory '${path}' exceeds the maximum include directory nesting ` +
          `level of ${MAX_DIR_DEPTH}. You have probably a recursion somewhere.`,
      );
    }
    let names: string[];
    try {
      names = readdirSync(path);
    } catch (error) {
      const message = `${INCLUDE_PREFIX}Could not open directory ${path}: ${errno(error)}`;
      throw ConfigError.at(node, message);
    }
    for (const entry of names.map((name) => joinPath(path, name)).sort(byteOrder)) {
      yield* expandPath(node, entry, optional, walker);
    }
    walker.depth--;
    return;
  }
  if (optional && statPath(path) === undefined) return;
  yield path;
}

// ap_dir_fnmatch: walk the pattern one path segment at a time; wildcard segments list `dir`.
function* matchPath(
  node: ConfigNode,
  dir: string,
  rest: string,
  optional: boolean,
): Generator<string> {
  const slash = rest.indexOf("/");
  const segment = slash < 0 ? rest : rest.slice(0, slash);
  const tail = slash < 0 ? undefined : rest.slice(slash + 1);

  if (!hasWildcard(segment)) {
    const path = joinPath(dir, segment);
    if (tail === undefined) yield* expandPath(node, path, optional, { depth: 0 });
    else yield* matchPath(node, path, tail, optional);
    return;
  }

  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw ConfigError.at(node, `${INCLUDE_PREFIX}Could not open directory ${dir}: ${errno(error)}`);
  }
  const regexp = fnmatchRegExp(segment);
  const matches = entries
    // A segment in the middle of the pattern only matches directories (not symlinks to them).
    .filter((entry) => tail === undefined || entry.isDirectory())
    .filter((entry) => matchName(segment, regexp, entry.name))
    .map((entry) => joinPath(dir, entry.name))
    .sort(byteOrder);
  if (matches.length === 0 && !optional) {
    throw ConfigError.at(
      node,
      `${INCLUDE_PREFIX}No matches for the wildcard '${segment}' in '${dir}', failing`,
    );
  }
  for (const match of matches) {
    if (tail === undefined) yield* expandPath(node, match, optional, { depth: 0 });
    else yield* matchPath(node, match, tail, optional);
  }
}

// apr_fnmatch_test: `*` or `?` anywhere, or a `[` closed by a later `]`; `\` escapes.
function hasWildcard(pattern: string): boolean {
  let open = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === "*" || char === "?") return true;
    if (char === "\\") i++;
    else if (char === "[") open = true;
    else if (char === "]" && open) return true;
  }
  return false;
}

// apr_fnmatch with APR_FNM_PERIOD: a leading dot must be matched by a literal dot.
function matchName(pattern: string, regexp: RegExp, name: string): boolean {
  if (name.startsWith(".") && !pattern.startsWith(".") && !pattern.startsWith("\\.")) return false;
  return regexp.test(name);
}

function fnmatchRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "*") source += ".*";
    else if (char === "?") source += ".";
    else if (char === "\\" && i + 1 < pattern.length) source += literal(pattern[++i]!);
    else if (char === "[") {
      const end = classEnd(pattern, i);
      if (end < 0) source += literal(char);
      else {
        source += bracket(pattern.slice(i + 1, end));
        i = end;
      }
    } else source += literal(char);
  }
  return new RegExp(`^${source}$`, "su");
}

// Index of the `]` closing the class opened at `start`, or -1 (then `[` is literal).
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === "!" || pattern[i] === "^") i++;
  if (pattern[i] === "]") i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === "]") return i;
    if (pattern[i] === "\\") i++;
  }
  return -1;
}

function bracket(body: string): string {
  let i = 0;
  let source = "[";
  if (body[0] === "!" || body[0] === "^") {
    source += "^";
    i++;
  }
  for (; i < body.length; i++) {
    if (body[i] === "\\" && i + 1 < body.length) i++;
    const low = body[i]!;
    if (body[i + 1] !== "-" || i + 2 >= body.length) {
      source += literal(low);
      continue;
    }
    i += 2;
    if (body[i] === "\\" && i + 1 < body.length) i++;
    const high = body[i]!;
    // A reversed range matches nothing in apr_fnmatch; in a RegExp it would not even compile.
    if (low <= high) source += `${literal(low)}-${literal(high)}`;
  }
  return `${source}]`;
}

function literal(char: string): string {
  return `\\u{${char.codePointAt(0)!.toString(16)}}`;
}

// Any failure (ENOENT, ENOTDIR, EACCES) counts as "not there", like a failed apr_stat.
function statPath(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

// ap_make_full_path: no normalisation, just one slash between the parts.
function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

// Apache sorts with strcmp; localeCompare would not.
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function errno(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === undefined ? String(error) : strerror(code);
}

// What APR's %pm prints for the errors a config read can meet.
function strerror(code: string): string {
  const messages: Record<string, string> = {
    ENOENT: "No such file or directory",
    ENOTDIR: "Not a directory",
    EACCES: "Permission denied",
    EISDIR: "Is a directory",
    ELOOP: "Too many levels of symbolic links",
    ENAMETOOLONG: "File name too long",
  };
  return messages[code] ?? code;
}
