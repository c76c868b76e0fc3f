// core: the server's own directives and the default phases (translate, map to storage, default handler).
import fs from "node:fs";
import path from "node:path";
import { configureErrorLog, logError, setDirLogLevelResolver } from "../../src/log/error-log.ts";
import { DECLINED, defineModule } from "../../src/module.ts";
import type { Request } from "../../src/http/request.ts";
import { HttpError } from "../../src/http/errors.ts";
import { createCoreDir, createCoreServer, mergeCoreDir, mergeCoreServer, OPT } from "./config.ts";
import type { CoreDir, CoreServer } from "./config.ts";
import { coreDirectives } from "./directives.ts";
import { errorLogDirectives } from "./errorlog.ts";
import { defaultHandler } from "./static.ts";

/** Where DocumentRoot points when the config sets none (Apache: DEFAULT_DOCUMENTROOT). */
export const DEFAULT_DOCROOT_NAME = "htdocs";

const core = defineModule<CoreServer, CoreDir>({
  name: "core",
  sourceName: "core.c",
  description: "Core directives and the default file handler",
  directives: [...coreDirectives, ...(errorLogDirectives as unknown as typeof coreDirectives)],
  createServerConfig: createCoreServer,
  mergeServerConfig: mergeCoreServer,
  createDirConfig: createCoreDir,
  mergeDirConfig: mergeCoreDir,
  postConfig({ servers, serverRoot }) {
    // Apache's DEFAULT_DOCUMENTROOT: never map URLs onto the file system's real root.
    for (const s of servers) core.serverConf(s).documentRoot ??= path.join(serverRoot, DEFAULT_DOCROOT_NAME);
    for (const s of servers) configureErrorLog(s, core.serverConf(s).log, serverRoot);
    setDirLogLevelResolver((r) => core.dirConf(r).logLevel);
  },
  hooks: {
    translate_name: { fn: translateName, order: "reallyLast" },
    map_to_storage: { fn: mapToStorage, order: "reallyLast" },
    fixups: { fn: overrideType, order: "reallyFirst" },
    handler: { fn: (r: Request) => defaultHandler(r), order: "reallyLast" },
  },
});
export default core;

/** Apache's ap_core_translate: DocumentRoot + URI. */
function translateName(r: Request): void {
  r.filename = core.serverConf(r.server).documentRoot! + r.uri;
}

/**
 * Finds what the filename names on disk (Apache's directory_walk): the longest existing prefix; what
 * follows a file becomes path_info, what follows a missing path is a 404 later.
 */
function mapToStorage(r: Request): void {
  if (!r.filename) return;
  let name = r.filename;
  let st = statOrNull(r, name);
  if (st === null) {
    let cut = name.length;
    while (st === null) {
      cut = name.lastIndexOf("/", cut - 1);
      if (cut <= 0) break;
      st = statOrNull(r, name.slice(0, cut));
    }
    if (st !== null && st.isFile()) {
      r.pathInfo = name.slice(cut);
      name = name.slice(0, cut);
    } else st = null;
  }
  r.filename = name;
  r.finfo = st;
}

/**
 * stat() results shared by the requests handled in one event-loop turn: under load Bun hands several
 * requests to us per turn, and they see the file system as of that turn's first look, which is what a
 * stat at the start of the turn would give anyway. The table is emptied before the next turn.
 */
const turnStats = new Map<string, fs.Stats | null>();
let clearing = false;
function clearTurnStats(): void {
  turnStats.clear();
  clearing = false;
}

function statOrNull(r: Request, p: string): fs.Stats | null {
  const hit = turnStats.get(p);
  if (hit !== undefined) return hit;
  try {
    // throwIfNoEntry: a missing file (every 404) costs no exception.
    const st = fs.statSync(p, { throwIfNoEntry: false }) ?? null;
    turnStats.set(p, st);
    if (!clearing) {
      clearing = true;
      setImmediate(clearTurnStats);
    }
    return st;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENAMETOOLONG") {
      logError(r, "error", "core", `AH00127: Cannot map ${r.theRequest} to file`, e);
      throw new HttpError(403);
    }
    return null;
  }
}

/** SetHandler / ForceType (core_override_type), and the FollowSymLinks check now that Options are known. */
function overrideType(r: Request): typeof DECLINED | void {
  const d = core.dirConf(r);
  if (d.forceType) r.contentType = d.forceType;
  if (d.handler !== undefined) r.handler = d.handler || undefined;
  if (r.finfo && !(d.options & OPT.FollowSymLinks)) checkSymlinks(r, d);
}

/** Without FollowSymLinks, no component below DocumentRoot may be a link (owner match allows it). */
function checkSymlinks(r: Request, d: CoreDir): void {
  const root = core.serverConf(r.server).documentRoot ?? "/";
  const rel = r.filename.startsWith(root) ? r.filename.slice(root.length) : r.filename;
  let cur = r.filename.startsWith(root) ? root : "";
  for (const part of rel.split("/")) {
    if (!part) continue;
    cur += "/" + part;
    const l = fs.lstatSync(cur, { throwIfNoEntry: false });
    if (l?.isSymbolicLink()) {
      if (d.options & OPT.SymLinksIfOwnerMatch) {
        const t = fs.statSync(cur, { throwIfNoEntry: false });
        if (t && t.uid === l.uid) continue;
      }
      logError(r, "error", "core", `AH00037: Symbolic link not allowed or link target not accessible: ${cur}`);
      throw new HttpError(403);
    }
  }
}

