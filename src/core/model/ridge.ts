import type { EffectTensor } from '../data/tensor';
import type { BaselineContext } from './baseline-context';

/** Ridge penalties, relative to the mean squared norm of a feature column (trace(XᵀX)/K). */
export const DEFAULT_RIDGE_LAMBDAS: readonly number[] = [1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1];
/** Fewer support pairs than this: no leave-one-out, the middle penalty of the sorted grid (index floor(n/2)) is used. */
export const RIDGE_MIN_PAIRS_FOR_CV = 3;

/** Solves (A + lambda·I) w = b for a small dense K×K system by Gaussian elimination with partial pivoting;
 *  a singular system leaves the affected weights at 0. */
export function solveRidge(A: Float64Array, b: Float64Array, K: number, lambda: number): Float64Array {
  const M = new Float64Array(K * K);
  const r = Float64Array.from(b);
  for (let i = 0; i < K * K; i++) M[i] = A[i];
  for (let i = 0; i < K; i++) M[i * K + i] += lambda;
  for (let col = 0; col < K; col++) {
    let best = col;
    for (let i = col + 1; i < K; i++) if (Math.abs(M[i * K + col]) > Math.abs(M[best * K + col])) best = i;
    if (best !== col) {
      for (let j = 0; j < K; j++) {
        const t = M[col * K + j];
        M[col * K + j] = M[best * K + j];
        M[best * K + j] = t;
      }
      const t = r[col];
      r[col] = r[best];
      r[best] = t;
    }
    const piv = M[col * K + col];
    if (piv === 0) continue;
    for (let i = col + 1; i < K; i++) {
      const f = M[i * K + col] / piv;
      if (f === 0) continue;
      for (let j = col; j < K; j++) M[i * K + j] -= f * M[col * K + j];
      r[i] -= f * r[col];
    }
  }
  const w = new Float64Array(K);
  for (let i = K - 1; i >= 0; i--) {
    const piv = M[i * K + i];
    if (piv === 0) continue;
    let s = r[i];
    for (let j = i + 1; j < K; j++) s -= M[i * K + j] * w[j];
    w[i] = s / piv;
  }
  return w;
}

/**
 * Ridge regression of the target on the other contexts: y_tp ≈ Σ_{c≠t} w_c x_cp with x_cp = y_cp where
 * measured, else perturb_mean_p. Rows are all genes of all support pairs; no intercept (effects are already
 * differences to control, a shared offset is what additive models). The penalty is chosen from the grid by
 * leave-one-support-pair-out squared error when there are ≥ RIDGE_MIN_PAIRS_FOR_CV support pairs.
 * pm: P*G perturbation means without t (perturbationMeans); lambdas: penalties relative to trace(XᵀX)/K
 * (K = C-1 features). Returns the weights (length C-1, contexts in order, t skipped) and the chosen penalty.
 */
export function fitRidge(
  tensor: EffectTensor,
  target: number,
  support: readonly number[],
  pm: Float32Array,
  lambdas: readonly number[],
): { weights: Float64Array; lambda: number } {
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const others: number[] = [];
  for (let c = 0; c < C; c++) if (c !== target) others.push(c);
  const K = others.length;
  const grid = lambdas.slice().sort((a, b) => a - b);
  if (grid.length === 0 || grid.some((l) => !(l > 0) || !Number.isFinite(l))) {
    throw new Error(`Ridge penalties must be finite and > 0, got [${lambdas.join(', ')}].`);
  }
  // Per support pair Gram statistics, so that leave-one-out never touches the genes again.
  const S = support.length;
  const KK = K * K;
  const pairA = new Float64Array(S * KK);
  const pairB = new Float64Array(S * K);
  const pairYY = new Float64Array(S);
  const x = new Float64Array(K);
  for (let i = 0; i < S; i++) {
    const s = support[i];
    const srcs = others.map((c) =>
      tensor.observed[c * P + s] ? { a: tensor.values, o: (c * P + s) * G } : { a: pm, o: s * G },
    );
    const yOff = (target * P + s) * G;
    for (let g = 0; g < G; g++) {
      for (let k = 0; k < K; k++) x[k] = srcs[k].a[srcs[k].o + g];
      const y = tensor.values[yOff + g];
      pairYY[i] += y * y;
      for (let k = 0; k < K; k++) {
        pairB[i * K + k] += x[k] * y;
        for (let l = k; l < K; l++) pairA[i * KK + k * K + l] += x[k] * x[l];
      }
    }
    for (let k = 0; k < K; k++)
      for (let l = 0; l < k; l++) pairA[i * KK + k * K + l] = pairA[i * KK + l * K + k];
  }
  const A = new Float64Array(KK);
  const b = new Float64Array(K);
  for (let i = 0; i < S; i++) {
    for (let j = 0; j < KK; j++) A[j] += pairA[i * KK + j];
    for (let k = 0; k < K; k++) b[k] += pairB[i * K + k];
  }
  const scaleOf = (M: Float64Array): number => {
    let tr = 0;
    for (let k = 0; k < K; k++) tr += M[k * K + k];
    return tr / K;
  };
  const scale = scaleOf(A);
  if (K === 0 || !(scale > 0)) return { weights: new Float64Array(K), lambda: grid[0] };

  let chosen = grid[Math.floor(grid.length / 2)];
  if (grid.length > 1 && S >= RIDGE_MIN_PAIRS_FOR_CV) {
    let bestErr = Infinity;
    const Ai = new Float64Array(KK);
    const bi = new Float64Array(K);
    for (const lam of grid) {
      let err = 0;
      for (let i = 0; i < S; i++) {
        for (let j = 0; j < KK; j++) Ai[j] = A[j] - pairA[i * KK + j];
        for (let k = 0; k < K; k++) bi[k] = b[k] - pairB[i * K + k];
        const sc = scaleOf(Ai);
        const w = sc > 0 ? solveRidge(Ai, bi, K, lam * sc) : new Float64Array(K);
        // ||y_i - X_i w||² = y·y - 2 wᵀb_i + wᵀA_i w
        let e = pairYY[i];
        for (let k = 0; k < K; k++) {
          e -= 2 * w[k] * pairB[i * K + k];
          for (let l = 0; l < K; l++) e += w[k] * pairA[i * KK + k * K + l] * w[l];
        }
        err += e;
      }
      // Strictly smaller: on equal error the smaller penalty (earlier in the sorted grid) is kept.
      if (err < bestErr) {
        bestErr = err;
        chosen = lam;
      }
    }
  }
  return { weights: solveRidge(A, b, K, chosen * scale), lambda: chosen };
}

/** ridge for each query perturbation p: Σ_{c≠t} w_c x_cp with the weights of fitRidge; Q*G row-major. */
export function ridgePredictions(ctx: BaselineContext, lambdas: readonly number[]): Float32Array {
  const { tensor, target, support, query, pm } = ctx;
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const { weights } = fitRidge(tensor, target, support, pm, lambdas);
  const others: number[] = [];
  for (let c = 0; c < C; c++) if (c !== target) others.push(c);
  const out = new Float32Array(query.length * G);
  const acc = new Float64Array(G);
  query.forEach((p, qi) => {
    acc.fill(0);
    for (let k = 0; k < others.length; k++) {
      const c = others[k];
      const w = weights[k];
      const src = tensor.observed[c * P + p] ? tensor.values : pm;
      const off = tensor.observed[c * P + p] ? (c * P + p) * G : p * G;
      for (let g = 0; g < G; g++) acc[g] += w * src[off + g];
    }
    for (let g = 0; g < G; g++) out[qi * G + g] = acc[g];
  });
  return out;
}
