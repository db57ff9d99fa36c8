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

/** Leave-one-context-out evaluation of one target: split, baselines, C3TL, metrics on the held-out pairs. */
export async function evaluateTarget(
  _tensor: EffectTensor,
  _target: number,
  _options: RunOptions,
  _hooks: RunHooks = {},
): Promise<TargetEvaluation> {
  throw new Error('evaluateTarget: being implemented');
}

/** Prediction mode: all shared measured perturbations of the target are support; predicts the unmeasured ones. */
export async function predictTarget(
  _tensor: EffectTensor,
  _target: number,
  _options: Omit<RunOptions, 'supportFraction'>,
  _hooks: RunHooks = {},
): Promise<PredictionResult> {
  throw new Error('predictTarget: being implemented');
}

/** Support-fraction sweep (e.g. 0.01, 0.05, 0.1, 0.3) for one target; hooks.onEpoch reports each training. */
export async function sweepSupport(
  _tensor: EffectTensor,
  _target: number,
  _fractions: readonly number[],
  _options: Omit<RunOptions, 'supportFraction'>,
  _hooks: RunHooks & { onPoint?: (point: SweepPoint) => void } = {},
): Promise<SweepPoint[]> {
  throw new Error('sweepSupport: being implemented');
}
