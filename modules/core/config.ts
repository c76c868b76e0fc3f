// core's per-server and per-directory configuration (Apache's core_server_config / core_dir_config).
import { createErrorLogConfig, mergeErrorLogConfig } from "../../src/log/error-log.ts";
import type { ErrorLogConfig, LogLevelSpec } from "../../src/log/error-log.ts";
import { mergeLogLevel } from "../../src/log/levels.ts";

export const OPT = {
  None: 0,
  Indexes: 1,
  Includes: 2,
  FollowSymLinks: 4,
  ExecCGI: 8,
  IncludesNOEXEC: 16,
  SymLinksIfOwnerMatch: 32,
  MultiViews: 64,
} as const;
/** `Options All` is everything but MultiViews (Apache 2.4). */
export const OPT_ALL = OPT.Indexes | OPT.Includes | OPT.FollowSymLinks | OPT.ExecCGI | OPT.SymLinksIfOwnerMatch;

export type ServerTokens = "Prod" | "Major" | "Minor" | "Minimal" | "OS" | "Full";

export interface ListenSpec {
  host: string;
  port: number;
  /** Protocol argument (`Listen 8443 https`), informational. */
  proto: string | undefined;
  file: string;
  line: number;
}

export interface CoreServer {
  documentRoot: string | undefined;
  serverAdmin: string | undefined;
  keepAlive: boolean | undefined;
  keepAliveTimeout: number | undefined;
  maxKeepAliveRequests: number | undefined;
  timeout: number | undefined;
  limitRequestLine: number | undefined;
  limitRequestFieldSize: number | undefined;
  limitRequestFields: number | undefined;
  traceEnable: "on" | "off" | "extended" | undefined;
  mergeSlashes: boolean | undefined;
  /** Main server only. */
  listens: ListenSpec[];
  serverTokens: ServerTokens;
  pidFile: string | undefined;
  user: string | undefined;
  group: string | undefined;
  /** Directives that other modules care about but that mosaic only records (Mutex, ...). */
  recorded: Record<string, string[]>;
  /** ErrorLog, ErrorLogFormat and the server's LogLevel. */
  log: ErrorLogConfig;
}

export interface CoreDir {
  /** Options bitmask; `optionsAdd`/`optionsRemove` hold +/- forms until merged. */
  options: number;
  optionsAdd: number;
  optionsRemove: number;
  /** True when this section set Options without +/- (it replaces rather than adjusts). */
  optionsSet: boolean;
  errorDocuments: Map<number, string> | undefined;
  fileETag: { inode: boolean; mtime: boolean; size: boolean; digest: boolean } | undefined;
  limitRequestBody: number | undefined;
  serverSignature: "off" | "on" | "email" | undefined;
  allowEncodedSlashes: "off" | "on" | "nodecode" | undefined;
  /** SetHandler (per section; `None` clears). */
  handler: string | undefined;
  /** SetOutputFilter / SetInputFilter: lower-cased filter names, in order; a deeper section replaces. */
  outputFilters: readonly string[] | undefined;
  inputFilters: readonly string[] | undefined;
  acceptPathInfo: "default" | "on" | "off" | undefined;
  forceType: string | undefined;
  defaultType: string | undefined;
  addDefaultCharset: string | undefined;
  useCanonicalName: "on" | "off" | "dns" | undefined;
  hostnameLookups: boolean | undefined;
  enableSendfile: boolean | undefined;
  allowOverride: string[] | undefined;
  /** Per-directory LogLevel (Apache 2.3.6+). */
  logLevel?: LogLevelSpec;
}

export function createCoreServer(): CoreServer {
  return {
    documentRoot: undefined,
    serverAdmin: undefined,
    keepAlive: undefined,
    keepAliveTimeout: undefined,
    maxKeepAliveRequests: undefined,
    timeout: undefined,
    limitRequestLine: undefined,
    limitRequestFieldSize: undefined,
    limitRequestFields: undefined,
    traceEnable: undefined,
    mergeSlashes: undefined,
    listens: [],
    serverTokens: "Full",
    pidFile: undefined,
    user: undefined,
    group: undefined,
    recorded: {},
    log: createErrorLogConfig(),
  };
}

/** A vhost inherits every field it does not set itself. */
export function mergeCoreServer(base: CoreServer, add: CoreServer): CoreServer {
  const out = { ...base };
  for (const [k, v] of Object.entries(add) as [keyof CoreServer, unknown][]) {
    if (v !== undefined && k !== "listens" && k !== "recorded" && k !== "serverTokens" && k !== "log") {
      (out as Record<string, unknown>)[k] = v;
    }
  }
  out.log = mergeErrorLogConfig(base.log, add.log);
  return out;
}

export function createCoreDir(): CoreDir {
  return {
    options: OPT.FollowSymLinks,
    optionsAdd: 0,
    optionsRemove: 0,
    optionsSet: false,
    errorDocuments: undefined,
    fileETag: undefined,
    limitRequestBody: undefined,
    serverSignature: undefined,
    allowEncodedSlashes: undefined,
    handler: undefined,
    outputFilters: undefined,
    inputFilters: undefined,
    acceptPathInfo: undefined,
    forceType: undefined,
    defaultType: undefined,
    addDefaultCharset: undefined,
    useCanonicalName: undefined,
    hostnameLookups: undefined,
    enableSendfile: undefined,
    allowOverride: undefined,
  };
}

/** Options merge as Apache's merge_core_dir_configs: +/- adjust the parent, a plain list replaces it. */
export function mergeCoreDir(base: CoreDir, add: CoreDir): CoreDir {
  const out: CoreDir = { ...base };
  if (add.optionsSet) out.options = add.options;
  out.options = (out.options | add.optionsAdd) & ~add.optionsRemove;
  out.optionsAdd = 0;
  out.optionsRemove = 0;
  out.optionsSet = false;
  if (add.logLevel) out.logLevel = base.logLevel ? mergeLogLevel(base.logLevel, add.logLevel) : add.logLevel;
  if (add.errorDocuments) {
    out.errorDocuments = new Map([...(base.errorDocuments ?? []), ...add.errorDocuments]);
  }
  for (const k of [
    "fileETag",
    "limitRequestBody",
    "serverSignature",
    "allowEncodedSlashes",
    "handler",
    "outputFilters",
    "inputFilters",
    "acceptPathInfo",
    "forceType",
    "defaultType",
    "addDefaultCharset",
    "useCanonicalName",
    "hostnameLookups",
    "enableSendfile",
    "allowOverride",
  ] as const) {
    if (add[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = add[k];
  }
  return out;
}

/** Effective values with Apache's defaults filled in. */
export const CORE_DEFAULTS = {
  keepAlive: true,
  keepAliveTimeout: 5,
  maxKeepAliveRequests: 100,
  timeout: 60,
  limitRequestLine: 8190,
  limitRequestFieldSize: 8190,
  limitRequestFields: 100,
  /** 1 GiB since 2.4.54. */
  limitRequestBody: 1024 * 1024 * 1024,
  traceEnable: "on" as const,
};
