// The default handler: static files (placeholder until the full conditional/range handler lands).
import fs from "node:fs";
import type { Request } from "../../src/http/request.ts";
import { HttpError } from "../../src/http/errors.ts";
import { DECLINED } from "../../src/module.ts";

export function defaultHandler(r: Request): Response | typeof DECLINED {
  if (r.handler && r.handler !== "default-handler") return DECLINED;
  if (r.method !== "GET" && r.method !== "HEAD") throw new HttpError(405, undefined, { Allow: "GET,POST,OPTIONS,HEAD" });
  if (!r.finfo) throw new HttpError(404);
  if (r.finfo.isDirectory()) throw new HttpError(403);
  if (r.pathInfo) throw new HttpError(404);
  const body = fs.readFileSync(r.filename);
  if (r.contentType) r.headersOut.set("Content-Type", r.contentType);
  return new Response(body, { status: 200, headers: r.headersOut });
}
