import * as tf from '@tensorflow/tfjs';
import type { EffectTensor } from '../data/tensor';
import type { TargetSplit } from '../eval/types';
import type { EpochLog, ModelPreset, RunHooks } from '../eval/types';
import { createRng, shuffled } from '../random';
import type { C3tlArchitecture, C3tlParameters, C3tlSwitches, ParameterName } from './c3tl';
import {
  GENE_PARAMETER_NAMES,
  SHARED_PARAMETER_NAMES,
  allVariables,
  createParameters,
  episodeLoss,
  forward,
  initialParameterValues,
  parameterCount,
  parameterShapes,
  parameterValues,
} from './c3tl';
import type { EpisodeOptions, EpisodePool } from './episodes';
import { fixedSupportWeights, sampleEpisode } from './episodes';
import { principalBasis } from './basis';
import { geneStandardisation, type GeneStandardisation } from './standardise';
import { AbortError } from './abort';
import type { TransferParameterName } from './transfer';
import {
  DEFAULT_TRANSFER_OPTIONS,
  trainTransfer,
  type TrainedTransfer,
  type TransferTrainOptions,
} from './transfer-train';
import {
  blockGeneWeights,
  blockInputs,
  disposeInputs,
  hostData,
  scaledValues,
  trainingMask,
} from './train-host';
import {
  deviceData,
  disposeData,
  disposeEpisode,
  episodeTensors,
  geneBlocks,
  modelOrderWeights,
  supportPairsOf,
} from './train-episodes';
import { centredPearson } from '../eval/metrics';
import { disposeScored, pseudoTarget, scoredEpisode, type Scored } from './train-validation';

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
  /** Per-gene scale to use instead of the one computed from the training pairs (a restored model's), G. */
  standardisation?: GeneStandardisation;
  /** A restored transfer path: its feature genes (tensor gene indices) and weights. */
  initialTransfer?: { features: Int32Array; weights: Record<TransferParameterName, Float32Array> };
  /** Options of the transfer path's training (transfer-train.ts); defaults DEFAULT_TRANSFER_OPTIONS. */
  transferOptions?: Partial<Omit<TransferTrainOptions, 'seed' | 'switches' | 'restore' | 'shouldStop'>>;
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
};

export { AbortError };
export { hostData, supportMomentValues, type HostData } from './train-host';

/** What C3TL predicts: the full model, and its fixed form alone (`calibrated`, the transfer path off). */
export interface C3tlPrediction {
  c3tl: Float32Array;
  calibrated: Float32Array;
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
    parameters: number;
    features: Int32Array;
  };
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

const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Trains C3TL for one target split by episodes (DESIGN.md §2.5) and keeps the weights of the best epoch;
 * epoch 0, the untrained model, is the additive baseline. "Best" is judged on held-out pairs only, by the
 * evaluation's own metric: the mean centred Pearson over the target's validation pairs, averaged with the
 * same over up to pseudoTargetPairs pairs of a pseudo-target, a reference context that is trained as the
 * target is (a support of as many pairs as the target's) and whose other pairs are never training queries.
 * The target's 2% are a handful of noisy pairs; the pseudo-target adds a hundred pairs of a context in the
 * target's situation. EpochLog.trainLoss is the epoch's mean step loss, valLoss the loss on the target's
 * validation pairs (on the pseudo-target's without them), both in training-loss units (squared error, each
 * gene weighted by its squared scale, mean weight 1).
 * Runs on whatever tfjs backend is active; leaves no tensors behind once the result is disposed, and none
 * when it throws (AbortError when hooks.shouldStop returns true).
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
  const switches: C3tlSwitches = { ...DEFAULT_SWITCHES, ...options.switches };
  const rng = createRng(options.seed);

  const mask = trainingMask(tensor, split);
  // Genes in a seeded random order, so that contiguous training blocks are random gene sets.
  const geneOrder = Int32Array.from(
    shuffled(
      Array.from({ length: G }, (_, g) => g),
      rng,
    ),
  );
  const pool: EpisodePool = { contexts: C, perturbations: P, targets: [split.target], pairs: [] };
  for (let c = 0; c < C; c++) {
    const pairs: number[] = [];
    for (let p = 0; p < P; p++) if (mask[c * P + p]) pairs.push(p);
    pool.pairs.push(pairs);
  }
  const pseudo = pseudoTarget(
    pool,
    Math.max(2, split.supportTrain.length),
    options.pseudoTargetPairs ?? DEFAULT_TRAIN_OPTIONS.pseudoTargetPairs ?? 0,
    rng.fork(),
  );
  // The pseudo-target's scored pairs judge transfer, so no statistic of training may read them.
  if (pseudo) for (const pair of pseudo.queryPairs) mask[pair] = 0;
  const standard = options.standardisation ?? geneStandardisation(tensor, mask);
  if (standard.scale.length !== G || standard.mean.length !== G) {
    throw new Error(`The standardisation has ${standard.scale.length} genes; the tensor has ${G}.`);
  }

  let host = hostData(tensor, mask, standard, geneOrder);
  const modelScale = Float32Array.from(geneOrder, (g) => standard.scale[g]);
  // The gene basis is fitted once, on the training pairs, and reused for the final model's data; only the
  // learnt network uses it.
  const basisRng = rng.fork();
  const basis = switches.network
    ? principalBasis(scaledValues(host), C * P, G, architecture.basisRank, basisRng)
    : undefined;
  let data = switches.network
    ? deviceData(host, basis, architecture.basisRank, architecture.embedDim)
    : undefined;
  const blocks = geneBlocks(G, options.genesPerStep);
  const geneWeights = blockGeneWeights(host, blocks);
  const blockModel = { blocks, geneWeights, network: switches.network };
  const initialRng = rng.fork();
  const params = createParameters(
    architecture,
    options.initialWeights
      ? modelOrderWeights(architecture, options.initialWeights, geneOrder)
      : initialParameterValues(
          architecture,
          basis ?? new Float32Array(G * architecture.basisRank),
          initialRng,
        ),
    blocks,
  );
  const variables = allVariables(params);
  // One optimiser for the shared weights and one per gene block: Adam keys its moments by the position of a
  // gradient in the list it is given, so each optimiser must always see the same variables.
  const sharedVariables = SHARED_PARAMETER_NAMES.map((n) => params.shared[n]);
  const sharedOptimizer = tf.train.adam(options.learningRate);
  const blockOptimizers = blocks.map(() => tf.train.adam(options.learningRate));

  const targetValidation =
    split.supportVal.length > 0 && split.supportTrain.length > 0
      ? scoredEpisode(
          tensor,
          host,
          modelScale,
          {
            weights: fixedSupportWeights(C, P, split.target, split.supportTrain),
            pairs: split.supportTrain.map((p) => split.target * P + p),
          },
          Int32Array.from(split.supportVal, (p) => split.target * P + p),
          blockModel,
        )
      : undefined;
  const pseudoValidation = pseudo
    ? scoredEpisode(tensor, host, modelScale, pseudo.support, pseudo.queryPairs, blockModel)
    : undefined;
  const validations = [targetValidation, pseudoValidation].filter((v): v is Scored => v !== undefined);
  /** Per held-out set, the mean centred Pearson of its queries and its loss (in the training loss's units). */
  const evaluateHeldOut = async () => {
    const pearson: number[] = [];
    const loss: number[] = [];
    for (const v of validations) {
      const Q = v.observed.length / G;
      const predicted = new Float32Array(Q * G);
      for (let b = 0; b < blocks.length; b++) {
        const { begin, size } = blocks[b];
        const scaled = tf.tidy(() =>
          forward(params, data, v.episode, v.blocks[b].inputs, { block: b, switches }),
        );
        const values = (await scaled.data()) as Float32Array;
        scaled.dispose();
        for (let q = 0; q < Q; q++)
          for (let i = 0; i < size; i++)
            predicted[q * G + begin + i] = values[q * size + i] * modelScale[begin + i];
      }
      let r = 0;
      let sq = 0;
      for (let q = 0; q < Q; q++) {
        const row = (x: Float32Array) => x.subarray(q * G, (q + 1) * G);
        r += centredPearson(row(predicted), row(v.observed), v.supportMean);
        for (let i = 0; i < G; i++)
          sq +=
            (host.geneWeights[i] * ((predicted[q * G + i] - v.observed[q * G + i]) / modelScale[i]) ** 2) / G;
      }
      pearson.push(r / Q);
      loss.push(sq / Q);
    }
    return { pearson, loss };
  };
  const criterion = (pearson: number[]) => pearson.reduce((a, b) => a + b, 0) / pearson.length;

  let best: tf.Tensor[] = [];
  let bestEpoch = 0;
  const history: EpochLog[] = [];
  let trainingDisposed = false;
  const disposeTraining = (): void => {
    if (trainingDisposed) return;
    trainingDisposed = true;
    tf.dispose(best);
    disposeScored(targetValidation);
    disposeScored(pseudoValidation);
    sharedOptimizer.dispose();
    blockOptimizers.forEach((o) => o.dispose());
  };

  try {
    // With fewer than two reference contexts nothing held out can judge transfer (a pseudo-target's only
    // reference would be the target's few support pairs): the gates then stay closed and the fixed form is
    // the additive baseline. (The step's timing, calibrate.ts, trains on 4 contexts without a pseudo-target.)
    const epochs = C >= 3 ? options.maxEpochs : 0;
    // Without epochs nothing is compared: the held-out score would only cost time.
    const validated = validations.length > 0 && epochs > 0;
    let bestScore = validated ? criterion((await evaluateHeldOut()).pearson) : -Infinity;
    best = variables.map((v) => v.clone());

    let step = 0;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      if (hooks.shouldStop?.()) throw new AbortError();
      // Sum of the epoch's step losses, kept on the device: one read-back per epoch.
      let lossSum: tf.Tensor | null = null;
      let steps = 0;
      for (let s = 0; s < options.stepsPerEpoch; s++, step++) {
        const sampled = sampleEpisode(pool, options.episodes, rng);
        if (sampled.queryPairs.length === 0) break;
        const b = step % blocks.length;
        const support = { weights: sampled.supportWeights, pairs: supportPairsOf(sampled.supportWeights) };
        const episode = episodeTensors(host, support, sampled.queryPairs, switches.network);
        const { inputs, queryObserved } = blockInputs(
          host,
          support,
          sampled.queryPairs,
          blocks[b],
          geneWeights[b],
        );
        const weights = tf.tensor2d(sampled.queryWeights, [sampled.queryPairs.length, 1]);
        const blockVariables = GENE_PARAMETER_NAMES.map((n) => params.blocks[b][n]);
        const { value, grads } = tf.variableGrads(
          () => episodeLoss(params, data, episode, inputs, queryObserved, weights, { block: b, switches }),
          [...sharedVariables, ...blockVariables],
        );
        const gradientsOf = (vars: tf.Variable[]) =>
          vars.filter((v) => grads[v.name]).map((v) => ({ name: v.name, tensor: grads[v.name] }));
        const sharedGrads = gradientsOf(sharedVariables);
        if (sharedGrads.length > 0) sharedOptimizer.applyGradients(sharedGrads);
        blockOptimizers[b].applyGradients(gradientsOf(blockVariables));
        tf.dispose(Object.values(grads));
        const sum: tf.Tensor = lossSum ? tf.add(lossSum, value) : value.clone();
        lossSum?.dispose();
        value.dispose();
        lossSum = sum;
        steps++;
        disposeEpisode(episode);
        disposeInputs(inputs);
        tf.dispose([weights, queryObserved]);
      }
      const trainLoss = lossSum ? (await lossSum.data())[0] / steps : NaN;
      lossSum?.dispose();
      const heldOut = validated ? await evaluateHeldOut() : undefined;
      const current = heldOut ? criterion(heldOut.pearson) : NaN;
      const improved = heldOut ? current > bestScore : true;
      if (improved) {
        tf.dispose(best);
        best = variables.map((v) => v.clone());
        if (heldOut) bestScore = current;
        bestEpoch = epoch;
      }
      const log: EpochLog = {
        epoch,
        maxEpochs: options.maxEpochs,
        trainLoss,
        valLoss: heldOut ? heldOut.loss[0] : NaN,
        bestEpoch,
        elapsedSeconds: (performance.now() - started) / 1000,
      };
      history.push(log);
      hooks.onEpoch?.(log);
      await nextTask();
      if (validated && epoch - bestEpoch >= options.patience) break;
    }
    variables.forEach((v, i) => v.assign(best[i]));
  } catch (error) {
    disposeTraining();
    disposeData(data);
    tf.dispose([...variables, ...geneWeights]);
    throw error;
  }
  disposeTraining();

  /**
   * The fixed form's effects of the given perturbations in a context whose known pairs are `support`
   * (original units): Q*G. It reads the current host data: the training pairs until the final model's data
   * replace them.
   */
  const predictFixedForm = async (
    context: number,
    support: readonly number[],
    perturbations: readonly number[],
  ) => {
    const Q = perturbations.length;
    const out = new Float32Array(Q * G);
    if (Q === 0) return out;
    const weights = fixedSupportWeights(C, P, context, support);
    const known = { weights, pairs: supportPairsOf(weights) };
    // Chunks bound the memory of the [chunk, Gb] intermediates in prediction mode (thousands of pairs).
    const chunk = 512;
    for (let start = 0; start < Q; start += chunk) {
      const part = Int32Array.from(perturbations.slice(start, start + chunk), (p) => context * P + p);
      const episode = episodeTensors(host, known, part, switches.network);
      for (const [b, block] of blocks.entries()) {
        const { inputs, queryObserved } = blockInputs(host, known, part, block, geneWeights[b]);
        queryObserved.dispose();
        const scaled = tf.tidy(() => forward(params, data, episode, inputs, { block: b, switches }));
        // Asynchronous read: a synchronous one of a WebGPU tensor destroys the device in a browser worker.
        const values = (await scaled.data()) as Float32Array;
        scaled.dispose();
        disposeInputs(inputs);
        for (let q = 0; q < part.length; q++) {
          const row = (start + q) * G;
          for (let i = 0; i < block.size; i++) {
            const g = geneOrder[block.begin + i];
            out[row + g] = values[q * block.size + i] * standard.scale[g] + standard.mean[g];
          }
        }
      }
      disposeEpisode(episode);
    }
    return out;
  };

  let transfer: TrainedTransfer | undefined;
  if (switches.transfer) {
    try {
      transfer = await trainTransfer(tensor, split, standard.scale, {
        ...DEFAULT_TRANSFER_OPTIONS,
        ...options.transferOptions,
        // maxEpochs bounds both stages: a user who asks for 2 epochs gets a short run.
        maxEpochs: Math.min(
          options.maxEpochs,
          options.transferOptions?.maxEpochs ?? DEFAULT_TRANSFER_OPTIONS.maxEpochs,
        ),
        ...(options.initialTransfer && { maxEpochs: 0, restore: options.initialTransfer }),
        seed: options.seed,
        switches: { deviations: switches.deviations, context: switches.context },
        ...(pseudo && {
          holdout: {
            context: pseudo.context,
            support: pseudo.support.pairs.map((pair) => pair - pseudo.context * P),
            queries: Array.from(pseudo.queryPairs, (pair) => pair - pseudo.context * P),
          },
        }),
        fixedForm: predictFixedForm,
        ...(hooks.shouldStop && { shouldStop: hooks.shouldStop }),
      });
    } catch (error) {
      disposeData(data);
      tf.dispose([...variables, ...geneWeights]);
      throw error;
    }
  }

  // The final model sees the whole support (training and validation pairs) as the target's known pairs.
  disposeData(data);
  host = hostData(tensor, trainingMask(tensor, split, split.supportVal), standard, geneOrder);
  data = switches.network
    ? deviceData(host, basis, architecture.basisRank, architecture.embedDim)
    : undefined;

  const seconds = (performance.now() - started) / 1000;
  const shapes = parameterShapes(architecture);
  return {
    architecture,
    switches,
    parameters: parameterCount(architecture) + (transfer?.parameters ?? 0),
    trainedParameters: trainedParameterCount(architecture, switches) + (transfer?.parameters ?? 0),
    ...(transfer && {
      transfer: {
        epochs: transfer.epochs,
        bestEpoch: transfer.bestEpoch,
        scale: transfer.scale,
        parameters: transfer.parameters,
        features: transfer.features,
      },
    }),
    standardisation: standard,
    history,
    bestEpoch,
    seconds,
    async predict(support, perturbations) {
      const calibrated = await predictFixedForm(split.target, support, perturbations);
      if (!transfer || perturbations.length === 0) return { c3tl: calibrated.slice(), calibrated };
      // The target's deviation of each support pair from the fixed form is what the transfer path carries.
      const residual = await predictFixedForm(split.target, support, support);
      for (let s = 0; s < support.length; s++) {
        const row = (split.target * P + support[s]) * G;
        for (let g = 0; g < G; g++) residual[s * G + g] = tensor.values[row + g] - residual[s * G + g];
      }
      const transferred = await transfer.transfer(support, perturbations, residual);
      return { c3tl: Float32Array.from(calibrated, (v, i) => v + transferred[i]), calibrated };
    },
    async transferWeights() {
      return transfer ? transfer.weights() : undefined;
    },
    async weights() {
      const values = await parameterValues(architecture, params);
      const out = {} as Record<ParameterName, Float32Array>;
      for (const name of SHARED_PARAMETER_NAMES) out[name] = values[name];
      for (const name of GENE_PARAMETER_NAMES) {
        const rows = shapes[name].length === 2 ? shapes[name][0] : 1;
        const ordered = new Float32Array(values[name].length);
        for (let r = 0; r < rows; r++)
          for (let i = 0; i < G; i++) ordered[r * G + geneOrder[i]] = values[name][r * G + i];
        out[name] = ordered;
      }
      return out;
    },
    dispose() {
      disposeData(data);
      tf.dispose([...variables, ...geneWeights]);
      transfer?.dispose();
    },
  };
}

/** Parameters of the fixed form's parts that are switched on (the transfer path is counted apart). */
function trainedParameterCount(architecture: C3tlArchitecture, switches: C3tlSwitches): number {
  const shapes = parameterShapes(architecture);
  const size = (name: ParameterName) => shapes[name].reduce((a, b) => a * b, 1);
  const names: ParameterName[] = [];
  if (switches.denoise) names.push('denoise_gate');
  if (switches.shift) names.push('shift_gate');
  if (switches.slope) names.push('slope_gate', 'slope_shrink');
  if (switches.network) names.push(...SHARED_PARAMETER_NAMES, 'decoder_basis', 'gain_w', 'gain_b');
  return names.reduce((sum, name) => sum + size(name), 0);
}

export type { C3tlParameters };
