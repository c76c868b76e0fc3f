// Reads a call's result as the sandbox wrote it (JSON): every field is checked, nothing else trusted.
import type { CallResult } from "./protocol.ts";

const STRINGS = ["filename", "uri", "args", "path_info", "redirect"] as const;
const NULLABLE = ["content_type", "handler", "user"] as const;
const TABLES = ["headers_out", "err_headers_out", "notes", "subprocess_env"] as const;

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

/** The sandbox's answer → CallResult; `parts` are byte (and text) chunks written before it. */
export function parseResult(json: string, parts: (string | Uint8Array)[] | undefined): CallResult {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return { error: "the script's result could not be read", body: [] };
  }
  const body = parts ? [...parts] : [];
  if (typeof d.body === "string" && d.body) body.push(d.body);
  const res: CallResult = { body };
  if (isInt(d.code)) res.code = d.code;
  if (isInt(d.status)) res.status = d.status;
  for (const k of STRINGS) if (typeof d[k] === "string") res[k] = d[k] as string;
  for (const k of NULLABLE) {
    const v = d[k];
    if (typeof v === "string" || v === null) res[k] = v;
  }
  for (const k of TABLES) {
    const v = d[k];
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) res[k] = v as string[];
  }
  return res;
}
