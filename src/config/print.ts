// Printers: ConfigNode tree → httpd.conf text or YAML, each re-parsing to the same tree.

import { ConfigError } from "./node.ts";
import type { ConfigNode } from "./node.ts";
import { ARGS_KEY, DIRECTIVE_NAME } from "./yaml.ts";

/** A tree node without its location, for comparing trees from different sources. */
export interface PlainNode {
  name: string;
  args: string[];
  children?: PlainNode[];
}

/** The tree without file/line, so trees parsed from httpd.conf and YAML compare equal. */
export function stripLocations(nodes: ConfigNode[]): PlainNode[] {
  return nodes.map((node) =>
    node.children === undefined
      ? { name: node.name, args: [...node.args] }
      : { name: node.name, args: [...node.args], children: stripLocations(node.children) },
  );
}

/**
 * Quotes one argument for httpd.conf only when the lexer needs it (ap_getword_conf): empty,
 * whitespace, a quote, a leading `#`, `\\` (collapsed even in bare words), a trailing `\` (it
 * would join the next line), and `>` in a section header (it ends the header).
 *
 * @example
 * quoteArg("a b"); // "\"a b\""
 * quoteArg("/srv/www"); // "/srv/www"
 */
export function quoteArg(arg: string, inSection = false): string {
  const needs =
    arg === "" ||
    /[\s"']/.test(arg) ||
    arg.startsWith("#") ||
    arg.includes("\\\\") ||
    arg.endsWith("\\") ||
    (inSection && arg.includes(">"));
  if (!needs) return arg;
  let out = '"';
  for (let i = 0; i < arg.length; i++) {
    const c = arg[i]!;
    const next = arg[i + 1];
    // Inside quotes only `\"` and `\\` are escapes; any other backslash is literal, so double
    // just the ones the lexer would otherwise eat, keeping regexes like `\.php$` readable.
    if (c === '"') out += '\\"';
    else if (c === "\\" && (next === undefined || next === "\\" || next === '"')) out += "\\\\";
    else out += c;
  }
  return `${out}"`;
}

/** Arguments joined for one httpd.conf line (or one YAML value, which uses the same quoting). */
export function printArgs(args: readonly string[], inSection = false): string {
  return args.map((arg) => quoteArg(arg, inSection)).join(" ");
}

/**
 * Prints a tree as httpd.conf text, 4 spaces per section level; `parseConfigText` of the result
 * gives the same tree (modulo file/line). This is what `mosaic -t -D DUMP_CONFIG` shows.
 *
 * @example
 * printConfig([{ name: "Listen", args: ["8080"], file: "x", line: 1 }]); // "Listen 8080\n"
 */
export function printConfig(nodes: ConfigNode[]): string {
  const lines: string[] = [];
  printConfLines(nodes, "", lines);
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

function printConfLines(nodes: ConfigNode[], pad: string, out: string[]): void {
  for (const node of nodes) {
    checkName(node);
    const section = node.children !== undefined;
    if (node.args.some((arg) => /[\r\n]/.test(arg))) {
      // httpd.conf has no escape for a line break: a quoted one would end the directive.
      throw ConfigError.at(node, `An argument of ${node.name} contains a line break`);
    }
    const args = node.args.length === 0 ? "" : ` ${printArgs(node.args, section)}`;
    if (node.children === undefined) {
      out.push(`${pad}${node.name}${args}`);
      continue;
    }
    out.push(`${pad}<${node.name}${args}>`);
    printConfLines(node.children, `${pad}    `, out);
    out.push(`${pad}</${node.name}>`);
  }
}

/** Section arguments longer than this go to `_args`: YAML caps implicit keys at 1024 chars. */
const MAX_KEY_ARGS = 200;

/**
 * Prints a tree as YAML in the schema of docs/config-yaml.md; `parseConfigYaml` of the result gives
 * the same tree (modulo file/line). Consecutive nodes of the same name become one list.
 *
 * @example
 * printConfigYaml(parseConfigText("Listen 80\nListen 443\n", "x"));
 * // "Listen:\n  - 80\n  - 443\n"
 */
export function printConfigYaml(nodes: ConfigNode[]): string {
  const lines: string[] = [];
  yamlBody(nodes, 0, lines);
  return lines.length === 0 ? "{}\n" : `${lines.join("\n")}\n`;
}

function yamlBody(nodes: ConfigNode[], indent: number, out: string[]): void {
  const pad = " ".repeat(indent);
  for (let i = 0; i < nodes.length; ) {
    const first = nodes[i]!;
    checkName(first);
    let end = i + 1;
    const section = first.children !== undefined;
    // Group only a consecutive run of the same spelling and kind, so document order is kept.
    while (
      end < nodes.length &&
      nodes[end]!.name === first.name &&
      (nodes[end]!.children !== undefined) === section
    ) {
      end++;
    }
    const run = nodes.slice(i, end);
    i = end;
    if (run.length === 1) {
      yamlEntry(first, indent, out);
      continue;
    }
    out.push(`${pad}${yamlKey(first.name)}:`);
    for (const node of run) {
      if (node.children === undefined) {
        const value = node.args.length === 0 ? "" : ` ${yamlScalar(printArgs(node.args))}`;
        out.push(`${pad}  -${value}`);
        continue;
      }
      const body: string[] = [];
      yamlSectionBody(node, indent + 4, true, body);
      if (body.length === 0) {
        out.push(`${pad}  - {}`);
      } else {
        // The first key shares the line with the dash: `  - _args: ...`.
        body[0] = `${pad}  - ${body[0]!.slice(indent + 4)}`;
        out.push(...body);
      }
    }
  }
}

/** One node on its own key: `Name: args` or `Name args:` followed by the section body. */
function yamlEntry(node: ConfigNode, indent: number, out: string[]): void {
  const pad = " ".repeat(indent);
  const argText = printArgs(node.args, node.children !== undefined);
  if (node.children === undefined) {
    out.push(`${pad}${yamlKey(node.name)}:${argText === "" ? "" : ` ${yamlScalar(argText)}`}`);
    return;
  }
  const inKey = argText.length <= MAX_KEY_ARGS;
  const key = inKey && argText !== "" ? `${node.name} ${argText}` : node.name;
  const body: string[] = [];
  yamlSectionBody(node, indent + 2, !inKey, body);
  if (body.length === 0) out.push(`${pad}${yamlKey(key)}: {}`);
  else out.push(`${pad}${yamlKey(key)}:`, ...body);
}

function yamlSectionBody(
  node: ConfigNode,
  indent: number,
  argsInBody: boolean,
  out: string[],
): void {
  if (argsInBody && node.args.length > 0) {
    out.push(`${" ".repeat(indent)}${ARGS_KEY}: ${yamlScalar(printArgs(node.args, true))}`);
  }
  yamlBody(node.children ?? [], indent, out);
}

/**
 * A string as a YAML scalar: plain when the failsafe schema reads it back unchanged (so `On` and
 * `8080` stay bare), single-quoted when it is printable, double-quoted with escapes otherwise.
 */
export function yamlScalar(text: string): string {
  if (isPlainSafe(text)) return text;
  // YAML's c-printable excludes C0/C1 controls and DEL; a tab or line break must not fold either.
  if (!UNPRINTABLE.test(text)) return `'${text.replaceAll("'", "''")}'`;
  return `"${text.replace(DOUBLE_QUOTED_SPECIAL, escapeDoubleQuoted)}"`;
}

/** A mapping key; quoted when it holds a colon, which a bare `VirtualHost *:80:` hides. */
function yamlKey(text: string): string {
  const scalar = yamlScalar(text);
  return scalar === text && text.includes(":") ? `'${text.replaceAll("'", "''")}'` : scalar;
}

const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;
const DOUBLE_QUOTED_SPECIAL = /[\\"\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/g;

const DOUBLE_QUOTED_ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  '"': '\\"',
  "\n": "\\n",
  "\t": "\\t",
  "\r": "\\r",
};

function escapeDoubleQuoted(c: string): string {
  return DOUBLE_QUOTED_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** Conservative: printable ASCII, no indicator first, no `: ` or ` #` inside (YAML 1.2 §7.3.3). */
function isPlainSafe(text: string): boolean {
  if (text === "" || !/^[\x20-\x7e]+$/.test(text)) return false;
  if (text !== text.trim()) return false;
  if (text.includes(": ") || text.includes(" #") || text.endsWith(":")) return false;
  const first = text[0]!;
  // `-Indexes` is a plain scalar; `- x`, `-` and `--- ` are not.
  if (first === "-") return text.length > 1 && text[1] !== " " && !text.startsWith("---");
  return !"?:,[]{}#&*!|>'\"%@`".includes(first);
}

function checkName(node: ConfigNode): void {
  if (!DIRECTIVE_NAME.test(node.name)) {
    throw ConfigError.at(node, `'${node.name}' cannot be printed as a directive name`);
  }
}
