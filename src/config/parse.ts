// The httpd.conf front end: text to a raw ConfigNode tree, lexed like Apache 2.4 (server/util.c).

import { ConfigError, type ConfigNode } from "./node.ts";

/**
 * Parse httpd.conf text into a raw tree. `${VAR}`, `Include` and the `<If*>` sections are left for
 * `preprocess()`, so the tree looks the same whichever front end produced it.
 *
 * @example
 * parseConfigText('<Directory "/srv/www">\n  Require all granted\n</Directory>\n', "httpd.conf");
 * // [{ name: "Directory", args: ["/srv/www"], file: "httpd.conf", line: 1,
 * //    children: [{ name: "Require", args: ["all", "granted"], file: "httpd.conf", line: 2 }] }]
 */
export function parseConfigText(text: string, file: string): ConfigNode[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const physical = text.split("\n");
  const root: ConfigNode[] = [];
  const open: ConfigNode[] = [];
  let index = 0;

  while (index < physical.length) {
    const line = index + 1;
    let logical = stripCr(physical[index++]!);
    // ap_cfg_getline joins before anything else looks at the line, so a comment ending in `\`
    // swallows the next line too, and the join inserts nothing.
    while (logical.endsWith("\\") && index < physical.length) {
      logical = logical.slice(0, -1) + stripCr(physical[index++]!);
    }
    logical = trimSpace(logical);
    if (logical === "" || logical.startsWith("#")) continue;

    const siblings = open.length > 0 ? open[open.length - 1]!.children! : root;
    const word = nextWord(logical, 0, file, line);
    const name = word.value;
    const rest = logical.slice(word.end);

    if (!name.startsWith("<")) {
      siblings.push({ name, args: tokenize(rest, file, line), file, line });
      continue;
    }

    if (name.startsWith("</")) {
      const endName = name.endsWith(">") ? name.slice(2, -1) : name.slice(2);
      const current = open[open.length - 1];
      if (current === undefined) {
        throw new ConfigError(`</${endName}> without matching <${endName}> section`, file, line);
      }
      if (!name.endsWith(">") && !rest.includes(">")) {
        throw new ConfigError(`</${endName}> directive missing closing '>'`, file, line);
      }
      if (endName.toLowerCase() !== current.name.toLowerCase()) {
        throw new ConfigError(`Expected </${current.name}> but saw </${endName}>`, file, line);
      }
      open.pop();
      continue;
    }

    // As in ap_build_config_sub: `<Name>` loses its `>`, then the section handler wants a `>` at
    // the end of the arguments and drops everything after the last one.
    const sectionName = name.endsWith(">") ? name.slice(1, -1) : name.slice(1);
    const raw = name.endsWith(">") && rest.trim() === "" ? ">" : rest;
    const close = raw.lastIndexOf(">");
    if (close < 0) {
      throw new ConfigError(`<${sectionName}> directive missing closing '>'`, file, line);
    }
    const node: ConfigNode = {
      name: sectionName,
      args: sectionArgs(raw.slice(0, close), file, line),
      children: [],
      file,
      line,
    };
    siblings.push(node);
    open.push(node);
  }

  if (open.length > 0) {
    // ap_build_config lists every open section, innermost first, and blames the outermost.
    const message = open
      .toReversed()
      .map((node) => `${node.file}:${node.line}: <${node.name}> was not closed.`)
      .join("\n");
    throw ConfigError.at(open[0]!, message);
  }
  return root;
}

/**
 * Split directive arguments like ap_getword_conf: whitespace separates words, `"..."` and `'...'`
 * group them, `\"` (or `\'`) and `\\` are unescaped inside quotes, and `\\` also outside them.
 * Every other backslash stays.
 */
export function tokenize(text: string, file: string, line: number): string[] {
  const words: string[] = [];
  let pos = skipSpace(text, 0);
  while (pos < text.length) {
    const word = nextWord(text, pos, file, line);
    words.push(word.value);
    pos = skipSpace(text, word.end);
  }
  return words;
}

// `<IfFile !"/a b">`: Apache strips the `!` off the raw text before reading the quoted word, so
// keep it as a prefix of the first argument instead of splitting `!"/a` from `b"`.
function sectionArgs(text: string, file: string, line: number): string[] {
  const start = skipSpace(text, 0);
  const quote = text[start + 1];
  if (text[start] === "!" && (quote === '"' || quote === "'")) {
    const [first = "", ...others] = tokenize(text.slice(start + 1), file, line);
    return [`!${first}`, ...others];
  }
  return tokenize(text, file, line);
}

function nextWord(
  text: string,
  start: number,
  file: string,
  line: number,
): { value: string; end: number } {
  const quote = text[start];
  if (quote === '"' || quote === "'") {
    let value = "";
    let pos = start + 1;
    while (pos < text.length && text[pos] !== quote) {
      const next = text[pos + 1];
      if (text[pos] === "\\" && (next === quote || next === "\\")) {
        value += next;
        pos += 2;
      } else {
        value += text[pos];
        pos += 1;
      }
    }
    // Apache would silently take the rest of the line; we refuse, as the spec asks.
    if (pos >= text.length) {
      throw new ConfigError(`Unterminated quoted argument ${text.slice(start)}`, file, line);
    }
    return { value, end: pos + 1 };
  }
  let end = start;
  while (end < text.length && !isSpace(text[end]!)) end++;
  return { value: text.slice(start, end).replaceAll("\\\\", "\\"), end };
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

// apr_isspace: the C locale's six whitespace characters, nothing from Unicode.
function isSpace(char: string): boolean {
  return char === " " || (char >= "\t" && char <= "\r");
}

function skipSpace(text: string, pos: number): number {
  while (pos < text.length && isSpace(text[pos]!)) pos++;
  return pos;
}

function trimSpace(text: string): string {
  let end = text.length;
  while (end > 0 && isSpace(text[end - 1]!)) end--;
  return text.slice(skipSpace(text, 0), end);
}
