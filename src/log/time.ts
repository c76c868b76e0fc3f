// Time formats of the logs: ap_recent_ctime_ex, the CLF `[dd/Mon/yyyy:hh:mm:ss +zzzz]`, and strftime.

export const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
export const MONTHS = [
  "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
] as const;
const LONG_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const LONG_MONTHS = [
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December",
];

function p2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad(n: number, width: number, fill = "0"): string {
  return String(n).padStart(width, fill);
}

/** `+0100` for the local offset at `d` (sign as in Apache: east of UTC is +). */
export function tzOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  return `${off < 0 ? "-" : "+"}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
}

/** Wall-clock time in microseconds: Date.now()'s milliseconds plus a sub-millisecond part. */
export function nowMicros(): number {
  return Date.now() * 1000 + Math.floor((performance.now() * 1000) % 1000);
}

export interface CtimeOptions {
  /** `u`: append `.uuuuuu`. */
  usec?: boolean;
  /** `c`: ISO-8601 compact `2026-11-22 22:03:32`. */
  compact?: boolean;
  /** `z` (2.4.58+): append the zone offset. */
  zone?: boolean;
}

/**
 * Apache's ap_recent_ctime_ex in local time: `Sun Nov 22 22:03:32.763576 2026` (day zero-padded),
 * or compact `2026-11-22 22:03:32.763576`.
 */
export function ctime(us: number, opts: CtimeOptions = {}): string {
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  const hms = `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
  const frac = opts.usec ? `.${pad(((us % 1_000_000) + 1_000_000) % 1_000_000, 6)}` : "";
  const zone = opts.zone ? ` ${tzOffset(d)}` : "";
  if (opts.compact) {
    return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${hms}${frac}${zone}`;
  }
  const day = `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${p2(d.getDate())}`;
  return `${day} ${hms}${frac} ${d.getFullYear()}${zone}`;
}

/** Four slots keyed by the second, like mod_log_config's request_time_cache. */
const clfCache: { sec: number; str: string }[] = [
  { sec: -1, str: "" },
  { sec: -1, str: "" },
  { sec: -1, str: "" },
  { sec: -1, str: "" },
];

/** `[22/Nov/2026:22:10:40 +0000]` in local time; formatted once per second. */
export function clfTime(ms: number): string {
  const sec = Math.floor(ms / 1000);
  const slot = clfCache[sec & 3]!;
  if (slot.sec === sec) return slot.str;
  const d = new Date(sec * 1000);
  const str =
    `[${p2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${tzOffset(d)}]`;
  slot.sec = sec;
  slot.str = str;
  return str;
}

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  const day = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  return Math.round((day.getTime() - start.getTime()) / 86400000) + 1;
}

/** ISO 8601 week number and week-based year (%V, %G). */
function isoWeek(d: Date): [number, number] {
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const y = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(y, 0, 1)) / 86400000 + 1) / 7);
  return [week, y];
}

function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
    .formatToParts(d)
    .find((p) => p.type === "timeZoneName");
  return part?.value ?? "";
}

/**
 * strftime(3) in the C locale, local time, for `%{format}t`. Covers the POSIX conversions; an
 * unknown one is copied as is (glibc does the same).
 */
export function strftime(fmt: string, d: Date): string {
  let out = "";
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c !== "%" || i + 1 >= fmt.length) {
      out += c;
      continue;
    }
    let k = fmt[++i]!;
    // E and O modifiers select alternative representations; the C locale has none.
    if ((k === "E" || k === "O") && i + 1 < fmt.length) k = fmt[++i]!;
    out += conversion(k, d);
  }
  return out;
}

function conversion(k: string, d: Date): string {
  const h = d.getHours();
  switch (k) {
    case "a": return DAYS[d.getDay()]!;
    case "A": return LONG_DAYS[d.getDay()]!;
    case "b":
    case "h": return MONTHS[d.getMonth()]!;
    case "B": return LONG_MONTHS[d.getMonth()]!;
    case "c": return strftime("%a %b %e %H:%M:%S %Y", d);
    case "C": return p2(Math.floor(d.getFullYear() / 100));
    case "d": return p2(d.getDate());
    case "D": return strftime("%m/%d/%y", d);
    case "e": return pad(d.getDate(), 2, " ");
    case "F": return strftime("%Y-%m-%d", d);
    case "g": return p2(isoWeek(d)[1] % 100);
    case "G": return String(isoWeek(d)[1]);
    case "H": return p2(h);
    case "I": return p2(h % 12 || 12);
    case "j": return pad(dayOfYear(d), 3);
    case "k": return pad(h, 2, " ");
    case "l": return pad(h % 12 || 12, 2, " ");
    case "m": return p2(d.getMonth() + 1);
    case "M": return p2(d.getMinutes());
    case "n": return "\n";
    case "p": return h < 12 ? "AM" : "PM";
    case "r": return strftime("%I:%M:%S %p", d);
    case "R": return strftime("%H:%M", d);
    case "s": return String(Math.floor(d.getTime() / 1000));
    case "S": return p2(d.getSeconds());
    case "t": return "\t";
    case "T": return strftime("%H:%M:%S", d);
    case "u": return String(d.getDay() || 7);
    case "U": return p2(Math.floor((dayOfYear(d) + 6 - d.getDay()) / 7));
    case "V": return p2(isoWeek(d)[0]);
    case "w": return String(d.getDay());
    case "W": return p2(Math.floor((dayOfYear(d) + 6 - ((d.getDay() + 6) % 7)) / 7));
    case "x": return strftime("%m/%d/%y", d);
    case "X": return strftime("%H:%M:%S", d);
    case "y": return p2(d.getFullYear() % 100);
    case "Y": return String(d.getFullYear());
    case "z": return tzOffset(d);
    case "Z": return zoneName(d);
    case "%": return "%";
    default: return `%${k}`;
  }
}
