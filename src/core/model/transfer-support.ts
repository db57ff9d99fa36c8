import { solveRidge } from './ridge';
import { referenceMean, type TransferEpisode, type TransferSource } from './transfer-data';

/*
 * The two rules of the transfer path that are solved from the target's support in every episode rather than
 * learnt (transfer.ts uses them; nothing here is stored or belongs to one context):
 *  - the reference mix: the target as a least-squares combination of its reference contexts;
 *  - the linear transfer's inverse: each query perturbation as a ridge combination of the support
 *    perturbations, compared by their deviation profiles over the references.
 * And, applied at prediction only, the robust shift (robustShift): the fixed form's mean shift over the
 * support recomputed with outlying residuals clipped.
 * Units are the episode's (scaled); K references, S support, Q queries, G genes, F feature genes.
 */

/**
 * Which support rules an episode gets: the transfer path's `mix` and `linear` switches, and `slope`, the
 * remainder slope of a path that sits on the slope-free fixed form.
 */
export interface SupportRules {
  mix: boolean;
  linear: boolean;
  slope?: boolean;
}

/** Ridge of the reference mix, as a fraction of the mean diagonal of its Gram matrix (numerical only). */
const MIX_RIDGE = 1e-3;
/**
 * Ridge of the linear transfer, as a fraction of the mean squared norm of the support's profiles. Measured
 * (numpy, additive residuals, tahoe-5lines and pbmc-drugs, 5/10/30% support, seeds 1-3): results flat from
 * 0.01 to 0.3; 0.1 sits in the middle.
 */
const LINEAR_RIDGE = 0.1;
/**
 * Floor of the remainder slope's denominator, as a multiple of the mean over genes of the base's sum of squares
 * over the support (the fixed form's slope shrinks the same way, with a learnt multiple). Measured (numpy,
 * additive rule on denoised means, 10% support, seeds 1-2): 1 gained more than 3 on sim:gains.
 */
const REMAINDER_SLOPE_FLOOR = 1;

/**
 * How far from the support's median (in robust SDs, 1.4826 MAD) the robust shift clips a residual. Measured
 * in the product, 10% support, seeds 1-3 (reports/SCIENCE.md): clipping at 3 cost tahoe-5lines and
 * pbmc-drugs 0.0006 each, at 4 0.0002, against the plain mean; trimming a tenth at each end cost 0.0015 and
 * 0.0024.
 */
const ROBUST_SHIFT_CLIP = 4;

/** Lower Cholesky factor of (M + ridge I), M symmetric positive semi-definite (n x n, row-major). */
function cholesky(M: Float64Array, n: number, ridge: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = M[i * n + j] + (i === j ? ridge : 0);
      for (let k = 0; k < j; k++) sum -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = i === j ? Math.sqrt(Math.max(sum, 1e-300)) : sum / L[j * n + j];
    }
  }
  return L;
}

/** Solves L L^T x = b for the Cholesky factor L (n x n). */
function choleskySolve(L: Float64Array, b: Float64Array, n: number): Float64Array {
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

/** (M + ridge I)^-1 for a symmetric positive semi-definite M (n x n, row-major). */
export function invertSymmetric(M: Float64Array, n: number, ridge: number): Float64Array {
  const L = cholesky(M, n, ridge);
  const inverse = new Float64Array(n * n);
  const unit = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    unit.fill(0);
    unit[j] = 1;
    const column = choleskySolve(L, unit, n);
    for (let i = 0; i < n; i++) inverse[i * n + j] = column[i];
  }
  return inverse;
}

/**
 * The episode with its support rules:
 *  - mix: weights w [K] by least squares of the support's deviations (episode.residual, centred over the
 *    support) on each reference's deviation of the same perturbations from their mean over the references
 *    (centred the same way), over the feature genes; a query's mix is sum_k w_k (its deviation in reference k
 *    minus that reference's support mean), on every gene: where the target resembles reference k, a
 *    perturbation deviates in the target as it deviates in k. Sets mix [Q, G], mixWeights [K] and replaces
 *    residual by what the mix leaves of it (zero mix with fewer than two support pairs). With source.sparse
 *    the references' deviations are read from their sparse-denoised effects (transfer-data.ts).
 *  - linear: supportInverse [S, S] = (D D^T + ridge I)^-1, D [S, K F] the support's deviation profiles over
 *    the feature genes (the rows transfer.ts compares perturbations by, unweighted).
 */
export function withSupportRules(
  source: TransferSource,
  episode: TransferEpisode,
  rules: SupportRules,
): TransferEpisode {
  if (!rules.mix && !rules.linear && !rules.slope) return episode;
  const { tensor, mask, scale, features } = source;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const F = features.length;
  const { support } = episode;
  const S = support.length;
  const refs: number[] = [];
  for (let c = 0; c < tensor.contexts.length; c++) if (c !== episode.context) refs.push(c);
  const K = refs.length;
  const mean = new Float64Array(G);
  /**
   * Deviations of p from its mean over the readable references, [K, G] (0 where p is not read in k), of the
   * tensor's effects or of `scaled` (C*P*G, scaled units) when given.
   */
  const deviationsOf =
    (scaled?: Float32Array) =>
    (p: number, out: Float64Array): void => {
      out.fill(0);
      if (referenceMean(source, refs, p, mean, scaled) === 0) return;
      refs.forEach((c, k) => {
        if (!mask[c * P + p]) return;
        const at = (c * P + p) * G;
        for (let g = 0; g < G; g++)
          out[k * G + g] = (scaled ? scaled[at + g] : tensor.values[at + g] / scale[g]) - mean[g];
      });
    };
  const deviations = deviationsOf();
  const row = new Float64Array(K * G);
  const supportDeviations = (of: (p: number, out: Float64Array) => void): Float64Array => {
    const all = new Float64Array(S * K * G);
    support.forEach((p, s) => {
      of(p, row);
      all.set(row, s * K * G);
    });
    return all;
  };
  // Built on first use: with the sparse mix and the linear transfer off nothing reads the raw deviations.
  let rawSupport: Float64Array | undefined;
  const supportDev = (): Float64Array => (rawSupport ??= supportDeviations(deviations));
  const out: TransferEpisode = { ...episode };
  if (rules.linear && S > 0 && K > 0 && F > 0) {
    const raw = supportDev();
    // The profiles gathered contiguous first: the Gram matrix is S^2 K F / 2 multiply-adds.
    const D = K * F;
    const profiles = new Float64Array(S * D);
    for (let s = 0; s < S; s++)
      for (let k = 0; k < K; k++) {
        const from = (s * K + k) * G;
        const to = s * D + k * F;
        for (let f = 0; f < F; f++) profiles[to + f] = raw[from + features[f]];
      }
    const gram = new Float64Array(S * S);
    for (let a = 0; a < S; a++)
      for (let b = 0; b <= a; b++) {
        let dot = 0;
        for (let i = 0, ra = a * D, rb = b * D; i < D; i++) dot += profiles[ra + i] * profiles[rb + i];
        gram[a * S + b] = dot;
        gram[b * S + a] = dot;
      }
    let trace = 0;
    for (let a = 0; a < S; a++) trace += gram[a * S + a];
    if (trace > 0)
      out.supportInverse = Float32Array.from(invertSymmetric(gram, S, (LINEAR_RIDGE * trace) / S));
  }
  if (rules.mix) {
    const sparse = source.sparse;
    const mixDeviations = sparse ? deviationsOf(sparse) : deviations;
    const mixSupport = sparse ? supportDeviations(mixDeviations) : supportDev();
    Object.assign(out, referenceMix(episode, mixSupport, K, G, features, mixDeviations, row));
  }
  if (rules.slope) Object.assign(out, remainderSlope(out, G));
  return out;
}

/**
 * The remainder slope, for a path on the slope-free fixed form: per gene, the slope beta [G] of what the mix
 * leaves of the support's deviations (episode.residual) on the support's base prediction, both centred over
 * the support, shrunk by REMAINDER_SLOPE_FLOOR; adds beta (base_q - mean_s base_s) to the queries' mix and
 * takes beta (base_s - mean_s base_s) from the residual. The fixed form's own slope is fitted before the mix
 * and takes part of what the mix explains better; fitted after it, the slope only describes what the mix
 * leaves. Unchanged without episode.supportBase or with fewer than two support pairs.
 */
function remainderSlope(episode: TransferEpisode, G: number): Pick<TransferEpisode, 'mix' | 'residual'> {
  const { supportBase, additive, residual, mix } = episode;
  const S = episode.support.length;
  const Q = episode.queries.length;
  if (!supportBase || S < 2) return { mix, residual };
  const centre = new Float64Array(G);
  for (let s = 0; s < S; s++) for (let g = 0; g < G; g++) centre[g] += supportBase[s * G + g] / S;
  const covariance = new Float64Array(G);
  const variance = new Float64Array(G);
  let meanVariance = 0;
  for (let s = 0; s < S; s++)
    for (let g = 0; g < G; g++) {
      const x = supportBase[s * G + g] - centre[g];
      covariance[g] += x * residual[s * G + g];
      variance[g] += x * x;
      meanVariance += (x * x) / G;
    }
  const floor = REMAINDER_SLOPE_FLOOR * meanVariance;
  if (!(floor > 0)) return { mix, residual };
  const slope = Float64Array.from(variance, (v, g) => covariance[g] / (v + floor));
  const withSlope = mix ? Float32Array.from(mix) : new Float32Array(Q * G);
  for (let q = 0; q < Q; q++)
    for (let g = 0; g < G; g++) withSlope[q * G + g] += slope[g] * (additive[q * G + g] - centre[g]);
  const left = Float32Array.from(residual);
  for (let s = 0; s < S; s++)
    for (let g = 0; g < G; g++) left[s * G + g] -= slope[g] * (supportBase[s * G + g] - centre[g]);
  return { mix: withSlope, residual: left };
}

/** The reference mix of withSupportRules: { mix, mixWeights, residual } (see there). */
function referenceMix(
  episode: TransferEpisode,
  supportDev: Float64Array,
  K: number,
  G: number,
  features: Int32Array,
  deviations: (p: number, out: Float64Array) => void,
  row: Float64Array,
): Pick<TransferEpisode, 'mix' | 'mixWeights' | 'residual'> {
  const { queries, residual } = episode;
  const S = episode.support.length;
  const Q = queries.length;
  const mix = new Float32Array(Q * G);
  const mixWeights = new Float64Array(K);
  if (S < 2 || K === 0 || features.length === 0) return { mix, mixWeights, residual };
  const devCentre = new Float64Array(K * G);
  for (let s = 0; s < S; s++) for (let i = 0; i < K * G; i++) devCentre[i] += supportDev[s * K * G + i] / S;
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
  if (!(trace > 0)) return { mix, mixWeights, residual };
  mixWeights.set(solveRidge(gram, moment, K, (MIX_RIDGE * trace) / K));

  const left = Float32Array.from(residual);
  for (let s = 0; s < S; s++)
    for (let k = 0; k < K; k++) {
      const w = mixWeights[k];
      for (let g = 0; g < G; g++)
        left[s * G + g] -= w * (supportDev[(s * K + k) * G + g] - devCentre[k * G + g]);
    }
  queries.forEach((p, q) => {
    deviations(p, row);
    for (let k = 0; k < K; k++) {
      const w = mixWeights[k];
      for (let g = 0; g < G; g++) mix[q * G + g] += w * (row[k * G + g] - devCentre[k * G + g]);
    }
  });
  return { mix, mixWeights, residual: left };
}

/**
 * The robust shift, [G] in the episode's scaled units: per gene, the mean over the support of the additive
 * rule's residual (episode.residual as buildEpisode leaves it: the target's effect minus the references' mean
 * effect, centred over the support), each value clipped to the median +- ROBUST_SHIFT_CLIP robust SDs, less
 * the plain mean. The fixed form shifts every prediction by the plain mean, so one support perturbation with an
 * outsized effect of its own in the target (a drug that acts very differently there) moves every query of the
 * genes it touches by its effect / S; clipped, the shift follows the bulk of the support, and that
 * perturbation's own deviation is left to the attention and the linear transfer. 0 on genes whose residuals
 * have no spread (MAD 0) and everywhere with fewer than three support pairs.
 */
export function robustShift(episode: Pick<TransferEpisode, 'support' | 'residual'>): Float64Array {
  const S = episode.support.length;
  const G = S > 0 ? episode.residual.length / S : 0;
  const out = new Float64Array(G);
  if (S < 3) return out;
  const column = new Float64Array(S);
  const spread = new Float64Array(S);
  const median = (sorted: Float64Array): number => {
    const mid = S >> 1;
    return S % 2 === 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
  };
  for (let g = 0; g < G; g++) {
    let plain = 0;
    for (let s = 0; s < S; s++) plain += (column[s] = episode.residual[s * G + g]) / S;
    column.sort();
    const centre = median(column);
    for (let s = 0; s < S; s++) spread[s] = Math.abs(column[s] - centre);
    spread.sort();
    const reach = ROBUST_SHIFT_CLIP * 1.4826 * median(spread);
    if (!(reach > 0)) continue;
    let clipped = 0;
    for (let s = 0; s < S; s++) clipped += Math.min(centre + reach, Math.max(centre - reach, column[s])) / S;
    out[g] = clipped - plain;
  }
  return out;
}
