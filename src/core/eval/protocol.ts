import * as tf from '@tensorflow/tfjs';
import { version as appVersion } from '../../../package.json';
import { selectVariableGenes } from '../data/select';
import { tensorSummary, unmeasuredPerturbations, type EffectTensor } from '../data/tensor';
import { contextMean, predictBaselines } from '../model/baselines';
import {
  checkModelAgainst,
  datasetHash,
  encodeModelFile,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  restrictToGenes,
  type ModelFile,
  type ModelMode,
} from '../model/model-file';
import { DEFAULT_TRAIN_OPTIONS, trainC3tl, type TrainedC3tl } from '../model/train';
import { degenerateWarnings } from './degenerate';
import { computeMetrics, definedMean } from './metrics';
import { evaluationSplit, predictionSplit } from './split';
import { checkSwitches, RunOptionError } from './switches';
import { METHODS, type Method } from './methods';
import { type MetricValues } from './metric-info';
import {
  type EvaluateOptions,
  type ModelPreset,
  type RunHooks,
  type RunOptions,
  type TargetSplit,
  type TrainInfo,
} from './types';

// The benchmark CLIs name the preset type through the protocol.
export type { ModelPreset };

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

/**
 * Pairs that gene selection may see (C*P mask): every observed pair of the other contexts and the target's
 * support (train + validation), nothing else of the target. "Observed minus query" is not enough: in a support
 * sweep the query is the largest fraction's, and target pairs measured in no other context are never query.
 */
function selectionPairs(tensor: EffectTensor, split: TargetSplit): Uint8Array {
  const P = tensor.perturbations.length;
  const usable = tensor.observed.slice();
  usable.fill(0, split.target * P, (split.target + 1) * P);
  for (const p of [...split.supportTrain, ...split.supportVal]) {
    usable[split.target * P + p] = tensor.observed[split.target * P + p];
  }
  return usable;
}

function rowsOf(tensor: EffectTensor, c: number, perturbations: readonly number[]): Float32Array {
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const out = new Float32Array(perturbations.length * G);
  perturbations.forEach((p, i) =>
    out.set(tensor.values.subarray((c * P + p) * G, (c * P + p + 1) * G), i * G),
  );
  return out;
}

interface Fitted {
  tensor: EffectTensor;
  support: number[];
  predictions: Record<Method, Float32Array>;
  train: TrainInfo;
  modelFile?: string;
}

/** How fitSplit gets its C3TL: trained (and optionally kept as a model file), or restored from one. */
type ModelSource =
  | { kind: 'train'; keep?: { mode: ModelMode; supportFraction: number | null } }
  | { kind: 'restore'; model: ModelFile };

/** The trained model and its run as a model file (weights read back asynchronously). */
async function modelFileOf(
  tensor: EffectTensor,
  selected: EffectTensor,
  split: TargetSplit,
  model: TrainedC3tl,
  options: RunOptions,
  keep: { mode: ModelMode; supportFraction: number | null },
): Promise<string> {
  const names = (indices: readonly number[]) => indices.map((p) => tensor.perturbations[p]);
  const file: ModelFile = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    versions: { app: appVersion, tfjs: tf.version_core },
    architecture: { ...model.architecture, preset: options.preset, switches: { ...model.switches } },
    preprocessing: {
      genes: [...selected.genes],
      geneLimit: options.geneLimit,
      standardisation: model.standardisation,
    },
    target: tensor.contexts[split.target],
    mode: keep.mode,
    support: { train: names(split.supportTrain), validation: names(split.supportVal) },
    query: names(split.query),
    settings: {
      seed: options.seed,
      preset: options.preset,
      supportFraction: keep.supportFraction,
      geneLimit: options.geneLimit,
      maxEpochs: options.maxEpochs ?? null,
    },
    dataset: {
      sha256: await datasetHash(tensor),
      contexts: tensor.contexts.length,
      perturbations: tensor.perturbations.length,
      genes: tensor.genes.length,
    },
    training: {
      backend: tf.getBackend(),
      epochs: model.history.length,
      bestEpoch: model.bestEpoch,
      seconds: model.seconds,
    },
    weights: await model.weights(),
    transfer: await transferSection(selected, model),
  };
  return encodeModelFile(file);
}

/** A model file's transfer path with its feature genes as indices of the (restricted) tensor's genes. */
function restoredTransfer(tensor: EffectTensor, transfer: NonNullable<ModelFile['transfer']>) {
  const index = new Map(tensor.genes.map((g, i) => [g, i]));
  const features = Int32Array.from(transfer.features, (g) => {
    const i = index.get(g);
    if (i === undefined) throw new Error(`The model's feature gene "${g}" is not among its genes.`);
    return i;
  });
  return { features, weights: transfer.weights };
}

async function transferSection(tensor: EffectTensor, model: TrainedC3tl): Promise<ModelFile['transfer']> {
  const weights = await model.transferWeights();
  if (!weights || !model.transfer) return null;
  return { features: Array.from(model.transfer.features, (g) => tensor.genes[g]), weights };
}

/**
 * Gene selection on the other contexts and the target's support (or a restored model's genes), the
 * baselines and C3TL for one split: trained, or rebuilt from a model file's weights without training.
 */
async function fitSplit(
  tensor: EffectTensor,
  split: TargetSplit,
  options: RunOptions,
  hooks: RunHooks,
  source: ModelSource = { kind: 'train' },
): Promise<Fitted> {
  checkSwitches(options.switches);
  const restored = source.kind === 'restore' ? source.model : undefined;
  const selected = restored
    ? restrictToGenes(tensor, restored.preprocessing.genes)
    : selectVariableGenes(tensor, { limit: options.geneLimit, usePairs: selectionPairs(tensor, split) });
  const support = [...split.supportTrain, ...split.supportVal];
  const baselines = predictBaselines({ tensor: selected, target: split.target, support, query: split.query });
  let model: TrainedC3tl | undefined;
  try {
    model = await trainC3tl(
      selected,
      split,
      {
        ...DEFAULT_TRAIN_OPTIONS,
        preset: options.preset,
        seed: options.seed,
        maxEpochs: restored ? 0 : (options.maxEpochs ?? DEFAULT_TRAIN_OPTIONS.maxEpochs),
        ...(options.switches && { switches: options.switches }),
        ...(restored && {
          switches: restored.architecture.switches,
          initialWeights: restored.weights,
          standardisation: restored.preprocessing.standardisation,
          ...(restored.transfer && { initialTransfer: restoredTransfer(selected, restored.transfer) }),
        }),
      },
      hooks,
    );
    const { c3tl, calibrated } = await model.predict(support, split.query);
    const keep = source.kind === 'train' ? source.keep : undefined;
    return {
      tensor: selected,
      support,
      predictions: { c3tl, calibrated, ...baselines },
      train: {
        backend: tf.getBackend(),
        seconds: model.seconds,
        epochs: model.history.length,
        bestEpoch: model.bestEpoch,
        parameters: model.parameters,
        trainedParameters: model.trainedParameters,
        history: model.history,
        ...(model.transfer && {
          transfer: { epochs: model.transfer.epochs, bestEpoch: model.transfer.bestEpoch },
        }),
      },
      ...(keep && { modelFile: await modelFileOf(tensor, selected, split, model, options, keep) }),
    };
  } finally {
    model?.dispose();
  }
}

/** Metrics of every method on the split's query pairs (observed in the target). */
function evaluation(tensor: EffectTensor, split: TargetSplit, fitted: Fitted): TargetEvaluation {
  const target = split.target;
  const G = fitted.tensor.genes.length;
  const observed = rowsOf(fitted.tensor, target, split.query);
  const center = contextMean(fitted.tensor, target, fitted.support);
  const metrics = {} as Record<Method, MetricValues>;
  const perPair = {} as Record<Method, MetricValues[]>;
  for (const method of METHODS) {
    const result = computeMetrics({
      predicted: fitted.predictions[method],
      observed,
      contextMean: center,
      queryCount: split.query.length,
      geneCount: G,
    });
    metrics[method] = result.mean;
    perPair[method] = result.perPair;
  }
  return {
    context: tensor.contexts[target],
    support: fitted.support.length,
    query: split.query.length,
    metrics,
    perPair,
    queryPerturbations: split.query.map((p) => tensor.perturbations[p]),
    genes: [...fitted.tensor.genes],
    observed,
    predictions: fitted.predictions,
    contextMean: center,
    train: fitted.train,
    ...(fitted.modelFile !== undefined && { modelFile: fitted.modelFile }),
    warnings: degenerateWarnings(
      tensor.contexts[target],
      split.query.map((p) => tensor.perturbations[p]),
      observed,
      center,
    ),
  };
}

function prediction(tensor: EffectTensor, split: TargetSplit, fitted: Fitted): PredictionResult {
  return {
    context: tensor.contexts[split.target],
    support: fitted.support.length,
    perturbations: split.query.map((p) => tensor.perturbations[p]),
    genes: [...fitted.tensor.genes],
    predictions: fitted.predictions,
    train: fitted.train,
    ...(fitted.modelFile !== undefined && { modelFile: fitted.modelFile }),
  };
}

/** Leave-one-context-out evaluation of one target: split, baselines, C3TL, metrics on the held-out pairs. */
export async function evaluateTarget(
  tensor: EffectTensor,
  target: number,
  options: EvaluateOptions,
  hooks: RunHooks = {},
  keep: KeepOptions = {},
): Promise<TargetEvaluation> {
  const split = evaluationSplit(tensor, target, {
    supportFraction: options.supportFraction,
    seed: options.seed,
  });
  const fitted = await fitSplit(tensor, split, options, hooks, {
    kind: 'train',
    ...(keep.keepModelFile && { keep: { mode: 'evaluate', supportFraction: options.supportFraction } }),
  });
  return evaluation(tensor, split, fitted);
}

/** Mean of each metric over the targets that define it (NaN where none does), per method. */
export function meanMetrics(rows: readonly Record<Method, MetricValues>[]): Record<Method, MetricValues> {
  const out = {} as Record<Method, MetricValues>;
  for (const method of METHODS) out[method] = definedMean(rows.map((row) => row[method]));
  return out;
}

/**
 * Evaluates the named target, or every context in turn ('all'). Contexts that cannot be targets (fewer than
 * two perturbations shared with other contexts) are listed in `skipped`; naming one of them, or 'all' when
 * none can be a target, throws.
 */
export async function evaluate(
  tensor: EffectTensor,
  target: string,
  options: EvaluateOptions,
  hooks: RunHooks & { onTarget?: (evaluation: TargetEvaluation) => void } = {},
  keep: KeepOptions = {},
): Promise<EvaluationReport> {
  const indices = target === 'all' ? tensor.contexts.map((_, c) => c) : [tensor.contexts.indexOf(target)];
  if (indices[0] < 0) {
    throw new Error(`No context named "${target}"; the contexts are: ${tensor.contexts.join(', ')}.`);
  }
  const targets: EvaluationReport['targets'] = [];
  const skipped: EvaluationReport['skipped'] = [];
  const warnings: string[] = [];
  let seconds = 0;
  for (const c of indices) {
    let evaluation: TargetEvaluation;
    try {
      evaluation = await evaluateTarget(tensor, c, options, hooks, keep);
    } catch (error) {
      if (
        target !== 'all' ||
        !(error instanceof Error) ||
        error.name === 'AbortError' ||
        error instanceof RunOptionError
      ) {
        throw error;
      }
      skipped.push({ context: tensor.contexts[c], reason: error.message });
      continue;
    }
    hooks.onTarget?.(evaluation);
    warnings.push(...evaluation.warnings);
    seconds += evaluation.train.seconds;
    targets.push({
      context: evaluation.context,
      support: evaluation.support,
      query: evaluation.query,
      metrics: evaluation.metrics,
    });
  }
  if (!targets.length) {
    // An empty report would read as a successful run with every mean 0.
    throw new Error(
      `No context could be evaluated: ${skipped.map((s) => s.reason).join(' ')} To evaluate a target, ` +
        'measure at least 2 of the same perturbations in the target and another context.',
    );
  }
  const summary = tensorSummary(tensor);
  return {
    dataset: {
      contexts: summary.contexts,
      perturbations: summary.perturbations,
      genes: summary.genes,
      pairs: summary.pairs,
    },
    targets,
    mean: meanMetrics(targets.map((t) => t.metrics)),
    train: { backend: tf.getBackend(), seconds },
    skipped,
    warnings,
    options,
  };
}

/** Prediction mode: all shared measured perturbations of the target are support; predicts the unmeasured ones. */
export async function predictTarget(
  tensor: EffectTensor,
  target: number,
  options: RunOptions,
  hooks: RunHooks = {},
  keep: KeepOptions = {},
): Promise<PredictionResult> {
  const split = predictionSplit(tensor, target, { seed: options.seed });
  if (split.query.length === 0) {
    throw new Error(
      `Context "${tensor.contexts[target]}" has measured every perturbation seen elsewhere: nothing to predict.`,
    );
  }
  const fitted = await fitSplit(tensor, split, options, hooks, {
    kind: 'train',
    ...(keep.keepModelFile && { keep: { mode: 'predict', supportFraction: null } }),
  });
  return prediction(tensor, split, fitted);
}

/** A restored model's results: held-out metrics for an evaluate-mode model, predictions for a predict one. */
export type RestoredRun =
  | { mode: 'evaluate'; evaluation: TargetEvaluation; notes: string[] }
  | { mode: 'predict'; prediction: PredictionResult; notes: string[] };

/**
 * Applies a model file to a dataset without training (checkModelAgainst first; its refusal is thrown as an
 * Error with the message). The model is rebuilt on the dataset with the file's genes, target, support and
 * weights. An evaluate-mode model predicts and scores its held-out query pairs (those measured in the
 * target here); a predict-mode model predicts the target's perturbations that are unmeasured here.
 * notes: e.g. that the dataset differs from the one the model was trained on. file names the model file in
 * messages.
 */
export async function predictWithModelFile(
  tensor: EffectTensor,
  model: ModelFile,
  hooks: RunHooks = {},
  file = 'model file',
): Promise<RestoredRun> {
  const checked = await checkModelAgainst(tensor, model, file);
  if (!checked.ok) throw new Error(checked.error.message);
  const target = checked.data.target;
  const P = tensor.perturbations.length;
  const index = new Map(tensor.perturbations.map((p, i) => [p, i]));
  const indices = (names: readonly string[]) =>
    names.map((n) => index.get(n)).filter((i): i is number => i !== undefined);
  const supportTrain = indices(model.support.train);
  const supportVal = indices(model.support.validation);
  const query =
    model.mode === 'evaluate'
      ? indices(model.query).filter((p) => tensor.observed[target * P + p])
      : unmeasuredPerturbations(tensor, target);
  if (query.length === 0) {
    throw new Error(
      model.mode === 'evaluate'
        ? `None of the model's ${model.query.length} held-out perturbations is measured in "${model.target}" in this dataset.`
        : `Context "${model.target}" has measured every perturbation seen elsewhere: nothing to predict.`,
    );
  }
  const split: TargetSplit = { target, supportTrain, supportVal, query };
  const options = {
    seed: model.settings.seed,
    preset: model.architecture.preset,
    geneLimit: model.preprocessing.geneLimit,
  };
  const fitted = await fitSplit(tensor, split, options, hooks, { kind: 'restore', model });
  return model.mode === 'evaluate'
    ? { mode: 'evaluate', evaluation: evaluation(tensor, split, fitted), notes: checked.notes }
    : { mode: 'predict', prediction: prediction(tensor, split, fitted), notes: checked.notes };
}

/**
 * Support-fraction sweep (e.g. 0.01, 0.05, 0.1, 0.3) for one target, all points scored on the same held-out
 * pairs; hooks.onEpoch reports each training.
 */
export async function sweepSupport(
  tensor: EffectTensor,
  target: number,
  fractions: readonly number[],
  options: RunOptions,
  hooks: RunHooks & { onPoint?: (point: SweepPoint) => void } = {},
): Promise<SweepPoint[]> {
  // Every point is scored on the same held-out pairs, those left by the largest support: supports of one seed
  // are nested prefixes of one shuffle, so each smaller support is disjoint from that query.
  const largest = Math.max(...fractions);
  const { query } = evaluationSplit(tensor, target, { supportFraction: largest, seed: options.seed });
  const points: SweepPoint[] = [];
  for (const fraction of fractions) {
    const own = evaluationSplit(tensor, target, { supportFraction: fraction, seed: options.seed });
    const split: TargetSplit = { ...own, query };
    const fitted = await fitSplit(tensor, split, options, hooks, { kind: 'train' });
    const scored = evaluation(tensor, split, fitted);
    const point = { fraction, support: scored.support, metrics: scored.metrics };
    points.push(point);
    hooks.onPoint?.(point);
  }
  return points;
}
