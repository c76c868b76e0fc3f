// fnmatch-style wildcards (`* ? [...]`) as Apache uses them in <Directory>, <Files> and <Location>.

export function hasWildcard(s: string): boolean {
  return /[*?[]/.test(s);
}

/**
 * Compiles a wildcard path. `prefix` makes it match the path and anything below it (Directory and
 * Location match a path prefix by components); otherwise the whole string must match (Files).
 * `*` and `?` never cross a `/`, as with fnmatch's FNM_PATHNAME.
 */
export function compileWildcard(pattern: string, prefix: boolean): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith("!")) body = "^" + body.slice(1);
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  if (prefix) return new RegExp(`^${re.replace(/\/$/, "")}(?:/|$)`);
  return new RegExp(`^${re}$`);
}
