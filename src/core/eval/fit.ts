/**
 * One split of one target, fitted: gene selection, the baselines and C3TL (trained, or rebuilt from a model
 * file), and the results the protocol reports from it.
 */
import * as tf from '@tensorflow/tfjs';
import { version as appVersion } from '../../../package.json';
import { selectVariableGenes } from '../data/select';
import type { EffectTensor } from '../data/tensor';
import { contextMean, predictBaselines } from '../model/baselines';
import { heldGenes } from '../model/held-genes';
import {
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
import { computeMetrics } from './metrics';
import { METHODS, type Method } from './methods';
import type { MetricValues } from './metric-info';
import type { PredictionResult, TargetEvaluation } from './results';
import { checkSwitches } from './switches';
import type { RunHooks, RunOptions, TargetSplit, TrainInfo } from './types';

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

export interface Fitted {
  tensor: EffectTensor;
  support: number[];
  predictions: Record<Method, Float32Array>;
  train: TrainInfo;
  modelFile?: string;
}

/** How fitSplit gets its C3TL: trained (and optionally kept as a model file), or restored from one. */
export type ModelSource =
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
      sparseBase: model.sparseBase,
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
  return {
    features,
    weights: transfer.weights,
    sparseMix: transfer.sparseMix,
    withoutSlope: transfer.withoutSlope,
    robustShift: transfer.robustShift,
  };
}

async function transferSection(tensor: EffectTensor, model: TrainedC3tl): Promise<ModelFile['transfer']> {
  const weights = await model.transferWeights();
  if (!weights || !model.transfer) return null;
  return {
    features: Array.from(model.transfer.features, (g) => tensor.genes[g]),
    weights,
    sparseMix: model.transfer.sparseMix,
    withoutSlope: model.transfer.withoutSlope,
    robustShift: model.transfer.robustShift,
  };
}

/**
 * Gene selection on the other contexts and the target's support (or a restored model's genes), the
 * baselines and C3TL for one split: trained, or rebuilt from a model file's weights without training.
 */
export async function fitSplit(
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
          sparseBase: restored.preprocessing.sparseBase,
          ...(restored.transfer && { initialTransfer: restoredTransfer(selected, restored.transfer) }),
        }),
      },
      hooks,
    );
    const { c3tl, calibrated, mix } = await model.predict(support, split.query);
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
        sparseBase: model.sparseBase,
        heldGenes: heldGenes(
          selected.values,
          selected.perturbations.length,
          selected.genes.length,
          split.target,
          support,
        ).genes.length,
        ...(model.transfer && {
          transfer: {
            epochs: model.transfer.epochs,
            bestEpoch: model.transfer.bestEpoch,
            scale: model.transfer.scale,
            judgedOn: model.transfer.judgedOn,
            sparseMix: model.transfer.sparseMix,
            withoutSlope: model.transfer.withoutSlope,
            ...(mix && {
              mix: mix.contexts.map((c, i) => ({ context: selected.contexts[c], weight: mix.weights[i] })),
            }),
          },
        }),
      },
      ...(keep && { modelFile: await modelFileOf(tensor, selected, split, model, options, keep) }),
    };
  } finally {
    model?.dispose();
  }
}

/** Metrics of every method on the split's query pairs (observed in the target). */
export function evaluation(tensor: EffectTensor, split: TargetSplit, fitted: Fitted): TargetEvaluation {
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
    supportPerturbations: fitted.support.map((p) => tensor.perturbations[p]),
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

export function prediction(tensor: EffectTensor, split: TargetSplit, fitted: Fitted): PredictionResult {
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
