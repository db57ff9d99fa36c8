import { meanInterval } from '../eval/stats';
import { createRng, shuffled } from '../random';

/*
 * The choices the transfer path makes on judged pairs (held-out sets and reference checks): whether its mix
 * reads sparse-denoised effects (before training) and the multiple of the trained transfer (after it). Every
 * choice follows preferredOver.
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
