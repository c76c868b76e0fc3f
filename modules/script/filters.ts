// mod_script's filters: ScriptOutputFilter on the response body, ScriptInputFilter on the request body,
// selected by name with SetOutputFilter/SetInputFilter (core) and AddOutputFilter/AddInputFilter (mime).
import { HttpError } from "../../src/http/errors.ts";
import { errorResponse } from "../../src/http/pipeline.ts";
import type { Request } from "../../src/http/request.ts";
import { callScript, failure, scriptPath } from "./bridge.ts";
import type { BodyRead } from "./bridge.ts";
import type { NamedScript, ScriptDir, ScriptServer } from "./config.ts";
import { NO_DIR } from "./hooks.ts";
import type { Confs } from "./hooks.ts";

/** The body goes to a filter in chunks of this many characters (Apache's brigades carry 8 KB buckets). */
const CHUNK = 8192;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function chunked(text: string): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += CHUNK) chunks.push(text.slice(i, i + CHUNK));
  return chunks;
}

/** A filter's output as bytes (strings as UTF-8: a string body would get a text/plain type). */
function bytesOf(parts: (string | Uint8Array)[]): Blob {
  return new Blob(parts.map((p) => (typeof p === "string" ? encoder.encode(p) : p)));
}

/** The script filters among `names`, in order; names no script registered are another module's or unknown. */
function pick(names: readonly string[], registered: ReadonlyMap<string, NamedScript>): NamedScript[] {
  const out: NamedScript[] = [];
  for (const n of names) {
    const f = registered.get(n);
    if (f) out.push(f);
  }
  return out;
}

/**
 * Runs `text` through the filters, one after the other: each gets the previous one's output in chunks.
 * Gives the output's parts, or the failed filter's status (the failure is logged).
 */
async function runChain(
  r: Request,
  d: ScriptDir,
  s: ScriptServer,
  filters: NamedScript[],
  text: string,
): Promise<{ parts: (string | Uint8Array)[]; type?: string | null } | number> {
  let parts: (string | Uint8Array)[] = [text];
  let type: string | null | undefined;
  for (let i = 0; i < filters.length; i++) {
    const f = filters[i]!;
    const input = i === 0 ? text : parts.map((p) => (typeof p === "string" ? p : decoder.decode(p))).join("");
    const file = scriptPath(r, d, f.file);
    const out = await callScript(r, d, s, "filter", file, f.fn, chunked(input));
    const st = failure(r, out, file);
    if (st) return st;
    parts = out.body;
    if (out.content_type !== undefined) type = out.content_type;
  }
  return { parts, type };
}

/**
 * The output_filter hook: the script output filters named for this request (AddOutputFilter by the
 * file's extensions first, then SetOutputFilter, as Apache's chain orders them) each get the body in
 * chunks of text, and what they yield (or return) replaces it. The body is buffered: a filter sees it
 * all, and the filtered response has no Content-Length (Bun sends its length or chunks it).
 */
export function makeOutputFilter(c: Confs) {
  const run = async (r: Request, d: ScriptDir, filters: NamedScript[], res: Response): Promise<Response> => {
    const out = await runChain(r, d, c.server(r), filters, await res.text());
    if (typeof out === "number") return errorResponse(r.rt, r, new HttpError(out));
    const headers = new Headers(res.headers);
    headers.delete("Content-Length");
    if (out.type) headers.set("Content-Type", out.type);
    return new Response(bytesOf(out.parts), { status: res.status, headers });
  };
  return (r: Request, res: Response): Promise<Response | void> | void => {
    // Config first: touching res.body makes Bun build a stream for every response on the hot path.
    const s = c.server(r);
    if (s.filters.size === 0) return;
    const names = c.filterNames(r, "output");
    if (names.length === 0 || res.body === null) return;
    const filters = pick(names, s.filters);
    if (filters.length > 0) return run(r, c.dir(r) ?? NO_DIR, filters, res);
  };
}

/**
 * The input-filter stage bridge.ts calls the first time a script reads the body: the script input
 * filters named for the request (AddInputFilter, then SetInputFilter) turn the raw body into the one
 * r.requestbody()/r.parsebody() see. Undefined when none applies.
 */
export function makeInputFilter(c: Confs) {
  const run = async (r: Request, filters: NamedScript[], raw: Promise<BodyRead>): Promise<BodyRead> => {
    const b = await raw;
    const d = c.dir(r) ?? NO_DIR;
    const text = b.data ? decoder.decode(b.data) : "";
    const out = await runChain(r, d, c.server(r), filters, text);
    // Apache's handlers see an input filter's error as a failed read of the body.
    if (typeof out === "number") {
      return { data: null, type: b.type, error: "the request body's input filter failed" };
    }
    return { data: await bytesOf(out.parts).arrayBuffer(), type: b.type };
  };
  return (r: Request, raw: Promise<BodyRead>): Promise<BodyRead> | undefined => {
    const s = c.server(r);
    if (s.inputFilters.size === 0) return undefined;
    const filters = pick(c.filterNames(r, "input"), s.inputFilters);
    return filters.length > 0 ? run(r, filters, raw) : undefined;
  };
}
