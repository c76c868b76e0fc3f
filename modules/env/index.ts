// env: SetEnv, UnsetEnv and PassEnv (Apache's mod_env).
import type { Request } from "../../src/http/request.ts";
import { defineModule } from "../../src/module.ts";

/** Per-directory variables, and the names this section removes from its parent's (env_dir_config_rec). */
export interface EnvDir {
  vars: ReadonlyMap<string, string>;
  unset: ReadonlySet<string>;
}

function create(): EnvDir {
  return { vars: new Map(), unset: new Set() };
}

/** merge_env_dir_configs: the parent's variables, minus this section's UnsetEnv, plus its own. */
function merge(base: EnvDir, add: EnvDir): EnvDir {
  if (add.vars.size === 0 && add.unset.size === 0) return base;
  const vars = new Map(base.vars);
  for (const name of add.unset) vars.delete(name);
  for (const [k, v] of add.vars) vars.set(k, v);
  return { vars, unset: new Set() };
}

/**
 * mod_env. The variables enter `r.subprocessEnv` in fixups, so SetEnvIf and the access phases never
 * see them (a classic Apache surprise kept on purpose). A variable already present, e.g. from
 * SetEnvIf, keeps its value: Apache overlays the tables and lookups return the earlier entry.
 */
const env = defineModule<undefined, EnvDir>({
  name: "env",
  description: "Modifies the environment passed to CGI scripts and SSI pages",
  directives: [
    {
      name: "SetEnv",
      args: [1, 2],
      help: "an environment variable name and optional value to pass to CGI.",
      apply(cmd) {
        const [name, value = ""] = cmd.args as [string, string?];
        if (name.includes("=")) {
          const eq = name.indexOf("=");
          const fix = `SetEnv ${name.slice(0, eq)} ${name.slice(eq + 1)}`;
          cmd.warn(`AH10032: Spurious usage of '=' in an environment variable name. '${fix}' expected instead?`);
        }
        (cmd.dir.vars as Map<string, string>).set(name, value);
      },
    },
    {
      name: "UnsetEnv",
      args: [1, Infinity],
      help: "a list of variables to remove from the CGI environment.",
      apply(cmd) {
        for (const name of cmd.args) {
          // Only what an enclosing scope set, or what came earlier in this one, is removed.
          (cmd.dir.unset as Set<string>).add(name);
          (cmd.dir.vars as Map<string, string>).delete(name);
        }
      },
    },
    {
      name: "PassEnv",
      args: [1, Infinity],
      help: "a list of environment variables to pass to CGI.",
      apply(cmd) {
        for (const name of cmd.args) {
          const v = process.env[name];
          if (v === undefined) cmd.warn(`AH01506: PassEnv variable ${name} was undefined`);
          else (cmd.dir.vars as Map<string, string>).set(name, v);
        }
      },
    },
  ],
  createDirConfig: create,
  mergeDirConfig: merge,
  hooks: {
    fixups: {
      fn: (r: Request): void => {
        const d = env.dirConf(r);
        if (!d || d.vars.size === 0) return;
        const e = r.subprocessEnv;
        for (const [k, v] of d.vars) if (!e.has(k)) e.set(k, v);
      },
      enabled: (c): boolean => (env.dirConf(c)?.vars.size ?? 0) > 0,
    },
  },
});
export default env;
