import type { Method, Metric } from '../../core/eval/types';

export const METHOD_LABELS: Record<Method, string> = {
  c3tl: 'C3TL',
  calibrated: 'C3TL fixed form',
  additive: 'Additive',
  perturb_mean: 'Perturbation mean',
  context_mean: 'Context mean',
  ridge: 'Ridge',
  knn_residual: 'kNN residual',
};

export const METHOD_HELP: Record<Method, string> = {
  c3tl: 'The model trained here: its fixed form plus a learnt transfer from the support perturbations most like each query.',
  calibrated:
    'C3TL without its learnt transfer path: additive plus per-gene denoising, context shift and support slope, with gates trained here.',
  additive: 'Perturbation mean plus the target context shift estimated on the support.',
  perturb_mean: 'Mean effect of the perturbation over the other contexts.',
  context_mean: 'Mean effect over the target support, the same for every perturbation.',
  ridge: 'Ridge regression of the target on the other contexts, fitted on the support.',
  knn_residual: 'Additive plus residuals of similar support perturbations.',
};

export const METRIC_LABELS: Record<Metric, string> = {
  pearson: 'Pearson',
  pearson_centered: 'Pearson (centred)',
  mse: 'MSE',
  mae: 'MAE',
  direction_top50: 'Direction, top 50',
  deg_overlap_top50: 'Top-50 overlap',
  discrimination: 'Discrimination',
};

export const METRIC_HELP: Record<Metric, string> = {
  pearson: 'Correlation over genes of predicted and observed effect (higher is better).',
  pearson_centered:
    'Correlation after removing the context mean effect from both: credits only perturbation-specific signal (higher is better).',
  mse: 'Mean squared error (lower is better).',
  mae: 'Mean absolute error (lower is better).',
  direction_top50:
    'Share of the 50 most changed genes whose direction is predicted right (higher is better).',
  deg_overlap_top50: 'Overlap of the 50 most changed genes, predicted vs observed (higher is better).',
  discrimination: 'How often the prediction is closer to its own perturbation than to others; 0.5 is chance.',
};

/** Metrics where a smaller value is better. */
export const LOWER_IS_BETTER: ReadonlySet<Metric> = new Set<Metric>(['mse', 'mae']);
