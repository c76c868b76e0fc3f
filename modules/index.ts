// Every bundled module, statically imported (the compiler bundles only what it reaches), in hook order.
import type { Module } from "../src/module.ts";
import authnCore from "./authn_core/index.ts";
import authnFile from "./authn_file/index.ts";
import authBasic from "./auth_basic/index.ts";
import authzUser from "./authz_user/index.ts";
import authzGroupfile from "./authz_groupfile/index.ts";
import authzOwner from "./authz_owner/index.ts";
import accessCompat from "./access_compat/index.ts";
import allowmethods from "./allowmethods/index.ts";
import remoteip from "./remoteip/index.ts";
import logDebug from "./log_debug/index.ts";
import authnSocache from "./authn_socache/index.ts";
import alias from "./alias/index.ts";
import authzCore from "./authz_core/index.ts";
import authzHost from "./authz_host/index.ts";
import autoindex from "./autoindex/index.ts";
import core from "./core/index.ts";
import dir from "./dir/index.ts";
import env from "./env/index.ts";
import headers from "./headers/index.ts";
import logConfig from "./log_config/index.ts";
import mime from "./mime/index.ts";
import { MPM_MODULES } from "./mpm/index.ts";
import script from "./script/index.ts";
import setenvif from "./setenvif/index.ts";
import so from "./so/index.ts";
import status from "./status/index.ts";
import info from "./info/index.ts";
import welcome from "./welcome/index.ts";

export const REGISTRY: readonly Module[] = ([
  core,
  so,
  ...MPM_MODULES,
  logConfig,
  mime,
  env,
  setenvif,
  alias,
  dir,
  autoindex,
  headers,
  remoteip,
  authnCore,
  authnFile,
  authnSocache,
  authBasic,
  authzCore,
  authzHost,
  authzUser,
  authzGroupfile,
  authzOwner,
  accessCompat,
  allowmethods,
  logDebug,
  status,
  info,
  script,
  welcome,
] as Module[]).map((m, i) => {
  m.index = i;
  return m;
});

/** Compiled in, always loaded (Apache's static modules): no LoadModule needed. */
export const STATIC_MODULES = new Set(["core", "so", "log_config"]);

export function findModule(name: string): Module | undefined {
  const n = normaliseModuleName(name);
  return REGISTRY.find((m) => m.name === n);
}

/** `status_module`, `mod_status.c`, `mod_status.so`, `status` → `status`. */
export function normaliseModuleName(name: string): string {
  return name
    .replace(/^.*\//, "")
    .replace(/_module$/, "")
    .replace(/^mod_/, "")
    .replace(/\.(c|so)$/, "");
}
