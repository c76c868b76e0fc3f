// dir: the fixups (Apache's fixup_dir and fixup_dflt): slash redirect, DirectoryIndex, FallbackResource.
import { HttpError } from "../../src/http/errors.ts";
import { internalRedirect } from "../../src/http/pipeline.ts";
import type { Request } from "../../src/http/request.ts";
import { constructUrl, escapePath } from "../../src/http/url.ts";
import { DEFAULT_INDEX, resolveName } from "./config.ts";
import type { DirConf, IndexName } from "./config.ts";
import { lookupUri } from "../../src/http/subreq.ts";
import type { SubRequest } from "../../src/http/subreq.ts";

/** DIR_MAGIC_TYPE: the handler name that means "a directory, nobody claimed it". */
export const DIR_MAGIC_TYPE = "httpd/unix-directory";

/** The note mod_autoindex quotes in AH01276 (which index names were tried). */
export const INDEX_NAMES_NOTE = "dir-index-names";

const isRedirect = (status: number): boolean => status >= 300 && status < 400;

/**
 * A request for a directory: redirect `/dir` to `/dir/` (DirectorySlash), else serve the first
 * DirectoryIndex that maps to a regular file through an internal redirect, else decline so that
 * mod_autoindex (or the core's 403) answers.
 */
export function fixupDir(r: Request, d: DirConf): Promise<Response | void> | void {
  // As fixup_dir: a directory no handler claimed is DIR_MAGIC_TYPE's (mod_autoindex answers for
  // that name, and %R logs it as Apache's access log would).
  r.handler ??= DIR_MAGIC_TYPE;
  // "Never tolerate path_info on dir requests"
  if (r.pathInfo) return;
  const uri = r.uri;
  if (uri.charCodeAt(uri.length - 1) !== 47) {
    if (d.slash === false) return;
    // BrowserMatch ... redirect-carefully: clients (WebFolders) that break on redirected non-GETs
    if (r.method !== "GET" && r.subprocessEnv.has("redirect-carefully")) return;
    const query = r.args || r.unparsedUri.includes("?") ? `?${r.args}` : "";
    throw new HttpError(301, undefined, { Location: constructUrl(r, `${escapePath(uri)}/${query}`) });
  }
  const h = r.handler;
  // mod_rewrite's per-dir result waits for its own handler
  if (h === "redirect-handler") return;
  if (d.checkHandler && h !== undefined && h !== DIR_MAGIC_TYPE) return;
  return findIndex(r, d);
}

async function findIndex(r: Request, d: DirConf): Promise<Response | void> {
  const names = d.indexNames ?? DEFAULT_INDEX;
  let failed: number | undefined;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const uri = resolveName(name, r.uri);
    if (uri === undefined) continue;
    const args = name.query ?? r.args;
    const sub = await lookupUri(r, uri, args, false);
    // only a regular file counts: the lookup of a missing /dir/index.html still "succeeds"
    if (found(sub)) {
      if (d.indexRedirect) {
        const location = constructUrl(r, escapePath(sub.rr.uri));
        throw new HttpError(d.indexRedirect, undefined, { Location: location });
      }
      return internalRedirect(r, sub.rr.uri, args);
    }
    const last = i === names.length - 1;
    const challenge = last && (sub.status === 401 || sub.status === 406);
    if (isRedirect(sub.status) || challenge) return propagate(sub);
    // Anything but "not there" is a problem: answer it rather than let autoindex list the directory.
    if (sub.status !== 200 && sub.status !== 404) failed = sub.status;
  }
  if (failed !== undefined) throw new HttpError(failed);
  r.notes.set(INDEX_NAMES_NOTE, names.map((n) => n.raw).join(","));
}

/**
 * Nothing on disk and no handler: serve FallbackResource instead (a single-page app's index.html),
 * keeping the query string. Directories never fall back; they get an index, a listing or a 403.
 */
export function fixupFallback(r: Request, d: DirConf): Promise<Response | void> | void {
  const fb = d.fallback;
  if (fb === undefined || fb === "disabled") return;
  return fallback(r, fb);
}

async function fallback(r: Request, fb: IndexName): Promise<Response | void> {
  const uri = resolveName(fb, r.uri.slice(0, r.uri.lastIndexOf("/") + 1));
  if (uri === undefined) return;
  const args = fb.query ?? r.args;
  const sub = await lookupUri(r, uri, args, false);
  if (found(sub)) return internalRedirect(r, sub.rr.uri, args);
  if (isRedirect(sub.status)) return propagate(sub);
  if (sub.status !== 200 && sub.status !== 404) throw new HttpError(sub.status);
}

function found(sub: SubRequest): boolean {
  return sub.status === 200 && (sub.rr.finfo?.isFile() === true || sub.rr.handler === "proxy-server");
}

/** A redirect or challenge from the lookup goes to the client as it is, headers included. */
function propagate(sub: SubRequest): Response {
  if (sub.response) return sub.response;
  throw sub.error ?? new HttpError(sub.status);
}
