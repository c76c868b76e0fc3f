// autoindex: the small formatters of a listing (apr_strfsize, the date column, descriptions, hrefs).
import { escapeHtml } from "../../src/http/errors.ts";
import { escapePath } from "../../src/http/url.ts";

const ORD = "KMGTPE";

/**
 * apr_strfsize: at most four characters, "  - " for none, "973" and up in K/M/G with one decimal
 * below 10 (2.0K, 9.9M, 10M).
 * @example strfsize(2000) // "2.0K"
 */
export function strfsize(size: number): string {
  if (size < 0) return "  - ";
  if (size < 973) return `${String(size).padStart(3)} `;
  let o = 0;
  for (;;) {
    let remain = size % 1024;
    size = Math.floor(size / 1024);
    if (size >= 973) {
      o++;
      continue;
    }
    if (size < 9 || (size === 9 && remain < 973)) {
      remain = Math.floor((remain * 5 + 256) / 512);
      if (remain >= 10) {
        size++;
        remain = 0;
      }
      return `${size}.${remain}${ORD[o]}`;
    }
    if (remain >= 512) size++;
    return `${String(size).padStart(3)}${ORD[o]}`;
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * The Last modified column in local time, two trailing spaces included: "%Y-%m-%d %H:%M  ", or
 * 2.2's "%d-%b-%Y %H:%M  " with IndexOptions UseOldDateFormat.
 */
export function formatDate(ms: number, old: boolean): string {
  const t = new Date(ms);
  const hm = `${two(t.getHours())}:${two(t.getMinutes())}  `;
  if (old) return `${two(t.getDate())}-${MONTHS[t.getMonth()]}-${t.getFullYear()} ${hm}`;
  return `${t.getFullYear()}-${two(t.getMonth() + 1)}-${two(t.getDate())} ${hm}`;
}

/**
 * terminate_description: cut a description (HTML allowed) to `maxsize` visible characters, tags
 * free and entities counting as one, and mark a cut with ">" as Apache does.
 */
export function terminateDescription(desc: string, maxsize: number): string {
  const n = desc.length;
  let x = 0;
  for (; x < n && (maxsize > 0 || desc[x] === "<"); x++) {
    if (desc[x] === "<") {
      while (x < n && desc[x] !== ">") x++;
      if (x >= n) maxsize = 0;
    } else if (desc[x] === "&") {
      maxsize--;
      while (x < n && desc[x] !== ";") x++;
      if (x >= n) maxsize = 0;
    } else {
      maxsize--;
    }
  }
  if (x > n) x = n;
  if (maxsize <= 0 && x < n) return `${desc.slice(0, x - 1)}>`;
  return desc.slice(0, x);
}

/**
 * An entry's href: ap_os_escape_path(name, 0) (so `a:b` becomes `./a:b`, not a URL scheme), then
 * HTML-escaped for the attribute.
 */
export function entryHref(name: string): string {
  const esc = escapePath(name);
  const colon = esc.indexOf(":");
  const slash = esc.indexOf("/");
  const safe = colon >= 0 && (slash < 0 || colon < slash) ? `./${esc}` : esc;
  return safe.includes("&") ? escapeHtml(safe) : safe;
}

/** Shortens a name to `width` characters the way output_directories does: "..>" marks the cut. */
export function fitName(name: string, width: number): string {
  if (name.length <= width) return name;
  return `${name.slice(0, Math.max(0, width - 3))}..>`;
}
