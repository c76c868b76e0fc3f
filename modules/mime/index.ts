// mime: file extensions → content type, charset, encoding, language and handler (Apache's mod_mime).
import type { Request } from "../../src/http/request.ts";
import { DECLINED, defineDirectives, defineModule } from "../../src/module.ts";
import type { HookResult } from "../../src/module.ts";
import { createMimeDir, createMimeServer, mergeMimeDir, mergeMimeServer } from "./config.ts";
import type { ExtField, MimeDir, MimeServer } from "./config.ts";
import { resolveName } from "./lookup.ts";
import { defaultTypes, loadTypesFile } from "./types.ts";

const ALL = ["server", "vhost", "directory"] as const;
const EXTS = "one or more file extensions";

/** Apache stores extensions without their leading dot, lower-cased. */
function normExt(ext: string): string {
  return (ext.charCodeAt(0) === 46 ? ext.slice(1) : ext).toLowerCase();
}

/** Add{Type,Charset,Encoding,Language,Handler,...}: a value, then the extensions it applies to. */
function add(name: string, field: ExtField, help: string) {
  return {
    name,
    args: [2, Infinity] as const,
    contexts: ALL,
    help,
    apply({ args, dir }: { args: string[]; dir: MimeDir }): void {
      // add_extension_info lower-cases the value too (types, charsets, handler names).
      const value = args[0]!.toLowerCase();
      const map = (dir.extensions ??= new Map());
      for (let i = 1; i < args.length; i++) {
        const ext = normExt(args[i]!);
        map.set(ext, { ...map.get(ext), [field]: value });
      }
    },
  };
}

/** Remove*: forget an inherited field for the extensions, when this section merges onto its parent. */
function remove(name: string, field: ExtField) {
  return {
    name,
    args: [1, Infinity] as const,
    contexts: ALL,
    help: EXTS,
    apply({ args, dir }: { args: string[]; dir: MimeDir }): void {
      const list = (dir.removals ??= []);
      for (const a of args) list.push({ ext: normExt(a), field });
    },
  };
}

const MULTIVIEWS = new Set(["any", "negotiatedonly", "filters", "handlers"]);

const directives = defineDirectives<MimeServer, MimeDir>([
  add("AddType", "type", "a mime type followed by one or more file extensions"),
  add("AddCharset", "charset", "a charset (e.g., iso-2022-jp), followed by one or more file extensions"),
  add("AddEncoding", "encoding", "an encoding (e.g., gzip), followed by one or more file extensions"),
  add("AddLanguage", "language", "a language (e.g., fr), followed by one or more file extensions"),
  add("AddHandler", "handler", "a handler name followed by one or more file extensions"),
  add("AddInputFilter", "inputFilters", `input filter name (or ; delimited names) followed by ${EXTS}`),
  add("AddOutputFilter", "outputFilters", `output filter name (or ; delimited names) followed by ${EXTS}`),
  {
    name: "RemoveType",
    args: [1, Infinity],
    contexts: ALL,
    help: EXTS,
    apply({ args, dir }) {
      // An empty forced type: no AddType and no TypesConfig mapping for these extensions from here down.
      const map = (dir.extensions ??= new Map());
      for (const a of args) {
        const ext = normExt(a);
        map.set(ext, { ...map.get(ext), type: "" });
      }
    },
  },
  remove("RemoveCharset", "charset"),
  remove("RemoveEncoding", "encoding"),
  remove("RemoveLanguage", "language"),
  remove("RemoveHandler", "handler"),
  remove("RemoveInputFilter", "inputFilters"),
  remove("RemoveOutputFilter", "outputFilters"),
  {
    name: "DefaultLanguage",
    args: [1, 1],
    contexts: ALL,
    help: "language to use for documents with no other language file extension",
    apply({ args, dir }) {
      dir.defaultLanguage = args[0]!;
    },
  },
  {
    name: "ModMimeUsePathInfo",
    args: "flag",
    contexts: ["directory"],
    help: "Set to 'yes' to allow mod_mime to use path info for type checking",
    apply({ flag, dir }) {
      dir.usePathInfo = flag;
    },
  },
  {
    name: "MultiviewsMatch",
    args: [1, Infinity],
    contexts: ALL,
    help: "NegotiatedOnly (default), Handlers and/or Filters, or Any",
    apply({ args, dir }) {
      const opts = args.map((a) => a.toLowerCase());
      for (const o of opts) if (!MULTIVIEWS.has(o)) return "Unrecognized option";
      if (opts.length > 1 && opts.includes("any")) {
        return "Any is incompatible with NegotiatedOnly, Filters or Handlers";
      }
      if (opts.length > 1 && opts.includes("negotiatedonly")) {
        return "NegotiatedOnly excludes all other options";
      }
      dir.multiviewsMatch = opts;
    },
  },
  {
    name: "TypesConfig",
    args: [1, 1],
    contexts: ["server", "vhost"],
    help: "the MIME types config file",
    apply({ args, server, resolvePath }) {
      server.typesConfig = resolvePath(args[0]!);
    },
  },
]);

const mime = defineModule<MimeServer, MimeDir>({
  name: "mime",
  description: "Content type, encoding, language and handler from file name extensions",
  directives,
  createServerConfig: createMimeServer,
  mergeServerConfig: mergeMimeServer,
  createDirConfig: createMimeDir,
  mergeDirConfig: mergeMimeDir,
  hooks: {
    type_checker: { fn: findType, order: "middle" },
  },
  postConfig(ctx) {
    // mime_post_config: one table for every server, from the main server's TypesConfig.
    const file = mime.serverConf(ctx.main).typesConfig;
    const types = file === undefined ? defaultTypes() : loadTypesFile(file);
    for (const s of ctx.servers) mime.serverConf(s).types = types;
  },
});
export default mime;

/**
 * type_checker: sets r.contentType, r.contentEncoding, r.contentLanguage and r.handler from the file
 * name's extensions (core's ForceType and SetHandler override them later, in fixups). Directories get no
 * type; DECLINED when no type was found, so another type checker may still run.
 */
function findType(r: Request): HookResult {
  if (!r.filename || r.finfo?.isDirectory()) return DECLINED;
  const d = mime.dirConf(r);
  const path = d.usePathInfo ? r.filename + r.pathInfo : r.filename;
  const res = resolveName(path.slice(path.lastIndexOf("/") + 1), d, mime.serverConf(r.server).types);
  if (res.handler !== undefined) r.handler = res.handler;
  if (res.encoding !== undefined) r.contentEncoding = res.encoding;
  if (res.language !== undefined) r.contentLanguage = res.language;
  if (res.type === undefined) return DECLINED;
  r.contentType = res.type;
  return undefined;
}
