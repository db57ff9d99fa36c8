import type { BaselineMethod } from '../eval/methods';
import { baselineContext, queryRows, type BaselineContext, type BaselineInput } from './baseline-context';
import { DEFAULT_KNN_TAU, knnResidualPredictions } from './knn-residual';
import { DEFAULT_RIDGE_LAMBDAS, ridgePredictions } from './ridge';

export { contextMean, perturbationMeans, type BaselineInput } from './baseline-context';

export interface BaselineOptions {
  /**
   * Ridge penalties to choose from, relative to the mean squared norm of a feature column (trace(XᵀX)/K), so
   * that they do not depend on the scale of the effects or on the number of rows. Default DEFAULT_RIDGE_LAMBDAS.
   */
  ridgeLambdas?: number[];
  /** Softmax temperature of knn_residual over correlations; default DEFAULT_KNN_TAU (5). */
  knnTau?: number;
}

/**
 * Every baseline's prediction for the query perturbations, Q*G row-major (docs/DESIGN.md §3). One entry per
 * baseline of the method registry (eval/methods.ts); the compiler checks that none is missing.
 */
const BASELINES: Record<BaselineMethod, (ctx: BaselineContext, options: BaselineOptions) => Float32Array> = {
  additive: (ctx) => queryRows(ctx, (p, g) => ctx.pm[p * ctx.tensor.genes.length + g] + ctx.shift[g]),
  perturb_mean: (ctx) => queryRows(ctx, (p, g) => ctx.pm[p * ctx.tensor.genes.length + g]),
  context_mean: (ctx) => queryRows(ctx, (_p, g) => ctx.mt[g]),
  ridge: (ctx, options) => ridgePredictions(ctx, options.ridgeLambdas ?? DEFAULT_RIDGE_LAMBDAS),
  knn_residual: (ctx, options) => knnResidualPredictions(ctx, options.knnTau ?? DEFAULT_KNN_TAU),
};

/**
 * Predictions of the baselines (docs/DESIGN.md §3) for each query perturbation in target t: Q*G Float32Array
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
  const ctx = baselineContext(input);
  const out = {} as Record<BaselineMethod, Float32Array>;
  for (const [method, predict] of Object.entries(BASELINES) as [
    BaselineMethod,
    (typeof BASELINES)[BaselineMethod],
  ][])
    out[method] = predict(ctx, options);
  return out;
}
