// autoindex: the directive table (Apache's autoindex_cmds), with add_opts' wording for errors.
import { defineDirectives } from "../../src/module.ts";
import type { DirectiveCmd } from "../../src/module.ts";
import {
  DEFAULT_DESC_WIDTH,
  DEFAULT_ICON_HEIGHT,
  DEFAULT_ICON_WIDTH,
  DEFAULT_NAME_WIDTH,
  IO,
} from "./config.ts";
import type { AutoindexDir, IconItem } from "./config.ts";
import { hasWildcard } from "./glob.ts";

type Cmd = DirectiveCmd<undefined, AutoindexDir>;

const KEYWORDS: Record<string, number> = {
  fancyindexing: IO.FancyIndexing,
  foldersfirst: IO.FoldersFirst,
  htmltable: IO.HTMLTable,
  iconsarelinks: IO.IconsAreLinks,
  ignorecase: IO.IgnoreCase,
  ignoreclient: IO.IgnoreClient,
  scanhtmltitles: IO.ScanHTMLTitles,
  suppresscolumnsorting: IO.SuppressColumnSorting,
  suppressdescription: IO.SuppressDescription,
  suppresshtmlpreamble: IO.SuppressHTMLPreamble,
  suppressicon: IO.SuppressIcon,
  suppresslastmodified: IO.SuppressLastModified,
  suppresssize: IO.SuppressSize,
  suppressrules: IO.SuppressRules,
  trackmodified: IO.TrackModified,
  versionsort: IO.VersionSort,
  xhtml: IO.XHTML,
  showforbidden: IO.ShowForbidden,
  addaltclass: IO.AddAltClass,
  useolddateformat: IO.UseOldDateFormat,
};

const atoi = (s: string): number => parseInt(s, 10) || 0;

/** add_opts: options accumulate over several IndexOptions lines of one section. */
function indexOptions(cmd: Cmd): string | void {
  const d = cmd.dir;
  let opts = d.opts;
  let add = d.incOpts;
  let remove = d.decOpts;
  for (const arg of cmd.args) {
    const action = arg[0] === "+" || arg[0] === "-" ? arg[0] : "";
    const w = action ? arg.slice(1) : arg;
    const lw = w.toLowerCase();
    const option = KEYWORDS[lw] ?? 0;
    if (option) {
      // a keyword; applied below
    } else if (lw === "none") {
      if (action) return "Cannot combine '+' or '-' with 'None' keyword";
      opts = IO.None;
      add = 0;
      remove = 0;
      d.explicit = true;
    } else if (lw === "iconwidth" || lw === "iconheight") {
      const n = action === "-" ? 0 : lw === "iconwidth" ? DEFAULT_ICON_WIDTH : DEFAULT_ICON_HEIGHT;
      if (lw === "iconwidth") d.iconWidth = n;
      else d.iconHeight = n;
    } else if (lw.startsWith("iconwidth=") || lw.startsWith("iconheight=")) {
      const width = lw.startsWith("iconwidth=");
      if (action === "-") return `Cannot combine '-' with ${width ? "IconWidth" : "IconHeight"}=n`;
      if (width) d.iconWidth = atoi(w.slice(10));
      else d.iconHeight = atoi(w.slice(11));
    } else if (lw === "namewidth" || lw === "descriptionwidth") {
      const which = lw === "namewidth" ? "NameWidth" : "DescriptionWidth";
      if (action !== "-") return `${which} with no value may only appear as '-${which}'`;
      if (lw === "namewidth") d.nameWidth = { kind: "fixed", n: DEFAULT_NAME_WIDTH };
      else d.descWidth = { kind: "fixed", n: DEFAULT_DESC_WIDTH };
    } else if (lw.startsWith("namewidth=") || lw.startsWith("descriptionwidth=")) {
      const name = lw.startsWith("namewidth=");
      const which = name ? "NameWidth" : "DescriptionWidth";
      if (action === "-") return `Cannot combine '-' with ${which}=n`;
      const v = w.slice(name ? 10 : 17);
      const min = name ? 5 : 12;
      let width: AutoindexDir["nameWidth"] = { kind: "adjust" };
      if (v[0] !== "*") {
        const n = atoi(v);
        if (n && n < min) return `${which} value must be greater than ${min}`;
        width = { kind: "fixed", n };
      }
      if (name) d.nameWidth = width;
      else d.descWidth = width;
    } else if (lw.startsWith("type=")) {
      d.ctype = w.slice(5);
    } else if (lw.startsWith("charset=")) {
      d.charset = w.slice(8);
    } else {
      return "Invalid directory indexing option";
    }
    if (!action) {
      opts |= option;
      add = 0;
      remove = 0;
      if (option) d.explicit = true;
    } else if (action === "+") {
      add |= option;
      remove &= ~option;
    } else {
      remove |= option;
      add &= ~option;
    }
  }
  if (opts & IO.None && opts & ~IO.None) return "Cannot combine other IndexOptions keywords with 'None'";
  d.opts = opts;
  d.incOpts = add;
  d.decOpts = remove;
}

/** push_item's pattern: `.txt` means "*.txt"; ^^DIRECTORY^^ and ^^BLANKICON^^ are names of their own. */
function itemPattern(by: IconItem["by"], to: string): string {
  if (by !== "path") return to.toLowerCase();
  if (to === "**DIRECTORY**") return "^^DIRECTORY^^";
  return hasWildcard(to) ? to : `*${to}`;
}

function addItems(list: IconItem[], by: IconItem["by"], data: string, targets: string[]): void {
  for (const to of targets) list.push({ by, pattern: itemPattern(by, to), data });
}

/** AddIcon*: an icon may be `(ALT,/icons/x.gif)`, which also records the alt text. */
function addIcon(by: IconItem["by"]) {
  return (cmd: Cmd): string | void => {
    let icon = cmd.args[0]!;
    if (icon.startsWith("(")) {
      const close = icon.indexOf(")");
      if (close < 0) return "missing closing paren";
      const comma = icon.indexOf(",");
      const alt = icon.slice(1, comma >= 0 && comma < close ? comma : close);
      icon = comma >= 0 && comma < close ? icon.slice(comma + 1, close) : "";
      addItems(cmd.dir.alts, by, alt, cmd.args.slice(1));
    }
    addItems(cmd.dir.icons, by, icon, cmd.args.slice(1));
  };
}

function addAlt(by: IconItem["by"]) {
  return (cmd: Cmd): void => addItems(cmd.dir.alts, by, cmd.args[0]!, cmd.args.slice(1));
}

const ORDER_KEYS: Record<string, string> = { name: "N", date: "M", size: "S", description: "D" };

export const autoindexDirectives = defineDirectives<undefined, AutoindexDir>([
  {
    name: "IndexOptions",
    args: [1, Infinity],
    help: "one or more index options [+|-][]",
    apply: indexOptions,
  },
  {
    name: "AddIcon",
    args: [2, Infinity],
    help: "an icon URL followed by one or more filenames",
    apply: addIcon("path"),
  },
  {
    name: "AddIconByType",
    args: [2, Infinity],
    help: "an icon URL followed by one or more MIME types",
    apply: addIcon("type"),
  },
  {
    name: "AddIconByEncoding",
    args: [2, Infinity],
    help: "an icon URL followed by one or more content encodings",
    apply: addIcon("encoding"),
  },
  {
    name: "AddAlt",
    args: [2, Infinity],
    help: "alternate descriptive text followed by one or more filenames",
    apply: addAlt("path"),
  },
  {
    name: "AddAltByType",
    args: [2, Infinity],
    help: "alternate descriptive text followed by one or more MIME types",
    apply: addAlt("type"),
  },
  {
    name: "AddAltByEncoding",
    args: [2, Infinity],
    help: "alternate descriptive text followed by one or more content encodings",
    apply: addAlt("encoding"),
  },
  {
    name: "AddDescription",
    args: [2, Infinity],
    help: "Descriptive text followed by one or more filenames",
    apply(cmd) {
      const text = cmd.args[0]!;
      for (const to of cmd.args.slice(1)) {
        // add_desc: with a "/" or a wildcard, match "*to*" (or "*/to*") against the name or path
        const fullPath = to.includes("/");
        const wildcards = fullPath || hasWildcard(to, true);
        const pattern = wildcards ? `${fullPath ? "*/" : "*"}${to}*` : to;
        cmd.dir.descs.push({ pattern, wildcards, fullPath, text });
      }
    },
  },
  {
    name: "IndexIgnore",
    args: [1, Infinity],
    help: "one or more file extensions",
    apply(cmd) {
      // ignore_entry compares only what follows the pattern's last "/" with the entry's name
      for (const a of cmd.args) cmd.dir.ignore.push(a.slice(a.lastIndexOf("/") + 1));
    },
  },
  {
    name: "IndexIgnoreReset",
    args: "flag",
    help: "Reset the inherited list of IndexIgnore filenames",
    apply(cmd) {
      cmd.dir.ignoreReset = cmd.flag;
    },
  },
  {
    name: "IndexOrderDefault",
    args: [2, 2],
    help: "{Ascending,Descending} {Name,Size,Description,Date}",
    apply(cmd) {
      const dir = cmd.args[0]!.toLowerCase();
      if (dir !== "ascending" && dir !== "descending") {
        return "First keyword must be 'Ascending' or 'Descending'";
      }
      const key = ORDER_KEYS[cmd.args[1]!.toLowerCase()];
      if (!key) return "Second keyword must be 'Name', 'Date', 'Size', or 'Description'";
      cmd.dir.defaultDir = dir === "ascending" ? "A" : "D";
      cmd.dir.defaultKey = key;
    },
  },
  ...stringSlots(),
]);

function stringSlots() {
  type Slot = "defaultIcon" | "header" | "readme" | "styleSheet" | "headInsert";
  const slot = (name: string, help: string, key: Slot) => ({
    name,
    args: [1, 1] as const,
    help,
    apply(cmd: Cmd): void {
      cmd.dir[key] = cmd.args[0]!;
    },
  });
  return [
    slot("DefaultIcon", "an icon URL", "defaultIcon"),
    slot("HeaderName", "a filename", "header"),
    slot("ReadmeName", "a filename", "readme"),
    slot("IndexStyleSheet", "URL to style sheet", "styleSheet"),
    slot("IndexHeadInsert", "String to insert in HTML HEAD section", "headInsert"),
  ];
}
