import { sharedPerturbations, unmeasuredPerturbations } from '../data/tensor';
import type { EffectTensor } from '../data/tensor';
import { createRng, shuffled } from '../random';
import type { TargetSplit } from './types';

export interface SplitOptions {
  /** Fraction of the target's shared perturbations used as support (train + validation), 0 < f < 1. */
  supportFraction: number;
  /** Share of the support kept for validation, 0 <= share < 1; default 0.2 (the paper's 2% of a 10% support). */
  validationShare?: number;
  seed: number;
}

export const DEFAULT_VALIDATION_SHARE = 0.2;

/**
 * Validation size for a support of n pairs: round(share·n), at least 1 when n >= 5 (and share > 0), 0 when
 * n < 3, and never the whole support so that at least one pair is left to fit on.
 */
export function validationSize(support: number, share: number): number {
  if (support < 3 || share === 0) return 0;
  let v = Math.round(share * support);
  if (support >= 5) v = Math.max(1, v);
  return Math.min(v, support - 1);
}

function checkShare(share: number): void {
  if (!(share >= 0 && share < 1)) throw new Error(`validationShare must be in [0, 1), got ${share}.`);
}

function contextName(tensor: EffectTensor, target: number): string {
  if (!Number.isInteger(target) || target < 0 || target >= tensor.contexts.length) {
    throw new Error(`Context index ${target} is out of range [0, ${tensor.contexts.length}).`);
  }
  return tensor.contexts[target];
}

const ascending = (a: number, b: number): number => a - b;

/** Splits an already shuffled support into train (first part) and validation (last part), each sorted. */
function splitSupport(
  order: readonly number[],
  support: number,
  share: number,
): Pick<TargetSplit, 'supportTrain' | 'supportVal'> {
  const nVal = validationSize(support, share);
  return {
    supportTrain: order.slice(0, support - nVal).sort(ascending),
    supportVal: order.slice(support - nVal, support).sort(ascending),
  };
}

/**
 * Evaluation split of target context t (perturbation indices, each list sorted ascending). Its shared
 * perturbations (measured in t and elsewhere) are shuffled with the seed; the first
 * support = clamp(round(f·n), 1, n − 1) form the support, split into train and validation (validationSize),
 * the rest is the query. Keeping at least one query pair makes every split evaluable. For one seed, a smaller
 * fraction's support is a subset of a larger one's (both are prefixes of the same shuffle).
 * Throws if t has fewer than 2 shared perturbations.
 */
export function evaluationSplit(tensor: EffectTensor, target: number, options: SplitOptions): TargetSplit {
  const name = contextName(tensor, target);
  const f = options.supportFraction;
  if (!(f > 0 && f < 1)) throw new Error(`supportFraction must be between 0 and 1 (exclusive), got ${f}.`);
  const share = options.validationShare ?? DEFAULT_VALIDATION_SHARE;
  checkShare(share);
  const shared = sharedPerturbations(tensor, target);
  const n = shared.length;
  if (n < 2) {
    throw new Error(
      `Context "${name}" has ${n} perturbation(s) also measured in another context; an evaluation split needs at least 2 (one support, one query).`,
    );
  }
  const order = shuffled(shared, createRng(options.seed));
  const support = Math.min(n - 1, Math.max(1, Math.round(f * n)));
  return {
    target,
    ...splitSupport(order, support, share),
    query: order.slice(support).sort(ascending),
  };
}

/**
 * Prediction-mode split of target context t: every perturbation measured in t and elsewhere is support
 * (validation chosen with the seed, validationSize), the query is every perturbation measured elsewhere but
 * not in t (may be empty). Throws if t shares no perturbation with another context.
 */
export function predictionSplit(
  tensor: EffectTensor,
  target: number,
  options: Omit<SplitOptions, 'supportFraction'>,
): TargetSplit {
  const name = contextName(tensor, target);
  const share = options.validationShare ?? DEFAULT_VALIDATION_SHARE;
  checkShare(share);
  const shared = sharedPerturbations(tensor, target);
  if (shared.length === 0) {
    throw new Error(
      `Context "${name}" shares no measured perturbation with another context; nothing to transfer from.`,
    );
  }
  const order = shuffled(shared, createRng(options.seed));
  return {
    target,
    ...splitSupport(order, shared.length, share),
    query: unmeasuredPerturbations(tensor, target),
  };
}
