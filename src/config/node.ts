// One node shape for every configuration front end, like httpd's ap_directive_t.

/**
 * A directive or a section in the configuration tree. A section has `children` (possibly empty);
 * a plain directive has none. `name` keeps the spelling of the source (`<Directory` is `Directory`).
 *
 * @example
 * { name: "Directory", args: ["/srv/www"], file: "conf/httpd.conf", line: 12,
 *   children: [{ name: "Require", args: ["all", "granted"], file: "conf/httpd.conf", line: 13 }] }
 */
export interface ConfigNode {
  name: string;
  args: string[];
  children?: ConfigNode[];
  file: string;
  line: number;
}

/** A configuration error that knows where it happened; its message reads like Apache's AH00526. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = "ConfigError";
  }

  /** `AH00526: Syntax error on line 12 of conf/httpd.conf:\nInvalid command 'Foo', ...` */
  format(): string {
    if (this.file === undefined) return this.message;
    if (this.line === undefined || this.line === 0) return `${this.file}: ${this.message}`;
    return `AH00526: Syntax error on line ${this.line} of ${this.file}:\n${this.message}`;
  }

  static at(node: Pick<ConfigNode, "file" | "line">, message: string): ConfigError {
    return new ConfigError(message, node.file, node.line);
  }
}

/** True when a node is a section (`<Name ...>` ... `</Name>`). */
export function isSection(node: ConfigNode): boolean {
  return node.children !== undefined;
}
