// Self-referential URLs and path escaping as Apache builds them (ap_construct_url, ap_os_escape_path).
import core from "../../modules/core/index.ts";
import type { Request } from "./request.ts";

/** Bytes ap_os_escape_path leaves alone (observed on 2.4.71): alnum and `!$&'()*+,-./:;=@_~`. */
const SAFE = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$&'()*+,-./:;=@_~") {
  SAFE[c.charCodeAt(0)] = 1;
}
const HEX = "0123456789abcdef";

/**
 * Percent-encodes a decoded path for a Location header the way ap_os_escape_path(p, s, 1) does:
 * UTF-8 bytes outside the safe set become `%xx` with lower-case hex, as Apache writes them.
 * @example escapePath("/a b?") // "/a%20b%3f"
 */
export function escapePath(s: string): string {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || !SAFE[c]) break;
  }
  if (i === s.length) return s;
  const bytes = Buffer.from(s, "utf8");
  let out = "";
  for (const b of bytes) out += b < 128 && SAFE[b] ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  return out;
}

/** ap_is_url: a scheme (alnum, `+`, `-`, `.`) followed by a colon. */
export function isUrl(u: string): boolean {
  const colon = u.indexOf(":");
  if (colon <= 0) return false;
  for (let i = 0; i < colon; i++) {
    const c = u.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alnum && c !== 43 && c !== 45 && c !== 46) return false;
  }
  return true;
}

/** The port the client named in its Host header, if any. */
function hostHeaderPort(r: Request): number | undefined {
  const host = r.headersIn.get("host");
  if (!host) return undefined;
  const colon = host.lastIndexOf(":");
  if (colon < 0 || colon < host.lastIndexOf("]") || colon === host.length - 1) return undefined;
  const n = Number(host.slice(colon + 1));
  return Number.isInteger(n) ? n : undefined;
}

/**
 * Turns a local path into an absolute URL for this request (Apache's ap_construct_url). With
 * UseCanonicalName Off (the default) the client's Host name and port are used; otherwise ServerName.
 * Observed on 2.4.71: the port falls back to ServerName's port or the scheme's default, never the
 * port of the connection.
 */
export function constructUrl(r: Request, path: string): string {
  const secure = r.conn.secure;
  const ucn = core.dirConf(r).useCanonicalName ?? "off";
  let host: string;
  let port: number | undefined;
  if (ucn === "off") {
    host = r.hostname || r.server.serverName;
    port = hostHeaderPort(r);
  } else {
    host = r.server.serverName || r.hostname;
  }
  port ??= r.server.port || (secure ? 443 : 80);
  if (host.includes(":") && !host.startsWith("[")) host = `[${host}]`;
  const dflt = secure ? 443 : 80;
  return `${secure ? "https" : "http"}://${host}${port === dflt ? "" : `:${port}`}${path}`;
}

/** ap_get_server_name: the Host header's name with UseCanonicalName Off (default), else ServerName. */
export function serverName(r: Request): string {
  const ucn = core.dirConf(r).useCanonicalName ?? "off";
  return ucn === "off" ? r.hostname || r.server.serverName : r.server.serverName || r.hostname;
}

/**
 * ap_get_server_port: with UseCanonicalName Off the Host header's port, else the port the connection
 * arrived on; with On, ServerName's port, else the connection's.
 */
export function serverPort(r: Request): number {
  const ucn = core.dirConf(r).useCanonicalName ?? "off";
  const fallback = r.conn.localPort || (r.conn.secure ? 443 : 80);
  if (ucn === "off") return hostHeaderPort(r) ?? (r.headersIn.has("host") ? (r.conn.secure ? 443 : 80) : fallback);
  return r.server.port || fallback;
}
