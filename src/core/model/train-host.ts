import * as tf from '@tensorflow/tfjs';
import type { EffectTensor } from '../data/tensor';
import type { TargetSplit } from '../eval/types';
import type { BlockInputs, GeneBlock, SupportMomentName, SupportMoments } from './c3tl';
import { SUPPORT_MOMENT_NAMES } from './c3tl';
import type { GeneStandardisation } from './standardise';

/*
 * Host-side data of training (train.ts): the training pairs, their scaled effects in the model's gene order,
 * and each gene block's inputs (support moments, query means and denoising directions) built from them.
 */

/** Training pairs: every observed pair of other contexts, and only the training support of the target. */
export function trainingMask(
  tensor: EffectTensor,
  split: TargetSplit,
  extra: readonly number[] = [],
): Uint8Array {
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
  /**
   * C*P*G in the tensor's gene order, scaled units: each pair's perturbation mean pm_p(-c), read instead of
   * the mean of the observed effects (sparse-base.ts: the means denoised as sparse). The pair's own effect y
   * and the noise variance always come from the observations.
   */
  means?: Float32Array;
}

/** Scaled effect of a pair at model gene position i; 0 for pairs that are not training pairs. */
function scaledEffect(host: HostData, pair: number, i: number): number {
  if (!host.mask[pair]) return 0;
  return Math.fround(host.source[pair * host.genes + host.geneOrder[i]] * host.inverseScale[i]);
}

/**
 * The host data of the training pairs `mask` (C*P) for genes in model order (see HostData); `means`, when
 * given, are the perturbation means to read (HostData.means).
 */
export function hostData(
  tensor: EffectTensor,
  mask: Uint8Array,
  standard: GeneStandardisation,
  genes: Int32Array,
  means?: Float32Array,
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
    ...(means && { means }),
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
export function scaledValues(host: HostData): Float32Array {
  const { contexts: C, perturbations: P, genes: G } = host;
  const values = new Float32Array(C * P * G);
  for (let pair = 0; pair < C * P; pair++) {
    if (!host.mask[pair]) continue;
    for (let i = 0; i < G; i++) values[pair * G + i] = scaledEffect(host, pair, i);
  }
  return values;
}

/**
 * One pair's terms on a gene block, written at `offset` of each output: its own scaled effect y, the
 * perturbation mean m = pm_p(-c) and its denoising direction -m nu / (m^2 + nu) with nu = sigma_g^2 / n.
 */
export function fillPairRow(
  host: HostData,
  pair: number,
  block: GeneBlock,
  out: { observed: Float32Array; mean: Float32Array; denoise: Float32Array; offset: number },
): void {
  const { perturbations: P, genes: G, sum, noiseVariance, means, geneOrder } = host;
  const { observed, mean, denoise, offset } = out;
  const p = pair % P;
  const inv = host.invOther[pair];
  const own = host.mask[pair] ? 1 : 0;
  for (let i = 0; i < block.size; i++) {
    const g = block.begin + i;
    const y = scaledEffect(host, pair, g);
    const m = means ? means[pair * G + geneOrder[g]] : (sum[p * G + g] - own * y) * inv;
    const nu = noiseVariance[g] * inv + 1e-6;
    observed[offset + i] = y;
    mean[offset + i] = m;
    denoise[offset + i] = (-m * nu) / (m * m + nu);
  }
}

/**
 * The terms of `pairs` on a gene block as one [3, N, Gb] table (N = pairs.length, scaled units): rows [0, N)
 * the pairs' own effects, [N, 2N) their perturbation means, [2N, 3N) their denoising directions (fillPairRow).
 */
export function queryRowTable(host: HostData, pairs: ArrayLike<number>, block: GeneBlock): Float32Array {
  const table = new Float32Array(3 * pairs.length * block.size);
  const size = pairs.length * block.size;
  const row = {
    observed: table.subarray(0, size),
    mean: table.subarray(size, 2 * size),
    denoise: table.subarray(2 * size),
    offset: 0,
  };
  for (let r = 0; r < pairs.length; r++) {
    row.offset = r * block.size;
    fillPairRow(host, pairs[r], block, row);
  }
  return table;
}

/**
 * The support's means and central moments per context on a gene block (c3tl.ts SupportMoments) as one
 * [8, C, Gb] table, moments in SUPPORT_MOMENT_NAMES order.
 */
export function supportMomentTable(
  host: HostData,
  support: { weights: Float32Array; pairs: readonly number[] },
  block: GeneBlock,
): Float32Array {
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
  const table = new Float32Array(K * C * size);
  const length = C * size;
  for (let j = 0; j < length; j++) {
    const at = j * K;
    const [o, m, d] = [sums[at], sums[at + 1], sums[at + 2]];
    table[j] = o;
    table[length + j] = m;
    table[2 * length + j] = d;
    table[3 * length + j] = sums[at + 3] - o * m;
    table[4 * length + j] = sums[at + 4] - o * d;
    table[5 * length + j] = sums[at + 5] - m * m;
    table[6 * length + j] = sums[at + 6] - m * d;
    table[7 * length + j] = sums[at + 7] - d * d;
  }
  return table;
}

/** The support's moments on a gene block, C*Gb each (views of supportMomentTable's table). */
export function supportMomentValues(
  host: HostData,
  support: { weights: Float32Array; pairs: readonly number[] },
  block: GeneBlock,
): Record<SupportMomentName, Float32Array> {
  const table = supportMomentTable(host, support, block);
  const length = host.contexts * block.size;
  return Object.fromEntries(
    SUPPORT_MOMENT_NAMES.map((name, k) => [name, table.subarray(k * length, (k + 1) * length)]),
  ) as Record<SupportMomentName, Float32Array>;
}

/** The support's moments on a gene block as tensors, [C, Gb] each (uploaded: they change every step). */
export function supportMoments(
  host: HostData,
  support: { weights: Float32Array; pairs: readonly number[] },
  block: GeneBlock,
): SupportMoments {
  const moments = supportMomentValues(host, support, block);
  return Object.fromEntries(
    SUPPORT_MOMENT_NAMES.map((name) => [name, tf.tensor2d(moments[name], [host.contexts, block.size])]),
  ) as unknown as SupportMoments;
}

/**
 * Inputs of a gene block: the support's moments and the queries' means and directions (scaled units), and
 * the queries' own scaled effects [Q, Gb] (zero for pairs that are not training pairs). geneWeights is the
 * block's cached [Gb] loss weights; disposeInputs leaves it alone.
 */
export function blockInputs(
  host: HostData,
  support: { weights: Float32Array; pairs: readonly number[] },
  queryPairs: ArrayLike<number>,
  block: GeneBlock,
  geneWeights: tf.Tensor1D,
): { inputs: BlockInputs; queryObserved: tf.Tensor2D } {
  const shape: [number, number] = [queryPairs.length, block.size];
  const length = shape[0] * shape[1];
  const table = queryRowTable(host, queryPairs, block);
  const part = (k: number) => tf.tensor2d(table.subarray(k * length, (k + 1) * length), shape);
  return {
    inputs: {
      support: supportMoments(host, support, block),
      queryMean: part(1),
      queryDenoise: part(2),
      geneWeights,
    },
    queryObserved: part(0),
  };
}

export function disposeInputs(inputs: BlockInputs): void {
  tf.dispose([...Object.values(inputs.support), inputs.queryMean, inputs.queryDenoise]);
}

/** Loss weights of each block's genes, [Gb] each (they depend on the scale only, so live as long as the model). */
export function blockGeneWeights(host: HostData, blocks: GeneBlock[]): tf.Tensor1D[] {
  return blocks.map((b) => tf.tensor1d(host.geneWeights.slice(b.begin, b.begin + b.size)));
}

/** Effects of pairs in original units with genes in the model's order: N*G. */
export function originalRows(
  tensor: EffectTensor,
  pairs: ArrayLike<number>,
  genes: Int32Array,
): Float32Array {
  const G = genes.length;
  const out = new Float32Array(pairs.length * G);
  for (let r = 0; r < pairs.length; r++) {
    const base = pairs[r] * G;
    for (let i = 0; i < G; i++) out[r * G + i] = tensor.values[base + genes[i]];
  }
  return out;
}
