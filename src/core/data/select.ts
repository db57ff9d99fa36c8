import type { EffectTensor } from './tensor';

export interface SelectGenesOptions {
  /** How many genes to keep; 0 (or at least G) keeps all. */
  limit: number;
  /** Length C*P; 1 = the pair may inform the choice. Intersected with `observed`; default all observed pairs. */
  usePairs?: Uint8Array;
}

/**
 * Indices (ascending) of the `limit` genes with the largest variance of their effect over the allowed observed
 * pairs (population variance over pairs, per gene); ties go to the earlier gene; all genes when limit <= 0 or
 * limit >= G.
 */
export function variableGeneIndices(tensor: EffectTensor, options: SelectGenesOptions): Int32Array {
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const { limit, usePairs } = options;
  if (usePairs && usePairs.length !== C * P) {
    throw new RangeError(`usePairs has length ${usePairs.length}, expected C*P = ${C * P}`);
  }
  if (limit <= 0 || limit >= G) return Int32Array.from({ length: G }, (_, g) => g);
  const sum = new Float64Array(G);
  const sumSq = new Float64Array(G);
  let n = 0;
  for (let pair = 0; pair < C * P; pair++) {
    if (!tensor.observed[pair] || (usePairs && !usePairs[pair])) continue;
    n++;
    const base = pair * G;
    for (let g = 0; g < G; g++) {
      const v = tensor.values[base + g];
      sum[g] += v;
      sumSq[g] += v * v;
    }
  }
  const variance = new Float64Array(G);
  if (n > 0) {
    for (let g = 0; g < G; g++) {
      const mean = sum[g] / n;
      variance[g] = Math.max(0, sumSq[g] / n - mean * mean);
    }
  }
  const order = Array.from({ length: G }, (_, g) => g).sort((a, b) => variance[b] - variance[a] || a - b);
  return Int32Array.from(order.slice(0, limit).sort((a, b) => a - b));
}

/**
 * The `limit` genes with the largest variance of their effect over the allowed observed pairs (population
 * variance over pairs, per gene), as a new tensor restricted to them in their original order. Ties go to the
 * earlier gene. Only allowed pairs inform the choice, so held-out pairs cannot leak into gene selection;
 * values, masks and basal are copied for every pair.
 */
export function selectVariableGenes(tensor: EffectTensor, options: SelectGenesOptions): EffectTensor {
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const keep = Array.from(variableGeneIndices(tensor, options));
  const K = keep.length;
  const values = new Float32Array(C * P * K);
  for (let pair = 0; pair < C * P; pair++) {
    const src = pair * G;
    const dst = pair * K;
    for (let j = 0; j < K; j++) values[dst + j] = tensor.values[src + keep[j]];
  }
  let basal: Float32Array | undefined;
  if (tensor.basal) {
    const from = tensor.basal;
    basal = new Float32Array(C * K);
    for (let c = 0; c < C; c++) for (let j = 0; j < K; j++) basal[c * K + j] = from[c * G + keep[j]];
  }
  return {
    contexts: [...tensor.contexts],
    perturbations: [...tensor.perturbations],
    genes: keep.map((g) => tensor.genes[g]),
    values,
    observed: tensor.observed.slice(),
    replicates: tensor.replicates.slice(),
    ...(basal ? { basal } : {}),
  };
}

/** The tensor restricted to the named contexts, in the given order (each must be among tensor.contexts). */
export function restrictToContexts(tensor: EffectTensor, names: readonly string[]): EffectTensor {
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const keep = names.map((name) => {
    const c = tensor.contexts.indexOf(name);
    if (c < 0) throw new RangeError(`No context named "${name}".`);
    return c;
  });
  const values = new Float32Array(keep.length * P * G);
  const observed = new Uint8Array(keep.length * P);
  const replicates = new Uint16Array(keep.length * P);
  keep.forEach((c, i) => {
    values.set(tensor.values.subarray(c * P * G, (c + 1) * P * G), i * P * G);
    observed.set(tensor.observed.subarray(c * P, (c + 1) * P), i * P);
    replicates.set(tensor.replicates.subarray(c * P, (c + 1) * P), i * P);
  });
  let basal: Float32Array | undefined;
  if (tensor.basal) {
    const from = tensor.basal;
    basal = new Float32Array(keep.length * G);
    keep.forEach((c, i) => basal?.set(from.subarray(c * G, (c + 1) * G), i * G));
  }
  return {
    contexts: keep.map((c) => tensor.contexts[c]),
    perturbations: [...tensor.perturbations],
    genes: [...tensor.genes],
    values,
    observed,
    replicates,
    ...(basal ? { basal } : {}),
  };
}
