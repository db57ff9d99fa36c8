/** What the evaluation protocol hands back: per-target evaluations, predictions, sweeps and reports. */
import type { Method } from './methods';
import type { MetricValues } from './metric-info';
import type { EvaluateOptions, TrainInfo } from './types';

export interface TargetEvaluation {
  context: string;
  /** Support size (train + validation). */
  support: number;
  query: number;
  metrics: Record<Method, MetricValues>;
  /** Per query pair, in the order of queryPerturbations. */
  perPair: Record<Method, MetricValues[]>;
  queryPerturbations: string[];
  /** The support pairs (train + validation) whose mean is contextMean. */
  supportPerturbations: string[];
  genes: string[];
  /** Q*G observed effects of the query pairs, row-major by query pair. */
  observed: Float32Array;
  /** Q*G predictions per method. */
  predictions: Record<Method, Float32Array>;
  /** Length G: mean effect over the target's support (m_t). */
  contextMean: Float32Array;
  train: TrainInfo;
  /** The trained model as a model file's text (model-file.ts), when asked for with keepModelFile. */
  modelFile?: string;
  /** Held-out pairs whose data leave metrics undefined (NaN), one sentence per kind (degenerate.ts). */
  warnings: string[];
}

/** What a run hands back besides its results. */
export interface KeepOptions {
  /** Also return the trained model, encoded as a portable model file (costs one read-back of the weights). */
  keepModelFile?: boolean;
}

export interface PredictionResult {
  context: string;
  support: number;
  perturbations: string[];
  genes: string[];
  /** Q*G predicted effects per method, row-major by perturbation. */
  predictions: Record<Method, Float32Array>;
  train: TrainInfo;
  /** The trained model as a model file's text, when asked for with keepModelFile. */
  modelFile?: string;
}

export interface SweepPoint {
  fraction: number;
  support: number;
  metrics: Record<Method, MetricValues>;
}

/** The report of `evaluate`, the CLI's `evaluate --json` object. */
export interface EvaluationReport {
  dataset: { contexts: number; perturbations: number; genes: number; pairs: number };
  targets: { context: string; support: number; query: number; metrics: Record<Method, MetricValues> }[];
  mean: Record<Method, MetricValues>;
  train: { backend: string; seconds: number };
  /** Contexts that could not be targets, with the reason. */
  skipped: { context: string; reason: string }[];
  /** Every target's warnings: metrics left undefined (NaN, null in JSON) by degenerate data. */
  warnings: string[];
  options: EvaluateOptions;
}

/** A restored model's results: held-out metrics for an evaluate-mode model, predictions for a predict one. */
export type RestoredRun =
  | { mode: 'evaluate'; evaluation: TargetEvaluation; notes: string[] }
  | { mode: 'predict'; prediction: PredictionResult; notes: string[] };
