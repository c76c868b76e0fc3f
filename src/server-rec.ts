// A configured server (main or <VirtualHost>): per-server config vector, per-dir defaults, sections.
import type { ConfigNode } from "./config/node.ts";

export type SectionKind =
  | "Directory"
  | "DirectoryMatch"
  | "Files"
  | "FilesMatch"
  | "Location"
  | "LocationMatch"
  | "If"
  | "ElseIf"
  | "Else";

/** A per-directory section after config: how it matches and the sparse config vector it carries. */
export interface Section {
  id: number;
  kind: SectionKind;
  /** Directory path (absolute, no trailing slash except "/"), Files name or Location path. */
  path: string;
  /** For *Match sections and `~` forms, and for wildcard paths compiled to a regex. */
  regex: RegExp | undefined;
  /** Number of path components (Directory sorting, Apache's "shortest first"). */
  depth: number;
  /** Config vectors slot per module: undefined where the section sets nothing for that module. */
  config: unknown[];
  /** Files/If sections nested inside this one (apply only when this one matched). */
  nested: Section[];
  /** For <If>/<ElseIf>: the compiled condition; for chained ElseIf/Else the previous sibling. */
  condition: ((r: import("./http/request.ts").Request) => boolean) | undefined;
  chainPrev: Section | undefined;
  node: ConfigNode;
}

export interface VHostAddr {
  /** "*" for any address, or a literal IP. */
  host: string;
  /** 0 for any port (`*` or omitted). */
  port: number;
  isDefault: boolean;
}

export interface ServerRec {
  id: number;
  isVirtual: boolean;
  serverName: string;
  /** Explicit port from ServerName host:port, or 0. */
  port: number;
  aliases: string[];
  /** ServerAlias entries with wildcards, compiled (and as written, for -S). */
  aliasPatterns: RegExp[];
  wildAliases?: string[];
  addrs: VHostAddr[];
  moduleConfig: unknown[];
  /** Per-directory defaults: server-level directives merged over the main server's (a full vector). */
  lookupDefaults: unknown[];
  sections: SectionSet;
  /** Merges of matched section sets, keyed by section ids (computed once, reused per request). */
  mergeCache: Map<string, unknown[]>;
  file: string;
  line: number;
}

/** A server's sections by walk group, main server's first then the vhost's own (Apache's merge order). */
export interface SectionSet {
  /** <Directory> without regex, sorted by depth (shortest first), then config order. */
  dirs: Section[];
  /** <DirectoryMatch> and <Directory ~>, config order. */
  dirMatches: Section[];
  /** <Files>, <FilesMatch> together, config order. */
  files: Section[];
  /** <Location>, <LocationMatch> together, config order. */
  locations: Section[];
  /** Top-level <If>/<ElseIf>/<Else>. */
  ifs: Section[];
}
