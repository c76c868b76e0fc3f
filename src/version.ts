// The server's name and version, and the Server header ServerTokens asks for.
import type { ServerTokens } from "../modules/core/config.ts";

export const PRODUCT = "mosaic";
export const VERSION = "0.1.0";
/** Build time baked in by build.ts (`--define`), else the time this process started. */
declare const MOSAIC_BUILT: string | undefined;
export const BUILT: string =
  typeof MOSAIC_BUILT === "string" ? MOSAIC_BUILT : new Date().toISOString().slice(0, 19);

const OS = process.platform === "linux" ? "Linux" : process.platform;

/** Full description (mod_status ServerVersion is never reduced by ServerTokens). */
export const SERVER_DESCRIPTION = `${PRODUCT}/${VERSION} (${OS})`;

export function serverBanner(tokens: ServerTokens): string {
  const [major, minor] = VERSION.split(".");
  switch (tokens) {
    case "Prod":
      return PRODUCT;
    case "Major":
      return `${PRODUCT}/${major}`;
    case "Minor":
      return `${PRODUCT}/${major}.${minor}`;
    case "Minimal":
      return `${PRODUCT}/${VERSION}`;
    case "OS":
      return SERVER_DESCRIPTION;
    case "Full":
      return `${SERVER_DESCRIPTION} Bun/${Bun.version}`;
  }
}
