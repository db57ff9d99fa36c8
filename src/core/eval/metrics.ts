import { METRICS, type MetricValues } from './metric-info';

/** Genes counted by the top-k metrics (direction_top50, deg_overlap_top50); fewer when G < 50. */
export const TOP_K = 50;

/**
 * Other query pairs each pair is compared against in `discrimination`. Comparing against all of them is
 * O(Q²·G) (8e9 operations for Q = G = 2000); beyond this cap an evenly spaced, deterministic subset is used.
 */
export const DISCRIMINATION_MAX_OTHERS = 200;

/**
 * Pearson correlation of two equally long vectors (accumulated in Float64). Returns 0 when either vector
 * has zero variance (a constant prediction carries no pattern), so the result is never NaN for finite input.
 */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n) throw new Error(`pearson: lengths differ (${n} vs ${b.length}).`);
  if (n === 0) return 0;
  let sumA = 0;
  let sumB = 0;
  let constA = true;
  let constB = true;
  const a0 = a[0];
  const b0 = b[0];
  for (let i = 0; i < n; i++) {
    sumA += a[i];
    sumB += b[i];
    if (a[i] !== a0) constA = false;
    if (b[i] !== b0) constB = false;
  }
  // An exactly constant vector can still leave rounding residue around its mean: test constancy directly.
  if (constA || constB) return 0;
  const meanA = sumA / n;
  const meanB = sumB / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - meanA;
    const db = b[i] - meanB;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return 0;
  const r = sab / Math.sqrt(saa * sbb);
  return Math.max(-1, Math.min(1, r));
}

/**
 * Pearson correlation over genes of a - m and b - m: pearson_centered of one pair (a the prediction, b the
 * observation, m the context mean m_t, all length G); 0 when either centred vector is constant.
 */
export function centredPearson(a: ArrayLike<number>, b: ArrayLike<number>, m: ArrayLike<number>): number {
  const n = a.length;
  const ac = new Float64Array(n);
  const bc = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ac[i] = a[i] - m[i];
    bc[i] = b[i] - m[i];
  }
  return pearson(ac, bc);
}

/**
 * Indices of the k entries of largest |x|, ties broken by the lower index, in decreasing order of |x|.
 * O(G·k) worst case, close to O(G) in practice since few entries beat the current k-th.
 */
export function topAbsIndices(x: ArrayLike<number>, k: number): Int32Array {
  const n = x.length;
  const kk = Math.min(k, n);
  const idx = new Int32Array(kk);
  const val = new Float64Array(kk);
  let size = 0;
  for (let i = 0; i < n; i++) {
    const v = Math.abs(x[i]);
    if (size === kk) {
      // Strictly greater only: an equal |x| at a later index loses the tie.
      if (!(v > val[kk - 1])) continue;
      size--;
    }
    let j = size;
    while (j > 0 && v > val[j - 1]) {
      val[j] = val[j - 1];
      idx[j] = idx[j - 1];
      j--;
    }
    val[j] = v;
    idx[j] = i;
    size++;
  }
  return idx;
}

/** True when every entry equals the first (vacuously for an empty vector). */
export function isConstant(x: ArrayLike<number>): boolean {
  for (let i = 1; i < x.length; i++) if (x[i] !== x[0]) return false;
  return true;
}

/** How an observed effect vector makes metrics undefined: the cases degenerateWarnings reports. */
export interface ObservedDegeneracy {
  /** 0 on every gene: Pearson, centred Pearson's ranking, direction and DEG overlap have nothing to go on. */
  allZero: boolean;
  /** The same value on every gene (all 0 included): Pearson undefined. */
  constant: boolean;
  /** |obs| the same on every gene: the top-k genes by |obs| are arbitrary, DEG overlap undefined. */
  tiedMagnitudes: boolean;
  /** obs - m_t the same on every gene: centred Pearson undefined. */
  constantCentred: boolean;
}

export function observedDegeneracy(obs: ArrayLike<number>, center: ArrayLike<number>): ObservedDegeneracy {
  const G = obs.length;
  let tied = true;
  let centred = true;
  const a0 = Math.abs(obs[0]);
  const c0 = obs[0] - center[0];
  for (let g = 1; g < G && (tied || centred); g++) {
    if (Math.abs(obs[g]) !== a0) tied = false;
    if (obs[g] - center[g] !== c0) centred = false;
  }
  const constant = isConstant(obs);
  return { allZero: constant && obs[0] === 0, constant, tiedMagnitudes: tied, constantCentred: centred };
}

/**
 * Metrics of one query pair, all over genes. pred, obs, center: length G; center = m_t, the target's mean
 * effect over its support. pearson_centered subtracts m_t from both pred and obs. direction_top50: among the
 * min(50, G) genes of largest |obs| (ties by lower index), the share where pred has the sign of obs; a pred of
 * exactly 0 counts as wrong. deg_overlap_top50: |top_k |pred| ∩ top_k |obs|| / k with k = min(50, G).
 * A metric the observed vector leaves undefined is NaN (observedDegeneracy): Pearson when obs is constant,
 * centred Pearson when obs - m_t is, direction when obs is 0 everywhere, DEG overlap when every |obs| ties.
 * A constant prediction still scores 0 on Pearson: it is a prediction without pattern, not missing data.
 */
export function pairMetrics(
  pred: ArrayLike<number>,
  obs: ArrayLike<number>,
  center: ArrayLike<number>,
): Omit<MetricValues, 'discrimination'> {
  const G = obs.length;
  if (pred.length !== G || center.length !== G) {
    throw new Error(
      `pairMetrics: pred, obs and center must have the same length (${pred.length}, ${G}, ${center.length}).`,
    );
  }
  if (G === 0) throw new Error('pairMetrics: no genes.');
  const predC = new Float64Array(G);
  const obsC = new Float64Array(G);
  let se = 0;
  let ae = 0;
  for (let g = 0; g < G; g++) {
    const d = pred[g] - obs[g];
    se += d * d;
    ae += Math.abs(d);
    predC[g] = pred[g] - center[g];
    obsC[g] = obs[g] - center[g];
  }
  const k = Math.min(TOP_K, G);
  const topObs = topAbsIndices(obs, k);
  const topPred = topAbsIndices(pred, k);
  let right = 0;
  for (let i = 0; i < k; i++) {
    const g = topObs[i];
    if (pred[g] !== 0 && Math.sign(pred[g]) === Math.sign(obs[g])) right++;
  }
  const inObs = new Set<number>(topObs);
  let shared = 0;
  for (let i = 0; i < k; i++) if (inObs.has(topPred[i])) shared++;
  const odd = observedDegeneracy(obs, center);
  return {
    pearson: odd.constant ? NaN : pearson(pred, obs),
    pearson_centered: odd.constantCentred ? NaN : pearson(predC, obsC),
    mse: se / G,
    mae: ae / G,
    direction_top50: odd.allZero ? NaN : right / k,
    deg_overlap_top50: odd.tiedMagnitudes ? NaN : shared / k,
  };
}

/**
 * out[i] = L1 distance between row a of x and row rows[i] of y (both row-major with G columns). Four rows
 * of y at a time, so that each value of x serves four independent sums (about 2x faster in V8).
 */
function rowL1s(
  x: Float32Array,
  a: number,
  y: Float32Array,
  rows: readonly number[],
  G: number,
  out: Float64Array,
): void {
  const oa = a * G;
  const n = rows.length;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const o0 = rows[i] * G;
    const o1 = rows[i + 1] * G;
    const o2 = rows[i + 2] * G;
    const o3 = rows[i + 3] * G;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let g = 0; g < G; g++) {
      const v = x[oa + g];
      s0 += Math.abs(v - y[o0 + g]);
      s1 += Math.abs(v - y[o1 + g]);
      s2 += Math.abs(v - y[o2 + g]);
      s3 += Math.abs(v - y[o3 + g]);
    }
    out[i] = s0;
    out[i + 1] = s1;
    out[i + 2] = s2;
    out[i + 3] = s3;
  }
  for (; i < n; i++) {
    const o = rows[i] * G;
    let s = 0;
    for (let g = 0; g < G; g++) s += Math.abs(x[oa + g] - y[o + g]);
    out[i] = s;
  }
}

/**
 * The other query pairs that pair p is compared against in discrimination: all of them when there are at
 * most DISCRIMINATION_MAX_OTHERS, else that many evenly spaced over the others (same for every run).
 */
export function discriminationOthers(p: number, queryCount: number): number[] {
  const others = queryCount - 1;
  const m = Math.min(others, DISCRIMINATION_MAX_OTHERS);
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    const j = Math.floor((i * others) / m);
    out.push(j < p ? j : j + 1);
  }
  return out;
}

/**
 * All metrics for Q query pairs of one target. predicted, observed: Q*G, row-major by query pair;
 * contextMean: length G (m_t). Returns the metrics per pair (in query order) and their mean over pairs.
 *
 * discrimination of pair p: share of the other pairs q with L1(pred_p - m_t, obs_q - m_t) greater than
 * L1(pred_p - m_t, obs_p - m_t), ties counting half; 1 is perfect, 0.5 chance. Centring both sides by the same
 * m_t leaves L1 distances unchanged, so it is computed on the raw vectors. With more than
 * DISCRIMINATION_MAX_OTHERS other pairs only an evenly spaced subset of that size is compared
 * (see discriminationOthers). With a single query pair there is nothing to compare: it is defined as 0.5.
 */
export function computeMetrics(input: {
  predicted: Float32Array;
  observed: Float32Array;
  contextMean: ArrayLike<number>;
  queryCount: number;
  geneCount: number;
}): { mean: MetricValues; perPair: MetricValues[] } {
  const { predicted, observed, contextMean, queryCount: Q, geneCount: G } = input;
  if (!Number.isInteger(Q) || Q < 1)
    throw new Error(`computeMetrics: needs at least one query pair, got ${Q}.`);
  if (!Number.isInteger(G) || G < 1) throw new Error(`computeMetrics: needs at least one gene, got ${G}.`);
  if (predicted.length !== Q * G || observed.length !== Q * G) {
    throw new Error(
      `computeMetrics: predicted and observed must hold Q*G = ${Q * G} values, got ${predicted.length} and ${observed.length}.`,
    );
  }
  if (contextMean.length !== G) {
    throw new Error(`computeMetrics: contextMean must have length G = ${G}, got ${contextMean.length}.`);
  }
  const perPair: MetricValues[] = [];
  const dist = new Float64Array(DISCRIMINATION_MAX_OTHERS + 1);
  for (let p = 0; p < Q; p++) {
    const pred = predicted.subarray(p * G, (p + 1) * G);
    const obs = observed.subarray(p * G, (p + 1) * G);
    let discrimination = 0.5;
    if (Q > 1) {
      // Own distance in the same call as the others: the same summation, so equal vectors tie exactly.
      const rows = [p, ...discriminationOthers(p, Q)];
      rowL1s(predicted, p, observed, rows, G, dist);
      const own = dist[0];
      let score = 0;
      for (let i = 1; i < rows.length; i++) {
        if (dist[i] > own) score += 1;
        else if (dist[i] === own) score += 0.5;
      }
      discrimination = score / (rows.length - 1);
    }
    perPair.push({ ...pairMetrics(pred, obs, contextMean), discrimination });
  }
  return { mean: definedMean(perPair), perPair };
}

/** Mean of each metric over the rows where it is defined (not NaN); NaN where no row defines it. */
export function definedMean(rows: readonly MetricValues[]): MetricValues {
  const mean = {} as MetricValues;
  for (const key of METRICS) {
    let s = 0;
    let n = 0;
    for (const m of rows) {
      if (Number.isNaN(m[key])) continue;
      s += m[key];
      n++;
    }
    mean[key] = n ? s / n : NaN;
  }
  return mean;
}
