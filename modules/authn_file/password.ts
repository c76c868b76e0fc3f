// apr_password_validate: every format `htpasswd` writes, compared in constant time.
import { createHash, timingSafeEqual } from "node:crypto";
import { desCrypt } from "./des-crypt.ts";

const ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** The hash formats mosaic can check; "plain" and "unknown" never match (as on Linux). */
export type HashKind = "bcrypt" | "apr1" | "md5" | "sha1" | "sha256" | "sha512" | "des" | "plain" | "unknown";

/** Which algorithm a stored hash uses, from its prefix and shape. */
export function hashKind(hash: string): HashKind {
  if (/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) return "bcrypt";
  if (hash.startsWith("$apr1$")) return "apr1";
  if (hash.startsWith("$1$")) return "md5";
  if (hash.startsWith("{SHA}")) return "sha1";
  if (hash.startsWith("$5$")) return "sha256";
  if (hash.startsWith("$6$")) return "sha512";
  if (hash.startsWith("$")) return "unknown";
  if (/^[./0-9A-Za-z]{13}$/.test(hash)) return "des";
  return "plain";
}

function to64(v: number, n: number): string {
  let s = "";
  while (n-- > 0) {
    s += ITOA64[v & 0x3f];
    v >>>= 6;
  }
  return s;
}

/** MD5-crypt (Poul-Henning Kamp's), as apr_md5_encode with `$apr1$` and glibc with `$1$`. */
export function md5Crypt(password: string, setting: string, magic: "$apr1$" | "$1$"): string {
  const pw = Buffer.from(password, "utf8");
  let salt = setting.slice(magic.length);
  const end = salt.indexOf("$");
  salt = (end >= 0 ? salt.slice(0, end) : salt).slice(0, 8);
  const ctx = createHash("md5").update(pw).update(magic).update(salt);
  let final = createHash("md5").update(pw).update(salt).update(pw).digest();
  for (let pl = pw.length; pl > 0; pl -= 16) ctx.update(final.subarray(0, Math.min(pl, 16)));
  for (let i = pw.length; i; i >>= 1) ctx.update(i & 1 ? Buffer.alloc(1) : pw.subarray(0, 1));
  final = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = createHash("md5");
    c.update(i & 1 ? pw : final);
    if (i % 3) c.update(salt);
    if (i % 7) c.update(pw);
    c.update(i & 1 ? final : pw);
    final = c.digest();
  }
  const f = final;
  return (
    `${magic}${salt}$` +
    to64((f[0]! << 16) | (f[6]! << 8) | f[12]!, 4) +
    to64((f[1]! << 16) | (f[7]! << 8) | f[13]!, 4) +
    to64((f[2]! << 16) | (f[8]! << 8) | f[14]!, 4) +
    to64((f[3]! << 16) | (f[9]! << 8) | f[15]!, 4) +
    to64((f[4]! << 16) | (f[10]! << 8) | f[5]!, 4) +
    to64(f[11]!, 2)
  );
}

/** Output byte order of SHA-crypt's final base64 (Drepper's specification). */
const ORDER_256 = [
  [0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14],
  [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29],
];
const ORDER_512 = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];

/** Repeats `block` to `len` bytes. */
function stretch(block: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i += block.length) block.copy(out, i, 0, Math.min(block.length, len - i));
  return out;
}

/** SHA-256/512-crypt (`$5$`, `$6$`, optional `rounds=N$`), as glibc's crypt() computes it. */
export function shaCrypt(password: string, setting: string): string | null {
  const is512 = setting.startsWith("$6$");
  const algo = is512 ? "sha512" : "sha256";
  const size = is512 ? 64 : 32;
  let rest = setting.slice(3);
  let rounds = 5000;
  let custom = false;
  const m = /^rounds=(\d+)\$/.exec(rest);
  if (m) {
    rounds = Math.min(999_999_999, Math.max(1000, Number(m[1])));
    custom = true;
    rest = rest.slice(m[0].length);
  }
  const end = rest.indexOf("$");
  const salt = Buffer.from((end >= 0 ? rest.slice(0, end) : rest).slice(0, 16), "utf8");
  const pw = Buffer.from(password, "utf8");
  const h = () => createHash(algo);
  const b = h().update(pw).update(salt).update(pw).digest();
  const actx = h().update(pw).update(salt).update(stretch(b, pw.length));
  for (let n = pw.length; n > 0; n >>= 1) actx.update(n & 1 ? b : pw);
  let c = actx.digest();
  const dp = h();
  for (let i = 0; i < pw.length; i++) dp.update(pw);
  const p = stretch(dp.digest(), pw.length);
  const ds = h();
  for (let i = 0; i < 16 + c[0]!; i++) ds.update(salt);
  const s = stretch(ds.digest(), salt.length);
  for (let i = 0; i < rounds; i++) {
    const ctx = h();
    ctx.update(i & 1 ? p : c);
    if (i % 3) ctx.update(s);
    if (i % 7) ctx.update(p);
    ctx.update(i & 1 ? c : p);
    c = ctx.digest();
  }
  let out = `${setting.slice(0, 3)}${custom ? `rounds=${rounds}$` : ""}${salt.toString("utf8")}$`;
  for (const [x, y, z] of is512 ? ORDER_512 : ORDER_256) out += to64((c[x!]! << 16) | (c[y!]! << 8) | c[z!]!, 4);
  out += is512 ? to64(c[63]!, 2) : to64((c[31]! << 8) | c[30]!, 3);
  return c.length === size ? out : null;
}

/** apr_strcmp_ct: equal strings, in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

/**
 * apr_password_validate for everything but bcrypt (which needs a thread: see verifyPassword).
 * Plain-text entries are refused, as apr does on Unix (it hands them to crypt(), which never
 * reproduces them).
 */
export function validateSync(password: string, hash: string, kind = hashKind(hash)): boolean {
  let sample: string | null;
  switch (kind) {
    case "apr1":
      sample = md5Crypt(password, hash, "$apr1$");
      break;
    case "md5":
      sample = md5Crypt(password, hash, "$1$");
      break;
    case "sha1":
      sample = `{SHA}${createHash("sha1").update(password, "utf8").digest("base64")}`;
      break;
    case "sha256":
    case "sha512":
      sample = shaCrypt(password, hash);
      break;
    case "des":
      sample = desCrypt(password, hash);
      break;
    default:
      return false;
  }
  return sample !== null && constantTimeEqual(sample, hash);
}

/**
 * Checks a password against a stored hash. bcrypt runs on Bun's worker pool (Bun.password.verify),
 * so a costly hash never blocks the event loop; the others are fast enough to run inline.
 */
export function verifyPassword(password: string, hash: string): boolean | Promise<boolean> {
  const kind = hashKind(hash);
  if (kind === "bcrypt") {
    // bcrypt reads at most 72 bytes; Bun would pre-hash longer input, so cut it as htpasswd does.
    const bytes = Buffer.from(password, "utf8");
    const pw = bytes.length > 72 ? bytes.subarray(0, 72) : password;
    return Bun.password.verify(pw, hash, "bcrypt").catch(() => false);
  }
  return validateSync(password, hash, kind);
}
