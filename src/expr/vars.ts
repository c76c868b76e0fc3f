// The %{VARIABLES} of Apache 2.4's util_expr_eval.c, read from mosaic's request record.
import core from "../../modules/core/index.ts";
import type { Request } from "../http/request.ts";
import { existingConnLogId, existingRequestLogId } from "../log/log-id.ts";
import { addVary, registerExprVariable } from "./registry.ts";
import { SUBREQ_NOTE } from "./subreq.ts";
import type { EvalCtx } from "./registry.ts";
import { groupName, userName } from "./users.ts";

/** MODULE_MAGIC_NUMBER_MAJOR of httpd 2.4, for %{API_VERSION}. */
const API_VERSION = "20120211";

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

/** YYYYMMDDhhmmss in local time, as the TIME and LAST_MODIFIED variables give it. */
function stamp(d: Date): string {
  return (
    `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}` +
    `${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`
  );
}

/** The port the client asked for in Host, if any (UseCanonicalName Off uses it). */
function hostPort(r: Request): number | undefined {
  const host = r.headersIn.get("host");
  if (!host) return undefined;
  const colon = host.lastIndexOf(":");
  if (colon < 0 || colon < host.lastIndexOf("]")) return undefined;
  const port = Number(host.slice(colon + 1));
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** ap_get_server_name_for_url: the Host name unless UseCanonicalName On; IPv6 in brackets. */
function serverName(r: Request): string {
  const canonical = (core.dirConf(r).useCanonicalName ?? "off") === "on";
  const name = canonical ? r.server.serverName || r.hostname : r.hostname || r.server.serverName;
  return name.includes(":") && !name.startsWith("[") ? `[${name}]` : name;
}

/** ap_get_server_port. */
function serverPort(r: Request): string {
  const canonical = (core.dirConf(r).useCanonicalName ?? "off") === "on";
  const port = canonical
    ? r.server.port || r.conn.localPort
    : (hostPort(r) ?? (r.conn.localPort || r.server.port));
  return String(port || (r.conn.secure ? 443 : 80));
}

const REQUEST_VARS: Record<string, (r: Request) => string | undefined> = {
  REQUEST_METHOD: (r) => r.method,
  REQUEST_SCHEME: (r) => (r.conn.secure ? "https" : "http"),
  // r->uri: the decoded path without the query, not the request-line's target.
  REQUEST_URI: (r) => r.uri,
  REQUEST_FILENAME: (r) => r.filename,
  SCRIPT_FILENAME: (r) => r.filename,
  // No HostnameLookups here: the remote host is the address (ap_get_useragent_host, REMOTE_NAME).
  REMOTE_HOST: (r) => r.conn.remoteAddr,
  REMOTE_IDENT: () => "",
  REMOTE_USER: (r) => r.user,
  SERVER_ADMIN: (r) => core.serverConf(r.server).serverAdmin ?? "[no address given]",
  SERVER_NAME: serverName,
  SERVER_PORT: serverPort,
  SERVER_PROTOCOL: (r) => r.protocol,
  PATH_INFO: (r) => r.pathInfo,
  QUERY_STRING: (r) => r.args,
  // mosaic's internal redirects are not sub-requests; a sub-request record carries a note.
  IS_SUBREQ: (r) => (r.notes.has(SUBREQ_NOTE) ? "true" : "false"),
  DOCUMENT_ROOT: (r) => core.serverConf(r.server).documentRoot,
  AUTH_TYPE: (r) => r.authType,
  THE_REQUEST: (r) => r.theRequest,
  CONTENT_TYPE: (r) => r.contentType,
  HANDLER: (r) => r.handler,
  REQUEST_LOG_ID: (r) => existingRequestLogId(r),
  SCRIPT_USER: (r) => (r.finfo ? userName(r.finfo.uid) : undefined),
  SCRIPT_GROUP: (r) => (r.finfo ? groupName(r.finfo.gid) : undefined),
  DOCUMENT_URI: (r) => r.subprocessEnv.get("DOCUMENT_URI") ?? r.uri,
  LAST_MODIFIED: (r) => stamp(r.finfo ? r.finfo.mtime : new Date(0)),
  CONTEXT_PREFIX: () => "",
  CONTEXT_DOCUMENT_ROOT: (r) => core.serverConf(r.server).documentRoot,
  REQUEST_STATUS: (r) => (r.status ? String(r.status) : ""),
  REMOTE_ADDR: (r) => r.conn.remoteAddr,
  REMOTE_PORT: (r) => String(r.conn.remotePort),
  HTTPS: (r) => (r.conn.secure ? "on" : "off"),
  IPV6: (r) => (r.conn.remoteAddr.includes(":") && !r.conn.remoteAddr.startsWith("::ffff:") ? "on" : "off"),
  CONN_LOG_ID: (r) => existingConnLogId(r.conn),
  // The peer itself; mod_remoteip replaces this one to keep answering the proxy's address.
  CONN_REMOTE_ADDR: (r) => r.conn.remoteAddr,
  HTTP2: () => "off",
  SERVER_SOFTWARE: (r) => r.rt.banner,
  API_VERSION: () => API_VERSION,
};

/** Shortcuts for request headers; reading one adds it to Vary (but Host, RFC 7231 §7.1.4). */
const HEADER_VARS: Record<string, string> = {
  HTTP_USER_AGENT: "User-Agent",
  HTTP_PROXY_CONNECTION: "Proxy-Connection",
  HTTP_REFERER: "Referer",
  HTTP_COOKIE: "Cookie",
  HTTP_FORWARDED: "Forwarded",
  HTTP_HOST: "Host",
  HTTP_ACCEPT: "Accept",
};

const TIME_VARS: Record<string, (d: Date) => string> = {
  TIME_YEAR: (d) => String(d.getFullYear()),
  TIME_MON: (d) => pad(d.getMonth() + 1),
  TIME_DAY: (d) => pad(d.getDate()),
  TIME_HOUR: (d) => pad(d.getHours()),
  TIME_MIN: (d) => pad(d.getMinutes()),
  TIME_SEC: (d) => pad(d.getSeconds()),
  TIME_WDAY: (d) => String(d.getDay()),
  TIME: stamp,
};

export function registerCoreVariables(): void {
  for (const [name, get] of Object.entries(REQUEST_VARS)) {
    registerExprVariable(name, (c: EvalCtx) => get(c.r) ?? "");
  }
  for (const [name, header] of Object.entries(HEADER_VARS)) {
    registerExprVariable(name, (c: EvalCtx) => {
      addVary(c, header);
      return c.r.headersIn.get(header) ?? "";
    });
  }
  for (const [name, get] of Object.entries(TIME_VARS)) {
    registerExprVariable(name, () => get(new Date()));
  }
}
