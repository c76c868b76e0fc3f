// The status page's query options, found as Apache finds them: substrings of the raw query string.

export type StatusView = "html" | "auto" | "json" | "metrics";

export interface StatusOptions {
  view: StatusView;
  notable: boolean;
  /** Seconds for the Refresh header, or 0 for none. */
  refresh: number;
  /** `?json&history`: include the server-side history ring. */
  history: boolean;
}

/**
 * Parses the query as mod_status does: `strstr` for each option, so `?xauto` and `?foo=autox` count and
 * order does not matter. `refresh` takes `=N` (atol); a missing or non-positive N means 10 seconds.
 * mosaic's own views: `json` and `metrics` (json wins when both appear).
 */
export function parseStatusOptions(args: string): StatusOptions {
  const o: StatusOptions = { view: "html", notable: false, refresh: 0, history: false };
  if (!args) return o;
  const at = args.indexOf("refresh");
  if (at >= 0) {
    let n = 0;
    if (args.charCodeAt(at + 7) === 61) n = atol(args, at + 8);
    o.refresh = n < 1 ? 10 : n;
  }
  if (args.includes("notable")) o.notable = true;
  if (args.includes("json")) o.view = "json";
  else if (args.includes("metrics")) o.view = "metrics";
  else if (args.includes("auto")) o.view = "auto";
  if (args.includes("history")) o.history = true;
  return o;
}

/** C's atol from an offset: leading blanks, an optional sign, digits; anything else ends it. */
function atol(s: string, from: number): number {
  let i = from;
  while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  let sign = 1;
  if (s[i] === "-" || s[i] === "+") sign = s[i++] === "-" ? -1 : 1;
  let n = 0;
  while (i < s.length) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
    i++;
  }
  return sign * n;
}
