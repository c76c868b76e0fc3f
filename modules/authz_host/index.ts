// authz_host: Require ip | host | forward-dns | local (Apache's mod_authz_host providers).
import type { Request } from "../../src/http/request.ts";
import { logError } from "../../src/log/error-log.ts";
import { defineModule } from "../../src/module.ts";
import { DENIED, GRANTED, registerAuthzProvider } from "../authz_core/index.ts";
import type { AuthzStatus } from "../authz_core/index.ts";
import { forwardAddrs, remoteHost } from "./dns.ts";
import { createAddr, matchSubnets, parseAddr, parseSubnet, sameAddr } from "./ip.ts";
import type { Addr, Subnets } from "./ip.ts";

/**
 * authz_host has no directives; its per-server config exists only so that authz_core can tell whether
 * the module is loaded (`Require ip` is an unknown provider without it, as in Apache).
 */
interface AuthzHostServer {
  loaded: true;
}

const authzHost = defineModule<AuthzHostServer>({
  name: "authz_host",
  description: "Require ip, host, forward-dns and local",
  createServerConfig: () => ({ loaded: true }),
});
export default authzHost;

/** Scratch addresses: providers run synchronously up to a lookup, so one set serves every request. */
const client = createAddr();
const local = createAddr();

/** 127.0.0.0/8 and ::1 (what `Require local` grants besides the server's own address). */
const LOOPBACK: Subnets = compile(["127.0.0.0/8", "::1"]);

function compile(words: readonly string[]): Subnets {
  const v4: number[] = [];
  const v6: number[] = [];
  for (const w of words) parseSubnet(w, v4, v6);
  return { v4: Uint32Array.from(v4), v6: Uint32Array.from(v6) };
}

registerAuthzProvider<Subnets>("ip", {
  module: authzHost,
  parse(args) {
    if (args.length === 0) return "'require ip' requires an argument";
    const v4: number[] = [];
    const v6: number[] = [];
    for (const w of args) {
      const err = parseSubnet(w, v4, v6);
      if (err === "inval") return `ip address '${w}' appears to be invalid`;
      // APR's strerror texts for APR_EBADIP / APR_EBADMASK, as Apache appends them (%pm).
      if (err === "badip") return `ip address '${w}' appears to be invalid: The specified IP address is invalid.`;
      if (err === "badmask") {
        return `ip address '${w}' appears to be invalid: The specified network mask is invalid.`;
      }
    }
    return { v4: Uint32Array.from(v4), v6: Uint32Array.from(v6) };
  },
  check: (r, nets) => (matchSubnets(nets, parseAddr(r.conn.remoteAddr, client)) ? GRANTED : DENIED),
});

registerAuthzProvider<object>("local", {
  module: authzHost,
  // Apache ignores any arguments here.
  parse: () => ({}),
  check(r) {
    const c = parseAddr(r.conn.remoteAddr, client);
    if (matchSubnets(LOOPBACK, c)) return GRANTED;
    return sameAddr(c, parseAddr(r.conn.localAddr, local)) ? GRANTED : DENIED;
  },
});

interface HostArg {
  names: readonly string[];
  text: string;
}

/**
 * Double-reverse DNS of the client, then a whole-label suffix match: `example.com` admits
 * `www.example.com` but not `badexample.com` (in_domain). Apache evaluates the names as ap_expr
 * strings; here they are literal.
 */
registerAuthzProvider<HostArg>("host", {
  module: authzHost,
  parse: (args) => ({ names: args.map((a) => a.toLowerCase()), text: args.join(" ") }),
  check(r, arg) {
    const name = remoteHost(lookupKey(r.conn.remoteAddr));
    if (name instanceof Promise) return name.then((n) => hostResult(r, arg, n));
    return hostResult(r, arg, name);
  },
});

function hostResult(r: Request, arg: HostArg, host: string | null): AuthzStatus {
  if (host === null) {
    const msg = `AH01753: access check of '${arg.text}' to ${r.uri} failed, reason: unable to get`;
    logError(r, "error", "authz_host", `${msg} the remote host name`);
    return DENIED;
  }
  for (let i = 0; i < arg.names.length; i++) if (inDomain(arg.names[i]!, host)) return GRANTED;
  return DENIED;
}

/** Apache's in_domain: `what` ends with `domain` at a label boundary (or `domain` starts with a dot). */
export function inDomain(domain: string, what: string): boolean {
  const dl = domain.length;
  const wl = what.length;
  if (wl < dl || !what.endsWith(domain)) return false;
  return wl === dl || domain.charCodeAt(0) === 46 || what.charCodeAt(wl - dl - 1) === 46;
}

/** IPv4-mapped clients of a dual-stack listener are looked up by their IPv4 address. */
function lookupKey(ip: string): string {
  return ip.startsWith("::ffff:") && ip.indexOf(".") > 0 ? ip.slice(7) : ip;
}

/**
 * Granted when one of the names resolves to the client's address (2.4.19+); for clients whose names
 * are not under the admin's control but whose addresses are (dynamic DNS).
 */
registerAuthzProvider<{ names: readonly string[] }>("forward-dns", {
  module: authzHost,
  parse(args) {
    // Apache stops at a word starting with '#' and cuts a word at '#' (a trailing comment).
    const names: string[] = [];
    for (const a of args) {
      const hash = a.indexOf("#");
      if (hash === 0) break;
      names.push(hash > 0 ? a.slice(0, hash) : a);
    }
    return { names };
  },
  check: (r, arg) => forwardFrom(r, arg.names, 0),
});

function forwardFrom(r: Request, names: readonly string[], from: number): AuthzStatus | Promise<AuthzStatus> {
  for (let i = from; i < names.length; i++) {
    const addrs = forwardAddrs(names[i]!);
    if (addrs instanceof Promise) {
      return addrs.then((a) => (forwardMatch(r, names[i]!, a) ? GRANTED : forwardFrom(r, names, i + 1)));
    }
    if (forwardMatch(r, names[i]!, addrs)) return GRANTED;
  }
  return DENIED;
}

function forwardMatch(r: Request, name: string, addrs: Addr[] | null): boolean {
  if (addrs === null) {
    const msg = `AH03356: No sufficient data to authorize by forward-dns for ${r.conn.remoteAddr}`;
    logError(r, "error", "authz_host", `${msg} (name ${name})`);
    return false;
  }
  const c = parseAddr(r.conn.remoteAddr, client);
  for (let i = 0; i < addrs.length; i++) if (sameAddr(addrs[i]!, c)) return true;
  return false;
}
