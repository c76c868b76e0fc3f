// The sandbox's `r`: the request object a script sees (mod_lua's fields and methods), its tables and
// its body buffer. Serialised with Function.prototype.toString and evaluated in the context, as
// sandbox.ts is, so it must not use anything from this module's scope.

import type { OP } from "./protocol.ts";

/** What sandboxMain hands over: its guarded host call and asynchronous-operation helper. */
export interface RequestDeps {
  call(op: number, a?: unknown, b?: unknown, c?: unknown, d?: unknown): any;
  asyncOp(c: unknown, kind: string, arg: unknown): Promise<any>;
  ops: typeof OP;
}

/** One call in progress: the request data, what the script changed, the body written so far. */
export interface Call {
  id: number;
  d: any;
  w: any;
  r: any;
  /** Text written so far (a plain string: no intrinsic a script could replace is involved). */
  text: string;
  tables: any;
  done: boolean;
  /** r.flush() sent the head already. */
  flushed: boolean;
  redirect: string | undefined;
}

/**
 * Defines the request class in the context; returns it with the helpers sandboxMain needs. Everything
 * here is created from this context's intrinsics.
 */
export function defineRequest(deps: RequestDeps) {
  "use strict";
  const { call, asyncOp, ops: OP } = deps;
  const O = Object;
  const create = O.create;
  const defineProperty = O.defineProperty;
  const S = String;
  const jsonStringify = JSON.stringify;
  const E = Error;
  const TE = TypeError;
  const isArray = Array.isArray;
  const isView = ArrayBuffer.isView;
  const MapC = Map;
  const ProxyC = Proxy;
  const encURI = encodeURIComponent;
  const decURI = decodeURIComponent;
  const OK = 0;
  const LEVELS = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"];
  for (let i = 1; i <= 8; i++) LEVELS.push(`trace${i}`);
  const calls = new WeakMap<object, Call>();

  function callOf(r: object): Call {
    const c = calls.get(r);
    if (c === undefined) throw new TE("not a request object");
    return c;
  }
  /** apr_table semantics: case-insensitive names, the first spelling kept, several values per name. */
  function makeTable(pairs: string[], c: Call, name: string): any {
    const store = new MapC<string, [string, string[]]>();
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const k = pairs[i]!;
      const e = store.get(k.toLowerCase());
      if (e) e[1].push(pairs[i + 1]!);
      else store.set(k.toLowerCase(), [k, [pairs[i + 1]!]]);
    }
    const target = create(null);
    const proxy = new ProxyC(target, {
      get(_t, k) {
        if (typeof k !== "string") return undefined;
        const e = store.get(k.toLowerCase());
        return e === undefined ? undefined : e[1].length === 1 ? e[1][0] : e[1].join(", ");
      },
      set(_t, k, v) {
        if (typeof k !== "string") return false;
        c.tables[name] = store;
        if (v === undefined || v === null) store.delete(k.toLowerCase());
        else store.set(k.toLowerCase(), [k, isArray(v) ? v.map((x) => S(x)) : [S(v)]]);
        return true;
      },
      has: (_t, k) => typeof k === "string" && store.has(k.toLowerCase()),
      deleteProperty(_t, k) {
        if (typeof k === "string") {
          c.tables[name] = store;
          store.delete(k.toLowerCase());
        }
        return true;
      },
      ownKeys: () => [...store.values()].map((e) => e[0]),
      getOwnPropertyDescriptor(_t, k) {
        if (typeof k !== "string") return undefined;
        const e = store.get(k.toLowerCase());
        if (e === undefined) return undefined;
        const value = e[1].length === 1 ? e[1][0] : e[1].join(", ");
        return { value, writable: true, enumerable: true, configurable: true };
      },
      defineProperty: () => false,
      getPrototypeOf: () => null,
      setPrototypeOf: () => false,
    });
    return { proxy, store };
  }

  function tableOf(c: Call, name: string): any {
    let t = c.tables["$" + name];
    if (t === undefined) {
      t = makeTable(c.d[name], c, name);
      c.tables["$" + name] = t;
    }
    return t;
  }

  function flatten(store: Map<string, [string, string[]]>): string[] {
    const out: string[] = [];
    for (const [k, vs] of store.values()) for (const v of vs) out.push(k, v);
    return out;
  }

  function write(c: Call, v: unknown): number {
    if (c.done) throw new E("the response is already finished");
    if (typeof v === "string") {
      c.text += v;
      return v.length;
    }
    if (isView(v)) {
      if (c.text) call(OP.TEXT, c.id, c.text);
      c.text = "";
      const n = call(OP.BYTES, c.id, v);
      if (typeof n !== "number") throw new TE("r.write() takes a string or a Uint8Array");
      return n;
    }
    const s = S(v);
    c.text += s;
    return s.length;
  }

  function parseQuery(q: string): [any, any] {
    const one = create(null);
    const all = create(null);
    if (q) {
      for (const part of q.split("&")) {
        if (!part) continue;
        const eq = part.indexOf("=");
        const k = unescape(eq < 0 ? part : part.slice(0, eq));
        const v = eq < 0 ? "" : unescape(part.slice(eq + 1));
        // mod_lua keeps the last value in the first table; the second keeps them all.
        one[k] = v;
        if (all[k] === undefined) all[k] = [v];
        else all[k].push(v);
      }
    }
    return [one, all];
  }

  function unescape(s: string): string {
    const t = S(s).replace(/\+/g, " ");
    try {
      return decURI(t);
    } catch {
      return t;
    }
  }

  /** ap_escape_urlencoded: alphanumerics and `.-*_` stay, space becomes `+`. */
  function escape(s: string): string {
    return encURI(S(s))
      .replace(/[!'()~]/g, (ch) => "%" + ch.charCodeAt(0).toString(16).toUpperCase())
      .replace(/%20/g, "+");
  }

  function escapeHtml(s: string): string {
    return S(s).replace(/[&<>"]/g, (ch) =>
      ch === "&" ? "&amp;" : ch === "<" ? "&lt;" : ch === ">" ? "&gt;" : "&quot;",
    );
  }

  function log(c: Call | undefined, level: string, args: unknown[]): void {
    const msg = args.map((a) => (typeof a === "string" ? a : S(a))).join(" ");
    call(OP.LOG, c ? c.id : 0, level, msg, S(new E().stack));
  }

  const READONLY = [
    "method", "unparsed_uri", "the_request", "protocol", "hostname", "useragent_ip", "useragent_port",
    "is_https", "is_initial_req", "canonical_filename", "document_root", "server_name", "port", "started",
    "banner", "ap_auth_type",
  ];
  const WRITABLE: Record<string, "s" | "n" | "s?"> = {
    uri: "s", args: "s", path_info: "s", filename: "s", status: "n", content_type: "s?", handler: "s?", user: "s?",
  };
  const TABLES = ["headers_in", "headers_out", "err_headers_out", "notes", "subprocess_env"];

  class Req {}
  const proto: any = Req.prototype;
  for (const name of READONLY) {
    defineProperty(proto, name, {
      get() {
        return callOf(this).d[name];
      },
      set() {
        throw new TE(`Property [${name}] may not be set on a request_rec`);
      },
    });
  }
  for (const name of O.keys(WRITABLE)) {
    const kind = WRITABLE[name];
    defineProperty(proto, name, {
      get() {
        return callOf(this).d[name];
      },
      set(v: unknown) {
        const c = callOf(this);
        let val: unknown;
        if (kind === "n") {
          val = typeof v === "number" ? v : Number(v);
          if (!Number.isInteger(val) || (val as number) < 100 || (val as number) > 999) {
            throw new TE(`r.${name} must be an HTTP status code`);
          }
        } else val = v === undefined || v === null ? (kind === "s?" ? null : "") : S(v);
        c.d[name] = val;
        c.w[name] = val;
      },
    });
  }
  for (const name of TABLES) {
    defineProperty(proto, name, {
      get() {
        return tableOf(callOf(this), name).proxy;
      },
      set() {
        throw new TE(`Property [${name}] may not be set on a request_rec`);
      },
    });
  }
  const methods: Record<string, (this: any, ...a: any[]) => unknown> = {
    puts(...a: unknown[]) {
      const c = callOf(this);
      for (const x of a) write(c, x);
    },
    write(v: unknown) {
      return write(callOf(this), v);
    },
    flush() {
      // The first flush sends the head: status, type and headers are fixed from then on.
      const c = callOf(this);
      if (c.done) throw new E("the response is already finished");
      let head: string | undefined;
      if (!c.flushed) {
        c.flushed = true;
        const out = O.assign(create(null), c.w);
        for (const name of TABLES) if (c.tables[name]) out[name] = flatten(c.tables[name]);
        head = jsonStringify(out);
      }
      call(OP.FLUSH, c.id, head, c.text);
      c.text = "";
    },
    parseargs() {
      return parseQuery(callOf(this).d.args);
    },
    async parsebody(max?: number) {
      const c = callOf(this);
      const got: [string, string][] = await asyncOp(c, "body", { form: true, max: max ?? 8192 });
      const one = create(null);
      const all = create(null);
      for (const [k, v] of got) {
        one[k] = v;
        if (all[k] === undefined) all[k] = [v];
        else all[k].push(v);
      }
      return [one, all];
    },
    requestbody(max?: number) {
      return asyncOp(callOf(this), "body", { form: false, max: max ?? 0 });
    },
    getcookie(name: string) {
      return cookies(callOf(this))[S(name)];
    },
    cookies() {
      return cookies(callOf(this));
    },
    setcookie(o: any) {
      const c = callOf(this);
      if (o === null || typeof o !== "object") throw new TE("r.setcookie() takes { key, value, ... }");
      let s = `${S(o.key)}=${S(o.value ?? "")}`;
      if (o.expires !== undefined) s += `; Expires=${new Date(Number(o.expires) * 1000).toUTCString()}`;
      if (o.path !== undefined) s += `; Path=${S(o.path)}`;
      if (o.domain !== undefined) s += `; Domain=${S(o.domain)}`;
      if (o.samesite !== undefined) s += `; SameSite=${S(o.samesite)}`;
      if (o.secure) s += "; Secure";
      if (o.httponly) s += "; HttpOnly";
      const t = tableOf(c, "headers_out");
      c.tables.headers_out = t.store;
      const e = t.store.get("set-cookie");
      if (e) e[1].push(s);
      else t.store.set("set-cookie", ["Set-Cookie", [s]]);
    },
    redirect(url: string, status?: number) {
      const c = callOf(this);
      tableOf(c, "headers_out").proxy.Location = S(url);
      return status ?? 302;
    },
    internal_redirect(uri: string) {
      callOf(this).redirect = S(uri);
      return OK;
    },
    escape: (s: string) => escape(s),
    unescape: (s: string) => unescape(s),
    escape_html: (s: string) => escapeHtml(s),
    base64_encode: (s: string) => call(OP.B64ENC, S(s)),
    base64_decode: (s: string) => call(OP.B64DEC, S(s)),
    md5: (s: string) => call(OP.HASH, "md5", S(s)),
    sha1: (s: string) => call(OP.HASH, "sha1", S(s)),
    sha256: (s: string) => call(OP.HASH, "sha256", S(s)),
    clock: () => Date.now() * 1000,
    sleep: (ms: number) => asyncOp(undefined, "sleep", Number(ms) || 0),
    usleep: (us: number) => asyncOp(undefined, "sleep", (Number(us) || 0) / 1000),
    construct_url(p: string) {
      const d = callOf(this).d;
      const port = d.port === (d.is_https ? 443 : 80) ? "" : `:${d.port}`;
      return `${d.is_https ? "https" : "http"}://${d.server_name}${port}${S(p)}`;
    },
  };
  for (const name of O.keys(methods)) defineProperty(proto, name, { value: methods[name], writable: true });
  for (const level of [...LEVELS, "error"]) {
    defineProperty(proto, level, {
      value(...a: unknown[]) {
        log(callOf(this), level === "error" ? "err" : level, a);
      },
      writable: true,
    });
  }

  function cookies(c: Call): any {
    const out = create(null);
    const h = tableOf(c, "headers_in").proxy.Cookie;
    if (typeof h === "string") {
      for (const part of h.split(";")) {
        const eq = part.indexOf("=");
        if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
      }
    }
    return out;
  }

  return { Req, calls, write, tableOf, flatten, log, TABLES };
}
