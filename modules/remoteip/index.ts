// remoteip: the client address behind trusted proxies, from X-Forwarded-For (Apache's mod_remoteip).
import fs from "node:fs";
import { registerExprVariable } from "../../src/expr/index.ts";
import type { ConnInfo, Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { defineModule } from "../../src/module.ts";
import type { DirectiveCmd } from "../../src/module.ts";
import { createAddr, parseAddr, parseSubnet } from "../authz_host/ip.ts";
import { matchProxy, privateOrNonsensical } from "./addr.ts";
import type { Proxy } from "./addr.ts";

export interface RemoteIpServer {
  /** RemoteIPHeader; undefined: the module does nothing. */
  header: string | undefined;
  /** RemoteIPProxiesHeader: where the trusted proxies' addresses are recorded. */
  proxiesHeader: string | undefined;
  /** RemoteIPInternalProxy / RemoteIPTrustedProxy (and their -List files), in config order. */
  proxies: Proxy[] | undefined;
}

type Cmd = DirectiveCmd<RemoteIpServer, undefined>;

/** Parses proxy addresses; host names would need DNS at config time, which mosaic does not do. */
function addProxies(cmd: Cmd, words: readonly string[], internal: boolean, where: string): string | void {
  const list = (cmd.server.proxies ??= []);
  for (const w of words) {
    const v4: number[] = [];
    const v6: number[] = [];
    const err = parseSubnet(w, v4, v6);
    if (err === "inval") return `${where}: host names are not supported by mosaic, use addresses: ${w}`;
    if (err === "badmask") return `${where}: The specified network mask is invalid. (${w})`;
    if (err) return `${where}: The specified IP address is invalid. (${w})`;
    list.push({ nets: { v4: Uint32Array.from(v4), v6: Uint32Array.from(v6) }, internal });
  }
}

function addProxyList(cmd: Cmd, internal: boolean): string | void {
  const file = cmd.resolvePath(cmd.args[0]!);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return `${cmd.node.name}: Could not open file ${file}`;
  }
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const words = lines[i]!.replace(/#.*/, "").trim().split(/\s+/).filter(Boolean);
    const err = addProxies(cmd, words, internal, `${file} line ${i + 1}`);
    if (err) return err;
  }
}

const serverOnly = ["server", "vhost"] as const;

const remoteip = defineModule<RemoteIpServer>({
  name: "remoteip",
  description: "Client address from a trusted proxy's header (X-Forwarded-For)",
  directives: [
    {
      name: "RemoteIPHeader",
      args: [1, 1],
      contexts: serverOnly,
      help: "Specifies a request header to trust as the client IP, e.g. X-Forwarded-For",
      apply(cmd) {
        cmd.server.header = cmd.args[0]!;
      },
    },
    {
      name: "RemoteIPProxiesHeader",
      args: [1, 1],
      contexts: serverOnly,
      help: "Specifies a request header to record proxy IP's, e.g. X-Forwarded-By; if not given then do not record",
      apply(cmd) {
        cmd.server.proxiesHeader = cmd.args[0]!;
      },
    },
    {
      name: "RemoteIPTrustedProxy",
      args: [1, Infinity],
      contexts: serverOnly,
      help: "Specifies one or more proxies which are trusted to present IP headers",
      apply: (cmd) => addProxies(cmd, cmd.args, false, "RemoteIPTrustedProxy"),
    },
    {
      name: "RemoteIPInternalProxy",
      args: [1, Infinity],
      contexts: serverOnly,
      help: "Specifies one or more internal (transparent) proxies which are trusted to present IP headers",
      apply: (cmd) => addProxies(cmd, cmd.args, true, "RemoteIPInternalProxy"),
    },
    {
      name: "RemoteIPTrustedProxyList",
      args: [1, 1],
      contexts: serverOnly,
      help: "The filename to read the list of trusted proxies, see the RemoteIPTrustedProxy directive",
      apply: (cmd) => addProxyList(cmd, false),
    },
    {
      name: "RemoteIPInternalProxyList",
      args: [1, 1],
      contexts: serverOnly,
      help: "The filename to read the list of internal proxies, see the RemoteIPInternalProxy directive",
      apply: (cmd) => addProxyList(cmd, true),
    },
    {
      name: "RemoteIPProxyProtocol",
      args: "flag",
      contexts: serverOnly,
      help: "Enable PROXY protocol handling ('on', 'off')",
      // Bun.serve parses HTTP before mosaic sees a byte: a PROXY preamble cannot be read there.
      apply: (cmd) => (cmd.flag ? "RemoteIPProxyProtocol On is not supported by mosaic" : undefined),
    },
  ],
  createServerConfig: () => ({ header: undefined, proxiesHeader: undefined, proxies: undefined }),
  mergeServerConfig: (base, add) => ({
    header: add.header ?? base.header,
    proxiesHeader: add.proxiesHeader ?? base.proxiesHeader,
    proxies: add.proxies ?? base.proxies,
  }),
  hooks: {
    post_read_request: { fn: modifyRequest, order: "first", enabled: (c): boolean => remoteip.serverConf(c).header !== undefined },
  },
});
export default remoteip;

/** The connection as it arrived, for requests whose client address was replaced. */
const peers = new WeakMap<ConnInfo, ConnInfo>();

/**
 * The proxy's side of the connection (mod_log_config's %{c}a and %{c}h, CONN_REMOTE_ADDR): the peer
 * itself, never the header's. Without mod_remoteip at work it is the request's own connection.
 */
export function peerConn(r: Request): ConnInfo {
  return peers.get(r.conn) ?? r.conn;
}

registerExprVariable("CONN_REMOTE_ADDR", (c) => peerConn(c.r).remoteAddr);

const peer = createAddr();
const hop = createAddr();

/**
 * remoteip_modify_request: walks the header right to left while the address it came from is a
 * trusted proxy, and makes the last address reached the client's. The request gets its own copy of
 * the connection record with that address (port 0, unknown), so logs, `Require ip`, expressions and
 * error lines all see the client, while the connection itself is left untouched.
 */
function modifyRequest(r: Request): void {
  const conf = remoteip.serverConf(r.server);
  if (!conf?.header) return;
  const value = r.headersIn.get(conf.header);
  if (value === null) return;
  const proxies = conf.proxies;
  // With proxy lists, hops count as internal until one that is only trusted (an internal proxy may
  // present an external one, never the other way round); without lists every hop is external.
  let internal = proxies !== undefined;
  let fromText = r.conn.remoteAddr;
  const parts = value.split(",");
  let client: string | undefined;
  let proxyIps: string[] | undefined;
  let i = parts.length;
  while (i > 0) {
    if (proxies) {
      const m = matchProxy(proxies, parseAddr(fromText, peer));
      if (m === undefined) break;
      if (internal) internal = m.internal;
    }
    const text = parts[i - 1]!.trim();
    if (text === "") break;
    const addr = parseAddr(text, hop);
    if (addr.family === 0) {
      logError(r, "debug", "remoteip", `AH01568: RemoteIP: Header ${conf.header} value of ${text} cannot be parsed as a client IP`);
      break;
    }
    if (!internal && privateOrNonsensical(addr)) {
      const msg = `AH01569: RemoteIP: Header ${conf.header} value of ${text} appears to be a private IP or nonsensical.  Ignored`;
      logError(r, "debug", "remoteip", msg);
      break;
    }
    if (!internal) (proxyIps ??= []).push(fromText);
    // An IPv4-mapped IPv6 address is taken as the IPv4 address (APR_IPV4_ADDR_OK).
    client = addr.family === 4 && text.includes(":") ? text.slice(text.lastIndexOf(":") + 1) : text;
    fromText = client;
    i--;
  }
  if (client === undefined) return;
  const rest = parts.slice(0, i).join(",");
  if (rest) r.headersIn.set(conf.header, rest);
  else r.headersIn.delete(conf.header);
  if (proxyIps) {
    const list = proxyIps.join(", ");
    r.notes.set("remoteip-proxy-ip-list", list);
    if (conf.proxiesHeader) r.headersIn.set(conf.proxiesHeader, list);
  }
  const conn: ConnInfo = { ...r.conn, remoteAddr: client, remotePort: 0 };
  peers.set(conn, peers.get(r.conn) ?? r.conn);
  r.conn = conn;
  logError(r, "debug", "remoteip", proxyIps
    ? `Using ${client} as client's IP by proxies ${proxyIps.join(", ")}`
    : `Using ${client} as client's IP by internal proxies`);
}
