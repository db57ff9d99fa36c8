import { variableGeneIndices } from '../data/select';
import type { EffectTensor } from '../data/tensor';

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
   * [Q, G] the reference mix's prediction of the queries' deviations (withReferenceMix; absent without it),
   * and then `residual` is what the mix leaves of the support's deviations.
   */
  mix?: Float32Array;
}

/** The F genes (ascending indices) with the largest variance over the masked pairs; all genes when F >= G. */
export function featureGenes(tensor: EffectTensor, mask: Uint8Array, count: number): Int32Array {
  return variableGeneIndices(tensor, { limit: count, usePairs: mask });
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

  /** Mean over the references where p is readable, G (scaled); count 0 leaves zeros. */
  const meanOf = (p: number, out: Float64Array): number => {
    out.fill(0);
    let n = 0;
    for (const c of refs) {
      if (!mask[c * P + p]) continue;
      n++;
      for (let g = 0; g < G; g++) out[g] += value(c, p, g);
    }
    if (n > 0) for (let g = 0; g < G; g++) out[g] /= n;
    return n;
  };
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

/** Solves (M + ridge I) x = b for a symmetric positive semi-definite M (n x n, row-major) by Cholesky. */
function solveSymmetric(M: Float64Array, b: Float64Array, n: number, ridge: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = M[i * n + j] + (i === j ? ridge : 0);
      for (let k = 0; k < j; k++) sum -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = i === j ? Math.sqrt(Math.max(sum, 1e-300)) : sum / L[j * n + j];
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= L[i * n + k] * y[k];
    y[i] = sum / L[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < n; k++) sum -= L[k * n + i] * x[k];
    x[i] = sum / L[i * n + i];
  }
  return x;
}

/**
 * The target as a mix of its reference contexts, fitted on its support: weights w [K] by least squares of
 * the support's deviations (episode.residual, centred over the support) on each reference's deviation of the
 * same perturbations from their mean over the references (centred the same way), over the feature genes, with
 * a small ridge (1e-3 of the mean diagonal) for references that barely differ. A query's mix is then
 * sum_k w_k (its deviation in reference k minus that reference's support mean), on every gene: where the
 * target resembles reference k, a perturbation deviates in the target as it deviates in k. K weights per
 * episode, none stored, nothing belonging to one context. Sets episode.mix [Q, G] and replaces
 * episode.residual by what the mix leaves of it; with fewer than two support pairs the mix is zero.
 */
export function withReferenceMix(source: TransferSource, episode: TransferEpisode): TransferEpisode {
  const { tensor, mask, scale, features } = source;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const F = features.length;
  const { support, queries, residual } = episode;
  const S = support.length;
  const Q = queries.length;
  const refs: number[] = [];
  for (let c = 0; c < tensor.contexts.length; c++) if (c !== episode.context) refs.push(c);
  const K = refs.length;
  const mix = new Float32Array(Q * G);
  if (S < 2 || K === 0) return { ...episode, mix };
  const value = (c: number, p: number, g: number) => tensor.values[(c * P + p) * G + g] / scale[g];
  /** Deviations of p from its mean over the readable references, [K, G] (0 where p is not read in k). */
  const deviations = (p: number, out: Float64Array): void => {
    out.fill(0);
    const mean = new Float64Array(G);
    let n = 0;
    for (const c of refs) {
      if (!mask[c * P + p]) continue;
      n++;
      for (let g = 0; g < G; g++) mean[g] += value(c, p, g);
    }
    if (n === 0) return;
    refs.forEach((c, k) => {
      if (!mask[c * P + p]) return;
      for (let g = 0; g < G; g++) out[k * G + g] = value(c, p, g) - mean[g] / n;
    });
  };
  const supportDev = new Float64Array(S * K * G);
  const devCentre = new Float64Array(K * G);
  const row = new Float64Array(K * G);
  support.forEach((p, s) => {
    deviations(p, row);
    supportDev.set(row, s * K * G);
    for (let i = 0; i < K * G; i++) devCentre[i] += row[i] / S;
  });
  const residualCentre = new Float64Array(G);
  for (let s = 0; s < S; s++) for (let g = 0; g < G; g++) residualCentre[g] += residual[s * G + g] / S;

  const gram = new Float64Array(K * K);
  const moment = new Float64Array(K);
  const centred = new Float64Array(K);
  for (let s = 0; s < S; s++) {
    for (const g of features) {
      for (let k = 0; k < K; k++) centred[k] = supportDev[(s * K + k) * G + g] - devCentre[k * G + g];
      const r = residual[s * G + g] - residualCentre[g];
      for (let i = 0; i < K; i++) {
        moment[i] += centred[i] * r;
        for (let j = 0; j <= i; j++) gram[i * K + j] += centred[i] * centred[j];
      }
    }
  }
  let trace = 0;
  for (let i = 0; i < K; i++) {
    trace += gram[i * K + i];
    for (let j = 0; j < i; j++) gram[j * K + i] = gram[i * K + j];
  }
  if (!(trace > 0) || F === 0) return { ...episode, mix };
  const weights = solveSymmetric(gram, moment, K, (1e-3 * trace) / K);

  const left = Float32Array.from(residual);
  for (let s = 0; s < S; s++)
    for (let k = 0; k < K; k++) {
      const w = weights[k];
      for (let g = 0; g < G; g++)
        left[s * G + g] -= w * (supportDev[(s * K + k) * G + g] - devCentre[k * G + g]);
    }
  queries.forEach((p, q) => {
    deviations(p, row);
    for (let k = 0; k < K; k++) {
      const w = weights[k];
      for (let g = 0; g < G; g++) mix[q * G + g] += w * (row[k * G + g] - devCentre[k * G + g]);
    }
  });
  return { ...episode, mix, residual: left };
}
