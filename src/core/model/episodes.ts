import type { Rng } from '../random';
import { shuffled } from '../random';

/**
 * Which pairs the model may learn from, per context: `pairs[c]` lists the perturbation indices of context c
 * that are training pairs (for the target: its training support only). `targets` are the contexts trained
 * as the target is (the target, and the pseudo-target that mimics it for early stopping).
 */
export interface EpisodePool {
  contexts: number;
  perturbations: number;
  targets: number[];
  pairs: number[][];
}

export interface EpisodeOptions {
  /** Support fraction of a reference context is drawn uniformly from [min, max]. */
  supportFractionRange: [number, number];
  /** Most query pairs scored per step, drawn across contexts (bounds the decoder's batch). */
  maxQueryPairs: number;
  /** Share of the loss given to the targets' own episodes (the transfer step), split evenly among them. */
  targetWeight: number;
}

/** One training step's episodes for every context at once. */
export interface Episode {
  /** C*P, 1/|S_c| on the support pairs of context c, else 0: a row of it averages over the support. */
  supportWeights: Float32Array;
  /** Flat pair indices c*P + p of the scored query pairs. */
  queryPairs: Int32Array;
  /** Loss weight per query pair; sums to 1. */
  queryWeights: Float32Array;
}

/**
 * Samples one episode per context, mirroring the test: a random support (a fraction of the context's training
 * pairs) and the rest as query. A target's few training pairs are split in halves, so the model practises
 * on the context it will be asked about.
 */
export function sampleEpisode(pool: EpisodePool, options: EpisodeOptions, rng: Rng): Episode {
  const { contexts: C, perturbations: P } = pool;
  const isTarget = (c: number) => pool.targets.includes(c);
  const supportWeights = new Float32Array(C * P);
  const refQueries: number[] = [];
  const targetQueries: number[] = [];
  const [lo, hi] = options.supportFractionRange;
  for (let c = 0; c < C; c++) {
    const pairs = pool.pairs[c];
    if (pairs.length < 2) continue;
    const order = shuffled(pairs, rng);
    const fraction = isTarget(c) ? 0.5 : lo + (hi - lo) * rng.next();
    const supportSize = Math.min(order.length - 1, Math.max(1, Math.round(fraction * order.length)));
    for (let i = 0; i < supportSize; i++) supportWeights[c * P + order[i]] = 1 / supportSize;
    const queries = isTarget(c) ? targetQueries : refQueries;
    for (let i = supportSize; i < order.length; i++) queries.push(c * P + order[i]);
  }
  const refTaken = shuffled(refQueries, rng).slice(
    0,
    Math.max(0, options.maxQueryPairs - targetQueries.length),
  );
  const hasTarget = targetQueries.length > 0;
  const hasRef = refTaken.length > 0;
  const targetShare = hasTarget ? (hasRef ? options.targetWeight : 1) : 0;
  const queryPairs = Int32Array.from([...refTaken, ...targetQueries]);
  const queryWeights = new Float32Array(queryPairs.length);
  for (let i = 0; i < refTaken.length; i++) queryWeights[i] = (1 - targetShare) / refTaken.length;
  for (let i = 0; i < targetQueries.length; i++) {
    queryWeights[refTaken.length + i] = targetShare / targetQueries.length;
  }
  return { supportWeights, queryPairs, queryWeights };
}

/** A fixed support: 1/|S| on the given perturbations of context c (C*P). */
export function fixedSupportWeights(
  contexts: number,
  perturbations: number,
  c: number,
  support: readonly number[],
) {
  const weights = new Float32Array(contexts * perturbations);
  for (const p of support) weights[c * perturbations + p] = 1 / support.length;
  return weights;
}
