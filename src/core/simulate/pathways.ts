import type { Rng } from '../random';
import { shuffled } from '../random';
import type { RegulatoryNetwork } from './network';

/**
 * The shared network plus context-specific modules: a module is a regulator's extra set of target edges
 * that exists only in the contexts where the module is active (buildContexts decides which). Module edges
 * are merged into the network's edge list, off unless a context switches them on.
 */
export interface ContextualNetwork {
  network: RegulatoryNetwork;
  /** Per edge (length E): the module it belongs to, or -1 for an edge of the shared network. */
  edgeModule: Int32Array;
  /** Number of modules M. */
  modules: number;
}

export interface ModuleOptions {
  /** Number of modules wanted; at most one per regulator. */
  modules: number;
  /** Range of the number of targets per module (inclusive). */
  moduleTargets: readonly [number, number];
  /** Range of |weight| of a module edge; signs are positive with probability activationShare. */
  moduleWeight: readonly [number, number];
  activationShare: number;
}

/**
 * Adds M modules to the shared network: each picks a distinct regulator as head and that many genes later
 * in the topological order as targets (so the graph stays a DAG). Edges of the shared network keep their
 * relative order in the merged list, so per-edge draws over them are the same with and without modules.
 * With modules = 0 the network is returned as is.
 */
export function addContextModules(
  rng: Rng,
  base: RegulatoryNetwork,
  options: ModuleOptions,
): ContextualNetwork {
  const G = base.genes;
  const E = base.edgeWeight.length;
  const regulators: number[] = [];
  for (let g = 0; g < G; g++) if (base.isRegulator[g] && base.position[g] < G - 1) regulators.push(g);
  const heads = shuffled(regulators, rng).slice(0, Math.max(0, Math.min(options.modules, regulators.length)));
  if (heads.length === 0) return { network: base, edgeModule: new Int32Array(E).fill(-1), modules: 0 };

  // Module edges grouped by child position, to merge into the CSR lists.
  const byChild = new Map<number, { parent: number; weight: number; module: number }[]>();
  heads.forEach((head, m) => {
    const start = base.position[head] + 1;
    const [lo, hi] = options.moduleTargets;
    const wanted = Math.min(G - start, lo + rng.int(hi - lo + 1));
    const positions = shuffled(
      Array.from({ length: G - start }, (_, i) => start + i),
      rng,
    ).slice(0, wanted);
    for (const k of positions) {
      const [wlo, whi] = options.moduleWeight;
      const sign = rng.next() < options.activationShare ? 1 : -1;
      const list = byChild.get(k) ?? [];
      list.push({ parent: head, weight: sign * (wlo + (whi - wlo) * rng.next()), module: m });
      byChild.set(k, list);
    }
  });

  const parents: number[] = [];
  const children: number[] = [];
  const weights: number[] = [];
  const modules: number[] = [];
  const edgeStart = new Int32Array(G + 1);
  for (let k = 0; k < G; k++) {
    edgeStart[k] = parents.length;
    for (let e = base.edgeStart[k]; e < base.edgeStart[k + 1]; e++) {
      parents.push(base.edgeParent[e]);
      children.push(base.edgeChild[e]);
      weights.push(base.edgeWeight[e]);
      modules.push(-1);
    }
    for (const edge of byChild.get(k) ?? []) {
      parents.push(edge.parent);
      children.push(base.order[k]);
      weights.push(edge.weight);
      modules.push(edge.module);
    }
  }
  edgeStart[G] = parents.length;
  return {
    network: {
      ...base,
      edgeStart,
      edgeParent: Int32Array.from(parents),
      edgeChild: Int32Array.from(children),
      edgeWeight: Float64Array.from(weights),
    },
    edgeModule: Int32Array.from(modules),
    modules: heads.length,
  };
}
