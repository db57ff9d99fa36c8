import type { EffectTensor } from '../data/tensor';

/** Per-gene location and scale of effects, from training pairs only. Both length G. */
export interface GeneStandardisation {
  mean: Float32Array;
  scale: Float32Array;
}

/**
 * Per-gene scale of effects: the root mean square over the pairs with mask[c*P + p] = 1; the location is 0.
 * Effects are differences to control, so 0 must stay "no effect" for the model's denoising, which shrinks
 * toward it; dividing by the RMS still puts every gene on a comparable scale for the loss. A gene's scale is
 * floored at 1e-3 of the median scale so that near-constant genes do not dominate the loss once divided.
 */
export function geneStandardisation(tensor: EffectTensor, mask: Uint8Array): GeneStandardisation {
  const G = tensor.genes.length;
  const sumSq = new Float64Array(G);
  let n = 0;
  for (let pair = 0; pair < mask.length; pair++) {
    if (!mask[pair]) continue;
    n++;
    const base = pair * G;
    for (let g = 0; g < G; g++) sumSq[g] += tensor.values[base + g] ** 2;
  }
  const mean = new Float32Array(G);
  const scale = new Float32Array(G);
  for (let g = 0; g < G; g++) scale[g] = n > 0 ? Math.sqrt(sumSq[g] / n) : 1;
  const sorted = Float32Array.from(scale).sort();
  const floor = Math.max(1e-3 * (sorted[Math.floor(G / 2)] || 1), 1e-8);
  for (let g = 0; g < G; g++) if (!(scale[g] > floor)) scale[g] = floor;
  return { mean, scale };
}
