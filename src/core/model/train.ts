import * as tf from '@tensorflow/tfjs';
import type { EffectTensor } from '../data/tensor';
import type { TargetSplit } from '../eval/types';
import type { EpochLog, ModelPreset, RunHooks } from '../eval/protocol';
import { createRng, shuffled, type Rng } from '../random';
import type {
  BlockInputs,
  C3tlArchitecture,
  C3tlData,
  C3tlParameters,
  C3tlSwitches,
  EpisodeTensors,
  GeneBlock,
  ParameterName,
  SupportMomentName,
  SupportMoments,
} from './c3tl';
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
  SUPPORT_MOMENT_NAMES,
} from './c3tl';
import type { EpisodeOptions, EpisodePool } from './episodes';
import { fixedSupportWeights, sampleEpisode } from './episodes';
import { principalBasis, projectRows } from './basis';
import { geneStandardisation, type GeneStandardisation } from './standardise';
import { AbortError } from './abort';
import type { TransferParameterName } from './transfer';
import {
  DEFAULT_TRANSFER_OPTIONS,
  trainTransfer,
  type TrainedTransfer,
  type TransferTrainOptions,
} from './transfer-train';

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
  transfer?: { epochs: number; bestEpoch: number; parameters: number; features: Int32Array };
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

/** Training pairs: every observed pair of other contexts, and only the training support of the target. */
function trainingMask(tensor: EffectTensor, split: TargetSplit, extra: readonly number[] = []): Uint8Array {
  const P = tensor.perturbations.length;
  const mask = tensor.observed.slice();
  mask.fill(0, split.target * P, (split.target + 1) * P);
  for (const p of [...split.supportTrain, ...extra]) mask[split.target * P + p] = 1;
  return mask;
}

/**
 * The training pairs on the host, genes in the model's order (position i holds the tensor's gene
 * geneOrder[i]) and scaled (divided by the gene's scale): per perturbation their sum P*G, invOther C*P
 * (1 / number of other contexts with a training pair for p, 0 if none) and the pooled per-gene variance of
 * one measurement around its perturbation's mean across contexts, G. The effects themselves are read from
 * the tensor where they are (scaledEffect): a reordered copy would double the memory of a large screen.
 */
export interface HostData {
  contexts: number;
  perturbations: number;
  genes: number;
  /** The tensor's values, C*P*G in the tensor's gene order. */
  source: Float32Array;
  /** The tensor's gene at each model position. */
  geneOrder: Int32Array;
  /** 1 / scale of the gene at each model position. */
  inverseScale: Float32Array;
  mask: Uint8Array;
  sum: Float32Array;
  invOther: Float32Array;
  noiseVariance: Float32Array;
  /**
   * Loss weight per gene (model order), mean 1: its squared scale, so that errors count as in the original
   * units where the evaluation's correlations are computed. (Adam makes this moot for the per-gene gates; it
   * shapes the learnt network's loss.)
   */
  geneWeights: Float32Array;
}

/** Scaled effect of a pair at model gene position i; 0 for pairs that are not training pairs. */
function scaledEffect(host: HostData, pair: number, i: number): number {
  if (!host.mask[pair]) return 0;
  return Math.fround(host.source[pair * host.genes + host.geneOrder[i]] * host.inverseScale[i]);
}

/** The host data of the training pairs `mask` (C*P) for genes in model order (see HostData). */
export function hostData(
  tensor: EffectTensor,
  mask: Uint8Array,
  standard: GeneStandardisation,
  genes: Int32Array,
): HostData {
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = genes.length;
  const sum = new Float32Array(P * G);
  const counts = new Uint16Array(P);
  const inverseScale = Float32Array.from(genes, (g) => 1 / standard.scale[g]);
  const invOther = new Float32Array(C * P);
  let total = 0;
  for (let i = 0; i < G; i++) total += standard.scale[genes[i]] ** 2;
  const geneWeights = Float32Array.from(genes, (g) => (G * standard.scale[g] ** 2) / total);
  const host: HostData = {
    contexts: C,
    perturbations: P,
    genes: G,
    source: tensor.values,
    geneOrder: genes,
    inverseScale,
    mask,
    sum,
    invOther,
    noiseVariance: new Float32Array(G),
    geneWeights,
  };
  for (let pair = 0; pair < C * P; pair++) {
    if (!mask[pair]) continue;
    const p = pair % P;
    counts[p]++;
    for (let i = 0; i < G; i++) sum[p * G + i] += scaledEffect(host, pair, i);
  }
  const squares = new Float64Array(G);
  let dof = 0;
  for (let p = 0; p < P; p++) if (counts[p] >= 2) dof += counts[p] - 1;
  for (let pair = 0; pair < C * P; pair++) {
    const p = pair % P;
    const n = counts[p];
    if (!mask[pair] || n < 2) continue;
    for (let i = 0; i < G; i++) {
      const deviation = scaledEffect(host, pair, i) - sum[p * G + i] / n;
      squares[i] += deviation * deviation;
    }
  }
  // With no perturbation measured twice the noise is unknown: 1 (a gene's scale) shrinks only small means.
  for (let i = 0; i < G; i++) host.noiseVariance[i] = dof > 0 ? squares[i] / dof : 1;
  for (let pair = 0; pair < C * P; pair++) {
    const others = counts[pair % P] - mask[pair];
    invOther[pair] = others > 0 ? 1 / others : 0;
  }
  return host;
}

/** Every pair's scaled effects, C*P*G in model gene order (0 for other pairs): the network's gene basis. */
function scaledValues(host: HostData): Float32Array {
  const { contexts: C, perturbations: P, genes: G } = host;
  const values = new Float32Array(C * P * G);
  for (let pair = 0; pair < C * P; pair++) {
    if (!host.mask[pair]) continue;
    for (let i = 0; i < G; i++) values[pair * G + i] = scaledEffect(host, pair, i);
  }
  return values;
}

/**
 * Set-encoder inputs: basis coordinates of every pair (each coordinate scaled to unit RMS; zeros without a
 * basis, when the network is switched off) and masks.
 */
function deviceData(
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

function disposeData(data: C3tlData | undefined): void {
  if (data) tf.dispose([data.zBasis, data.mask, data.invOther]);
}

function oneHot(indices: ArrayLike<number>, depth: number): Float32Array {
  const out = new Float32Array(indices.length * depth);
  for (let i = 0; i < indices.length; i++) out[i * depth + indices[i]] = 1;
  return out;
}

/** The support pairs (flat indices) of a support given as C*P weights. */
function supportPairsOf(supportWeights: Float32Array): number[] {
  const pairs: number[] = [];
  for (let pair = 0; pair < supportWeights.length; pair++) if (supportWeights[pair] > 0) pairs.push(pair);
  return pairs;
}

/** The episode's tensors; the learnt network's (one-hots over P, [Ns, P] and [Q, P]) only when it is on. */
function episodeTensors(
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

function disposeEpisode(episode: EpisodeTensors): void {
  episode.queryContextOneHot.dispose();
  if (episode.network) tf.dispose(Object.values(episode.network));
}

/**
 * One pair's terms on a gene block, written at `offset` of each output: its own scaled effect y, the
 * perturbation mean m = pm_p(-c) and its denoising direction -m nu / (m^2 + nu) with nu = sigma_g^2 / n.
 */
function fillPairRow(
  host: HostData,
  pair: number,
  block: GeneBlock,
  out: { observed: Float32Array; mean: Float32Array; denoise: Float32Array; offset: number },
): void {
  const { perturbations: P, genes: G, sum, noiseVariance } = host;
  const { observed, mean, denoise, offset } = out;
  const p = pair % P;
  const inv = host.invOther[pair];
  const own = host.mask[pair] ? 1 : 0;
  for (let i = 0; i < block.size; i++) {
    const g = block.begin + i;
    const y = scaledEffect(host, pair, g);
    const m = (sum[p * G + g] - own * y) * inv;
    const nu = noiseVariance[g] * inv + 1e-6;
    observed[offset + i] = y;
    mean[offset + i] = m;
    denoise[offset + i] = (-m * nu) / (m * m + nu);
  }
}

/** The support's means and central moments per context on a gene block (c3tl.ts SupportMoments), C*Gb each. */
export function supportMomentValues(
  host: HostData,
  support: { weights: Float32Array; pairs: readonly number[] },
  block: GeneBlock,
): Record<SupportMomentName, Float32Array> {
  const { contexts: C, perturbations: P } = host;
  const size = block.size;
  const K = SUPPORT_MOMENT_NAMES.length;
  // Accumulated in float64 (a context's support may hold thousands of pairs), the eight moments of a
  // (context, gene) side by side: this loop is the host's share of a training step.
  const sums = new Float64Array(C * size * K);
  const observed = new Float32Array(size);
  const mean = new Float32Array(size);
  const denoise = new Float32Array(size);
  const row = { observed, mean, denoise, offset: 0 };
  for (const pair of support.pairs) {
    const w = support.weights[pair];
    fillPairRow(host, pair, block, row);
    let at = Math.floor(pair / P) * size * K;
    for (let i = 0; i < size; i++, at += K) {
      const o = observed[i];
      const m = mean[i];
      const d = denoise[i];
      const wo = w * o;
      const wm = w * m;
      const wd = w * d;
      sums[at] += wo;
      sums[at + 1] += wm;
      sums[at + 2] += wd;
      sums[at + 3] += wo * m;
      sums[at + 4] += wo * d;
      sums[at + 5] += wm * m;
      sums[at + 6] += wm * d;
      sums[at + 7] += wd * d;
    }
  }
  // Raw sums to central (co)variances, in float64: E[ab] - E[a]E[b] for the pairs (o,m), (o,d), (m,m), (m,d), (d,d).
  const out = {} as Record<SupportMomentName, Float32Array>;
  for (const name of SUPPORT_MOMENT_NAMES) out[name] = new Float32Array(C * size);
  for (let j = 0; j < C * size; j++) {
    const at = j * K;
    const [o, m, d] = [sums[at], sums[at + 1], sums[at + 2]];
    out.o[j] = o;
    out.m[j] = m;
    out.d[j] = d;
    out.om[j] = sums[at + 3] - o * m;
    out.od[j] = sums[at + 4] - o * d;
    out.mm[j] = sums[at + 5] - m * m;
    out.md[j] = sums[at + 6] - m * d;
    out.dd[j] = sums[at + 7] - d * d;
  }
  return out;
}

/**
 * Inputs of a gene block: the support's moments and the queries' means and directions (scaled units), and
 * the queries' own scaled effects [Q, Gb] (zero for pairs that are not training pairs). geneWeights is the
 * block's cached [Gb] loss weights; disposeInputs leaves it alone.
 */
function blockInputs(
  host: HostData,
  support: { weights: Float32Array; pairs: readonly number[] },
  queryPairs: ArrayLike<number>,
  block: GeneBlock,
  geneWeights: tf.Tensor1D,
): { inputs: BlockInputs; queryObserved: tf.Tensor2D } {
  const Q = queryPairs.length;
  const size = block.size;
  const query = {
    observed: new Float32Array(Q * size),
    mean: new Float32Array(Q * size),
    denoise: new Float32Array(Q * size),
    offset: 0,
  };
  for (let r = 0; r < Q; r++) {
    query.offset = r * size;
    fillPairRow(host, queryPairs[r], block, query);
  }
  const moments = supportMomentValues(host, support, block);
  const C = host.contexts;
  return {
    inputs: {
      support: Object.fromEntries(
        SUPPORT_MOMENT_NAMES.map((name) => [name, tf.tensor2d(moments[name], [C, size])]),
      ) as unknown as SupportMoments,
      queryMean: tf.tensor2d(query.mean, [Q, size]),
      queryDenoise: tf.tensor2d(query.denoise, [Q, size]),
      geneWeights,
    },
    queryObserved: tf.tensor2d(query.observed, [Q, size]),
  };
}

function disposeInputs(inputs: BlockInputs): void {
  tf.dispose([...Object.values(inputs.support), inputs.queryMean, inputs.queryDenoise]);
}

/** Loss weights of each block's genes, [Gb] each (they depend on the scale only, so live as long as the model). */
function blockGeneWeights(host: HostData, blocks: GeneBlock[]): tf.Tensor1D[] {
  return blocks.map((b) => tf.tensor1d(host.geneWeights.slice(b.begin, b.begin + b.size)));
}

/**
 * A fixed held-out episode of one context: its tensors per gene block, the observed effects of its queries
 * in original units (Q*G, model gene order) and the context's support mean there (G), for centred Pearson.
 */
interface Scored {
  episode: EpisodeTensors;
  blocks: { inputs: BlockInputs; observed: tf.Tensor2D }[];
  weights: tf.Tensor2D;
  observed: Float32Array;
  supportMean: Float32Array;
}

/** Effects of pairs in original units with genes in the model's order: N*G. */
function originalRows(tensor: EffectTensor, pairs: ArrayLike<number>, genes: Int32Array): Float32Array {
  const G = genes.length;
  const out = new Float32Array(pairs.length * G);
  for (let r = 0; r < pairs.length; r++) {
    const base = pairs[r] * G;
    for (let i = 0; i < G; i++) out[r * G + i] = tensor.values[base + genes[i]];
  }
  return out;
}

function scoredEpisode(
  tensor: EffectTensor,
  host: HostData,
  scale: Float32Array,
  support: { weights: Float32Array; pairs: number[] },
  queryPairs: Int32Array,
  model: { blocks: GeneBlock[]; geneWeights: tf.Tensor1D[]; network: boolean },
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
    blocks: model.blocks.map((block, b) => {
      const { inputs, queryObserved } = blockInputs(host, support, queryPairs, block, model.geneWeights[b]);
      queryObserved.dispose();
      const scaled = new Float32Array(Q * block.size);
      for (let q = 0; q < Q; q++)
        for (let i = 0; i < block.size; i++)
          scaled[q * block.size + i] = observed[q * G + block.begin + i] / scale[block.begin + i];
      return { inputs, observed: tf.tensor2d(scaled, [Q, block.size]) };
    }),
    weights: tf.fill([Q, 1], 1 / Q) as tf.Tensor2D,
    observed,
    supportMean,
  };
}

function disposeScored(scored: Scored | undefined): void {
  if (!scored) return;
  disposeEpisode(scored.episode);
  for (const b of scored.blocks) {
    disposeInputs(b.inputs);
    b.observed.dispose();
  }
  scored.weights.dispose();
}

/** Pearson correlation of a - m and b - m over genes (0 when either is constant). */
function centredPearson(a: Float32Array, b: Float32Array, m: Float32Array): number {
  const n = a.length;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    sa += a[i] - m[i];
    sb += b[i] - m[i];
  }
  const ma = sa / n;
  const mb = sb / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i] - m[i] - ma;
    const y = b[i] - m[i] - mb;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * The pseudo-target, for early stopping: one reference context (seeded choice among those with enough pairs)
 * enters training like the target, with a support of `supportSize` pairs only, and up to `pairs` of its other
 * pairs are scored each epoch with that support, as the target's queries will be. Its other pairs still feed
 * the perturbation means of the other contexts. Mutates pool.pairs of that context; undefined when no
 * reference context has enough pairs.
 */
function pseudoTarget(pool: EpisodePool, supportSize: number, pairs: number, rng: Rng) {
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

/** Contiguous blocks of about `size` genes covering [0, G). */
function geneBlocks(G: number, size: number | undefined): GeneBlock[] {
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
function modelOrderWeights(
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
    // Without epochs nothing is compared: the held-out score would only cost time.
    const validated = validations.length > 0 && options.maxEpochs > 0;
    let bestScore = validated ? criterion((await evaluateHeldOut()).pearson) : -Infinity;
    best = variables.map((v) => v.clone());

    let step = 0;
    for (let epoch = 1; epoch <= options.maxEpochs; epoch++) {
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

  /** The fixed form's effects of the given perturbations in the target (original units): Q*G. */
  const predictCalibrated = async (support: readonly number[], perturbations: readonly number[]) => {
    const Q = perturbations.length;
    const out = new Float32Array(Q * G);
    if (Q === 0) return out;
    const weights = fixedSupportWeights(C, P, split.target, support);
    const known = { weights, pairs: supportPairsOf(weights) };
    // Chunks bound the memory of the [chunk, Gb] intermediates in prediction mode (thousands of pairs).
    const chunk = 512;
    for (let start = 0; start < Q; start += chunk) {
      const part = Int32Array.from(perturbations.slice(start, start + chunk), (p) => split.target * P + p);
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
        parameters: transfer.parameters,
        features: transfer.features,
      },
    }),
    standardisation: standard,
    history,
    bestEpoch,
    seconds,
    async predict(support, perturbations) {
      const calibrated = await predictCalibrated(support, perturbations);
      if (!transfer || perturbations.length === 0) return { c3tl: calibrated.slice(), calibrated };
      // The target's deviation of each support pair from the fixed form is what the transfer path carries.
      const residual = await predictCalibrated(support, support);
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
