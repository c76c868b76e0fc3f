// mod_mime's configuration: per-directory extension mappings (mime_dir_config) and the types table.

/** What one file extension maps to (Apache's extension_info); only fields that were set are present. */
export interface ExtInfo {
  /** AddType; "" after RemoveType, which also hides the TypesConfig mapping. */
  type?: string;
  charset?: string;
  encoding?: string;
  language?: string;
  handler?: string;
  inputFilters?: string;
  outputFilters?: string;
}

export type ExtField = keyof ExtInfo;

/** What mod_mime decided for one file name, cached per merged config. */
export interface Resolved {
  type: string | undefined;
  encoding: string | undefined;
  language: string | undefined;
  handler: string | undefined;
}

export interface MimeDir {
  /** Lower-cased extension (no dot) → mappings set in this section and, once merged, its parents. */
  extensions: Map<string, ExtInfo> | undefined;
  /** Remove{Handler,Charset,Encoding,...}: applied when this section merges onto a parent. */
  removals: { ext: string; field: ExtField }[] | undefined;
  defaultLanguage: string | undefined;
  /** ModMimeUsePathInfo: look at filename + path_info. */
  usePathInfo: boolean | undefined;
  /** MultiviewsMatch (recorded; mosaic has no content negotiation). */
  multiviewsMatch: string[] | undefined;
  /** Per merged config: file name → result. A cache derived from the config, never merged. */
  memo: Map<string, Resolved> | undefined;
}

export interface MimeServer {
  /** TypesConfig, resolved against ServerRoot; undefined uses the embedded conf/mime.types. */
  typesConfig: string | undefined;
  /** Extension → type from the main server's TypesConfig, filled in postConfig for every server. */
  types: ReadonlyMap<string, string>;
}

/** An empty per-directory config: nothing mapped, nothing removed. */
export function createMimeDir(): MimeDir {
  return {
    extensions: undefined,
    removals: undefined,
    defaultLanguage: undefined,
    usePathInfo: undefined,
    multiviewsMatch: undefined,
    memo: undefined,
  };
}

/** The per-server config before TypesConfig is read (postConfig fills `types`). */
export function createMimeServer(): MimeServer {
  return { typesConfig: undefined, types: new Map() };
}

/**
 * Apache's merge_mime_dir_configs: a deeper section's mapping for an extension overrides only the fields
 * it sets (AddType below keeps an inherited AddHandler), then its Remove* directives clear fields.
 */
export function mergeMimeDir(base: MimeDir, add: MimeDir): MimeDir {
  let ext = base.extensions;
  if (add.extensions) {
    ext = new Map(base.extensions ?? []);
    for (const [k, v] of add.extensions) {
      const b = ext.get(k);
      ext.set(k, b ? { ...b, ...v } : v);
    }
  }
  if (add.removals && ext) {
    if (ext === base.extensions) ext = new Map(ext);
    for (const { ext: k, field } of add.removals) {
      const cur = ext.get(k);
      if (cur?.[field] === undefined) continue;
      const copy = { ...cur };
      delete copy[field];
      ext.set(k, copy);
    }
  }
  return {
    extensions: ext,
    removals: undefined,
    defaultLanguage: add.defaultLanguage ?? base.defaultLanguage,
    usePathInfo: add.usePathInfo ?? base.usePathInfo,
    multiviewsMatch: add.multiviewsMatch ?? base.multiviewsMatch,
    memo: undefined,
  };
}

/** Only the main server's TypesConfig counts (mime_post_config reads it once); a vhost keeps the table. */
export function mergeMimeServer(base: MimeServer, add: MimeServer): MimeServer {
  return { typesConfig: add.typesConfig ?? base.typesConfig, types: base.types };
}
