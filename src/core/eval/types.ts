export const METHODS = [
  'c3tl',
  'calibrated',
  'additive',
  'perturb_mean',
  'context_mean',
  'ridge',
  'knn_residual',
] as const;
export type Method = (typeof METHODS)[number];
/** Every method C3TL is compared with: its own fixed form (`calibrated`, the transfer path off) and the baselines. */
export type OtherMethod = Exclude<Method, 'c3tl'>;
export const OTHER_METHODS = METHODS.filter((m): m is OtherMethod => m !== 'c3tl');
/** The simple baselines (model/baselines.ts), which train nothing. */
export type BaselineMethod = Exclude<Method, 'c3tl' | 'calibrated'>;
export const BASELINE_METHODS = METHODS.filter(
  (m): m is BaselineMethod => m !== 'c3tl' && m !== 'calibrated',
);

export const METRICS = [
  'pearson',
  'pearson_centered',
  'mse',
  'mae',
  'direction_top50',
  'deg_overlap_top50',
  'discrimination',
] as const;
export type Metric = (typeof METRICS)[number];
export type MetricValues = Record<Metric, number>;

/** Which perturbations of one target context play which role; all entries are perturbation indices. */
export interface TargetSplit {
  /** Context index of the target. */
  target: number;
  /** Support pairs used for fitting (the paper's 8%). */
  supportTrain: number[];
  /** Support pairs kept for early stopping (the paper's 2%); may be empty. */
  supportVal: number[];
  /** Pairs to predict: held out (evaluation) or never measured (prediction mode). */
  query: number[];
}
