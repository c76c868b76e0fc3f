// dir: per-directory configuration and directives (Apache's mod_dir dir_config_rec and dir_cmds).
import { removeDotSegments } from "../../src/http/front.ts";
import { defineDirectives } from "../../src/module.ts";

/** One DirectoryIndex entry, decoded and split once at config time. */
export interface IndexName {
  /** As written, for the "dir-index-names" note and AH01276. */
  raw: string;
  /** Decoded path: absolute (starts with "/") or relative to the directory's URI. */
  path: string;
  /** The entry's own query string, or undefined to pass the request's on. */
  query: string | undefined;
  /** The relative path has dot-segments to resolve against the directory. */
  dots: boolean;
}

export interface DirConf {
  /** undefined: inherit (Apache's default is index.html); []: `DirectoryIndex disabled`. */
  indexNames: IndexName[] | undefined;
  slash: boolean | undefined;
  checkHandler: boolean | undefined;
  /** DirectoryIndexRedirect: 0 is Off, else the 3xx status to answer with. */
  indexRedirect: number | undefined;
  /** FallbackResource as written ("disabled" switches an inherited one off). */
  fallback: IndexName | "disabled" | undefined;
}

/** AP_DEFAULT_INDEX. */
export const DEFAULT_INDEX: readonly IndexName[] = [parseIndexName("index.html")!];

export function createDirConf(): DirConf {
  return {
    indexNames: undefined,
    slash: undefined,
    checkHandler: undefined,
    indexRedirect: undefined,
    fallback: undefined,
  };
}

/** merge_dir_configs: every field the deeper section sets replaces; lists are not appended. */
export function mergeDirConf(base: DirConf, add: DirConf): DirConf {
  return {
    indexNames: add.indexNames ?? base.indexNames,
    slash: add.slash ?? base.slash,
    checkHandler: add.checkHandler ?? base.checkHandler,
    indexRedirect: add.indexRedirect ?? base.indexRedirect,
    fallback: add.fallback ?? base.fallback,
  };
}

/**
 * Splits `name?query` and decodes %xx as the sub-request's URI parsing would (a malformed escape is
 * kept literally); undefined when an absolute path climbs above the root.
 */
export function parseIndexName(raw: string): IndexName | undefined {
  const q = raw.indexOf("?");
  let path = q >= 0 ? raw.slice(0, q) : raw;
  if (path.includes("%")) {
    try {
      path = decodeURIComponent(path);
    } catch {
      // left as written: it can only fail to match a file
    }
  }
  const absolute = path.startsWith("/");
  if (absolute && path.includes("/.")) {
    const norm = removeDotSegments(path);
    if (norm === undefined) return undefined;
    path = norm;
  }
  const dots = !absolute && (path.startsWith(".") || path.includes("/."));
  return { raw, path, query: q >= 0 ? raw.slice(q + 1) : undefined, dots };
}

/** The URI an index or fallback name stands for; relative ones resolve against `dirUri` (ends in /). */
export function resolveName(name: IndexName, dirUri: string): string | undefined {
  if (name.path.startsWith("/")) return name.path;
  const joined = dirUri + name.path;
  return name.dots ? removeDotSegments(joined) : joined;
}

const REDIRECT_WORDS: Record<string, number> = {
  on: 302,
  off: 0,
  permanent: 301,
  temp: 302,
  seeother: 303,
};

export const dirDirectives = defineDirectives<undefined, DirConf>([
  {
    name: "DirectoryIndex",
    args: [1, Infinity],
    help: "a list of file names",
    apply(cmd) {
      const list = (cmd.dir.indexNames ??= []);
      // add_index: `disabled` only means "no index" when it stands alone.
      if (cmd.args.length === 1 && cmd.args[0]!.toLowerCase() === "disabled") {
        list.length = 0;
        return;
      }
      for (const a of cmd.args) {
        const n = parseIndexName(a);
        if (!n) return `DirectoryIndex: '${a}' leads above the root`;
        list.push(n);
      }
    },
  },
  {
    name: "DirectorySlash",
    args: "flag",
    help: "On or Off",
    apply(cmd) {
      cmd.dir.slash = cmd.flag;
    },
  },
  {
    name: "DirectoryCheckHandler",
    args: "flag",
    help: "On or Off",
    apply(cmd) {
      cmd.dir.checkHandler = cmd.flag;
    },
  },
  {
    name: "DirectoryIndexRedirect",
    args: [1, 1],
    help: "On, Off, or a 3xx status code.",
    apply(cmd) {
      const a = cmd.args[0]!;
      const word = REDIRECT_WORDS[a.toLowerCase()];
      if (word !== undefined) cmd.dir.indexRedirect = word;
      else if (/^\d/.test(a)) {
        const status = parseInt(a, 10);
        if (status < 300 || status > 399) {
          return "DirectoryIndexRedirect only accepts values between 300 and 399";
        }
        cmd.dir.indexRedirect = status;
      } else return "DirectoryIndexRedirect On|Off|permanent|temp|seeother|3xx";
    },
  },
  {
    name: "FallbackResource",
    args: [1, 1],
    help: "Set a default handler",
    apply(cmd) {
      const a = cmd.args[0]!;
      if (a.toLowerCase() === "disabled") {
        cmd.dir.fallback = "disabled";
        return;
      }
      const n = parseIndexName(a);
      if (!n) return `FallbackResource: '${a}' leads above the root`;
      cmd.dir.fallback = n;
    },
  },
]);
