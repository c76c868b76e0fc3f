// YAML front end: maps a YAML document onto the same ConfigNode tree as httpd.conf.

import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Document, Node as YamlNode, Scalar, YAMLMap } from "yaml";
import { ConfigError } from "./node.ts";
import type { ConfigNode } from "./node.ts";
import { tokenize } from "./parse.ts";

/** What a directive name may look like in either front end's output and in a YAML key. */
export const DIRECTIVE_NAME = /^[A-Za-z0-9][^\s"'<>\\]*$/;

/** The mapping key that carries a section's arguments inside its body (see docs/config-yaml.md). */
export const ARGS_KEY = "_args";

/**
 * Parses a YAML configuration into the tree httpd.conf would give. Key order and duplicate keys are
 * kept; every node carries the line of its key (or of its list item).
 *
 * @example
 * parseConfigYaml("Listen: 8080\n'VirtualHost *:8080':\n  ServerName: a.example\n", "site.yaml");
 * // [{ name: "Listen", args: ["8080"], ... },
 * //  { name: "VirtualHost", args: ["*:8080"], children: [{ name: "ServerName", ... }], ... }]
 */
export function parseConfigYaml(text: string, file: string): ConfigNode[] {
  const lineCounter = new LineCounter();
  // failsafe: every scalar stays a string, so `On`, `8080`, `0755` and `~` keep their source text.
  const doc = parseDocument(text, {
    schema: "failsafe",
    uniqueKeys: false,
    prettyErrors: false,
    lineCounter,
  });
  const lineOf = (offset: number | undefined): number =>
    offset === undefined ? 0 : lineCounter.linePos(offset).line;
  const first = doc.errors[0];
  if (first !== undefined) {
    const message = first.message.split("\n")[0] ?? first.message;
    throw new ConfigError(`Invalid YAML: ${message}`, file, lineOf(first.pos[0]));
  }
  return new YamlWalker(doc, file, lineOf).top();
}

/** Walks the document AST; a class only to share `doc`, `file` and the line lookup. */
class YamlWalker {
  /** Collections being walked, so an alias that points into its own anchor is an error. */
  private readonly active = new Set<YamlNode>();

  constructor(
    private readonly doc: Document,
    private readonly file: string,
    private readonly lineOf: (offset: number | undefined) => number,
  ) {}

  top(): ConfigNode[] {
    const root = this.resolve(this.doc.contents as YamlNode | null);
    if (root === null) return [];
    if (isScalar(root) && String(root.value).trim() === "") return [];
    if (isMap(root)) return this.body(root);
    if (isSeq(root)) {
      // A list of mappings at the top level reads as one body, for files that avoid duplicate keys.
      const out: ConfigNode[] = [];
      for (const item of root.items) {
        const node = this.resolve(item as YamlNode | null);
        if (node === null) continue;
        if (!isMap(node)) {
          throw this.error(node, "a top-level list must hold mappings of directives");
        }
        out.push(...this.body(node));
      }
      return out;
    }
    throw this.error(root, "the top level must be a mapping of directives");
  }

  /** The children of a mapping, in document order; a section's `_args` key is skipped. */
  private body(map: YAMLMap, inSection = false): ConfigNode[] {
    if (this.active.has(map)) throw this.error(map, "an alias refers to its own anchor");
    this.active.add(map);
    const out: ConfigNode[] = [];
    for (const pair of map.items) {
      const key = this.resolve(pair.key as YamlNode | null);
      if (key === null || !isScalar(key)) {
        throw this.error(key ?? map, "a directive name must be a plain string key");
      }
      const line = this.lineOf(key.range?.[0]);
      const raw = String(key.value);
      if (raw === ARGS_KEY && inSection) continue;
      if (raw === ARGS_KEY) {
        throw this.at(line, `'${ARGS_KEY}' is only allowed in a section mapping`);
      }
      const { name, args } = this.parseKey(raw, line);
      out.push(...this.entry(name, args, this.resolve(pair.value as YamlNode | null), line));
    }
    this.active.delete(map);
    return out;
  }

  /** One `key: value` pair: a directive, a section, or a list of either. */
  private entry(
    name: string,
    keyArgs: string[],
    value: YamlNode | null,
    line: number,
  ): ConfigNode[] {
    if (value === null) return [this.node(name, keyArgs, line)];
    if (isScalar(value)) {
      return [this.node(name, [...keyArgs, ...this.split(value, line)], line)];
    }
    if (isMap(value)) return [this.section(name, keyArgs, value, line)];
    if (isSeq(value)) {
      const out: ConfigNode[] = [];
      for (const raw of value.items) {
        const item = this.resolve(raw as YamlNode | null);
        // An empty item (`-` alone) repeats the directive with only the key's arguments.
        if (item === null) {
          out.push(this.node(name, keyArgs, line));
        } else if (isScalar(item)) {
          const itemLine = this.lineOf(item.range?.[0]) || line;
          out.push(this.node(name, [...keyArgs, ...this.split(item, itemLine)], itemLine));
        } else if (isMap(item)) {
          out.push(this.section(name, keyArgs, item, this.lineOf(item.range?.[0]) || line));
        } else {
          throw this.error(item, `'${name}' takes a list of values or mappings, not nested lists`);
        }
      }
      return out;
    }
    throw this.at(line, `unsupported YAML value for '${name}'`);
  }

  /** A section: the key's arguments, then those of `_args`, then the other keys as children. */
  private section(name: string, keyArgs: string[], map: YAMLMap, line: number): ConfigNode {
    const args = [...keyArgs];
    let seenArgs = false;
    for (const pair of map.items) {
      const key = this.resolve(pair.key as YamlNode | null);
      if (key === null || !isScalar(key) || String(key.value) !== ARGS_KEY) continue;
      const keyLine = this.lineOf(key.range?.[0]);
      if (seenArgs) throw this.at(keyLine, `'${ARGS_KEY}' given twice in <${name}>`);
      seenArgs = true;
      const value = this.resolve(pair.value as YamlNode | null);
      if (value === null) continue;
      if (!isScalar(value)) {
        throw this.at(keyLine, `'${ARGS_KEY}' of <${name}> must be a string of arguments`);
      }
      args.push(...this.sectionArgs(String(value.value), keyLine));
    }
    const children = this.body(map, true);
    return { name, args, children, file: this.file, line };
  }

  /** `Name args…` or `<Name args…>`: the directive name, then arguments with httpd quoting. */
  private parseKey(raw: string, line: number): { name: string; args: string[] } {
    let text = raw.trim();
    if (text.startsWith("<")) {
      if (!text.endsWith(">")) throw this.at(line, `'${raw}' is missing its closing '>'`);
      text = text.slice(1, -1).trim();
    }
    const match = /^(\S*)\s*([\s\S]*)$/.exec(text);
    const name = match?.[1] ?? "";
    if (name.startsWith("/")) {
      throw this.at(line, `'${raw}': a YAML section ends with its indentation, not a closing tag`);
    }
    if (!DIRECTIVE_NAME.test(name)) {
      throw this.at(line, `'${raw}' is not a directive name`);
    }
    return { name, args: this.sectionArgs(match?.[2] ?? "", line) };
  }

  /** `IfFile !"/a b"`: like parse.ts, the `!` prefixes the quoted word instead of splitting it. */
  private sectionArgs(text: string, line: number): string[] {
    const rest = text.trim();
    if (!/^!["']/.test(rest)) return tokenize(rest, this.file, line);
    const [first = "", ...others] = tokenize(rest.slice(1), this.file, line);
    return [`!${first}`, ...others];
  }

  /** A scalar's text split with httpd.conf's quoting rules (parse.ts), so both front ends agree. */
  private split(scalar: Scalar, line: number): string[] {
    return tokenize(String(scalar.value), this.file, line);
  }

  private node(name: string, args: string[], line: number): ConfigNode {
    return { name, args, file: this.file, line };
  }

  /** Follows aliases to their anchor; anything else is returned as is. */
  private resolve(node: YamlNode | null | undefined): YamlNode | null {
    if (node === null || node === undefined) return null;
    if (!isAlias(node)) return node;
    const target = node.resolve(this.doc);
    if (target === undefined) throw this.error(node, `unknown alias '*${node.source}'`);
    return target as YamlNode;
  }

  private error(node: YamlNode, message: string): ConfigError {
    return this.at(this.lineOf(node.range?.[0]), message);
  }

  private at(line: number, message: string): ConfigError {
    return new ConfigError(message, this.file, line);
  }
}
