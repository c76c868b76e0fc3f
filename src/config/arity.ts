// Argument-count checks with Apache's own wording (config.c invoke_cmd).
import type { DirectiveDef } from "../module.ts";

const WORDS = ["no", "one", "two", "three"];

export function arityError(def: DirectiveDef<unknown, unknown>, args: string[]): string | undefined {
  const { name, help } = def;
  if (def.args === "raw") return undefined;
  if (def.args === "flag") {
    if (args.length !== 1 || !/^(on|off)$/i.test(args[0]!)) return `${name} must be On or Off`;
    return undefined;
  }
  const [min, max] = def.args;
  const n = args.length;
  if (n >= min && n <= max) return undefined;
  if (min === 0 && max === 0) return `${name} takes no arguments`;
  if (max === Infinity) {
    return min <= 1 ? `${name} requires at least one argument, ${help}` : `${name} requires at least ${min} arguments, ${help}`;
  }
  if (min === max) {
    const word = WORDS[min] ?? String(min);
    return `${name} takes ${word} argument${min === 1 ? "" : "s"}, ${help}`;
  }
  if (min === 1 && max === 2) return `${name} takes one or two arguments, ${help}`;
  if (min === 1 && max === 3) return `${name} takes one, two or three arguments, ${help}`;
  if (min === 2 && max === 3) return `${name} takes two or three arguments, ${help}`;
  return `${name} takes ${min} to ${max} arguments, ${help}`;
}
