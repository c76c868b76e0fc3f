// Apache's ap_escape_logitem / ap_escape_errorlog_item: what may not reach a log line verbatim.

/** Anything outside printable ASCII, plus `"` and `\` (T_ESCAPE_LOGITEM in gen_test_char.c). */
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;
const NAMED: Record<string, string> = { "\b": "b", "\n": "n", "\r": "r", "\t": "t", "\v": "v" };
const HEX = "0123456789abcdef";
const encoder = new TextEncoder();

function hexByte(b: number): string {
  return `\\x${HEX[b >> 4]}${HEX[b & 15]}`;
}

function escape(s: string, quote: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const code = s.charCodeAt(i);
    if (code >= 0x20 && code < 0x7f) {
      out += ch === "\\" ? "\\\\" : ch === '"' ? quote : ch;
    } else if (NAMED[ch] !== undefined) {
      out += `\\${NAMED[ch]}`;
    } else if (code < 0x80) {
      out += hexByte(code);
    } else {
      // Apache sees bytes: a decoded URI's non-ASCII characters are their UTF-8 bytes on the wire.
      const cp = s.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of encoder.encode(String.fromCodePoint(cp))) out += hexByte(b);
    }
  }
  return out;
}

/** Access-log escaping: `"` → `\"`, `\` → `\\`, \n → `\n`, other non-printables → `\xhh`. */
export function escapeLogItem(s: string): string {
  return NEEDS_ESCAPE.test(s) ? escape(s, '\\"') : s;
}

/** Error-log escaping: as escapeLogItem, but `"` stays as is ("no need for this in error log"). */
export function escapeErrorLogItem(s: string): string {
  return NEEDS_ESCAPE.test(s) ? escape(s, '"') : s;
}
