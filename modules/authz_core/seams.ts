// The seams between authz_core and the modules around it: authentication, and Satisfy Any.
import type { Request } from "../../src/http/request.ts";

/** Requests another module authorized on its own (mod_access_compat's `Satisfy Any`). */
export const authorizedElsewhere = new WeakSet<Request>();

/**
 * Marks the request authorized without the Require rules, as the access_checker hook passing under
 * `Satisfy Any` does in Apache: neither authentication nor authorization runs for it.
 */
export function grantWithoutAuthz(r: Request): void {
  authorizedElsewhere.add(r);
}

/**
 * What authentication modules tell the authz engine (Apache reaches these through mod_authn_core's
 * ap_auth_type and ap_note_auth_failure). Until one registers, no AuthType is ever configured.
 */
export interface AuthnSupport {
  /** The AuthType in force for the request, or undefined. */
  authType(r: Request): string | undefined;
  /** Sets the challenge (WWW-Authenticate in r.errHeadersOut) before a 401. */
  noteAuthFailure(r: Request): void;
}

export let authn: AuthnSupport = { authType: () => undefined, noteAuthFailure: () => {} };

/** Called once by the module that owns AuthType (mod_authn_core's counterpart); returns the previous one. */
export function registerAuthnSupport(support: AuthnSupport): AuthnSupport {
  const prev = authn;
  authn = support;
  return prev;
}

/** Requests whose userless check answered DENIED_NO_USER: authentication must run, then authz again. */
export const needsUser = new WeakSet<Request>();

/**
 * True when the access check could not decide without a user (Apache's access_checker_ex returning
 * DECLINED). Authentication modules run their check_user_id only then: a request already granted
 * (say by `Require ip`) is never challenged.
 */
export function authzNeedsUser(r: Request): boolean {
  return needsUser.has(r);
}
