import * as tf from '@tensorflow/tfjs';
import type { EffectTensor } from '../data/tensor';
import type { TargetSplit } from '../eval/types';
import type { EpochLog, ModelPreset, RunHooks } from '../eval/protocol';
import { createRng } from '../random';
import type { C3tlArchitecture, C3tlData, C3tlParameters, EpisodeTensors, ParameterName } from './c3tl';
import {
  PARAMETER_NAMES,
  createParameters,
  episodeLoss,
  forward,
  initialParameterValues,
  parameterCount,
} from './c3tl';
import type { EpisodeOptions, EpisodePool } from './episodes';
import { fixedSupportWeights, sampleEpisode } from './episodes';
import { principalBasis } from './basis';
import { geneStandardisation, type GeneStandardisation } from './standardise';

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
  /** Epochs without a better validation loss before stopping. */
  patience: number;
  learningRate: number;
  episodes: EpisodeOptions;
}

export const DEFAULT_TRAIN_OPTIONS: Omit<TrainOptions, 'preset' | 'seed'> = {
  maxEpochs: 40,
  stepsPerEpoch: 10,
  patience: 8,
  learningRate: 1e-3,
  episodes: { supportFractionRange: [0.05, 0.3], maxQueryPairs: 512, targetWeight: 0.3 },
};

export class AbortError extends Error {
  constructor() {
    super('Training was cancelled.');
    this.name = 'AbortError';
  }
}

/** A trained model for one target split; predictions are in the tensor's original units. */
export interface TrainedC3tl {
  architecture: C3tlArchitecture;
  parameters: number;
  standardisation: GeneStandardisation;
  history: EpochLog[];
  bestEpoch: number;
  seconds: number;
  /** Effects of the given perturbations in the target, using support as the target's known pairs: Q*G. */
  predict(support: readonly number[], perturbations: readonly number[]): Float32Array;
  /** Current weights, keyed by parameter name. */
  weights(): Record<ParameterName, Float32Array>;
  dispose(): void;
}

/** Training pairs: every observed pair of other contexts, and only the training support of the target. */
function trainingMask(tensor: EffectTensor, split: TargetSplit, extra: readonly number[] = []): Uint8Array {
  const P = tensor.perturbations.length;
  const mask = tensor.observed.slice();
  mask.fill(0, split.target * P, (split.target + 1) * P);
  for (const p of [...split.supportTrain, ...extra]) mask[split.target * P + p] = 1;
  return mask;
}

function buildData(
  tensor: EffectTensor,
  mask: Uint8Array,
  standard: GeneStandardisation,
  basis: (z: tf.Tensor2D) => Float32Array,
  rank: number,
): C3tlData {
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const values = new Float32Array(C * P * G);
  const sumZ = new Float32Array(P * G);
  const counts = new Uint16Array(P);
  for (let pair = 0; pair < C * P; pair++) {
    if (!mask[pair]) continue;
    const p = pair % P;
    counts[p]++;
    const base = pair * G;
    for (let g = 0; g < G; g++) {
      const v = (tensor.values[base + g] - standard.mean[g]) / standard.scale[g];
      values[base + g] = v;
      sumZ[p * G + g] += v;
    }
  }
  const invOther = new Float32Array(C * P);
  for (let pair = 0; pair < C * P; pair++) {
    const others = counts[pair % P] - mask[pair];
    invOther[pair] = others > 0 ? 1 / others : 0;
  }
  const z = tf.tensor2d(values, [C * P, G]);
  const v = tf.tensor2d(basis(z), [G, rank]);
  const zBasis = tf.matMul(z, v) as tf.Tensor2D;
  v.dispose();
  return {
    contexts: C,
    perturbations: P,
    z,
    zBasis,
    mask: tf.tensor2d(Float32Array.from(mask), [C * P, 1]),
    sumZ: tf.tensor2d(sumZ, [P, G]),
    invOther: tf.tensor2d(invOther, [C * P, 1]),
  };
}

function disposeData(data: C3tlData): void {
  tf.dispose([data.z, data.zBasis, data.mask, data.sumZ, data.invOther]);
}

function oneHot(indices: ArrayLike<number>, depth: number): Float32Array {
  const out = new Float32Array(indices.length * depth);
  for (let i = 0; i < indices.length; i++) out[i * depth + indices[i]] = 1;
  return out;
}

/** Flat pair indices c*P + p, and per context the weight 1/|S_c|, of a support given as C*P weights. */
function episodeTensors(
  data: C3tlData,
  supportWeights: Float32Array,
  queryPairs: Int32Array,
): EpisodeTensors {
  const { contexts: C, perturbations: P } = data;
  const supportPairs: number[] = [];
  for (let pair = 0; pair < supportWeights.length; pair++)
    if (supportWeights[pair] > 0) supportPairs.push(pair);
  const Ns = supportPairs.length;
  const weights = new Float32Array(C * Ns);
  supportPairs.forEach((pair, i) => (weights[Math.floor(pair / P) * Ns + i] = supportWeights[pair]));
  const supportPerturbations = supportPairs.map((pair) => pair % P);
  const Q = queryPairs.length;
  const contexts = Int32Array.from(queryPairs, (pair) => Math.floor(pair / P));
  const perturbations = Int32Array.from(queryPairs, (pair) => pair % P);
  return {
    supportPairs: tf.tensor1d(supportPairs, 'int32'),
    supportPerturbations: tf.tensor1d(supportPerturbations, 'int32'),
    supportWeights: tf.tensor2d(weights, [C, Ns]),
    supportPerturbationOneHot: tf.tensor2d(oneHot(supportPerturbations, P), [Ns, P]),
    queryPairs: tf.tensor1d(queryPairs, 'int32'),
    queryPerturbations: tf.tensor1d(perturbations, 'int32'),
    queryContexts: tf.tensor1d(contexts, 'int32'),
    queryPerturbationOneHot: tf.tensor2d(oneHot(perturbations, P), [Q, P]),
    queryContextOneHot: tf.tensor2d(oneHot(contexts, C), [Q, C]),
  };
}

function disposeEpisode(episode: EpisodeTensors): void {
  tf.dispose(Object.values(episode));
}

/** Standardised observed effects of pairs of the target: [Q, G]. */
function standardisedRows(
  tensor: EffectTensor,
  target: number,
  perturbations: readonly number[],
  standard: GeneStandardisation,
): tf.Tensor2D {
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const out = new Float32Array(perturbations.length * G);
  perturbations.forEach((p, i) => {
    const base = (target * P + p) * G;
    for (let g = 0; g < G; g++)
      out[i * G + g] = (tensor.values[base + g] - standard.mean[g]) / standard.scale[g];
  });
  return tf.tensor2d(out, [perturbations.length, G]);
}

const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Trains C3TL for one target split by episodes (DESIGN.md §2.5) with early stopping on the target's
 * validation pairs; keeps the weights of the best validation epoch (epoch 0 is the additive baseline).
 * Runs on whatever tfjs backend is active; leaves no tensors behind once the result is disposed.
 */
export async function trainC3tl(
  tensor: EffectTensor,
  split: TargetSplit,
  options: TrainOptions,
  hooks: RunHooks = {},
): Promise<TrainedC3tl> {
  const started = performance.now();
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const preset = PRESETS[options.preset];
  const architecture: C3tlArchitecture = { genes: G, ...preset, basisRank: Math.min(preset.basisRank, G) };
  const rng = createRng(options.seed);

  const mask = trainingMask(tensor, split);
  const standard = geneStandardisation(tensor, mask);
  const pool: EpisodePool = { contexts: C, perturbations: P, target: split.target, pairs: [] };
  for (let c = 0; c < C; c++) {
    const pairs: number[] = [];
    for (let p = 0; p < P; p++) if (mask[c * P + p]) pairs.push(p);
    pool.pairs.push(pairs);
  }

  // The gene basis is fitted once, on the training pairs, and reused for the final model's data.
  let basis: Float32Array | undefined;
  const basisOf = (z: tf.Tensor2D) => (basis ??= principalBasis(z, architecture.basisRank, rng.fork()));
  let data = buildData(tensor, mask, standard, basisOf, architecture.basisRank);
  const params = createParameters(
    architecture,
    initialParameterValues(architecture, basisOf(data.z), rng.fork()),
  );
  const variables = PARAMETER_NAMES.map((name) => params[name]);
  const optimizer = tf.train.adam(options.learningRate);

  const hasValidation = split.supportVal.length > 0 && split.supportTrain.length > 0;
  const validation = hasValidation
    ? {
        episode: episodeTensors(
          data,
          fixedSupportWeights(C, P, split.target, split.supportTrain),
          Int32Array.from(split.supportVal, (p) => split.target * P + p),
        ),
        observed: standardisedRows(tensor, split.target, split.supportVal, standard),
        weights: tf.fill([split.supportVal.length], 1 / split.supportVal.length) as tf.Tensor1D,
      }
    : undefined;
  const validationLoss = (): tf.Scalar | undefined =>
    validation
      ? tf.tidy(() => episodeLoss(params, data, validation.episode, validation.observed, validation.weights))
      : undefined;

  let best: tf.Tensor[] = variables.map((v) => v.clone());
  let bestLoss = Infinity;
  let bestEpoch = 0;
  const history: EpochLog[] = [];
  const initial = validationLoss();
  if (initial) {
    bestLoss = (await initial.data())[0];
    initial.dispose();
  }

  try {
    for (let epoch = 1; epoch <= options.maxEpochs; epoch++) {
      if (hooks.shouldStop?.()) throw new AbortError();
      let lastLoss: tf.Scalar | null = null;
      for (let step = 0; step < options.stepsPerEpoch; step++) {
        const sampled = sampleEpisode(pool, options.episodes, rng);
        if (sampled.queryPairs.length === 0) break;
        const episode = episodeTensors(data, sampled.supportWeights, sampled.queryPairs);
        const weights = tf.tensor1d(sampled.queryWeights);
        const observed = tf.gather(data.z, episode.queryPairs) as tf.Tensor2D;
        lastLoss?.dispose();
        const wantLoss = step === options.stepsPerEpoch - 1;
        lastLoss = optimizer.minimize(
          () => episodeLoss(params, data, episode, observed, weights),
          wantLoss,
          variables,
        );
        disposeEpisode(episode);
        tf.dispose([weights, observed]);
      }
      const trainLoss = lastLoss ? (await lastLoss.data())[0] : NaN;
      lastLoss?.dispose();
      const val = validationLoss();
      const valLoss = val ? (await val.data())[0] : NaN;
      val?.dispose();
      const improved = hasValidation ? valLoss < bestLoss : true;
      if (improved) {
        tf.dispose(best);
        best = variables.map((v) => v.clone());
        bestLoss = hasValidation ? valLoss : bestLoss;
        bestEpoch = epoch;
      }
      const log: EpochLog = {
        epoch,
        maxEpochs: options.maxEpochs,
        trainLoss,
        valLoss,
        bestEpoch,
        elapsedSeconds: (performance.now() - started) / 1000,
      };
      history.push(log);
      hooks.onEpoch?.(log);
      await nextTask();
      if (hasValidation && epoch - bestEpoch >= options.patience) break;
    }
  } catch (error) {
    tf.dispose(best);
    disposeAll();
    throw error;
  }

  variables.forEach((v, i) => v.assign(best[i]));
  tf.dispose(best);
  if (validation) {
    disposeEpisode(validation.episode);
    tf.dispose([validation.observed, validation.weights]);
  }
  optimizer.dispose();
  // The final model sees the whole support (training and validation pairs) as the target's known pairs.
  disposeData(data);
  data = buildData(
    tensor,
    trainingMask(tensor, split, split.supportVal),
    standard,
    basisOf,
    architecture.basisRank,
  );

  function disposeAll(): void {
    if (validation) {
      disposeEpisode(validation.episode);
      tf.dispose([validation.observed, validation.weights]);
    }
    optimizer.dispose();
    disposeData(data);
    tf.dispose(variables);
  }

  const seconds = (performance.now() - started) / 1000;
  return {
    architecture,
    parameters: parameterCount(architecture),
    standardisation: standard,
    history,
    bestEpoch,
    seconds,
    predict(support, perturbations) {
      if (perturbations.length === 0) return new Float32Array(0);
      const episode = episodeTensors(
        data,
        fixedSupportWeights(C, P, split.target, support),
        Int32Array.from(perturbations, (p) => split.target * P + p),
      );
      const standardised = tf.tidy(() => forward(params, data, episode));
      const values = standardised.dataSync() as Float32Array;
      standardised.dispose();
      disposeEpisode(episode);
      const out = new Float32Array(values.length);
      for (let i = 0; i < values.length; i++) {
        const g = i % G;
        out[i] = values[i] * standard.scale[g] + standard.mean[g];
      }
      return out;
    },
    weights() {
      const out = {} as Record<ParameterName, Float32Array>;
      for (const name of PARAMETER_NAMES) out[name] = params[name].dataSync() as Float32Array;
      return out;
    },
    dispose() {
      disposeData(data);
      tf.dispose(variables);
    },
  };
}

export type { C3tlParameters };
