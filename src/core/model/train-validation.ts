import * as tf from '@tensorflow/tfjs';
import type { EffectTensor } from '../data/tensor';
import { shuffled, type Rng } from '../random';
import type { BlockInputs, C3tlData, C3tlParameters, C3tlSwitches, EpisodeTensors, GeneBlock } from './c3tl';
import { forward } from './c3tl';
import { fixedFormPredictions } from './fixed-form-kernel';
import { centredPearson } from '../eval/metrics';
import type { EpisodePool } from './episodes';
import { fixedSupportWeights } from './episodes';
import { disposeEpisode, episodeTensors, queryContextTensor } from './train-episodes';
import {
  blockInputs,
  disposeInputs,
  originalRows,
  queryRowTable,
  supportMomentTable,
  type HostData,
} from './train-host';

/*
 * Held-out scoring of training (train.ts), which early stopping judges by: fixed episodes scored by centred
 * Pearson, and the pseudo-target context whose pairs they hold out.
 */

/**
 * A fixed held-out episode of one context: its tensors per gene block, the observed effects of its queries
 * in original units (Q*G, model gene order) and the context's support mean there (G), for centred Pearson.
 * The blocks' inputs are forward's (`inputs`) or, for the fused kernels, the support's moments [8C, Gb] and
 * the queries' rows [3Q, Gb] (`packed`, with queryContexts [Q]).
 */
export interface Scored {
  episode: EpisodeTensors;
  blocks: {
    inputs?: BlockInputs;
    packed?: { moments: tf.Tensor2D; rows: tf.Tensor2D };
    observed: tf.Tensor2D;
  }[];
  queryContexts: tf.Tensor1D;
  weights: tf.Tensor2D;
  observed: Float32Array;
  supportMean: Float32Array;
}

export function scoredEpisode(
  tensor: EffectTensor,
  host: HostData,
  scale: Float32Array,
  support: { weights: Float32Array; pairs: number[] },
  queryPairs: Int32Array,
  model: { blocks: GeneBlock[]; geneWeights: tf.Tensor1D[]; network: boolean; fused: boolean },
): Scored {
  const G = host.genes;
  const Q = queryPairs.length;
  const observed = originalRows(tensor, queryPairs, host.geneOrder);
  const supportRows = originalRows(tensor, support.pairs, host.geneOrder);
  const supportMean = new Float32Array(G);
  for (let r = 0; r < support.pairs.length; r++)
    for (let i = 0; i < G; i++) supportMean[i] += supportRows[r * G + i] / support.pairs.length;
  return {
    episode: episodeTensors(host, support, queryPairs, model.network),
    queryContexts: queryContextTensor(host, queryPairs),
    blocks: model.blocks.map((block, b) => {
      const scaled = new Float32Array(Q * block.size);
      for (let q = 0; q < Q; q++)
        for (let i = 0; i < block.size; i++)
          scaled[q * block.size + i] = observed[q * G + block.begin + i] / scale[block.begin + i];
      const scaledObserved = tf.tensor2d(scaled, [Q, block.size]);
      if (model.fused) {
        const moments = supportMomentTable(host, support, block);
        const rows = queryRowTable(host, queryPairs, block);
        return {
          packed: {
            moments: tf.tensor2d(moments, [8 * host.contexts, block.size]),
            rows: tf.tensor2d(rows, [3 * Q, block.size]),
          },
          observed: scaledObserved,
        };
      }
      const { inputs, queryObserved } = blockInputs(host, support, queryPairs, block, model.geneWeights[b]);
      queryObserved.dispose();
      return { inputs, observed: scaledObserved };
    }),
    weights: tf.fill([Q, 1], 1 / Q) as tf.Tensor2D,
    observed,
    supportMean,
  };
}

/** The fixed form as held-out scoring reads it; modelScale is each gene's scale in the model's gene order. */
export interface ScoringModel {
  params: C3tlParameters;
  data: C3tlData | undefined;
  switches: C3tlSwitches;
  host: HostData;
  modelScale: Float32Array;
  /** Whether the blocks' inputs are packed for the fused prediction kernel (Scored). */
  fused: boolean;
}

/** Scaled predictions of a held-out set's queries on block b, [Q, Gb]: the fused kernel or forward. */
function blockPredictions(v: Scored, b: number, model: ScoringModel): tf.Tensor2D {
  const { params, switches } = model;
  const { inputs, packed } = v.blocks[b];
  if (packed) {
    const gates = params.blocks[b].gates as tf.Tensor as tf.Tensor2D;
    const { gateScale } = params;
    return fixedFormPredictions({ gates, gateScale, ...packed, queryContexts: v.queryContexts }, switches);
  }
  if (!inputs) throw new Error('A held-out block has neither forward inputs nor packed ones.');
  return tf.tidy(() => forward(params, model.data, v.episode, inputs, { block: b, switches }));
}

/**
 * Per held-out set, the mean centred Pearson of its queries and its loss (in the training loss's units:
 * squared error of scaled effects, each gene weighted by its loss weight, mean over genes and queries).
 */
export async function heldOutScores(
  validations: Scored[],
  model: ScoringModel,
): Promise<{ pearson: number[]; loss: number[] }> {
  const { params, host, modelScale } = model;
  const G = host.genes;
  const pearson: number[] = [];
  const loss: number[] = [];
  for (const v of validations) {
    const Q = v.observed.length / G;
    const predicted = new Float32Array(Q * G);
    for (const [b, { begin, size }] of params.geneBlocks.entries()) {
      const scaled = blockPredictions(v, b, model);
      // Asynchronous read: a synchronous one of a WebGPU tensor destroys the device in a browser worker.
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
}

export function disposeScored(scored: Scored | undefined): void {
  if (!scored) return;
  disposeEpisode(scored.episode);
  scored.queryContexts.dispose();
  for (const b of scored.blocks) {
    if (b.inputs) disposeInputs(b.inputs);
    tf.dispose([b.observed, ...Object.values(b.packed ?? {})]);
  }
  scored.weights.dispose();
}

/**
 * The pseudo-target, for early stopping: one reference context (seeded choice among those with enough pairs)
 * enters training like the target, with a support of `supportSize` pairs only, and up to `pairs` of its other
 * pairs are scored each epoch with that support, as the target's queries will be. Its other pairs still feed
 * the perturbation means of the other contexts. Mutates pool.pairs of that context; undefined when no
 * reference context has enough pairs.
 */
export function pseudoTarget(pool: EpisodePool, supportSize: number, pairs: number, rng: Rng) {
  const { contexts: C, perturbations: P } = pool;
  const candidates: number[] = [];
  for (let c = 0; c < C; c++)
    if (!pool.targets.includes(c) && pool.pairs[c].length >= supportSize + 4) candidates.push(c);
  if (candidates.length === 0 || pairs <= 0) return undefined;
  const context = candidates[rng.int(candidates.length)];
  const order = shuffled(pool.pairs[context], rng);
  const support = order.slice(0, supportSize);
  const queries = order.slice(supportSize, supportSize + pairs);
  pool.pairs[context] = support.slice().sort((a, b) => a - b);
  pool.targets.push(context);
  return {
    context,
    support: {
      weights: fixedSupportWeights(C, P, context, support),
      pairs: support.map((p) => context * P + p),
    },
    queryPairs: Int32Array.from(queries, (p) => context * P + p),
  };
}
