// CONTRACT DRAFT: signatures that the worker and CLI code against; implemented by the lead.
import type { EffectTensor } from '../data/tensor';
import type { Method, MetricValues } from './types';

export type ModelPreset = 'small' | 'medium' | 'large';

export interface RunOptions {
  /** Fraction of the target's shared perturbations used as support (0 < f < 1); ignored in predict mode. */
  supportFraction: number;
  seed: number;
  preset: ModelPreset;
  /** Most variable genes kept, chosen on training pairs only; 0 keeps all. */
  geneLimit: number;
  /** Upper bound on training epochs; early stopping usually ends sooner. */
  maxEpochs?: number;
}

export interface EpochLog {
  epoch: number;
  maxEpochs: number;
  trainLoss: number;
  /** NaN when the split has no validation pairs. */
  valLoss: number;
  bestEpoch: number;
  elapsedSeconds: number;
}

export interface RunHooks {
  onEpoch?: (log: EpochLog) => void;
  /** Polled between epochs; returning true stops training and rejects with an AbortError. */
  shouldStop?: () => boolean;
}

export interface TrainInfo {
  backend: string;
  seconds: number;
  epochs: number;
  bestEpoch: number;
  parameters: number;
  history: EpochLog[];
}

export interface TargetEvaluation {
  context: string;
  /** Support size (train + validation). */
  support: number;
  query: number;
  metrics: Record<Method, MetricValues>;
  /** Per query pair, in the order of queryPerturbations. */
  perPair: Record<Method, MetricValues[]>;
  queryPerturbations: string[];
  genes: string[];
  /** Q*G observed effects of the query pairs, row-major by query pair. */
  observed: Float32Array;
  /** Q*G predictions per method. */
  predictions: Record<Method, Float32Array>;
  /** Length G: mean effect over the target's support (m_t). */
  contextMean: Float32Array;
  train: TrainInfo;
}

export interface PredictionResult {
  context: string;
  support: number;
  perturbations: string[];
  genes: string[];
  /** Q*G predicted effects per method, row-major by perturbation. */
  predictions: Record<Method, Float32Array>;
  train: TrainInfo;
}

export interface SweepPoint {
  fraction: number;
  support: number;
  metrics: Record<Method, MetricValues>;
}
