import * as tf from '@tensorflow/tfjs';
import type { EffectTensor } from '../data/tensor';
import type { TargetSplit } from '../eval/types';
import { createRng, shuffled, type Rng } from '../random';
import { AbortError } from './abort';
import { buildEpisode, featureGenes, type TransferEpisode, type TransferSource } from './transfer-data';
import { centredPearson } from '../eval/metrics';
import {
  createTransferParameters,
  disposeTransferInputs,
  transferForward,
  transferInputs,
  transferParameterCount,
  TRANSFER_PARAMETER_NAMES,
  type TransferParameterName,
  type TransferSwitches,
} from './transfer';

export interface TransferTrainOptions {
  seed: number;
  maxEpochs: number;
  stepsPerEpoch: number;
  patience: number;
  learningRate: number;
  /** Genes that perturbations are compared on (the most variable); bounds the cost on wide screens. */
  featureGenes: number;
  /** Most query pairs per training episode. */
  maxQueryPairs: number;
  /** Pairs of one reference context held out of training to judge transfer each epoch. */
  holdoutPairs: number;
  switches: TransferSwitches;
  /** A restored path: its feature genes and weights (with maxEpochs 0 it predicts with exactly these). */
  restore?: { features: Int32Array; weights: Record<TransferParameterName, Float32Array> };
  shouldStop?: () => boolean;
}

export const DEFAULT_TRANSFER_OPTIONS: Omit<TransferTrainOptions, 'seed'> = {
  maxEpochs: 30,
  stepsPerEpoch: 10,
  patience: 6,
  learningRate: 0.05,
  featureGenes: 1024,
  maxQueryPairs: 256,
  holdoutPairs: 120,
  switches: { deviations: true, context: true },
};

export interface TrainedTransfer {
  parameters: number;
  bestEpoch: number;
  epochs: number;
  /** Validation score per epoch (epoch 0: the initial rule), mean centred Pearson. */
  scores: number[];
  /** The feature genes (indices into the tensor's genes) the path compares perturbations on. */
  features: Int32Array;
  /** Current weights (read asynchronously). */
  weights(): Promise<Record<TransferParameterName, Float32Array>>;
  /**
   * Transferred deviations for queries of the target: r_hat [Q, G] in original units, given the target's
   * support and each support pair's deviation from the base prediction (S x G, original units).
   */
  transfer(
    support: readonly number[],
    queries: readonly number[],
    residual: Float32Array,
  ): Promise<Float32Array>;
  dispose(): void;
}

interface Scored {
  episode: TransferEpisode;
  /** Q*G observed (scaled) and the support mean (scaled), read from the tensor for scoring only. */
  observed: Float32Array;
  supportMean: Float32Array;
}

function scored(source: TransferSource, context: number, support: number[], queries: number[]): Scored {
  const { tensor, scale } = source;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const row = (p: number, g: number) => tensor.values[(context * P + p) * G + g] / scale[g];
  const observed = new Float32Array(queries.length * G);
  queries.forEach((p, i) => {
    for (let g = 0; g < G; g++) observed[i * G + g] = row(p, g);
  });
  const supportMean = new Float32Array(G);
  for (const p of support) for (let g = 0; g < G; g++) supportMean[g] += row(p, g) / support.length;
  return { episode: buildEpisode(source, context, support, queries), observed, supportMean };
}

/**
 * Trains the learnt transfer path for one target split by episodes that mirror the test: a reference
 * context plays the target with a random support of the target's size and is scored on its other pairs.
 * One reference's `holdoutPairs` pairs are read by nothing in training and, with the target's validation
 * pairs, judge each epoch (mean centred Pearson); the best epoch's weights are kept (epoch 0 is the initial
 * rule, so training has to earn every change). scale: G, the per-gene scale of the training pairs.
 */
export async function trainTransfer(
  tensor: EffectTensor,
  split: TargetSplit,
  scale: Float32Array,
  options: TransferTrainOptions,
): Promise<TrainedTransfer> {
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const rng = createRng(options.seed ^ 0x5eed);
  const mask = tensor.observed.slice();
  mask.fill(0, split.target * P, (split.target + 1) * P);
  for (const p of split.supportTrain) mask[split.target * P + p] = 1;
  const supportSize = Math.max(2, split.supportTrain.length);

  /** Perturbations of c readable in c and in at least one other context. */
  const usable = (c: number): number[] => {
    const out: number[] = [];
    for (let p = 0; p < P; p++) {
      if (!mask[c * P + p]) continue;
      for (let o = 0; o < C; o++) {
        if (o !== c && mask[o * P + p]) {
          out.push(p);
          break;
        }
      }
    }
    return out;
  };
  const references = Array.from({ length: C }, (_, c) => c).filter(
    (c) => c !== split.target && usable(c).length >= supportSize + 2,
  );
  let holdout: { context: number; support: number[]; queries: number[] } | undefined;
  if (references.length >= 2 && options.holdoutPairs > 0) {
    const context = references[rng.int(references.length)];
    const order = shuffled(usable(context), rng);
    const queries = order.slice(supportSize, supportSize + options.holdoutPairs);
    holdout = { context, support: order.slice(0, supportSize), queries };
    for (const p of queries) mask[context * P + p] = 0;
  }
  const source: TransferSource = {
    tensor,
    mask,
    scale,
    features: options.restore?.features ?? featureGenes(tensor, mask, Math.min(G, options.featureGenes)),
  };
  const F = source.features.length;
  const validations: Scored[] = [];
  if (holdout) validations.push(scored(source, holdout.context, holdout.support, holdout.queries));
  if (split.supportVal.length > 0 && split.supportTrain.length > 0)
    validations.push(scored(source, split.target, split.supportTrain, split.supportVal));
  // The mask is final from here: each context's usable pairs are listed once, not at every step.
  const usableAfterHoldout = Array.from({ length: C }, (_, c) => usable(c));
  const trainable = references.filter((c) => usableAfterHoldout[c].length >= supportSize + 2);

  const params = createTransferParameters(F, G, options.restore?.weights);
  const { switches } = options;
  const variables = Object.values(params) as tf.Variable[];
  const optimizer = tf.train.adam(options.learningRate);

  const predictScaled = async (episode: TransferEpisode): Promise<Float32Array> => {
    const inputs = transferInputs(episode, F);
    const out = tf.tidy(() => transferForward(params, switches, inputs));
    const values = (await out.data()) as Float32Array;
    out.dispose();
    disposeTransferInputs(inputs);
    return values;
  };
  const validate = async (): Promise<number> => {
    if (validations.length === 0) return 0;
    let total = 0;
    for (const v of validations) {
      const r = await predictScaled(v.episode);
      const Q = v.episode.queries.length;
      let sum = 0;
      for (let q = 0; q < Q; q++) {
        const at = q * G;
        const predicted = new Float32Array(G);
        const observed = new Float32Array(G);
        const centre = new Float32Array(G);
        for (let g = 0; g < G; g++) {
          predicted[g] = (v.episode.additive[at + g] + r[at + g]) * scale[g];
          observed[g] = v.observed[at + g] * scale[g];
          centre[g] = v.supportMean[g] * scale[g];
        }
        sum += centredPearson(predicted, observed, centre);
      }
      total += sum / Q;
    }
    return total / validations.length;
  };
  const sampleEpisode = (r: Rng): TransferEpisode => {
    const context = trainable[r.int(trainable.length)];
    const order = shuffled(usableAfterHoldout[context], r);
    const size = Math.max(2, Math.round(supportSize * (0.5 + r.next())));
    const support = order.slice(0, Math.min(size, order.length - 1));
    const queries = order.slice(support.length, support.length + options.maxQueryPairs);
    return buildEpisode(source, context, support, queries);
  };

  // Without epochs nothing is compared: the held-out score would only cost time.
  const scores = options.maxEpochs > 0 ? [await validate()] : [];
  let best = variables.map((v) => v.clone());
  let bestScore = scores[0];
  let bestEpoch = 0;
  let epochs = 0;
  try {
    // Without a held-out reference (fewer than two reference contexts) nothing judges learning: the path keeps
    // its initial rule.
    const epochLimit = holdout && trainable.length > 0 ? options.maxEpochs : 0;
    for (let epoch = 1; epoch <= epochLimit; epoch++) {
      if (options.shouldStop?.()) throw new AbortError();
      for (let s = 0; s < options.stepsPerEpoch; s++) {
        const episode = sampleEpisode(rng);
        const inputs = transferInputs(episode, F);
        const Q = episode.queries.length;
        const target = tf.tensor2d(
          Float32Array.from(episode.observed, (y, i) => y - episode.additive[i]),
          [Q, G],
        );
        optimizer.minimize(
          () => tf.mean(tf.squaredDifference(transferForward(params, switches, inputs), target)) as tf.Scalar,
          false,
          variables,
        );
        target.dispose();
        disposeTransferInputs(inputs);
      }
      epochs = epoch;
      const score = await validate();
      scores.push(score);
      if (score > bestScore) {
        bestScore = score;
        bestEpoch = epoch;
        tf.dispose(best);
        best = variables.map((v) => v.clone());
      }
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      if (epoch - bestEpoch >= options.patience) break;
    }
    variables.forEach((v, i) => v.assign(best[i]));
  } catch (error) {
    tf.dispose(variables);
    throw error;
  } finally {
    tf.dispose(best);
    optimizer.dispose();
  }

  // The final path reads the whole support of the target (training and validation pairs).
  const finalMask = mask.slice();
  for (const p of split.supportVal) finalMask[split.target * P + p] = 1;
  if (holdout)
    for (const p of holdout.queries)
      finalMask[holdout.context * P + p] = tensor.observed[holdout.context * P + p];
  const finalSource: TransferSource = { ...source, mask: finalMask };
  return {
    parameters: transferParameterCount(F, G),
    bestEpoch,
    epochs,
    scores,
    features: source.features,
    async weights() {
      const out = {} as Record<TransferParameterName, Float32Array>;
      for (const name of TRANSFER_PARAMETER_NAMES)
        out[name] = ((await params[name].data()) as Float32Array).slice();
      return out;
    },
    async transfer(support, queries, residual) {
      const episode = buildEpisode(finalSource, split.target, support, queries);
      const S = support.length;
      for (let i = 0; i < S * G; i++) episode.residual[i] = residual[i] / scale[i % G];
      const r = await predictScaled(episode);
      for (let i = 0; i < r.length; i++) r[i] *= scale[i % G];
      return r;
    },
    dispose() {
      tf.dispose(variables);
    },
  };
}
