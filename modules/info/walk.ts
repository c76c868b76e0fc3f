// The configuration tree as mod_info prints it: file:line per directive, enclosing sections shown as needed.
import { escapeHtml } from "../../src/http/errors.ts";
import type { ConfigNode } from "../../src/config/node.ts";

/**
 * put_int_flush_right: the line number right-aligned in 4 columns, `&nbsp;` for the padding (and for
 * the whole field when the line is 0, as section closers print).
 */
export function lineField(n: number, field = 4): string {
  let out = "";
  if (field > 1 || n > 9) out += lineField(Math.floor(n / 10), field - 1);
  return out + (n ? String(n % 10) : "&nbsp;");
}

/** A directive's arguments as written: quoted again where a value holds blanks or is empty. */
export function argText(args: readonly string[]): string {
  return args.map((a) => (a === "" || /[\s"]/.test(a) ? `"${a.replace(/(["\\])/g, "\\$1")}"` : a)).join(" ");
}

/** Walks the tree like mod_info_module_cmds; `wanted` filters directive names (lower case), none = all. */
export class TreePrinter {
  private out: string[] = [];
  private file: string | undefined = undefined;

  constructor(private readonly wanted: ReadonlySet<string> | undefined) {}

  render(tree: readonly ConfigNode[]): string {
    this.file = undefined;
    this.walk(tree, [], 0, 0);
    return this.out.join("");
  }

  /** Returns how deep the enclosing sections have been printed (Apache's `shown`). */
  private walk(nodes: readonly ConfigNode[], parents: ConfigNode[], from: number, level: number): number {
    let shown = from;
    for (const node of nodes) {
      if (node.children !== undefined && node.children.length > 0) {
        if (level < this.walk(node.children, [...parents, node], shown, level + 1)) {
          shown = level;
          this.close(node, level);
        }
      } else if (this.wanted === undefined || this.wanted.has(node.name.toLowerCase())) {
        if (shown < level) {
          for (let l = shown; l < level; l++) this.open(parents[l]!, l);
          shown = level;
        }
        this.indent(level, node.file, node.line);
        this.out.push(`${escapeHtml(node.name)} <i>${escapeHtml(argText(node.args))}</i></tt></dd>\n`);
      }
    }
    return shown;
  }

  private open(node: ConfigNode, level: number): void {
    this.indent(level, node.file, node.line);
    this.out.push(`&lt;${escapeHtml(node.name)} ${escapeHtml(argText(node.args))}&gt;</tt></dd>\n`);
  }

  private close(node: ConfigNode, level: number): void {
    this.indent(level, node.file, 0);
    this.out.push(`&lt;/${escapeHtml(node.name)}&gt;</tt></dd>`);
  }

  /** mod_info_indent: an "In file:" line whenever the file changes, the line number, two spaces a level. */
  private indent(level: number, file: string, line: number): void {
    const f = file || "*UNKNOWN*";
    if (this.file !== f) {
      this.out.push(`<dd><tt><strong>In file: ${escapeHtml(f)}</strong></tt></dd>\n`);
      this.file = f;
    }
    this.out.push(`<dd><tt>${lineField(line > 0 ? line : 0)}:&nbsp;${"&nbsp;&nbsp;".repeat(level)}`);
  }
}
