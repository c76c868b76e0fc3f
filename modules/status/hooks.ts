// The status hook: other modules append their own lines to /server-status (Apache's status_hook).
import type { StatusSnapshot } from "./snapshot.ts";

/** `auto`: plain `Key: value` lines after the Scoreboard line; `html`: markup before the signature. */
export type StatusFormat = "auto" | "html";

/** Apache's AP_STATUS_* flags, spelled out. */
export interface StatusHookFlags {
  /** `?notable` was asked for (HTML without tables). */
  notable: boolean;
  /** ExtendedStatus is On. */
  extended: boolean;
}

/** Returns what to append: whole lines ending in "\n" for `auto`, HTML for `html`, or "" for nothing. */
export type StatusHook = (snapshot: StatusSnapshot, format: StatusFormat, flags: StatusHookFlags) => string;

const hooks: StatusHook[] = [];

/**
 * Registers a status hook (mod_proxy_balancer's and mod_ssl's use of `ap_hook_status_hook`). Hooks run in
 * registration order on every status request; a hook that throws is skipped, not fatal to the page.
 * @returns a function that removes the hook again.
 * @example
 * registerStatusHook((s, format) => (format === "auto" ? `CacheEntries: ${cache.size}\n` : `<p>${cache.size} cached</p>\n`));
 */
export function registerStatusHook(hook: StatusHook): () => void {
  hooks.push(hook);
  return () => {
    const i = hooks.indexOf(hook);
    if (i >= 0) hooks.splice(i, 1);
  };
}

/** Runs every hook for one page. */
export function runStatusHooks(s: StatusSnapshot, format: StatusFormat, flags: StatusHookFlags): string {
  let out = "";
  for (const h of hooks) {
    try {
      out += h(s, format, flags);
    } catch {
      // A broken extension must not take the status page down with it.
    }
  }
  return out;
}
