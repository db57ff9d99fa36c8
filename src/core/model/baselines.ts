import type { EffectTensor } from '../data/tensor';
import type { BaselineMethod } from '../eval/types';

export interface BaselineInput {
  tensor: EffectTensor;
  /** Context index t of the target. */
  target: number;
  /** Perturbation indices measured in t and in at least one other context, used as support (train + validation). */
  support: number[];
  /** Perturbation indices to predict in t (may be unobserved in t); their values in t are never read. */
  query: number[];
}

export interface BaselineOptions {
  /**
   * Ridge penalties to choose from, relative to the mean squared norm of a feature column (trace(XᵀX)/K), so
   * that they do not depend on the scale of the effects or on the number of rows. Default DEFAULT_RIDGE_LAMBDAS.
   */
  ridgeLambdas?: number[];
  /** Softmax temperature of knn_residual over correlations; default 5. */
  knnTau?: number;
}

export const DEFAULT_RIDGE_LAMBDAS: readonly number[] = [1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1];
export const DEFAULT_KNN_TAU = 5;
/** Fewer support pairs than this: no leave-one-out, the middle penalty of the sorted grid (index floor(n/2)) is used. */
export const RIDGE_MIN_PAIRS_FOR_CV = 3;

function checkIndex(kind: string, i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n)
    throw new Error(`${kind} index ${i} is out of range [0, ${n}).`);
}

/**
 * perturb_mean for every perturbation p: the mean of y_cp over the contexts c != excludeContext where (c, p)
 * was measured. means: P*G row-major by perturbation (a row of 0 where p is measured nowhere else);
 * counts: length P, how many contexts were averaged.
 */
export function perturbationMeans(
  tensor: EffectTensor,
  excludeContext: number,
): { means: Float32Array; counts: Uint16Array } {
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const means = new Float32Array(P * G);
  const counts = new Uint16Array(P);
  const acc = new Float64Array(G);
  for (let p = 0; p < P; p++) {
    acc.fill(0);
    let n = 0;
    for (let c = 0; c < C; c++) {
      if (c === excludeContext || !tensor.observed[c * P + p]) continue;
      const off = (c * P + p) * G;
      for (let g = 0; g < G; g++) acc[g] += tensor.values[off + g];
      n++;
    }
    counts[p] = n;
    if (n > 0) for (let g = 0; g < G; g++) means[p * G + g] = acc[g] / n;
  }
  return { means, counts };
}

/** m_t: the mean effect over the support perturbations in target context t (length G). Throws on an empty
 *  support or on a support perturbation not measured in t. */
export function contextMean(tensor: EffectTensor, target: number, support: readonly number[]): Float32Array {
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  checkIndex('Context', target, tensor.contexts.length);
  if (support.length === 0) throw new Error('contextMean: the support is empty.');
  const acc = new Float64Array(G);
  for (const s of support) {
    checkIndex('Perturbation', s, P);
    if (!tensor.observed[target * P + s]) {
      throw new Error(
        `Support perturbation "${tensor.perturbations[s]}" is not measured in context "${tensor.contexts[target]}".`,
      );
    }
    const off = (target * P + s) * G;
    for (let g = 0; g < G; g++) acc[g] += tensor.values[off + g];
  }
  const out = new Float32Array(G);
  for (let g = 0; g < G; g++) out[g] = acc[g] / support.length;
  return out;
}

/** Solves (A + lambda·I) w = b for a small dense K×K system by Gaussian elimination with partial pivoting;
 *  a singular system leaves the affected weights at 0. */
function solveRidge(A: Float64Array, b: Float64Array, K: number, lambda: number): Float64Array {
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

/**
 * Predictions of the five baselines (docs/DESIGN.md §3) for each query perturbation in target t: Q*G Float32Array
 * per method, row-major in query order. Only y_cp with c ≠ t and the target's support pairs y_ts are read, never
 * the target's query values.
 * - perturb_mean: pm_p, mean of y_cp over the other contexts measuring p (0 where none does).
 * - context_mean: m_t, mean of y_ts over the support.
 * - additive: pm_p + m_t − mean_{s∈S} pm_s.
 * - ridge: Σ_{c≠t} w_c x_cp (see fitRidge).
 * - knn_residual: additive_p + Σ_s softmax_s(τ·corr(pm_p, pm_s)) · (y_ts − additive_s).
 * Throws when the support is empty or a support perturbation is not measured both in t and elsewhere.
 */
export function predictBaselines(
  input: BaselineInput,
  options: BaselineOptions = {},
): Record<BaselineMethod, Float32Array> {
  const { tensor, target, support, query } = input;
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  checkIndex('Context', target, C);
  for (const q of query) checkIndex('Perturbation', q, P);
  const tau = options.knnTau ?? DEFAULT_KNN_TAU;
  if (!Number.isFinite(tau)) throw new Error(`knnTau must be finite, got ${tau}.`);

  const { means: pm, counts } = perturbationMeans(tensor, target);
  const mt = contextMean(tensor, target, support);
  for (const s of support) {
    if (counts[s] === 0) {
      throw new Error(
        `Support perturbation "${tensor.perturbations[s]}" is measured in no context other than "${tensor.contexts[target]}".`,
      );
    }
  }
  const S = support.length;
  const Q = query.length;

  // shift = m_t − mean_s pm_s: how the target moves every perturbation, estimated on the support.
  const shift = new Float64Array(G);
  for (const s of support) for (let g = 0; g < G; g++) shift[g] += pm[s * G + g];
  for (let g = 0; g < G; g++) shift[g] = mt[g] - shift[g] / S;

  const perturbMean = new Float32Array(Q * G);
  const ctxMean = new Float32Array(Q * G);
  const additive = new Float32Array(Q * G);
  const ridge = new Float32Array(Q * G);
  const knn = new Float32Array(Q * G);

  const { weights } = fitRidge(tensor, target, support, pm, options.ridgeLambdas ?? DEFAULT_RIDGE_LAMBDAS);
  const others: number[] = [];
  for (let c = 0; c < C; c++) if (c !== target) others.push(c);

  // Support residuals of additive and standardised pm_s, so that corr(pm_p, pm_s) is one dot product.
  const resid = new Float64Array(S * G);
  const zSupport = new Float64Array(S * G);
  for (let i = 0; i < S; i++) {
    const s = support[i];
    const yOff = (target * P + s) * G;
    for (let g = 0; g < G; g++) resid[i * G + g] = tensor.values[yOff + g] - (pm[s * G + g] + shift[g]);
    standardise(pm, s * G, G, zSupport, i * G);
  }
  const zq = new Float64Array(G);
  const logits = new Float64Array(S);
  const acc = new Float64Array(G);

  for (let qi = 0; qi < Q; qi++) {
    const p = query[qi];
    const o = qi * G;
    const pOff = p * G;
    for (let g = 0; g < G; g++) {
      perturbMean[o + g] = pm[pOff + g];
      ctxMean[o + g] = mt[g];
      additive[o + g] = pm[pOff + g] + shift[g];
    }

    acc.fill(0);
    for (let k = 0; k < others.length; k++) {
      const c = others[k];
      const w = weights[k];
      const src = tensor.observed[c * P + p] ? tensor.values : pm;
      const off = tensor.observed[c * P + p] ? (c * P + p) * G : pOff;
      for (let g = 0; g < G; g++) acc[g] += w * src[off + g];
    }
    for (let g = 0; g < G; g++) ridge[o + g] = acc[g];

    standardise(pm, pOff, G, zq, 0);
    rowDots(zq, zSupport, S, G, logits);
    let maxLogit = -Infinity;
    for (let i = 0; i < S; i++) {
      logits[i] *= tau;
      if (logits[i] > maxLogit) maxLogit = logits[i];
    }
    let z = 0;
    for (let i = 0; i < S; i++) {
      logits[i] = Math.exp(logits[i] - maxLogit);
      z += logits[i];
    }
    for (let i = 0; i < S; i++) logits[i] /= z;
    weightedRowSum(logits, resid, S, G, acc);
    for (let g = 0; g < G; g++) knn[o + g] = pm[pOff + g] + shift[g] + acc[g];
  }

  return { perturb_mean: perturbMean, context_mean: ctxMean, additive, ridge, knn_residual: knn };
}

/**
 * Writes (x - mean) / sqrt(Σ(x - mean)²) of src[off .. off+G) into dst at dstOff, so that the dot product of
 * two such rows is their Pearson correlation; a constant row becomes all zeros (correlation 0).
 */
function standardise(src: Float32Array, off: number, G: number, dst: Float64Array, dstOff: number): void {
  let sum = 0;
  let constant = true;
  const first = src[off];
  for (let g = 0; g < G; g++) {
    sum += src[off + g];
    if (src[off + g] !== first) constant = false;
  }
  if (constant) {
    dst.fill(0, dstOff, dstOff + G);
    return;
  }
  const mean = sum / G;
  let ss = 0;
  for (let g = 0; g < G; g++) {
    const d = src[off + g] - mean;
    dst[dstOff + g] = d;
    ss += d * d;
  }
  const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
  for (let g = 0; g < G; g++) dst[dstOff + g] *= inv;
}

/**
 * out[i] = a · rows[i] for the n rows (length G each) of the row-major matrix rows. Four rows at a time:
 * each load of a serves four independent sums (about 2x faster in V8 than one row at a time).
 */
function rowDots(a: Float64Array, rows: Float64Array, n: number, G: number, out: Float64Array): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const o0 = i * G;
    const o1 = o0 + G;
    const o2 = o1 + G;
    const o3 = o2 + G;
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    for (let g = 0; g < G; g++) {
      const v = a[g];
      d0 += v * rows[o0 + g];
      d1 += v * rows[o1 + g];
      d2 += v * rows[o2 + g];
      d3 += v * rows[o3 + g];
    }
    out[i] = d0;
    out[i + 1] = d1;
    out[i + 2] = d2;
    out[i + 3] = d3;
  }
  for (; i < n; i++) {
    const o = i * G;
    let d = 0;
    for (let g = 0; g < G; g++) d += a[g] * rows[o + g];
    out[i] = d;
  }
}

/** out = Σ_i w[i] · rows[i] (length G) over the n rows of a row-major matrix; four rows per pass over out. */
function weightedRowSum(w: Float64Array, rows: Float64Array, n: number, G: number, out: Float64Array): void {
  out.fill(0);
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const w0 = w[i];
    const w1 = w[i + 1];
    const w2 = w[i + 2];
    const w3 = w[i + 3];
    const o0 = i * G;
    const o1 = o0 + G;
    const o2 = o1 + G;
    const o3 = o2 + G;
    for (let g = 0; g < G; g++)
      out[g] += w0 * rows[o0 + g] + w1 * rows[o1 + g] + w2 * rows[o2 + g] + w3 * rows[o3 + g];
  }
  for (; i < n; i++) {
    const wi = w[i];
    const o = i * G;
    for (let g = 0; g < G; g++) out[g] += wi * rows[o + g];
  }
}
