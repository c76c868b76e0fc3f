// core's directives (Apache's core.c / http_core.c), with Apache's names, arity, contexts and help.
import { defineDirectives } from "../../src/module.ts";
import { OPT, OPT_ALL } from "./config.ts";
import type { CoreDir, CoreServer, ServerTokens } from "./config.ts";
import { compileWildcard, hasWildcard } from "../../src/config/wildcard.ts";

const SERVER = ["server"] as const;
const SERVER_VHOST = ["server", "vhost"] as const;
const ALL = ["server", "vhost", "directory"] as const;

function int(name: string, s: string | undefined, min = 0): number | string {
  const n = Number(s);
  if (s === undefined || !/^-?\d+$/.test(s) || n < min) return `${name} must be a number${min > 0 ? ` >= ${min}` : ""}`;
  return n;
}

const OPTION_NAMES: Record<string, number> = {
  none: 0,
  indexes: OPT.Indexes,
  includes: OPT.Includes,
  includesnoexec: OPT.IncludesNOEXEC,
  followsymlinks: OPT.FollowSymLinks,
  symlinksifownermatch: OPT.SymLinksIfOwnerMatch,
  execcgi: OPT.ExecCGI,
  multiviews: OPT.MultiViews,
  all: OPT_ALL,
};

/** Directives other modules own in Apache but that mosaic accepts and records (no behaviour yet). */
const RECORDED = [
  "Mutex",
  "DefaultRuntimeDir",
  "EnableMMAP",
  "LimitXMLRequestBody",
  "Protocols",
  "AcceptFilter",
  "CoreDumpDirectory",
  "MaxMemFree",
  "ThreadStackSize",
  "ReceiveBufferSize",
  "SendBufferSize",
  "ContentDigest",
];

/**
 * Set{Output,Input}Filter: one argument, names split on ';' as core_insert_filter's ap_getword does.
 * Names are matched case-insensitively; one no module registered is skipped at request time (Apache
 * logs AH00082 and carries on), so it is no configuration error.
 */
function filterList(name: string, field: "outputFilters" | "inputFilters", what: "content" | "body") {
  return {
    name,
    args: [1, 1] as const,
    contexts: ALL,
    help: `filter (or ; delimited list of filters) to be run on the request ${what}`,
    apply({ args, dir }: { args: string[]; dir: CoreDir }): void {
      dir[field] = args[0]!.toLowerCase().split(";").filter(Boolean);
    },
  };
}

export const coreDirectives = defineDirectives<CoreServer, CoreDir>([
  {
    name: "ServerName",
    args: [1, 1],
    contexts: SERVER_VHOST,
    help: "The hostname and port of the server",
    apply({ args, serverRec }) {
      const v = args[0]!;
      const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?$/i.exec(v);
      if (!m) return `Invalid ServerName "${v}" use address:port`;
      serverRec.serverName = m[1]!.toLowerCase();
      if (m[2]) serverRec.port = Number(m[2]);
    },
  },
  {
    name: "ServerAlias",
    args: [1, Infinity],
    contexts: ["vhost"],
    help: "A name or names alternately used to access the server",
    apply({ args, serverRec }) {
      for (const a of args) {
        const name = a.toLowerCase();
        if (hasWildcard(name)) {
          serverRec.aliasPatterns.push(compileWildcard(name, false));
          (serverRec.wildAliases ??= []).push(name);
        }
        else serverRec.aliases.push(name);
      }
    },
  },
  {
    name: "ServerAdmin",
    args: [1, 1],
    contexts: SERVER_VHOST,
    help: "The email address of the server administrator",
    apply({ args, server }) {
      server.serverAdmin = args[0];
    },
  },
  {
    name: "DocumentRoot",
    args: [1, 1],
    contexts: SERVER_VHOST,
    help: "Root directory of the document tree",
    apply({ args, server, resolvePath }) {
      const p = resolvePath(args[0]!);
      server.documentRoot = p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
    },
  },
  {
    name: "ServerRoot",
    args: [1, 1],
    contexts: SERVER,
    help: "Common directory of server-related files (logs, confs, etc.)",
    apply() {
      // Applied while the config was read (the preprocessor resolves Include against it).
    },
  },
  {
    name: "Listen",
    args: [1, 2],
    contexts: SERVER,
    help: "A port number or a numeric IP address and a port number, and an optional protocol",
    apply({ args, server, node }) {
      const a = args[0]!;
      let host = "0.0.0.0";
      let portStr = a;
      const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(a);
      if (v6) {
        host = v6[1]!;
        portStr = v6[2]!;
      } else if (a.includes(":")) {
        const i = a.lastIndexOf(":");
        host = a.slice(0, i);
        portStr = a.slice(i + 1);
        if (host === "*") host = "0.0.0.0";
      }
      const port = Number(portStr);
      if (!/^\d+$/.test(portStr) || port > 65535) return `Port must be specified`;
      if (server.listens.some((l) => l.host === host && l.port === port && port !== 0)) {
        return `Cannot define multiple Listeners on the same IP:port`;
      }
      server.listens.push({ host, port, proto: args[1], file: node.file, line: node.line });
    },
  },
  {
    name: "Options",
    args: [0, Infinity],
    contexts: ALL,
    help: "Set a number of attributes for a given directory",
    apply({ args, dir }) {
      let plain = false;
      let signed = false;
      dir.options = 0;
      dir.optionsAdd = 0;
      dir.optionsRemove = 0;
      for (const a of args) {
        const sign = a[0] === "+" || a[0] === "-" ? a[0] : "";
        const bit = OPTION_NAMES[(sign ? a.slice(1) : a).toLowerCase()];
        if (bit === undefined) return `Illegal option ${sign ? a.slice(1) : a}`;
        if (sign) signed = true;
        else plain = true;
        if (plain && signed) return "Either all Options must start with + or -, or no Option may.";
        if (sign === "+") dir.optionsAdd |= bit;
        else if (sign === "-") dir.optionsRemove |= bit;
        else dir.options |= bit;
      }
      dir.optionsSet = !signed;
    },
  },
  {
    name: "AllowOverride",
    args: [1, Infinity],
    contexts: ["directory"],
    notIn: ["Location", "LocationMatch", "Files", "FilesMatch"],
    help: "Controls what groups of directives can be configured by per-directory config files",
    apply({ args, dir, warn }) {
      dir.allowOverride = args;
      if (!(args.length === 1 && /^none$/i.test(args[0]!))) {
        warn(`AllowOverride ${args.join(" ")}: mosaic never reads .htaccess files; treated as None`);
      }
    },
  },
  {
    name: "AllowOverrideList",
    args: [1, Infinity],
    contexts: ["directory"],
    help: "Controls what individual directives can be configured by per-directory config files",
    apply() {},
  },
  {
    name: "AccessFileName",
    args: [1, Infinity],
    contexts: SERVER_VHOST,
    help: "Name(s) of per-directory config files (default: .htaccess)",
    apply() {},
  },
  {
    name: "ErrorDocument",
    args: [2, 2],
    contexts: ALL,
    help: "Change responses for HTTP errors",
    apply({ args, dir }) {
      const code = Number(args[0]);
      if (!/^\d{3}$/.test(args[0]!) || code < 400 || code > 599) {
        return `Unsupported HTTP response code ${args[0]}`;
      }
      const msg = args[1]!;
      // core.c's heuristic: a space → text; leading "/" → local path; a URL → redirect; else text.
      const value =
        msg === "default" ? "default" : msg.includes(" ") ? `"${msg}` : msg.startsWith("/") ? msg : /^[a-z][a-z0-9+.-]*:\/\//i.test(msg) ? msg : `"${msg}`;
      dir.errorDocuments = new Map(dir.errorDocuments ?? []);
      dir.errorDocuments.set(code, value);
    },
  },
  {
    name: "FileETag",
    args: [1, Infinity],
    contexts: ALL,
    help: "Specify components used to construct a file's ETag",
    apply({ args, dir }) {
      const cur = { inode: false, mtime: true, size: true, digest: false };
      let explicit = false;
      for (const a of args) {
        const sign = a[0] === "+" || a[0] === "-" ? a[0] : "";
        const word = (sign ? a.slice(1) : a).toLowerCase();
        if (!sign && !explicit) {
          explicit = true;
          cur.inode = cur.mtime = cur.size = cur.digest = false;
        }
        if (word === "none") cur.inode = cur.mtime = cur.size = cur.digest = false;
        else if (word === "all") cur.inode = cur.mtime = cur.size = true;
        else if (word === "inode" || word === "mtime" || word === "size" || word === "digest") cur[word] = sign !== "-";
        else return `Unknown keyword '${a}' for FileETag`;
      }
      dir.fileETag = cur;
    },
  },
  flagServer("KeepAlive", "Whether persistent connections should be On or Off", (s, v) => (s.keepAlive = v)),
  intServer("KeepAliveTimeout", "Keep-Alive timeout duration (sec)", (s, v) => (s.keepAliveTimeout = v)),
  intServer("MaxKeepAliveRequests", "Maximum number of Keep-Alive requests per connection, or 0 for infinite", (s, v) => (s.maxKeepAliveRequests = v)),
  intServer("Timeout", "Timeout duration (sec)", (s, v) => (s.timeout = v)),
  intServer("LimitRequestLine", "Limit on maximum size of an HTTP request line", (s, v) => (s.limitRequestLine = v)),
  intServer("LimitRequestFieldsize", "Limit on maximum size of an HTTP request header field", (s, v) => (s.limitRequestFieldSize = v)),
  intServer("LimitRequestFields", "Limit (0 = unlimited) on max number of header fields in a request message", (s, v) => (s.limitRequestFields = v)),
  {
    name: "LimitRequestBody",
    args: [1, 1],
    contexts: ALL,
    help: "Limit (in bytes) on maximum size of request message body",
    apply({ args, dir }) {
      const n = int("LimitRequestBody", args[0]);
      if (typeof n === "string") return "LimitRequestBody argument is not parsable.";
      dir.limitRequestBody = n;
    },
  },
  {
    name: "ServerTokens",
    args: [1, 1],
    contexts: SERVER,
    help: "Tokens displayed in the Server: header - Min[imal], OS, Prod[uctOnly], Major, Minor, Full",
    apply({ args, server }) {
      const v = args[0]!.toLowerCase();
      const map: Record<string, ServerTokens> = { os: "OS", min: "Minimal", minimal: "Minimal", major: "Major", minor: "Minor", prod: "Prod", productonly: "Prod", full: "Full" };
      const t = map[v];
      if (!t) return "ServerTokens takes 1 argument: 'Prod(uctOnly)', 'Major', 'Minor', 'Min(imal)', 'OS', or 'Full'";
      server.serverTokens = t;
    },
  },
  {
    name: "ServerSignature",
    args: [1, 1],
    contexts: ALL,
    help: "En-/disable server signature (on|off|email)",
    apply({ args, dir }) {
      const v = args[0]!.toLowerCase();
      if (v !== "on" && v !== "off" && v !== "email") return "ServerSignature: use one of: off | on | email";
      dir.serverSignature = v;
    },
  },
  {
    name: "TraceEnable",
    args: [1, 1],
    contexts: SERVER_VHOST,
    help: "'on' (default), 'off' or 'extended' to trace request body content",
    apply({ args, server }) {
      const v = args[0]!.toLowerCase();
      if (v !== "on" && v !== "off" && v !== "extended") return "TraceEnable must be one of 'on', 'off', or 'extended'";
      server.traceEnable = v;
    },
  },
  {
    name: "AllowEncodedSlashes",
    args: [1, 1],
    contexts: SERVER_VHOST,
    help: "Allow URLs containing '/' encoded as '%2F'",
    apply({ args, dir }) {
      const v = args[0]!.toLowerCase();
      if (v !== "on" && v !== "off" && v !== "nodecode") return "AllowEncodedSlashes must be On, Off, or NoDecode";
      dir.allowEncodedSlashes = v;
    },
  },
  flagServer("MergeSlashes", "Controls whether consecutive slashes in the URI path are merged", (s, v) => (s.mergeSlashes = v)),
  {
    name: "SetHandler",
    args: [1, 1],
    contexts: ALL,
    help: "A resource type to handle the request with, or None",
    apply({ args, dir }) {
      dir.handler = /^none$/i.test(args[0]!) ? "" : args[0]!.toLowerCase();
    },
  },
  filterList("SetOutputFilter", "outputFilters", "content"),
  filterList("SetInputFilter", "inputFilters", "body"),
  {
    name: "ForceType",
    args: [1, 1],
    contexts: ["directory"],
    help: "A mime type that overrides other configured type",
    apply({ args, dir }) {
      dir.forceType = /^none$/i.test(args[0]!) ? "" : args[0]!.toLowerCase();
    },
  },
  {
    name: "DefaultType",
    args: [1, 1],
    contexts: ALL,
    help: "the default media type for otherwise untyped files (DEPRECATED)",
    apply({ args, dir, warn }) {
      if (!/^none$/i.test(args[0]!)) {
        warn("AH00117: Ignoring deprecated use of DefaultType in line");
      }
      dir.defaultType = "";
    },
  },
  {
    name: "AddDefaultCharset",
    args: [1, 1],
    contexts: ALL,
    help: "The name of the default charset to add to any Content-Type without one or 'Off' to disable",
    apply({ args, dir }) {
      const v = args[0]!;
      dir.addDefaultCharset = /^off$/i.test(v) ? "" : /^on$/i.test(v) ? "iso-8859-1" : v;
    },
  },
  {
    name: "AcceptPathInfo",
    args: [1, 1],
    contexts: ALL,
    help: "Set to on or off for PATH_INFO to be accepted by handlers, or default for the per-handler preference",
    apply({ args, dir }) {
      const v = args[0]!.toLowerCase();
      if (v !== "on" && v !== "off" && v !== "default") return "AcceptPathInfo must be set to on, off or default";
      dir.acceptPathInfo = v;
    },
  },
  {
    name: "UseCanonicalName",
    args: [1, 1],
    contexts: ALL,
    help: "How to work out the ServerName : Port when constructing URLs",
    apply({ args, dir }) {
      const v = args[0]!.toLowerCase();
      if (v !== "on" && v !== "off" && v !== "dns") return "parameter must be 'on', 'off', or 'dns'";
      dir.useCanonicalName = v;
    },
  },
  {
    name: "HostnameLookups",
    args: [1, 1],
    contexts: ALL,
    help: '"on" to enable, "off" to disable reverse DNS lookups, or "double" to enable double-reverse DNS lookups',
    apply({ args, dir }) {
      const v = args[0]!.toLowerCase();
      if (v !== "on" && v !== "off" && v !== "double") return 'parameter must be "on", "off", or "double"';
      dir.hostnameLookups = v !== "off";
    },
  },
  {
    name: "EnableSendfile",
    args: "flag",
    contexts: ALL,
    help: "Controls whether sendfile may be used to transmit files",
    apply({ flag, dir }) {
      dir.enableSendfile = flag;
    },
  },
  {
    name: "HttpProtocolOptions",
    args: [1, Infinity],
    contexts: SERVER_VHOST,
    help: "'Allow0.9' or 'Require1.0' (default); 'RegisteredMethods' or 'LenientMethods' (default); 'Unsafe' or 'Strict' (default). Sets HTTP acceptance rules",
    apply({ args }) {
      for (const a of args) {
        if (!/^(allow0\.9|require1\.0|registeredmethods|lenientmethods|unsafe|strict)$/i.test(a)) return `HttpProtocolOptions does not support ${a}`;
      }
    },
  },
  {
    name: "PidFile",
    args: [1, 1],
    contexts: SERVER,
    help: "A file for logging the server process ID",
    apply({ args, server, resolvePath }) {
      server.pidFile = resolvePath(args[0]!);
    },
  },
  {
    name: "User",
    args: [1, 1],
    contexts: SERVER,
    help: "Effective user id for this server",
    apply({ args, server }) {
      server.user = args[0];
    },
  },
  {
    name: "Group",
    args: [1, 1],
    contexts: SERVER,
    help: "Name or ID of group to run the server as",
    apply({ args, server }) {
      server.group = args[0];
    },
  },
  ...RECORDED.map((name) => ({
    name,
    args: "raw" as const,
    contexts: ALL,
    help: `${name} (accepted and recorded; no effect in mosaic)`,
    apply({ args, server }: { args: string[]; server: CoreServer }) {
      server.recorded[name] = args;
    },
  })),
]);

function flagServer(name: string, help: string, set: (s: CoreServer, v: boolean) => void) {
  return {
    name,
    args: "flag" as const,
    contexts: SERVER_VHOST,
    help,
    apply({ flag, server }: { flag: boolean; server: CoreServer }) {
      set(server, flag);
    },
  };
}

function intServer(name: string, help: string, set: (s: CoreServer, v: number) => void) {
  return {
    name,
    args: [1, 1] as const,
    contexts: SERVER_VHOST,
    help,
    apply({ args, server }: { args: string[]; server: CoreServer }) {
      const n = int(name, args[0]);
      if (typeof n === "string") return n;
      set(server, n);
    },
  };
}
