// Sub-request lookups (Apache's ap_sub_req_lookup_uri / _dirent): map without running a handler.
import fs from "node:fs";
import core from "../../modules/core/index.ts";
import { OPT } from "../../modules/core/config.ts";
import { HttpError } from "./errors.ts";
import { Request } from "./request.ts";
import { runPhase } from "./pipeline.ts";
import { walkSections } from "./walk.ts";
import type { Phase } from "../module.ts";

/** What a lookup found: the mapped request and how far it got. */
export interface SubRequest {
  rr: Request;
  /** 200 when every phase passed, else the status a hook answered or threw. */
  status: number;
  /** A hook's own answer (a mod_alias Redirect, say), passed on as is. */
  response: Response | undefined;
  /** The error a hook threw, kept so its headers (WWW-Authenticate) can travel. */
  error: HttpError | undefined;
}

const ACCESS: readonly Phase[] = ["access_checker", "check_user_id", "auth_checker"];

/** A GET sub-request of r (ap_sub_req_method_uri uses GET), sharing its connection and env. */
function subRequest(r: Request, uri: string, args: string): Request {
  const unparsed = args ? `${uri}?${args}` : uri;
  const rr = new Request(r.raw, "GET", r.protocol, r.conn, r.server, uri, args, unparsed, r.hostname);
  rr.rt = r.rt;
  for (const [k, v] of r.subprocessEnv) rr.subprocessEnv.set(k, v);
  return rr;
}

/**
 * The access phases, skipped when the sub-request merged to the very same per-dir config as its
 * parent: Apache's ap_process_request_internal reuses the parent's authn/authz result then, which
 * keeps a listing of a thousand files from re-checking a password a thousand times.
 */
async function finish(r: Request, rr: Request, withType: boolean): Promise<SubRequest> {
  try {
    walkSections(rr, rr.rt.cfg.modules);
    let res: Response | undefined;
    if (rr.perDir === r.perDir) {
      rr.user = r.user;
      rr.authType = r.authType;
    } else {
      for (const phase of ACCESS) if ((res = await runPhase(rr.rt, rr, phase))) break;
    }
    if (!res && withType) res = await runPhase(rr.rt, rr, "type_checker");
    if (res) return { rr, status: res.status, response: res, error: undefined };
    return { rr, status: 200, response: undefined, error: undefined };
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    return { rr, status: e.status, response: undefined, error: e };
  }
}

/**
 * Maps `uri` (decoded, absolute) as a GET would, through translate_name, map_to_storage, the section
 * walk, the access phases and (with `withType`) type_checker, without fixups or a handler.
 * @example const sub = await lookupUri(r, "/docs/index.html", r.args); sub.rr.finfo?.isFile()
 */
export async function lookupUri(
  r: Request,
  uri: string,
  args: string,
  withType = true,
): Promise<SubRequest> {
  const rr = subRequest(r, uri, args);
  try {
    const res = (await runPhase(rr.rt, rr, "translate_name")) ?? (await runPhase(rr.rt, rr, "map_to_storage"));
    if (res) return { rr, status: res.status, response: res, error: undefined };
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    return { rr, status: e.status, response: undefined, error: e };
  }
  return finish(r, rr, withType);
}

/**
 * Looks up one entry of the directory r maps (Apache's ap_sub_req_lookup_dirent): the file is known,
 * so only the section walk and the access phases run. `dirent` is the readdir entry, for the
 * symlink rules the core applies to the request itself (Options FollowSymLinks / SymLinksIfOwnerMatch).
 */
export async function lookupDirent(
  r: Request,
  uri: string,
  filename: string,
  st: fs.Stats,
  isLink: boolean,
  withType: boolean,
): Promise<SubRequest> {
  const rr = subRequest(r, uri, "");
  rr.filename = filename;
  rr.finfo = st;
  const sub = await finish(r, rr, withType);
  if (sub.status === 200 && isLink && !symlinkAllowed(rr, filename)) {
    return { rr, status: 403, response: undefined, error: new HttpError(403) };
  }
  return sub;
}

function symlinkAllowed(rr: Request, filename: string): boolean {
  const opts = core.dirConf(rr).options;
  if (opts & OPT.FollowSymLinks) return true;
  if (!(opts & OPT.SymLinksIfOwnerMatch)) return false;
  const l = fs.lstatSync(filename, { throwIfNoEntry: false });
  return l !== undefined && rr.finfo !== null && l.uid === rr.finfo.uid;
}
