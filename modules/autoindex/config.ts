// autoindex: per-directory configuration and its merge (Apache's autoindex_config_rec).

/** IndexOptions bits, as mod_autoindex.c numbers them. */
export const IO = {
  None: 1 << 0,
  IconsAreLinks: 1 << 1,
  ScanHTMLTitles: 1 << 2,
  SuppressIcon: 1 << 3,
  SuppressLastModified: 1 << 4,
  SuppressSize: 1 << 5,
  SuppressDescription: 1 << 6,
  SuppressHTMLPreamble: 1 << 7,
  SuppressColumnSorting: 1 << 8,
  SuppressRules: 1 << 9,
  FoldersFirst: 1 << 10,
  VersionSort: 1 << 11,
  TrackModified: 1 << 12,
  FancyIndexing: 1 << 13,
  HTMLTable: 1 << 14,
  IgnoreClient: 1 << 15,
  IgnoreCase: 1 << 16,
  XHTML: 1 << 17,
  ShowForbidden: 1 << 18,
  AddAltClass: 1 << 19,
  UseOldDateFormat: 1 << 20,
} as const;

/** DEFAULT_NAME_WIDTH / DEFAULT_DESC_WIDTH / DEFAULT_ICON_WIDTH / DEFAULT_ICON_HEIGHT. */
export const DEFAULT_NAME_WIDTH = 23;
export const DEFAULT_DESC_WIDTH = 23;
export const DEFAULT_ICON_WIDTH = 20;
export const DEFAULT_ICON_HEIGHT = 22;

/** A width setting: unset (inherit), a fixed number of characters, or `*` (fit the longest). */
export type Width = { kind: "unset" } | { kind: "fixed"; n: number } | { kind: "adjust" };

/** AddIcon/AddAlt and their ByType/ByEncoding forms: what to match and what it yields. */
export interface IconItem {
  by: "path" | "type" | "encoding";
  /** A pattern for globMatch: `*.txt` for AddIcon's `.txt`, lower-case for type/encoding. */
  pattern: string;
  data: string;
}

/** AddDescription: a substring, or a wildcard pattern (full path when it contains "/"). */
export interface DescItem {
  pattern: string;
  wildcards: boolean;
  fullPath: boolean;
  text: string;
}

export interface AutoindexDir {
  /** Non-incremental IndexOptions of this section (or merged), Apache's `opts`. */
  opts: number;
  incOpts: number;
  decOpts: number;
  /** Some IndexOptions here or above listed options without +/- (so mosaic's default Fancy is off). */
  explicit: boolean;
  nameWidth: Width;
  descWidth: Width;
  /** 0: no width/height attribute. */
  iconWidth: number;
  iconHeight: number;
  defaultIcon: string | undefined;
  styleSheet: string | undefined;
  headInsert: string | undefined;
  header: string | undefined;
  readme: string | undefined;
  /** IndexOptions Type= and Charset=. */
  ctype: string | undefined;
  charset: string | undefined;
  /** IndexOrderDefault: key N|M|S|D and direction A|D. */
  defaultKey: string | undefined;
  defaultDir: string | undefined;
  icons: IconItem[];
  alts: IconItem[];
  descs: DescItem[];
  /** IndexIgnore patterns (the part after the last "/"), matched against entry names. */
  ignore: string[];
  /** IndexIgnoreReset On: this section's list does not add to the inherited one. */
  ignoreReset: boolean;
}

export function createAutoindexDir(): AutoindexDir {
  return {
    opts: 0,
    incOpts: 0,
    decOpts: 0,
    explicit: false,
    nameWidth: { kind: "unset" },
    descWidth: { kind: "unset" },
    iconWidth: 0,
    iconHeight: 0,
    defaultIcon: undefined,
    styleSheet: undefined,
    headInsert: undefined,
    header: undefined,
    readme: undefined,
    ctype: undefined,
    charset: undefined,
    defaultKey: undefined,
    defaultDir: undefined,
    icons: [],
    alts: [],
    descs: [],
    ignore: [],
    ignoreReset: false,
  };
}

/**
 * merge_autoindex_configs: a section with plain (non +/-) IndexOptions replaces everything above it;
 * one with only +/- adjusts the inherited set. Lists put the deeper section's items first, so
 * they win the first-match lookups (icons, descriptions).
 */
export function mergeAutoindexDir(base: AutoindexDir, add: AutoindexDir): AutoindexDir {
  let opts: number;
  let incOpts: number;
  let decOpts: number;
  if (add.opts === IO.None) {
    opts = IO.None;
    incOpts = 0;
    decOpts = 0;
  } else {
    if (add.opts === 0) {
      incOpts = (base.incOpts | add.incOpts) & ~add.decOpts;
      decOpts = base.decOpts | add.decOpts;
      opts = base.opts & ~IO.None;
    } else {
      incOpts = add.incOpts;
      decOpts = add.decOpts;
      opts = add.opts;
    }
    opts = (opts | incOpts) & ~decOpts;
  }
  return {
    opts,
    incOpts,
    decOpts,
    explicit: add.explicit || base.explicit,
    nameWidth: add.nameWidth.kind === "unset" ? base.nameWidth : add.nameWidth,
    descWidth: add.descWidth.kind === "unset" ? base.descWidth : add.descWidth,
    iconWidth: add.iconWidth || base.iconWidth,
    iconHeight: add.iconHeight || base.iconHeight,
    defaultIcon: add.defaultIcon ?? base.defaultIcon,
    styleSheet: add.styleSheet ?? base.styleSheet,
    headInsert: add.headInsert ?? base.headInsert,
    header: add.header ?? base.header,
    readme: add.readme ?? base.readme,
    ctype: add.ctype ?? base.ctype,
    charset: add.charset ?? base.charset,
    defaultKey: add.defaultKey ?? base.defaultKey,
    defaultDir: add.defaultDir ?? base.defaultDir,
    icons: concat(add.icons, base.icons),
    alts: concat(add.alts, base.alts),
    descs: concat(add.descs, base.descs),
    ignore: add.ignoreReset ? add.ignore : concat(add.ignore, base.ignore),
    ignoreReset: false,
  };
}

function concat<T>(a: T[], b: T[]): T[] {
  return a.length === 0 ? b : b.length === 0 ? a : [...a, ...b];
}

/**
 * The options in force for a request. mosaic lists with FancyIndexing unless some IndexOptions
 * names options without +/- (Apache's own default is the bare list) or removes it with -FancyIndexing.
 */
export function effectiveOptions(d: AutoindexDir): number {
  let opts = (d.opts | d.incOpts) & ~d.decOpts;
  if (!d.explicit && !(d.decOpts & IO.FancyIndexing)) opts |= IO.FancyIndexing;
  return opts;
}
