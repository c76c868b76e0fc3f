// Synchronous sub-requests for -U, -A and -F (ap_sub_req_lookup_uri / _file): map and check access.
import path from "node:path";
import { HttpError } from "../http/errors.ts";
import { removeDotSegments } from "../http/front.ts";
import { Request } from "../http/request.ts";
import { walkSections } from "../http/walk.ts";
import { logError } from "../log/error-log.ts";
import { DECLINED, RUN_FIRST } from "../module.ts";
import type { Phase } from "../module.ts";

/** The note that marks a sub-request record (%{IS_SUBREQ}); the value is the nesting depth. */
export const SUBREQ_NOTE = "mosaic-subreq";
/** Sub-requests evaluating expressions that make sub-requests: stop well before the stack does. */
const MAX_DEPTH = 5;

const MAPPING: readonly Phase[] = ["translate_name", "map_to_storage"];
const CHECKS: readonly Phase[] = ["header_parser", "access_checker", "check_user_id", "auth_checker", "type_checker"];

/**
 * Runs one phase synchronously. Expressions are evaluated synchronously (inside the section walk),
 * so a hook that must wait (a DNS lookup) cannot be waited for: the lookup counts as failed (500).
 */
function runPhase(rr: Request, phase: Phase): number {
  const hooks = rr.rt.cfg.hooks.phases[phase];
  const first = RUN_FIRST.has(phase);
  for (let i = 0; i < hooks.length; i++) {
    const res = hooks[i]!.fn(rr);
    if (res instanceof Promise) {
      res.catch(() => {});
      logError(rr, "debug", "core", `${phase} of sub-request ${rr.uri} would wait; refused`);
      return 500;
    }
    if (res === DECLINED) continue;
    if (res instanceof Response) return res.status;
    if (first) return 0;
  }
  return 0;
}

function subRequest(r: Request, uri: string, args: string): Request | undefined {
  const depth = Number(r.notes.get(SUBREQ_NOTE) ?? "0");
  if (depth >= MAX_DEPTH) return undefined;
  // "avoid some infinite recursions": a sub-request for the URI being served answers false.
  if (depth > 0 && r.uri === uri) return undefined;
  const rr = new Request(r.raw, "GET", r.protocol, r.conn, r.server, uri, args, args ? `${uri}?${args}` : uri, r.hostname);
  rr.rt = r.rt;
  rr.notes.set(SUBREQ_NOTE, String(depth + 1));
  for (const [k, v] of r.subprocessEnv) rr.subprocessEnv.set(k, v);
  return rr;
}

/** Access phases, skipped when the sub-request merged to its parent's config (same answer). */
function check(r: Request, rr: Request): number {
  walkSections(rr, rr.rt.cfg.modules);
  if (rr.perDir === r.perDir) {
    rr.user = r.user;
    rr.authType = r.authType;
    return 0;
  }
  for (const phase of CHECKS) {
    const s = runPhase(rr, phase);
    if (s) return s;
  }
  return 0;
}

function guarded(fn: () => number): number {
  try {
    return fn();
  } catch (e) {
    if (e instanceof HttpError) return e.status;
    throw e;
  }
}

/** Status of a GET sub-request for `target` (relative URIs resolve against r's directory). */
export function lookupUriStatus(r: Request, target: string): number {
  const q = target.indexOf("?");
  let uri = q >= 0 ? target.slice(0, q) : target;
  const args = q >= 0 ? target.slice(q + 1) : "";
  try {
    uri = decodeURIComponent(uri);
  } catch {
    return 400;
  }
  if (!uri.startsWith("/")) uri = r.uri.slice(0, r.uri.lastIndexOf("/") + 1) + uri;
  const norm = removeDotSegments(uri.replace(/\/{2,}/g, "/"));
  if (norm === undefined) return 400;
  const rr = subRequest(r, norm, args);
  if (!rr) return 500;
  return guarded(() => {
    for (const phase of MAPPING) {
      const s = runPhase(rr, phase);
      if (s) return s;
    }
    return check(r, rr) || 200;
  });
}

/**
 * Status of a sub-request for a file (relative to r's directory), and whether the file exists:
 * -F wants both, since a lookup of a missing file passes the checks too.
 */
export function lookupFileStatus(r: Request, file: string): { status: number; exists: boolean } {
  const base = r.filename ? path.dirname(r.filename) : "/";
  const filename = path.resolve(base, file);
  const rr = subRequest(r, r.uri, "");
  if (!rr) return { status: 500, exists: false };
  rr.filename = filename;
  const status = guarded(() => {
    const s = runPhase(rr, "map_to_storage");
    return s || check(r, rr) || 200;
  });
  return { status, exists: rr.finfo !== null && rr.pathInfo === "" };
}
