/**
 * What the teaching network view shows for one perturbation: its perturbed genes, the strongest genes of
 * its true cascade in the target context, the causal edges among them in the target and a reference
 * context, and per gene its observed, true and predicted effect.
 */
import type { EffectTensor } from '../data/tensor';
import { pearson, topAbsIndices } from '../eval/metrics';
import type { SimulatedData } from './simulator';

export interface NetworkGene {
  name: string;
  role: 'perturbed' | 'downstream';
  /** Steps from the nearest perturbed gene along the shown edges live in the target (1 when none is). */
  depth: number;
  observed: number;
  truth: number;
  truthReference: number;
  /** C3TL's prediction; null when the gene or the pair was not predicted. */
  predicted: number | null;
}

export interface NetworkEdge {
  from: number;
  to: number;
  /** Weights (log2 shift per unit shift of the parent) in the target and the reference context. */
  target: number;
  reference: number;
  /** Off in one context, or stronger / weaker by more than a quarter, in the target. */
  change: 'same' | 'off-in-target' | 'off-in-reference' | 'stronger' | 'weaker';
}

export interface NetworkViewData {
  perturbation: string;
  target: string;
  reference: string;
  /** Other contexts with their similarity to the target on its support (mean Pearson), most alike first. */
  references: { context: number; name: string; similarity: number }[];
  genes: NetworkGene[];
  /** Indices into genes. */
  edges: NetworkEdge[];
}

export interface NetworkViewInput {
  sim: Pick<SimulatedData, 'truth' | 'targets' | 'network'> & { tensor: EffectTensor };
  target: number;
  /** Support perturbations of the target (indices), for choosing the reference. */
  support: readonly number[];
  perturbation: number;
  /** null: the reference most like the target on its support. */
  reference: number | null;
  /** C3TL's predicted effects of this pair per gene name, when it was predicted. */
  predicted: Map<string, number> | null;
  /** How many cascade genes to show besides the perturbed ones. */
  downstream?: number;
}

/** See the module comment; sizes are independent of G (the top of the cascade only). */
export function networkView(input: NetworkViewInput): NetworkViewData {
  const { sim, target, perturbation: p } = input;
  const { tensor, truth } = sim;
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const row = (values: Float32Array, c: number, q: number) =>
    values.subarray((c * P + q) * G, (c * P + q + 1) * G);
  const references = [];
  for (let c = 0; c < C; c++) {
    if (c === target) continue;
    let sum = 0;
    let n = 0;
    for (const q of input.support) {
      if (!tensor.observed[c * P + q] || !tensor.observed[target * P + q]) continue;
      sum += pearson(row(tensor.values, target, q), row(tensor.values, c, q));
      n++;
    }
    references.push({ context: c, name: tensor.contexts[c], similarity: n ? sum / n : Number.NaN });
  }
  references.sort((a, b) => (b.similarity || -2) - (a.similarity || -2) || a.context - b.context);
  const reference = input.reference ?? references[0]?.context ?? target;

  const trueTarget = row(truth, target, p);
  const trueReference = row(truth, reference, p);
  const perturbed = sim.targets[p];
  const isPerturbed = new Set(perturbed);
  const { edgeParent, edgeChild, edgeWeight } = sim.network;
  const E = edgeParent.length;
  // Genes downstream of the perturbed ones through edges live in either context. Edges are listed by the
  // child's topological position, so one pass in order reaches the whole cascade.
  const reached = new Uint8Array(G);
  for (const g of perturbed) reached[g] = 1;
  for (let e = 0; e < E; e++) {
    const live = edgeWeight[target * E + e] !== 0 || edgeWeight[reference * E + e] !== 0;
    if (live && reached[edgeParent[e]]) reached[edgeChild[e]] = 1;
  }
  const magnitude = Float64Array.from(trueTarget, (v, g) =>
    reached[g] && !isPerturbed.has(g) ? Math.abs(v) : 0,
  );
  const cascade = Array.from(topAbsIndices(magnitude, input.downstream ?? 12)).filter(
    (g) => magnitude[g] > 0,
  );
  const shown = [...perturbed, ...cascade];
  const slot = new Map(shown.map((g, i) => [g, i]));

  const edges: NetworkEdge[] = [];
  for (let e = 0; e < E; e++) {
    const from = slot.get(edgeParent[e]);
    const to = slot.get(edgeChild[e]);
    if (from === undefined || to === undefined) continue;
    const wt = edgeWeight[target * E + e];
    const wr = edgeWeight[reference * E + e];
    if (wt === 0 && wr === 0) continue;
    const change =
      wt === 0
        ? 'off-in-target'
        : wr === 0
          ? 'off-in-reference'
          : Math.abs(wt) > 1.25 * Math.abs(wr)
            ? 'stronger'
            : Math.abs(wt) < 0.8 * Math.abs(wr)
              ? 'weaker'
              : 'same';
    edges.push({ from, to, target: wt, reference: wr, change });
  }
  // Depth along the target's live edges; the shown genes follow the DAG, so one pass in order suffices.
  const depth = shown.map((_, i) => (i < perturbed.length ? 0 : Number.POSITIVE_INFINITY));
  for (let changed = true, pass = 0; changed && pass < shown.length; pass++) {
    changed = false;
    for (const edge of edges) {
      if (edge.target === 0 || depth[edge.from] + 1 >= depth[edge.to]) continue;
      depth[edge.to] = depth[edge.from] + 1;
      changed = true;
    }
  }
  const genes: NetworkGene[] = shown.map((g, i) => ({
    name: tensor.genes[g],
    role: i < perturbed.length ? 'perturbed' : 'downstream',
    depth: Number.isFinite(depth[i]) ? depth[i] : 1,
    observed: tensor.observed[target * P + p] ? tensor.values[(target * P + p) * G + g] : Number.NaN,
    truth: trueTarget[g],
    truthReference: trueReference[g],
    predicted: input.predicted?.get(tensor.genes[g]) ?? null,
  }));
  return {
    perturbation: tensor.perturbations[p],
    target: tensor.contexts[target],
    reference: tensor.contexts[reference],
    references,
    genes,
    edges,
  };
}
