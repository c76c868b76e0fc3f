// autoindex: wildcard matching without regexes (ap_strcmp_match and apr_fnmatch semantics).

/** `[...]` classes and `\` escapes (apr_fnmatch); without it only `*` and `?` are special. */
export const GLOB_CLASSES = 1;
/** A leading `.` must be matched by a literal `.` (APR_FNM_PERIOD). */
export const GLOB_PERIOD = 2;
/** Compare ASCII letters without case (ap_strcasecmp_match; pattern must be lower-case already). */
export const GLOB_NOCASE = 4;

/** True when the pattern has a wildcard at all (apr_fnmatch_test / ap_is_matchexp). */
export function hasWildcard(p: string, classes = false): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 42 || c === 63) return true;
    if (classes && c === 91 && p.indexOf("]", i + 1) > i) return true;
  }
  return false;
}

const lower = (c: number): number => (c >= 65 && c <= 90 ? c + 32 : c);

/**
 * Matches `s` against the whole of pattern `p`; `*` also matches `/` (no FNM_PATHNAME anywhere in
 * mod_autoindex). Iterative with single-star backtracking, so no input makes it exponential.
 * @example globMatch("*.txt", "a.txt") // true
 */
export function globMatch(p: string, s: string, flags = 0): boolean {
  if (flags & GLOB_PERIOD && s.charCodeAt(0) === 46) {
    const first = p.charCodeAt(0) === 92 && flags & GLOB_CLASSES ? p.charCodeAt(1) : p.charCodeAt(0);
    if (first !== 46) return false;
  }
  const nocase = (flags & GLOB_NOCASE) !== 0;
  const classes = (flags & GLOB_CLASSES) !== 0;
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < p.length) {
      let pc = p.charCodeAt(pi);
      const sc = nocase ? lower(s.charCodeAt(si)) : s.charCodeAt(si);
      if (pc === 42) {
        while (p.charCodeAt(pi) === 42) pi++;
        starP = pi;
        starS = si;
        continue;
      }
      if (pc === 63) {
        pi++;
        si++;
        continue;
      }
      if (classes && pc === 91) {
        const end = matchClass(p, pi, sc, nocase);
        if (end > 0) {
          pi = end;
          si++;
          continue;
        }
        if (end === 0 && sc === 91) {
          // no closing bracket: a literal "["
          pi++;
          si++;
          continue;
        }
      } else {
        if (classes && pc === 92 && pi + 1 < p.length) pc = p.charCodeAt(++pi);
        if (pc === sc) {
          pi++;
          si++;
          continue;
        }
      }
    }
    if (starP < 0) return false;
    pi = starP;
    si = ++starS;
  }
  while (p.charCodeAt(pi) === 42) pi++;
  return pi === p.length;
}

/** A `[...]` class at p[at]: index after `]` on a match, -1 on no match, 0 if it never closes. */
function matchClass(p: string, at: number, c: number, nocase: boolean): number {
  let i = at + 1;
  const neg = p.charCodeAt(i) === 33 || p.charCodeAt(i) === 94;
  if (neg) i++;
  let hit = false;
  let first = true;
  while (i < p.length) {
    let lo = p.charCodeAt(i);
    if (lo === 93 && !first) return hit !== neg ? i + 1 : -1;
    first = false;
    if (lo === 92 && i + 1 < p.length) lo = p.charCodeAt(++i);
    let hi = lo;
    if (p.charCodeAt(i + 1) === 45 && i + 2 < p.length && p.charCodeAt(i + 2) !== 93) {
      hi = p.charCodeAt(i + 2);
      i += 2;
    }
    if (nocase) {
      lo = lower(lo);
      hi = lower(hi);
    }
    if (c >= lo && c <= hi) hit = true;
    i++;
  }
  return 0;
}
