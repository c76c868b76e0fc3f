// ap_expr's built-in functions and operators (util_expr_eval.c's provider tables).
import { createHash } from "node:crypto";
import fs from "node:fs";
import { createAddr, matchSubnets, parseAddr, parseSubnet } from "../../modules/authz_host/ip.ts";
import type { Subnets } from "../../modules/authz_host/ip.ts";
import { logError } from "../log/error-log.ts";
import { fnmatch } from "./fnmatch.ts";
import { addVary, registerExprBinaryOp, registerExprFunction, registerExprUnaryOp } from "./registry.ts";
import type { EvalCtx } from "./registry.ts";
import { lookupFileStatus, lookupUriStatus } from "./subreq.ts";

/** Apache's file() refuses anything larger (MAX_FILE_SIZE). */
const MAX_FILE_SIZE = 10 * 1024 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Bytes to a string: UTF-8 when valid (config text is UTF-8), else one character per byte. */
function bytesToString(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return Buffer.from(bytes).toString("latin1");
  }
}

/** ap_str_tolower / toupper: ASCII only, as in the C locale. */
const asciiLower = (s: string) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
const asciiUpper = (s: string) => s.replace(/[a-z]+/g, (m) => m.toUpperCase());

/** ap_escape_uri (ap_os_escape_path, partial): everything but alnum and `$-_.+!*'(),:;@&=/~`. */
const PATH_SAFE = /^[A-Za-z0-9$\-_.+!*'(),:;@&=/~]*$/;
function escapeUri(s: string): string {
  if (PATH_SAFE.test(s)) return s;
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    const ch = String.fromCharCode(b);
    out += b < 128 && PATH_SAFE.test(ch) ? ch : `%${b.toString(16).padStart(2, "0")}`;
  }
  return out;
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * ap_unescape_url_keep2f: `%XX` decoded except `%2F`, which stays; a malformed escape or `%00`
 * makes the whole result empty (AH00538 at debug level).
 */
function unescape(c: EvalCtx, s: string): string {
  if (!s.includes("%")) return s;
  const bytes: number[] = [];
  let bad: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch !== 37) {
      for (const b of Buffer.from(s[i]!, "utf8")) bytes.push(b);
      continue;
    }
    const hex = s.slice(i + 1, i + 3);
    if (!HEX.test(hex)) {
      bad = "Bad";
      continue;
    }
    const v = parseInt(hex, 16);
    if (v === 0) bad ??= "Forbidden";
    if (v === 0x2f) bytes.push(37, hex.charCodeAt(0), hex.charCodeAt(1));
    else bytes.push(v);
    i += 2;
  }
  if (bad) {
    if (c.r) logError(c.r, "debug", "core", `AH00538: ${bad} % escape in unescape('${s}')`);
    return "";
  }
  return bytesToString(Uint8Array.from(bytes));
}

const B64 = /^[A-Za-z0-9+/]*/;

/** apr_base64_decode: stops at the first character outside the alphabet; the result ends at a NUL. */
function unbase64(s: string): string {
  const valid = B64.exec(s)![0];
  const bytes = Buffer.from(valid, "base64");
  const nul = bytes.indexOf(0);
  return bytesToString(nul >= 0 ? bytes.subarray(0, nul) : bytes);
}

/** RFC 4514/4515 escaping as apr_escape_ldap(APR_ESCAPE_LDAP_ALL) does it: `\2a` and so on. */
function ldapEscape(s: string): string {
  return s.replace(/[\\*()"+,;<>\0]/g, (ch) => `\\${ch.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

const digest = (algo: string) => (_c: EvalCtx, s: string) => createHash(algo).update(s, "utf8").digest("hex");

function readFile(c: EvalCtx, file: string): string {
  try {
    const st = fs.statSync(file);
    if (st.size > MAX_FILE_SIZE) {
      c.err = `File ${file} too large`;
      return "";
    }
    return bytesToString(fs.readFileSync(file));
  } catch {
    c.err = `Cannot open file ${file}`;
    return "";
  }
}

function fileSize(_c: EvalCtx, file: string): string {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  return st && st.isFile() && st.size > 0 ? String(st.size) : "0";
}

function header(name: string, vary: boolean) {
  return (c: EvalCtx, arg: string): string => {
    if (vary) addVary(c, arg);
    return c.r.headersIn.get(arg) ?? "";
  };
}

export function registerCoreFunctions(): void {
  registerExprFunction("osenv", (_c, a) => process.env[a] ?? "");
  registerExprFunction("env", (c, a) => c.r.notes.get(a) ?? c.r.subprocessEnv.get(a) ?? process.env[a] ?? "");
  registerExprFunction("resp", (c, a) => c.r.headersOut.get(a) ?? c.r.errHeadersOut.get(a) ?? "");
  registerExprFunction("req", header("req", true));
  registerExprFunction("http", header("http", true));
  registerExprFunction("req_novary", header("req_novary", false));
  registerExprFunction("note", (c, a) => c.r.notes.get(a) ?? "");
  registerExprFunction("reqenv", (c, a) => c.r.subprocessEnv.get(a) ?? "");
  registerExprFunction("tolower", { fn: (_c, a) => asciiLower(a), pure: true });
  registerExprFunction("toupper", { fn: (_c, a) => asciiUpper(a), pure: true });
  registerExprFunction("escape", { fn: (_c, a) => escapeUri(a), pure: true });
  registerExprFunction("unescape", { fn: unescape, pure: true });
  registerExprFunction("base64", { fn: (_c, a) => Buffer.from(a, "utf8").toString("base64"), pure: true });
  registerExprFunction("unbase64", { fn: (_c, a) => unbase64(a), pure: true });
  registerExprFunction("md5", { fn: digest("md5"), pure: true });
  registerExprFunction("sha1", { fn: digest("sha1"), pure: true });
  registerExprFunction("ldap", { fn: (_c, a) => ldapEscape(a), pure: true });
  registerExprFunction("file", { fn: readFile, restricted: true });
  registerExprFunction("filesize", { fn: fileSize, restricted: true });
}

/** -R and -ipmatch compile their network at config time, from a constant quoted string only. */
function subnetArg(arg: string | undefined, name: string): { data: Subnets } | string {
  if (arg === undefined) return `-${name} requires subnet/netmask as constant argument`;
  const v4: number[] = [];
  const v6: number[] = [];
  if (parseSubnet(arg, v4, v6) !== undefined) return "parsing of subnet/netmask failed";
  return { data: { v4: Uint32Array.from(v4), v6: Uint32Array.from(v6) } };
}

const scratch = createAddr();

/** op_T: false for "", "0", and off/no/false in any case; true otherwise. */
function truthy(s: string): boolean {
  if (s === "" || s === "0") return false;
  const l = s.length <= 5 ? s.toLowerCase() : "";
  return l !== "off" && l !== "no" && l !== "false";
}

type StatKind = "d" | "e" | "f" | "s";

function fileTest(kind: StatKind) {
  return (_c: EvalCtx, file: string): boolean => {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st) return false;
    if (kind === "d") return st.isDirectory();
    if (kind === "f") return st.isFile();
    if (kind === "s") return st.isFile() && st.size > 0;
    return true;
  };
}

function isLink(_c: EvalCtx, file: string): boolean {
  return fs.lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
}

export function registerCoreOperators(): void {
  registerExprUnaryOp("n", { fn: (_c, a) => a !== "" });
  registerExprUnaryOp("z", { fn: (_c, a) => a === "" });
  registerExprUnaryOp<Subnets>("R", {
    parseArg: subnetArg,
    fn: (c, _a, nets) => matchSubnets(nets, parseAddr(c.r.conn.remoteAddr, scratch)),
  });
  registerExprUnaryOp("T", { fn: (_c, a) => truthy(a) });
  for (const k of ["d", "e", "f", "s"] as const) registerExprUnaryOp(k, { fn: fileTest(k), restricted: true });
  registerExprUnaryOp("L", { fn: isLink, restricted: true });
  registerExprUnaryOp("h", { fn: isLink, restricted: true });
  // APR_FINFO_LINK: the link itself, so a symlink (mode 0777) counts as executable.
  registerExprUnaryOp("x", {
    restricted: true,
    fn: (_c, f) => ((fs.lstatSync(f, { throwIfNoEntry: false })?.mode ?? 0) & 0o111) !== 0,
  });
  registerExprUnaryOp("F", {
    fn(c, f) {
      const { status, exists } = lookupFileStatus(c.r, f);
      return status < 300 && exists;
    },
  });
  registerExprUnaryOp("U", { fn: (c, u) => lookupUriStatus(c.r, u) < 400 });
  registerExprUnaryOp("A", { fn: (c, u) => lookupUriStatus(c.r, u) < 400 });

  registerExprBinaryOp<Subnets>("ipmatch", {
    parseArg: subnetArg,
    fn: (_c, a, _b, nets) => matchSubnets(nets, parseAddr(a, scratch)),
  });
  registerExprBinaryOp("fnmatch", { fn: (_c, a, b) => fnmatch(b, a, true, false) });
  registerExprBinaryOp("strmatch", { fn: (_c, a, b) => fnmatch(b, a, false, false) });
  registerExprBinaryOp("strcmatch", { fn: (_c, a, b) => fnmatch(b, a, false, true) });
}
