// dir: index files, the trailing-slash redirect and FallbackResource (Apache's mod_dir).
import type { Request } from "../../src/http/request.ts";
import { defineModule } from "../../src/module.ts";
import type { HookResult, Module } from "../../src/module.ts";
import { createDirConf, dirDirectives, mergeDirConf } from "./config.ts";
import type { DirConf } from "./config.ts";
import { fixupDir, fixupFallback } from "./fixups.ts";

export { DIR_MAGIC_TYPE, INDEX_NAMES_NOTE } from "./fixups.ts";
export type { DirConf } from "./config.ts";

/**
 * mod_dir. Runs in fixups (APR_HOOK_LAST, as Apache), after SetHandler and access checks, so an
 * index is looked up only for requests that were allowed to reach the directory.
 * @example DirectoryIndex index.html index.php /cgi-bin/index.pl
 */
const dir: Module<undefined, DirConf> = defineModule<undefined, DirConf>({
  name: "dir",
  description: "Directory index files, trailing-slash redirects and FallbackResource",
  directives: dirDirectives,
  createDirConfig: createDirConf,
  mergeDirConfig: mergeDirConf,
  hooks: {
    fixups: {
      fn(r: Request): HookResult | Promise<HookResult> {
        const st = r.finfo;
        if (st === null) return r.handler === undefined ? fixupFallback(r, dir.dirConf(r)) : undefined;
        if (st.isDirectory()) return fixupDir(r, dir.dirConf(r));
      },
      order: "last",
    },
  },
});
export default dir;
