import * as tf from '@tensorflow/tfjs';
import type { C3tlArchitecture, C3tlData, EpisodeTensors, GeneBlock, ParameterName } from './c3tl';
import { GENE_PARAMETER_NAMES, SHARED_PARAMETER_NAMES, parameterShapes } from './c3tl';
import { projectRows } from './basis';
import { scaledValues, type HostData } from './train-host';

/*
 * Device-side data of training (train.ts): the set encoder's inputs, an episode's tensors, the gene blocks
 * that steps cycle through and restored weights put in the model's gene order.
 */

/**
 * Set-encoder inputs: basis coordinates of every pair (each coordinate scaled to unit RMS; zeros without a
 * basis, when the network is switched off) and masks.
 */
export function deviceData(
  host: HostData,
  basis: Float32Array | undefined,
  rank: number,
  embedDim: number,
): C3tlData {
  const { contexts: C, perturbations: P } = host;
  const coordinates = basis
    ? projectRows(scaledValues(host), C * P, basis, rank)
    : new Float32Array(C * P * rank);
  const pairs = host.mask.reduce((a, b) => a + b, 0);
  for (let j = 0; j < rank; j++) {
    let ss = 0;
    for (let pair = 0; pair < C * P; pair++) ss += coordinates[pair * rank + j] ** 2;
    const rms = Math.sqrt(ss / Math.max(1, pairs));
    if (rms > 0) for (let pair = 0; pair < C * P; pair++) coordinates[pair * rank + j] /= rms;
  }
  const mask = new Float32Array(C * P * embedDim);
  for (let pair = 0; pair < C * P; pair++)
    if (host.mask[pair]) mask.fill(1, pair * embedDim, (pair + 1) * embedDim);
  return {
    contexts: C,
    perturbations: P,
    zBasis: tf.tensor2d(coordinates, [C * P, rank]),
    mask: tf.tensor2d(mask, [C * P, embedDim]),
    invOther: tf.tensor2d(host.invOther, [C * P, 1]),
  };
}

export function disposeData(data: C3tlData | undefined): void {
  if (data) tf.dispose([data.zBasis, data.mask, data.invOther]);
}

function oneHot(indices: ArrayLike<number>, depth: number): Float32Array {
  const out = new Float32Array(indices.length * depth);
  for (let i = 0; i < indices.length; i++) out[i * depth + indices[i]] = 1;
  return out;
}

/** The support pairs (flat indices) of a support given as C*P weights. */
export function supportPairsOf(supportWeights: Float32Array): number[] {
  const pairs: number[] = [];
  for (let pair = 0; pair < supportWeights.length; pair++) if (supportWeights[pair] > 0) pairs.push(pair);
  return pairs;
}

/** Each query pair's context, [Q] int32 (the fused kernels' queryContexts). */
export function queryContextTensor(host: HostData, queryPairs: ArrayLike<number>): tf.Tensor1D {
  const P = host.perturbations;
  return tf.tensor1d(
    Int32Array.from(queryPairs, (pair) => Math.floor(pair / P)),
    'int32',
  );
}

/** The episode's tensors; the learnt network's (one-hots over P, [Ns, P] and [Q, P]) only when it is on. */
export function episodeTensors(
  host: HostData,
  support: { weights: Float32Array; pairs: readonly number[] },
  queryPairs: Int32Array,
  network: boolean,
): EpisodeTensors {
  const { contexts: C, perturbations: P } = host;
  const Q = queryPairs.length;
  const contexts = Int32Array.from(queryPairs, (pair) => Math.floor(pair / P));
  const queryContextOneHot = tf.tensor2d(oneHot(contexts, C), [Q, C]);
  if (!network) return { queryContextOneHot };
  const Ns = support.pairs.length;
  const weights = new Float32Array(C * Ns);
  support.pairs.forEach((pair, i) => (weights[Math.floor(pair / P) * Ns + i] = support.weights[pair]));
  const supportPerturbations = support.pairs.map((pair) => pair % P);
  const perturbations = Int32Array.from(queryPairs, (pair) => pair % P);
  return {
    queryContextOneHot,
    network: {
      supportPairs: tf.tensor1d(support.pairs as number[], 'int32'),
      supportWeights: tf.tensor2d(weights, [C, Ns]),
      supportPerturbationOneHot: tf.tensor2d(oneHot(supportPerturbations, P), [Ns, P]),
      queryPairs: tf.tensor1d(queryPairs, 'int32'),
      queryPerturbationOneHot: tf.tensor2d(oneHot(perturbations, P), [Q, P]),
    },
  };
}

export function disposeEpisode(episode: EpisodeTensors): void {
  episode.queryContextOneHot.dispose();
  if (episode.network) tf.dispose(Object.values(episode.network));
}

/** Contiguous blocks of about `size` genes covering [0, G). */
export function geneBlocks(G: number, size: number | undefined): GeneBlock[] {
  if (!size || size >= G) return [{ begin: 0, size: G }];
  const count = Math.ceil(G / size);
  const blocks: GeneBlock[] = [];
  for (let b = 0; b < count; b++) {
    const begin = Math.round((b * G) / count);
    blocks.push({ begin, size: Math.round(((b + 1) * G) / count) - begin });
  }
  return blocks;
}

/**
 * Weights given with gene axes in the tensor's gene order, reordered to the model's (position i holds gene
 * geneOrder[i]); checks every length against the architecture.
 */
export function modelOrderWeights(
  architecture: C3tlArchitecture,
  weights: Record<ParameterName, Float32Array>,
  geneOrder: Int32Array,
): Record<ParameterName, Float32Array> {
  const shapes = parameterShapes(architecture);
  const G = geneOrder.length;
  const out = {} as Record<ParameterName, Float32Array>;
  for (const name of [...SHARED_PARAMETER_NAMES, ...GENE_PARAMETER_NAMES]) {
    const size = shapes[name].reduce((a, b) => a * b, 1);
    const given = weights[name] as Float32Array | undefined;
    if (given?.length !== size) {
      throw new Error(`Weight ${name} has ${given?.length ?? 'no'} values; the architecture needs ${size}.`);
    }
    out[name] = given;
  }
  for (const name of GENE_PARAMETER_NAMES) {
    const rows = shapes[name].length === 2 ? shapes[name][0] : 1;
    const ordered = new Float32Array(rows * G);
    for (let r = 0; r < rows; r++)
      for (let i = 0; i < G; i++) ordered[r * G + i] = out[name][r * G + geneOrder[i]];
    out[name] = ordered;
  }
  return out;
}
