import { centredPearson } from '../eval/metrics';
import { meanInterval } from '../eval/stats';
import { createRng, shuffled } from '../random';
import { buildEpisode, type TransferEpisode, type TransferSource } from './transfer-data';
import { withSupportRules, type SupportRules } from './transfer-support';

/*
 * The judged sets of the transfer path (held-out sets and reference checks, scored as the test is) and the
 * choices made on them: whether its mix reads sparse-denoised effects (before training), the multiple of the
 * trained transfer and the fixed form it sits on (after it). Every choice follows preferredOver.
 */

/**
 * Multiples of the trained transfer tried on the held-out pairs after training: 0 switches the path off
 * where it does not beat the fixed form, above 1 undoes the shrinkage of a squared-error fit that the
 * correlation does not ask for.
 */
export const TRANSFER_SCALES = [1, 0.75, 1.25, 0.5, 1.5, 0.25, 0] as const;

/**
 * The multiple kept: 1 unless another one beats it on the judged pairs with the 95% t-interval of the paired
 * difference (per pair, pooled over the judged sets) above zero; of those, the one with the largest mean
 * gain. Pairs of one context share that context's quirks, so a mean difference alone mostly follows them
 * (measured: judged on one reference context, it switched a helpful path off on 4 of 5 targets of
 * tahoe-5lines at 5% support).
 */
export function chooseMultiple(pairScoresAt: (multiple: number) => readonly number[]): number {
  const atOne = pairScoresAt(1);
  let kept = 1;
  let keptGain = 0;
  for (const multiple of TRANSFER_SCALES) {
    if (multiple === 1) continue;
    const gain = preferredOver(pairScoresAt(multiple), atOne);
    if (gain !== undefined && gain > keptGain) {
      kept = multiple;
      keptGain = gain;
    }
  }
  return kept;
}

/**
 * The mean gain of `candidate` over `incumbent` (scores of the same pairs) when the 95% t-interval of the
 * paired difference lies above zero, else undefined: the rule every choice made on judged pairs follows.
 */
export function preferredOver(
  candidate: readonly number[],
  incumbent: readonly number[],
): number | undefined {
  const gain = meanInterval(candidate.map((score, i) => score - incumbent[i]));
  return gain.lo > 0 ? gain.mean : undefined;
}

export interface ReferenceCheck {
  context: number;
  support: number[];
  queries: number[];
}

/**
 * Each trainable reference context but `skip` (the held-out one, judged already) plays the target once more:
 * a seeded support of the target's size and up to maxQueries other usable pairs (indices into perturbations;
 * usable[c] lists context c's). The fixed form and the path are fitted on these pairs, so they judge beside the
 * held-out pairs rather than alone (the sparse mix before training, the multiple after it): they keep a choice
 * from following the one held-out context (see chooseMultiple).
 */
export function referenceChecks(
  trainable: readonly number[],
  usable: readonly (readonly number[])[],
  plan: { skip?: number; supportSize: number; maxQueries: number; seed: number },
): ReferenceCheck[] {
  const rng = createRng(plan.seed ^ 0xc4ec);
  return trainable
    .filter((context) => context !== plan.skip && usable[context].length > plan.supportSize)
    .map((context) => {
      const order = shuffled(usable[context], rng);
      return {
        context,
        support: order.slice(0, plan.supportSize),
        queries: order.slice(plan.supportSize, plan.supportSize + plan.maxQueries),
      };
    });
}

/**
 * The fixed form's effects (original units, Q*G) of `queries` in `context` when `support` is that context's
 * known pairs, computed without reading the queries' own values.
 */
export type FixedFormPredictor = (
  context: number,
  support: readonly number[],
  queries: readonly number[],
) => Promise<Float32Array>;

export interface Scored {
  episode: TransferEpisode;
  /** Q*G observed (scaled) and the support mean (scaled), read from the tensor for scoring only. */
  observed: Float32Array;
  supportMean: Float32Array;
}

/** A scored set before the support rules (scoredBase), to which each candidate source applies them. */
export async function scoredBase(
  source: TransferSource,
  context: number,
  support: number[],
  queries: number[],
  fixedForm: FixedFormPredictor | undefined,
): Promise<Scored> {
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
  const scored = { episode: buildEpisode(source, context, support, queries), observed, supportMean };
  return fixedForm ? onFixedForm(source, scored, fixedForm) : scored;
}

/**
 * The scored set judged as the test is, on `fixedForm`: its queries' base (additive), the support's base
 * (supportBase) and each support pair's deviation from it (residual) replaced; everything else shared.
 */
export async function onFixedForm(
  source: TransferSource,
  scored: Scored,
  fixedForm: FixedFormPredictor,
): Promise<Scored> {
  const { tensor, scale } = source;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const { context, support, queries } = scored.episode;
  const base = await fixedForm(context, support, queries);
  const supportBase = await fixedForm(context, support, support);
  const residual = new Float32Array(support.length * G);
  support.forEach((p, s) => {
    const at = (context * P + p) * G;
    for (let g = 0; g < G; g++)
      residual[s * G + g] = tensor.values[at + g] / scale[g] - supportBase[s * G + g] / scale[g];
  });
  const episode = {
    ...scored.episode,
    additive: Float32Array.from(base, (v, i) => v / scale[i % G]),
    supportBase: Float32Array.from(supportBase, (v, i) => v / scale[i % G]),
    residual,
  };
  return { ...scored, episode };
}

export const withRules = (source: TransferSource, base: Scored, rules: SupportRules): Scored => ({
  ...base,
  episode: withSupportRules(source, base.episode, rules),
});

/** Centred Pearson of base + multiple * transfer per pair of each scored set in turn; scale: G. */
export function pairScoresOf(
  sets: readonly Scored[],
  transferred: readonly Float32Array[],
  multiple: number,
  scale: Float32Array,
): number[][] {
  const G = scale.length;
  return sets.map((v, i) => {
    const r = transferred[i];
    const predicted = new Float32Array(G);
    const observed = new Float32Array(G);
    const centre = Float32Array.from(v.supportMean, (m, g) => m * scale[g]);
    return v.episode.queries.map((_, q) => {
      const at = q * G;
      for (let g = 0; g < G; g++) {
        predicted[g] = (v.episode.additive[at + g] + multiple * r[at + g]) * scale[g];
        observed[g] = v.observed[at + g] * scale[g];
      }
      return centredPearson(predicted, observed, centre);
    });
  });
}
