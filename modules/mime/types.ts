// The TypesConfig table: Apache's mime.types format parsed into extension → media type.
import fs from "node:fs";
import { ConfigError } from "../../src/config/node.ts";
import embedded from "../../conf/mime.types" with { type: "text" };

/**
 * Parses mime.types text as mime_post_config does: `#` starts a comment line, then a type followed by
 * extensions; extensions are lower-cased and a later line wins for a repeated extension.
 * @example parseTypes("text/html html htm\n").get("htm") // "text/html"
 */
export function parseTypes(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/);
    const type = words[0];
    if (!type || type.startsWith("#")) continue;
    for (let i = 1; i < words.length; i++) map.set(words[i]!.toLowerCase(), type);
  }
  return map;
}

let builtin: Map<string, string> | undefined;

/** The embedded conf/mime.types, parsed once per process. */
export function defaultTypes(): ReadonlyMap<string, string> {
  return (builtin ??= parseTypes(embedded));
}

/** Reads a TypesConfig file; a missing file refuses the configuration, as Apache's startup does. */
export function loadTypesFile(path: string): ReadonlyMap<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch {
    throw new ConfigError(`AH01596: could not open mime types config file ${path}.`);
  }
  return parseTypes(text);
}
