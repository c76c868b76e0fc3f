// apr_fnmatch for -strmatch, -strcmatch and -fnmatch: `*`, `?`, `[a-z]`, `[!x]`, `\` escapes.

/**
 * Matches `str` against the shell wildcard `pattern` without building a RegExp, so a pattern that
 * comes from the request costs no compilation. `pathname` (APR_FNM_PATHNAME): wildcards never match
 * `/`. `icase` (APR_FNM_CASE_BLIND). An unclosed `[` is an ordinary character, as in APR.
 */
export function fnmatch(pattern: string, str: string, pathname: boolean, icase: boolean): boolean {
  if (icase) {
    pattern = pattern.toLowerCase();
    str = str.toLowerCase();
  }
  let p = 0;
  let s = 0;
  // Where the last `*` was and where its match may resume: one level of backtracking suffices.
  let starP = -1;
  let starS = -1;
  while (s < str.length) {
    const pc = pattern[p];
    const sc = str[s]!;
    if (pc === "*") {
      while (pattern[p] === "*") p++;
      starP = p;
      starS = s;
      continue;
    }
    let ok = false;
    let next = p + 1;
    if (pc === "?") ok = !(pathname && sc === "/");
    else if (pc === "[") {
      const res = bracket(pattern, p, sc);
      if (res < 0) ok = sc === "[";
      else {
        ok = (res & 1) === 1 && !(pathname && sc === "/");
        next = res >> 1;
      }
    } else if (pc === "\\" && p + 1 < pattern.length) {
      ok = pattern[p + 1] === sc;
      next = p + 2;
    } else ok = pc === sc && pc !== undefined;
    if (ok) {
      p = next;
      s++;
      continue;
    }
    // Let the last star take one more character, unless that character is a `/` it may not cross.
    if (starP < 0 || (pathname && str[starS] === "/")) return false;
    p = starP;
    s = ++starS;
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/**
 * Tests `c` against the bracket expression at `pattern[p]` (`[`). Returns -1 when the bracket is
 * not closed, else the index after `]` shifted left by one, with the low bit set on a match.
 */
function bracket(pattern: string, p: number, c: string): number {
  let i = p + 1;
  const negate = pattern[i] === "!" || pattern[i] === "^";
  if (negate) i++;
  let matched = false;
  let first = true;
  while (i < pattern.length && (pattern[i] !== "]" || first)) {
    first = false;
    let lo = pattern[i]!;
    if (lo === "\\" && i + 1 < pattern.length) lo = pattern[++i]!;
    i++;
    let hi = lo;
    if (pattern[i] === "-" && i + 1 < pattern.length && pattern[i + 1] !== "]") {
      hi = pattern[i + 1]!;
      if (hi === "\\" && i + 2 < pattern.length) hi = pattern[++i + 1]!;
      i += 2;
    }
    if (c >= lo && c <= hi) matched = true;
  }
  if (i >= pattern.length) return -1;
  const end = i + 1;
  return (end << 1) | (matched !== negate ? 1 : 0);
}
