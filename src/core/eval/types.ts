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

export type ModelPreset = 'small' | 'medium' | 'large';

/** Options of every run (evaluate, predict, sweep); evaluate adds the support fraction (EvaluateOptions). */
export interface RunOptions {
  seed: number;
  preset: ModelPreset;
  /** Most variable genes kept, chosen on the other contexts and the target's support only; 0 keeps all. */
  geneLimit: number;
  /** Upper bound on training epochs; early stopping usually ends sooner. */
  maxEpochs?: number;
  /**
   * Model switches by name, passed through to training for ablations (e.g. { transfer: false }); absent names
   * keep the model's defaults (MODEL_SWITCHES lists the names). An unknown name fails the run with a
   * RunOptionError before any training.
   */
  switches?: Record<string, boolean>;
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
  /** Every parameter the model holds. */
  parameters: number;
  /** The parameters training could change (the parts switched on). */
  trainedParameters: number;
  /** Epochs of the fixed form; history logs them. */
  history: EpochLog[];
  /**
   * Genes held at one value in the target (src/core/model/held-genes.ts): the same effect on every support
   * pair, predicted at that value by C3TL and calibrated. Absent in sessions saved before it was counted.
   */
  heldGenes?: number;
  /**
   * Whether the fixed form's perturbation means were denoised as sparse
   * (src/core/model/sparse-base.ts), chosen on judged pairs. Absent in sessions saved before it could.
   */
  sparseBase?: boolean;
  /**
   * The transfer path's epochs, best epoch and the multiple of it kept (0: off, the fixed form won); with
   * the reference mix on, its weight per reference context fitted on the whole support (before the path's
   * per-gene gain and multiple).
   */
  transfer?: {
    epochs: number;
    bestEpoch: number;
    scale: number;
    /** The contexts and pairs the multiple was judged on (absent in sessions saved before it was reported). */
    judgedOn?: { contexts: number; pairs: number };
    /**
     * Whether the reference mix read the references' sparse-denoised effects (absent in sessions saved before
     * it could).
     */
    sparseMix?: boolean;
    /**
     * Whether C3TL was the fixed form with its support slope off plus the transfer (absent in sessions saved
     * before it could be).
     */
    withoutSlope?: boolean;
    mix?: { context: string; weight: number }[];
  };
}

/** What evaluate takes: the run's options and the support size. */
export interface EvaluateOptions extends RunOptions {
  /** Fraction of the target's shared perturbations used as support (0 < f < 1). */
  supportFraction: number;
}
