// Hook tables: per phase, the registered functions sorted as apr_hook_sort does (order, then before/after).
import { ORDER_VALUE, PHASES, hookSpec } from "./module.ts";
import type { FilterFn, HookFn, HookSpec, LogFn, Module, Phase } from "./module.ts";

export interface SortedHook<F> {
  fn: F;
  module: string;
  order: number;
  enabled?: HookSpec<F>["enabled"];
  handles?: readonly string[];
}

export interface HookTable {
  phases: Record<Phase, SortedHook<HookFn>[]>;
  output_filter: SortedHook<FilterFn>[];
  log_transaction: SortedHook<LogFn>[];
}

interface Candidate<F> extends SortedHook<F> {
  before: string[];
  after: string[];
  seq: number;
}

/**
 * Sorts one phase: by order value (stable in module list order), then a topological pass so that every
 * `before`/`after` naming a loaded module holds. A cycle is a configuration error.
 */
export function sortHooks<F>(list: Candidate<F>[], phase: string): SortedHook<F>[] {
  const sorted = [...list].sort((a, b) => a.order - b.order || a.seq - b.seq);
  const names = new Set(sorted.map((h) => h.module));
  // edges: a must run before b
  const mustPrecede = new Map<Candidate<F>, Set<Candidate<F>>>();
  for (const h of sorted) mustPrecede.set(h, new Set());
  for (const h of sorted) {
    for (const other of sorted) {
      if (other === h) continue;
      if (h.before.includes(other.module) && names.has(other.module)) mustPrecede.get(other)!.add(h);
      if (h.after.includes(other.module) && names.has(other.module)) mustPrecede.get(h)!.add(other);
    }
  }
  const out: SortedHook<F>[] = [];
  const done = new Set<Candidate<F>>();
  while (out.length < sorted.length) {
    const next = sorted.find((h) => !done.has(h) && [...mustPrecede.get(h)!].every((p) => done.has(p)));
    if (!next) throw new Error(`hook ordering cycle in phase ${phase}`);
    done.add(next);
    out.push({ fn: next.fn, module: next.module, order: next.order, enabled: next.enabled, handles: next.handles });
  }
  return out;
}

export function buildHookTable(modules: readonly Module[]): HookTable {
  const collect = <F>(key: string): SortedHook<F>[] => {
    const list: Candidate<F>[] = [];
    modules.forEach((m, seq) => {
      const entry = (m.hooks as Record<string, unknown> | undefined)?.[key];
      if (!entry) return;
      const spec = hookSpec(entry as F | HookSpec<F>);
      list.push({
        fn: spec.fn,
        module: m.name,
        order: ORDER_VALUE[spec.order ?? "middle"],
        before: spec.before ?? [],
        after: spec.after ?? [],
        enabled: spec.enabled,
        handles: spec.handles,
        seq,
      });
    });
    return sortHooks(list, key);
  };
  const phases = {} as Record<Phase, SortedHook<HookFn>[]>;
  for (const p of PHASES) phases[p] = collect<HookFn>(p);
  return {
    phases,
    output_filter: collect<FilterFn>("output_filter"),
    log_transaction: collect<LogFn>("log_transaction"),
  };
}

/**
 * The hooks of every phase that are enabled under one merged configuration (see HookSpec.enabled),
 * computed once per per-directory vector and remembered with it.
 */
const active = new WeakMap<unknown[], Record<Phase, SortedHook<HookFn>[]>>();
export function activeHooks(table: HookTable, perDir: unknown[], moduleConfig: unknown[]): Record<Phase, SortedHook<HookFn>[]> {
  let out = active.get(perDir);
  if (out) return out;
  out = {} as Record<Phase, SortedHook<HookFn>[]>;
  const cfg = { perDir, moduleConfig };
  for (const p of PHASES) out[p] = table.phases[p].filter((h) => !h.enabled || h.enabled(cfg));
  active.set(perDir, out);
  return out;
}
