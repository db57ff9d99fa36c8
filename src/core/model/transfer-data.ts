import { variableGeneIndices } from '../data/select';
import type { EffectTensor } from '../data/tensor';
import { sparsePosteriorMeans } from './sparse-maths';

/**
 * Host-side views of a screen for the learnt transfer path (transfer.ts). Everything is in scaled units
 * (each gene divided by its scale) and in plain typed arrays; C contexts, P perturbations, G genes, F the
 * feature genes that perturbations are compared on, K the reference contexts of an episode.
 */
export interface TransferSource {
  tensor: EffectTensor;
  /** C*P: 1 where the pair may be read (training pairs). */
  mask: Uint8Array;
  /** G: per-gene scale (original units per scaled unit). */
  scale: Float32Array;
  /** Feature genes (indices into G), the most variable ones over the training pairs. */
  features: Int32Array;
  /**
   * C*P*G, the layout of tensor.values: each context's readable effects denoised as sparse
   * (sparseReferenceEffects), scaled units; when present the reference mix reads these instead of the raw
   * effects (transfer-support.ts).
   */
  sparse?: Float32Array;
}

/**
 * Each context's readable effects (scaled units) replaced by their posterior means under a sparse prior fitted
 * on that context's readable pairs alone (sparse-maths.ts); unreadable pairs stay 0. C*P*G like tensor.values.
 * `reuse` (the same tensor and scale under another mask) gives the contexts whose readable pairs are the same.
 */
export function sparseReferenceEffects(
  source: Pick<TransferSource, 'tensor' | 'mask' | 'scale'>,
  reuse?: { mask: Uint8Array; sparse: Float32Array },
): Float32Array {
  const { tensor, mask, scale } = source;
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const out = new Float32Array(C * P * G);
  for (let c = 0; c < C; c++) {
    if (reuse && reuse.mask.subarray(c * P, (c + 1) * P).every((read, p) => read === mask[c * P + p])) {
      out.set(reuse.sparse.subarray(c * P * G, (c + 1) * P * G), c * P * G);
      continue;
    }
    const rows: number[] = [];
    for (let p = 0; p < P; p++) if (mask[c * P + p]) rows.push(p);
    const block = new Float64Array(rows.length * G);
    rows.forEach((p, i) => {
      const at = (c * P + p) * G;
      for (let g = 0; g < G; g++) block[i * G + g] = tensor.values[at + g] / scale[g];
    });
    const denoised = sparsePosteriorMeans(block, rows.length, G);
    rows.forEach((p, i) => out.set(denoised.subarray(i * G, (i + 1) * G), (c * P + p) * G));
  }
  return out;
}

/**
 * One episode: a context plays the target with a support, the references are every other context with
 * readable pairs. Shapes: support S, queries Q.
 *  - devQuery [Q, K, F], devSupport [S, K, F]: per reference context, the pair's effect minus the mean over
 *    the references where it was read (0 where the pair was not read): how the perturbation's effect
 *    differs between contexts, the set the perturbation representation is learnt from;
 *  - meanQuery [Q, F], meanSupport [S, F]: the mean over references on the feature genes;
 *  - residual [S, G]: the support's effect in the target minus the additive baseline;
 *  - additive [Q, G]: the additive baseline of the queries; observed [Q, G]: their effects (0 in prediction).
 */
export interface TransferEpisode {
  context: number;
  references: number;
  support: number[];
  queries: number[];
  devQuery: Float32Array;
  devSupport: Float32Array;
  meanQuery: Float32Array;
  meanSupport: Float32Array;
  residual: Float32Array;
  additive: Float32Array;
  observed: Float32Array;
  /**
   * [Q, G] the reference mix's prediction of the queries' deviations (transfer-support.ts; absent without
   * it), and then `residual` is what the mix leaves of the support's deviations.
   */
  mix?: Float32Array;
  /** [K] the reference mix's weights, in the order of the contexts other than `context`. */
  mixWeights?: Float64Array;
  /** [S, S] (D D^T + ridge I)^-1 of the support's deviation profiles D (transfer-support.ts), when linear. */
  supportInverse?: Float32Array;
  /**
   * [S, G] the base prediction of each support pair (scaled) when the episode sits on a fixed form rather than
   * the additive rule (`additive` then holds the queries' base): the remainder slope's regressor.
   */
  supportBase?: Float32Array;
}

/** The F genes (ascending indices) with the largest variance over the masked pairs; all genes when F >= G. */
export function featureGenes(tensor: EffectTensor, mask: Uint8Array, count: number): Int32Array {
  return variableGeneIndices(tensor, { limit: count, usePairs: mask });
}

/**
 * Mean of perturbation p over the reference contexts `refs` where it is readable, written to out [G] (scaled
 * units); returns how many were read (0 leaves zeros). `scaled` (C*P*G, e.g. source.sparse) is read instead of
 * the tensor's effects divided by their scale.
 */
export function referenceMean(
  source: TransferSource,
  refs: readonly number[],
  p: number,
  out: Float64Array,
  scaled?: Float32Array,
): number {
  const { tensor, mask, scale } = source;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  out.fill(0);
  let n = 0;
  for (const c of refs) {
    if (!mask[c * P + p]) continue;
    n++;
    const row = (c * P + p) * G;
    if (scaled) for (let g = 0; g < G; g++) out[g] += scaled[row + g];
    else for (let g = 0; g < G; g++) out[g] += tensor.values[row + g] / scale[g];
  }
  if (n > 0) for (let g = 0; g < G; g++) out[g] /= n;
  return n;
}

/**
 * Builds the episode where `context` is the target with the given support and queries, reading only masked
 * pairs of the other contexts and the support's pairs of `context` (queries are read for `observed` only
 * when they are masked, so a held-out query is never read). With profiles false the four profile arrays
 * (devQuery, devSupport, meanQuery, meanSupport) are left empty.
 */
export function buildEpisode(
  source: TransferSource,
  context: number,
  support: readonly number[],
  queries: readonly number[],
  options: { profiles: boolean } = { profiles: true },
): TransferEpisode {
  const { tensor, mask, scale, features } = source;
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const F = features.length;
  const refs: number[] = [];
  for (let c = 0; c < C; c++) if (c !== context) refs.push(c);
  const K = refs.length;
  const S = support.length;
  const Q = queries.length;
  const value = (c: number, p: number, g: number) => tensor.values[(c * P + p) * G + g] / scale[g];

  const meanOf = (p: number, out: Float64Array): number => referenceMean(source, refs, p, out);
  const mean = new Float64Array(G);
  const fill = (p: number, row: number, dev: Float32Array, meanOut: Float32Array, full?: Float64Array) => {
    meanOf(p, mean);
    if (full) full.set(mean);
    if (!options.profiles) return;
    for (let f = 0; f < F; f++) meanOut[row * F + f] = mean[features[f]];
    refs.forEach((c, k) => {
      if (!mask[c * P + p]) return;
      const at = (row * K + k) * F;
      for (let f = 0; f < F; f++) dev[at + f] = value(c, p, features[f]) - mean[features[f]];
    });
  };

  // Without profiles (read from the device instead, transfer-resident.ts) they stay empty.
  const rows = (n: number) => (options.profiles ? n : 0);
  const devSupport = new Float32Array(rows(S * K * F));
  const meanSupport = new Float32Array(rows(S * F));
  const supportMeans = new Float64Array(S * G);
  const shift = new Float64Array(G);
  const full = new Float64Array(G);
  support.forEach((p, i) => {
    fill(p, i, devSupport, meanSupport, full);
    supportMeans.set(full, i * G);
    for (let g = 0; g < G; g++) shift[g] += (value(context, p, g) - full[g]) / S;
  });
  const residual = new Float32Array(S * G);
  support.forEach((p, i) => {
    for (let g = 0; g < G; g++)
      residual[i * G + g] = value(context, p, g) - supportMeans[i * G + g] - shift[g];
  });

  const devQuery = new Float32Array(rows(Q * K * F));
  const meanQuery = new Float32Array(rows(Q * F));
  const additive = new Float32Array(Q * G);
  const observed = new Float32Array(Q * G);
  queries.forEach((p, i) => {
    fill(p, i, devQuery, meanQuery, full);
    const readable = mask[context * P + p] === 1;
    for (let g = 0; g < G; g++) {
      additive[i * G + g] = full[g] + shift[g];
      if (readable) observed[i * G + g] = value(context, p, g);
    }
  });
  return {
    context,
    references: K,
    support: [...support],
    queries: [...queries],
    devQuery,
    devSupport,
    meanQuery,
    meanSupport,
    residual,
    additive,
    observed,
  };
}
