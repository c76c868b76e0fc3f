// Apache's ap_pregsub for `$0`..`$9` templates (AliasMatch, RedirectMatch, Header edit, SetEnvIf).

/** A template split at config time: literal text and capture-group numbers, in order. */
export type Subst = readonly (string | number)[];

/**
 * Compiles a substitution template as ap_pregsub reads it (util.c regsub_core in 2.4): `$N` (one digit)
 * is capture N, `\c` is a literal `c`, everything else is literal. Unlike 1.3, `&` is not special.
 * @example compileSubst("/m/$1.php") // ["/m/", 1, ".php"]
 */
export function compileSubst(template: string): Subst {
  const out: (string | number)[] = [];
  let lit = "";
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    const next = template.charCodeAt(i + 1);
    if (c === "$" && next >= 48 && next <= 57) {
      if (lit) out.push(lit);
      lit = "";
      out.push(next - 48);
      i++;
    } else if (c === "\\" && i + 1 < template.length) {
      lit += template[++i];
    } else lit += c;
  }
  if (lit) out.push(lit);
  return out;
}

/** True when the template needs no match data (a plain string after unescaping). */
export function isLiteral(s: Subst): boolean {
  return s.every((p) => typeof p === "string");
}

/** Fills a compiled template from a match; unmatched groups give "" as in Apache. */
export function substitute(s: Subst, m: RegExpExecArray): string {
  if (s.length === 1 && typeof s[0] === "string") return s[0];
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const p = s[i]!;
    out += typeof p === "string" ? p : (m[p] ?? "");
  }
  return out;
}

/** Compiles a config regex (PCRE in Apache; JavaScript's dialect is close), or returns undefined. */
export function compileRegex(source: string, flags = ""): RegExp | undefined {
  try {
    return new RegExp(source, flags);
  } catch {
    return undefined;
  }
}
