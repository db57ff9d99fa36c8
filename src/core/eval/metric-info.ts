/**
 * The metrics every method is scored on, in display order, with what a reader needs to read them. To add a
 * metric, add its entry here and compute it in eval/metrics.ts (the compiler asks for it there, through
 * MetricValues); every table, export, CLI and the "best" marking then follow.
 */
export interface MetricInfo {
  /** Short name shown in tables. */
  label: string;
  /** One sentence on what it measures, shown as a tooltip. */
  help: string;
  /** Which way is better. */
  direction: 'higher' | 'lower';
}

export const METRIC_INFO = {
  pearson: {
    label: 'Pearson',
    help: 'Correlation over genes of predicted and observed effect (higher is better).',
    direction: 'higher',
  },
  pearson_centered: {
    label: 'Pearson (centred)',
    help: 'Correlation after removing the context mean effect from both: credits only perturbation-specific signal (higher is better).',
    direction: 'higher',
  },
  mse: { label: 'MSE', help: 'Mean squared error (lower is better).', direction: 'lower' },
  mae: { label: 'MAE', help: 'Mean absolute error (lower is better).', direction: 'lower' },
  direction_top50: {
    label: 'Direction, top 50',
    help: 'Share of the 50 most changed genes whose direction is predicted right (higher is better).',
    direction: 'higher',
  },
  deg_overlap_top50: {
    label: 'Top-50 overlap',
    help: 'Overlap of the 50 most changed genes, predicted vs observed (higher is better).',
    direction: 'higher',
  },
  discrimination: {
    label: 'Discrimination',
    help: 'How often the prediction is closer to its own perturbation than to others; 0.5 is chance.',
    direction: 'higher',
  },
} as const satisfies Record<string, MetricInfo>;

export type Metric = keyof typeof METRIC_INFO;
export const METRICS = Object.keys(METRIC_INFO) as Metric[];
export type MetricValues = Record<Metric, number>;

/** Whether value a is strictly better than b on the metric (false when either is not finite). */
export function isBetter(metric: Metric, a: number, b: number): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return METRIC_INFO[metric].direction === 'lower' ? a < b : a > b;
}
