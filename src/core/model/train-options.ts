import type { ModelPreset, EpochLog } from '../eval/types';
import type { GeneStandardisation } from './standardise';
import type { C3tlArchitecture, C3tlSwitches, ParameterName } from './c3tl';
import { SHARED_PARAMETER_NAMES, parameterShapes } from './c3tl';
import type { EpisodeOptions } from './episodes';
import type { TransferParameterName } from './transfer';
import type { TransferTrainOptions } from './transfer-train';

/* Options, presets and the result of training C3TL (train.ts). */

export const PRESETS: Record<ModelPreset, { basisRank: number; embedDim: number; hidden: number }> = {
  small: { basisRank: 32, embedDim: 64, hidden: 128 },
  medium: { basisRank: 64, embedDim: 128, hidden: 256 },
  large: { basisRank: 128, embedDim: 256, hidden: 512 },
};

export interface TrainOptions {
  preset: ModelPreset;
  seed: number;
  maxEpochs: number;
  /** Optimiser steps between two validations. */
  stepsPerEpoch: number;
  /** Epochs without a better validation score before stopping. */
  patience: number;
  learningRate: number;
  episodes: EpisodeOptions;
  /**
   * Genes scored per training step: the genes are split (in a seeded random order) into blocks of about this
   * size and the steps cycle through them, so a step costs Q x block instead of Q x G. 0 or absent: all.
   */
  genesPerStep?: number;
  /**
   * Pairs of one reference context (the pseudo-target) held out of training to score transfer each epoch;
   * that context then enters training like the target, with a support only. 0: no pseudo-target. Default 120.
   */
  pseudoTargetPairs?: number;
  /**
   * Which model parts may depart from the additive baseline; default all but the learnt network (see
   * c3tl.ts), which stays available for screens with many contexts and for ablations.
   */
  switches?: Partial<C3tlSwitches>;
  /**
   * Weights to start from instead of the seeded initialisation (a restored model file), keyed by parameter
   * name, gene axes in the tensor's gene order as `TrainedC3tl.weights()` returns them. With maxEpochs 0 the
   * model predicts with exactly these weights.
   */
  initialWeights?: Record<ParameterName, Float32Array>;
  /**
   * Whether the fixed form's network-off steps compute their loss and gradient in the fused kernel
   * (fixed-form-kernel.ts; default) rather than by autodiff of episodeLoss, and the transfer path's steps
   * theirs in its fused kernel (transfer-kernel.ts, cpu and wasm): the same maths, to float32 rounding.
   * false exists for comparing the two.
   */
  fusedStep?: boolean;
  /**
   * Whether the fixed form's perturbation means are denoised as sparse (sparse-base.ts):
   * 'choose' (default) decides on judged pairs before training; true or false imposes it (a restored model's
   * choice, ablations).
   */
  sparseBase?: boolean | 'choose';
  /** Per-gene scale to use instead of the one computed from the training pairs (a restored model's), G. */
  standardisation?: GeneStandardisation;
  /** A restored transfer path: its feature genes (tensor gene indices) and weights. */
  initialTransfer?: {
    features: Int32Array;
    weights: Record<TransferParameterName, Float32Array>;
    sparseMix: boolean;
    withoutSlope: boolean;
    robustShift: boolean;
  };
  /** Options of the transfer path's training (transfer-train.ts); defaults DEFAULT_TRANSFER_OPTIONS. */
  transferOptions?: Partial<
    Omit<TransferTrainOptions, 'seed' | 'switches' | 'restore' | 'shouldStop' | 'fusedStep'>
  >;
}

export const DEFAULT_TRAIN_OPTIONS: Omit<TrainOptions, 'preset' | 'seed'> = {
  maxEpochs: 40,
  stepsPerEpoch: 10,
  patience: 8,
  learningRate: 1e-3,
  episodes: { supportFractionRange: [0.05, 0.3], maxQueryPairs: 256, targetWeight: 0.3 },
  genesPerStep: 512,
  pseudoTargetPairs: 120,
};

export const DEFAULT_SWITCHES: C3tlSwitches = {
  denoise: true,
  shift: true,
  slope: true,
  network: false,
  transfer: true,
  deviations: true,
  context: true,
  mix: true,
  linear: true,
};

/** What C3TL predicts: the full model, and its fixed form alone (`calibrated`, the transfer path off). */
export interface C3tlPrediction {
  c3tl: Float32Array;
  calibrated: Float32Array;
  /**
   * The transfer path's reference mix fitted on the support: a weight per context other than the target
   * (tensor order), before the path's per-gene gain and multiple. Absent with the mix off.
   */
  mix?: { contexts: number[]; weights: number[] };
}

/** A trained model for one target split; predictions are in the tensor's original units. */
export interface TrainedC3tl {
  architecture: C3tlArchitecture;
  /** Every parameter the model holds (the network's too, when it is off). */
  parameters: number;
  /** The parameters that training could change: those of the parts switched on. */
  trainedParameters: number;
  /** The transfer path, when on: its epochs, best epoch and feature genes. */
  transfer?: {
    epochs: number;
    bestEpoch: number;
    /** The multiple of the trained transfer kept on held-out pairs (0: the path is off). */
    scale: number;
    /** The contexts and pairs that multiple was judged on (0 and 0: nothing judged it). */
    judgedOn: { contexts: number; pairs: number };
    /** Whether the reference mix reads the references' sparse-denoised effects (chosen on judged pairs). */
    sparseMix: boolean;
    /**
     * Whether C3TL is the fixed form with its support slope off plus the transfer (chosen on judged pairs);
     * `calibrated` keeps the slope either way.
     */
    withoutSlope: boolean;
    /** Whether the transfer corrects the fixed form's shift with the robust shift (transfer-support.ts). */
    robustShift: boolean;
    parameters: number;
    features: Int32Array;
  };
  /** Whether the fixed form's perturbation means were denoised as sparse (sparse-base.ts). */
  sparseBase: boolean;
  standardisation: GeneStandardisation;
  history: EpochLog[];
  bestEpoch: number;
  seconds: number;
  /** Effects of the given perturbations in the target, using support as the target's known pairs: Q*G each. */
  predict(support: readonly number[], perturbations: readonly number[]): Promise<C3tlPrediction>;
  /** Current weights, keyed by parameter name, gene axes in the tensor's gene order (read asynchronously). */
  weights(): Promise<Record<ParameterName, Float32Array>>;
  /** The transfer path's weights (feature-gene axes in the order of transfer.features), when it is on. */
  transferWeights(): Promise<Record<TransferParameterName, Float32Array> | undefined>;
  /** Which model parts were switched on (a model file keeps them to rebuild the same model). */
  switches: C3tlSwitches;
  dispose(): void;
}

/** Parameters of the fixed form's parts that are switched on (the transfer path is counted apart). */
export function trainedParameterCount(architecture: C3tlArchitecture, switches: C3tlSwitches): number {
  const shapes = parameterShapes(architecture);
  const size = (name: ParameterName) => shapes[name].reduce((a, b) => a * b, 1);
  const names: ParameterName[] = [];
  if (switches.denoise) names.push('denoise_gate');
  if (switches.shift) names.push('shift_gate');
  if (switches.slope) names.push('slope_gate', 'slope_shrink');
  if (switches.network) names.push(...SHARED_PARAMETER_NAMES, 'decoder_basis', 'gain_w', 'gain_b');
  return names.reduce((sum, name) => sum + size(name), 0);
}
