/*
 * Sparse denoising of one context's effects, pure maths over plain arrays (no imports): each gene's effects
 * over the context's perturbations are a spike at the context's baseline (no effect, plus measurement noise)
 * and a slab of real effects. Rows are perturbations, columns genes; values row-major [n, G].
 */

/** Fewest rows a gene's prior is fitted on; with fewer the values are returned unchanged. */
export const SPARSE_MIN_ROWS = 8;
/** Most rows the EM reads (evenly spaced): two numbers per gene need no more, and wide screens stay fast. */
export const SPARSE_FIT_ROWS = 512;
const EM_ITERATIONS = 30;
/** MAD to standard deviation under a normal. */
const MAD_TO_SD = 1.4826;

function median(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
}

/**
 * Per gene: the baseline b (median over rows), the noise variance nu ((1.4826 MAD)^2: most perturbations
 * leave most genes alone, so the bulk of the values is noise around b) and, by EM, the share pi of real effects
 * and their variance tau^2 under x = v - b ~ pi N(0, tau^2 + nu) + (1 - pi) N(0, nu) (on at most SPARSE_FIT_ROWS
 * rows). Returns the posterior
 * means b + P(effect | x) x tau^2 / (tau^2 + nu), [n, G] in the units of `values`.
 */
export function sparsePosteriorMeans(values: ArrayLike<number>, n: number, G: number): Float64Array {
  const out = new Float64Array(n * G);
  for (let i = 0; i < n * G; i++) out[i] = values[i];
  if (n < SPARSE_MIN_ROWS) return out;
  const column = new Float64Array(n);
  const x = new Float64Array(n);
  const responsibility = new Float64Array(n);
  const fitRows =
    n > SPARSE_FIT_ROWS
      ? Int32Array.from({ length: SPARSE_FIT_ROWS }, (_, i) => Math.floor((i * n) / SPARSE_FIT_ROWS))
      : Int32Array.from({ length: n }, (_, i) => i);
  const m = fitRows.length;
  const fitX = new Float64Array(m);
  const fitResponsibility = new Float64Array(m);
  for (let g = 0; g < G; g++) {
    for (let i = 0; i < n; i++) column[i] = values[i * G + g];
    const baseline = median(column);
    for (let i = 0; i < n; i++) x[i] = column[i] - baseline;
    const spread = MAD_TO_SD * median(Float64Array.from(x, Math.abs));
    const nu = Math.max(spread * spread, 1e-12);
    for (let j = 0; j < m; j++) fitX[j] = x[fitRows[j]];
    let meanSquare = 0;
    for (let j = 0; j < m; j++) meanSquare += (fitX[j] * fitX[j]) / m;
    let share = 0.1;
    let tau2 = Math.max(meanSquare - nu, nu) / share;
    const posterior = (values: Float64Array, out: Float64Array): void => {
      const ratio = ((1 - share) / share) * Math.sqrt((tau2 + nu) / nu);
      const curvature = 0.5 * (1 / nu - 1 / (tau2 + nu));
      for (let i = 0; i < values.length; i++)
        out[i] = 1 / (1 + ratio * Math.exp(-curvature * values[i] * values[i]));
    };
    for (let iteration = 0; iteration < EM_ITERATIONS; iteration++) {
      posterior(fitX, fitResponsibility);
      let weight = 0;
      let weightedSquare = 0;
      for (let j = 0; j < m; j++) {
        weight += fitResponsibility[j];
        weightedSquare += fitResponsibility[j] * fitX[j] * fitX[j];
      }
      share = Math.min(1 - 1e-6, Math.max(1e-3, weight / m));
      tau2 = Math.max(weightedSquare / Math.max(weight, 1e-12) - nu, 1e-12);
    }
    posterior(x, responsibility);
    const shrink = tau2 / (tau2 + nu);
    for (let i = 0; i < n; i++) out[i * G + g] = baseline + responsibility[i] * shrink * x[i];
  }
  return out;
}
