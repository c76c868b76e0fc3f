// The asynchronous things a script may ask of its worker: sleep, the request body, and what
// ScriptAllow grants (fetch over HTTP(S), files). Results are plain JSON data, never host objects.
import fsp from "node:fs/promises";
import path from "node:path";
import { ALLOW } from "./protocol.ts";
import type { ScriptSpec, ToWorker } from "./protocol.ts";

type BodyMsg = Extract<ToWorker, { t: "body" }>;

/** Starts one operation; undefined when the kind is unknown or not allowed for this script. */
export function asyncOp(
  kind: string,
  arg: unknown,
  spec: ScriptSpec,
  body: (max: number) => Promise<BodyMsg>,
): Promise<unknown> | undefined {
  switch (kind) {
    case "sleep": {
      const ms = typeof arg === "number" && arg > 0 ? Math.min(arg, 2 ** 31 - 1) : 0;
      return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
    }
    case "body": {
      const a = (arg ?? {}) as { form?: unknown; max?: unknown };
      const max = typeof a.max === "number" && a.max > 0 ? a.max : 0;
      return body(max).then((m) => readBody(m, a.form === true, max));
    }
    case "fetch":
      return spec.allow & ALLOW.fetch ? doFetch(arg) : undefined;
    case "files":
      return spec.allow & ALLOW.files ? doFiles(arg, path.dirname(spec.file)) : undefined;
  }
  return undefined;
}

/** r.requestbody() gives the text; r.parsebody() the fields of a urlencoded or multipart body. */
async function readBody(m: BodyMsg, form: boolean, max: number): Promise<unknown> {
  if (m.error) throw new Error(m.error);
  const data = m.data ?? new ArrayBuffer(0);
  if (max > 0 && data.byteLength > max) throw new Error(`the request body is larger than ${max} bytes`);
  if (!form) return new TextDecoder().decode(data);
  const type = m.type.toLowerCase();
  const pairs: [string, string][] = [];
  if (type.startsWith("multipart/form-data")) {
    const fd = await new Response(data, { headers: { "Content-Type": m.type } }).formData();
    for (const [k, v] of fd as unknown as Iterable<[string, string | Blob]>) {
      pairs.push([k, typeof v === "string" ? v : await v.text()]);
    }
  } else {
    for (const [k, v] of new URLSearchParams(new TextDecoder().decode(data))) pairs.push([k, v]);
  }
  return pairs;
}

/** fetch for `ScriptAllow fetch`: http and https only (Bun's fetch also reads file: URLs). */
async function doFetch(arg: unknown): Promise<unknown> {
  const a = (arg ?? {}) as { url?: unknown; method?: unknown; headers?: unknown; body?: unknown };
  const url = new URL(String(a.url));
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`fetch: ${url.protocol} URLs are not allowed`);
  }
  const headers = new Headers();
  if (a.headers && typeof a.headers === "object") {
    for (const [k, v] of Object.entries(a.headers as Record<string, unknown>)) headers.set(k, String(v));
  }
  const res = await fetch(url, {
    method: typeof a.method === "string" ? a.method : "GET",
    headers,
    body: typeof a.body === "string" ? a.body : undefined,
    redirect: "follow",
  });
  const h: Record<string, string> = {};
  for (const [k, v] of res.headers) h[k] = v;
  return { status: res.status, statusText: res.statusText, headers: h, url: res.url, body: await res.text() };
}

/** `ScriptAllow files`: read, write, stat, list; relative paths are relative to the script's folder. */
async function doFiles(arg: unknown, base: string): Promise<unknown> {
  const a = (arg ?? {}) as { op?: unknown; path?: unknown; data?: unknown };
  const p = path.resolve(base, String(a.path));
  switch (a.op) {
    case "read":
      return fsp.readFile(p, "utf8");
    case "write":
      await fsp.writeFile(p, String(a.data));
      return undefined;
    case "stat": {
      const st = await fsp.stat(p);
      return { size: st.size, mtime: st.mtimeMs, isFile: st.isFile(), isDirectory: st.isDirectory() };
    }
    case "list":
      return (await fsp.readdir(p)).sort();
  }
  throw new Error("files: unknown operation");
}
