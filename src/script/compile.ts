// Loads a script file: bundles (TS and imports) with Bun.build or takes it as a classic script, compiles
// it once as a vm.Script, and maps stack lines back to the source through the bundle's source map.
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import type { BunPlugin } from "bun";

/** A compiled script, shared by every context that runs this version of the file. */
export interface Compiled {
  file: string;
  script: vm.Script;
  /** Per script line (1-based): its mapped segments, [column, source file, source line], by column. */
  lines: LineMap | undefined;
  mtimeMs: number;
  size: number;
  /** Bumped on every compile of the file, so contexts can tell their code is stale. */
  version: number;
}

export type Segment = readonly [number, string, number];
export type LineMap = (readonly Segment[] | undefined)[];

export type CompileOutcome = Compiled | { error: string } | { notFound: true };

/** The names `import ... from "mosaic-script"` gives (values live on the context's `mosaic` global). */
const MOSAIC_EXPORTS = [
  "OK", "DECLINED", "DONE", "AUTHZ_DENIED", "AUTHZ_GRANTED", "AUTHZ_NEUTRAL", "AUTHZ_GENERAL_ERROR",
  "AUTHZ_DENIED_NO_USER", "Response", "sleep", "fetch", "env", "files",
];
const MOSAIC_MODULE = [
  "const m = globalThis.mosaic;",
  ...MOSAIC_EXPORTS.map((n) => `export const ${n} = m.${n};`),
  "export default m;",
].join("\n");
const SOURCE_EXT = /\.(?:[cm]?[jt]sx?|json)$/;

/**
 * Imports: `mosaic-script` is the runtime's own API; relative or absolute paths to JS/TS/JSON files
 * are bundled in; anything else (node:fs, bun, a package) is refused, since nothing of the host may
 * reach a context.
 */
const guard: BunPlugin = {
  name: "mosaic-script-guard",
  setup(b) {
    b.onResolve({ filter: /^mosaic-script$/ }, () => ({ path: "mosaic-script", namespace: "mosaic" }));
    b.onLoad({ filter: /.*/, namespace: "mosaic" }, () => ({ contents: MOSAIC_MODULE, loader: "js" }));
    b.onResolve({ filter: /.*/ }, (a) => {
      if (a.kind === "entry-point-build" || a.kind === "entry-point-run") return undefined;
      const rel = a.path.startsWith("./") || a.path.startsWith("../") || a.path.startsWith("/");
      if (!rel) throw new Error(`import of "${a.path}" is not allowed in scripts`);
      const p = path.resolve(path.dirname(a.importer), a.path);
      if (!SOURCE_EXT.test(p)) throw new Error(`import of "${a.path}": only JavaScript, TypeScript and JSON files`);
      return undefined;
    });
  },
};

const versions = new Map<string, number>();
const transpiler = new Bun.Transpiler({ loader: "ts" });

/** import() inside a script rejects with a plain string: a host Error would carry the host's Function. */
function refuseImport(): never {
  throw "import() is not allowed in scripts";
}

/**
 * Compiles `file`. Files with `export`s (or `import`s) are bundled as a CommonJS module whose exports
 * name the functions; a file without either runs as a classic script whose top-level functions are
 * globals, as Lua's are in mod_lua. Either way the code runs inside try/catch so a throw at load time
 * is reported by the sandbox, never handed to the host.
 */
export async function compileScript(file: string): Promise<CompileOutcome> {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return { notFound: true };
  }
  if (!st.isFile()) return { notFound: true };
  let source: string;
  try {
    source = fs.readFileSync(file, "utf8");
  } catch (e) {
    return { error: `${file}: ${(e as Error).message}` };
  }
  const isTs = /\.[cm]?tsx?$/.test(file);
  let scan: { exports: string[]; imports: unknown[] };
  try {
    scan = isTs ? transpiler.scan(source) : new Bun.Transpiler({ loader: "js" }).scan(source);
  } catch (e) {
    return { error: buildErrorText(e, file) };
  }
  let code: string;
  let lines: Compiled["lines"];
  if (scan.exports.length === 0 && scan.imports.length === 0) {
    try {
      code = isTs ? transpiler.transformSync(source) : source;
    } catch (e) {
      return { error: buildErrorText(e, file) };
    }
    code = `try {\n${code}\n} catch (e) { __mosaicLoadFailed(e); }\n`;
    lines = isTs ? undefined : [undefined, undefined, ...source.split("\n").map((_, i) => [[0, file, i + 1] as const])];
  } else {
    const res = await Bun.build({
      entrypoints: [file],
      format: "cjs",
      target: "browser",
      sourcemap: "external",
      throw: false,
      plugins: [guard],
    });
    if (!res.success) return { error: res.logs.map((l) => buildErrorText(l, file)).join("; ") };
    const out = res.outputs.find((o) => o.kind === "entry-point");
    const map = res.outputs.find((o) => o.kind === "sourcemap");
    if (!out) return { error: `${file}: the bundler produced no output` };
    const bundle = await out.text();
    const call = "(module, module.exports); } catch (e) { __mosaicLoadFailed(e); }\n";
    code = `try { (function (module, exports) {\n${bundle}\n})${call}`;
    lines = map ? [undefined, undefined, ...decodeLines(JSON.parse(await map.text()))] : undefined;
  }
  let script: vm.Script;
  try {
    script = new vm.Script(code, { filename: file, importModuleDynamically: refuseImport as never });
  } catch (e) {
    return { error: `${file}: ${(e as Error).message}` };
  }
  const version = (versions.get(file) ?? 0) + 1;
  versions.set(file, version);
  return { file, script, lines, mtimeMs: st.mtimeMs, size: st.size, version };
}

/** `file:line: message` from a Bun.build log or a transpiler error. */
function buildErrorText(e: unknown, file: string): string {
  const x = e as { message?: string; position?: { file?: string; line?: number } | null; errors?: unknown[] };
  if (x.errors && x.errors.length) return x.errors.map((m) => buildErrorText(m, file)).join("; ");
  const pos = x.position;
  // The transpiler calls its input "input.js"/"input.ts": that is `file`.
  const src = pos?.file && !/^input\.[jt]s$/.test(pos.file) ? pos.file : file;
  const where = pos && pos.line ? `${src}:${pos.line}` : file;
  return `${where}: ${x.message ?? String(e)}`;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** Source map v3 → per generated line, its segments as [column, source file, source line]. */
export function decodeLines(map: { sources: string[]; mappings: string }): LineMap {
  const sources = map.sources.map((s) => path.resolve(process.cwd(), s));
  const out: LineMap = [];
  let src = 0;
  let line = 0;
  for (const group of map.mappings.split(";")) {
    let col = 0;
    const segs: Segment[] = [];
    for (const seg of group.split(",")) {
      if (!seg) continue;
      const f = decodeVlq(seg);
      col += f[0] ?? 0;
      if (f.length >= 4) {
        src += f[1]!;
        line += f[2]!;
        segs.push([col, sources[src] ?? "?", line + 1]);
      }
    }
    out.push(segs.length ? segs : undefined);
  }
  return out;
}

function decodeVlq(seg: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of seg) {
    const d = B64_INDEX.get(ch) ?? 0;
    value += (d & 31) << shift;
    if (d & 32) shift += 5;
    else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

/**
 * The first stack frame inside the script, as [source file, line] (mapped through the source map);
 * undefined when the stack never passes through the script.
 */
export function locate(c: Compiled, stack: string): readonly [string, number] | undefined {
  const esc = c.file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = new RegExp(`${esc}:(\\d+):(\\d+)`).exec(stack);
  if (!m) return undefined;
  const n = Number(m[1]);
  const col = Number(m[2]) - 1;
  // A TypeScript file without exports was transpiled, not mapped: the line is approximate.
  if (!c.lines) return [c.file, n - 1];
  const segs = c.lines[n];
  if (!segs) return undefined;
  let hit = segs[0]!;
  for (const s of segs) if (s[0] <= col) hit = s;
  return [hit[1], hit[2]];
}
