// Remembers password checks so a protected page under load does not spend a CPU on bcrypt.
import { createHmac, randomBytes } from "node:crypto";
import { verifyPassword } from "./password.ts";

/** Bound on remembered checks; when full the cache starts over (cheap, and a flood cannot grow it). */
const MAX_ENTRIES = 10_000;

/**
 * Keys are an HMAC (with a per-process random key) of the stored hash and the password, so the
 * cache holds no password in the clear and a changed hash in the file never matches an old entry.
 * Identical checks running at the same time share one computation.
 */
const secret = randomBytes(32);
const results = new Map<string, boolean | Promise<boolean>>();

function key(password: string, hash: string): string {
  return createHmac("sha256", secret).update(hash).update("\0").update(password, "utf8").digest("base64");
}

/** verifyPassword, remembered: a repeated (password, hash) pair costs one HMAC. */
export function verifyCached(password: string, hash: string): boolean | Promise<boolean> {
  const k = key(password, hash);
  const hit = results.get(k);
  if (hit !== undefined) return hit;
  if (results.size >= MAX_ENTRIES) results.clear();
  const res = verifyPassword(password, hash);
  if (typeof res === "boolean") {
    results.set(k, res);
    return res;
  }
  const p = res.then((ok) => {
    if (results.get(k) === p) results.set(k, ok);
    return ok;
  });
  results.set(k, p);
  return p;
}

/** Forgets every remembered check (tests; a reload keeps them since keys include the hash). */
export function clearVerifyCache(): void {
  results.clear();
}
