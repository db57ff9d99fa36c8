/**
 * Leakage checks: a method may read the other contexts and the target's support, nothing else of the target.
 * Replacing every other target value by huge random numbers must leave every method's predictions (and so,
 * where the scored pairs are untouched, its metrics) exactly as they were. Iterates METHODS, so a new method
 * is covered as soon as it is listed there.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EffectTensor } from '../../../../src/core/data/tensor';
import { evaluateTarget, sweepSupport } from '../../../../src/core/eval/protocol';
import { evaluationSplit } from '../../../../src/core/eval/split';
import { METHODS } from '../../../../src/core/eval/methods';
import { createRng } from '../../../../src/core/random';
import { simulate } from '../../../../src/core/simulate/simulator';

const TARGET = 0;
/** Perturbations measured in the target only: never query, never support, but present in the target's row. */
const TARGET_ONLY = [27, 28, 29];

/** A tiny screen in which the target also holds pairs that no other context measured. */
function screen(): EffectTensor {
  const tensor = simulate({ contexts: 3, perturbations: 30, genes: 50, seed: 2, counts: false }).tensor;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const values = tensor.values.slice();
  const observed = tensor.observed.slice();
  const replicates = tensor.replicates.slice();
  for (let c = 0; c < tensor.contexts.length; c++) {
    if (c === TARGET) continue;
    for (const p of TARGET_ONLY) {
      observed[c * P + p] = 0;
      replicates[c * P + p] = 0;
      values.fill(0, (c * P + p) * G, (c * P + p + 1) * G);
    }
  }
  return { ...tensor, values, observed, replicates };
}

/** The tensor with the target's pairs at `perturbations` replaced by huge random values (seeded). */
function poisoned(tensor: EffectTensor, perturbations: Iterable<number>): EffectTensor {
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const values = tensor.values.slice();
  const rng = createRng(99);
  for (const p of perturbations) {
    for (let g = 0; g < G; g++) values[(TARGET * P + p) * G + g] = (rng.next() - 0.5) * 2e6;
  }
  return { ...tensor, values };
}

/** Target perturbations measured in the target that are not in `support`. */
function notSupport(tensor: EffectTensor, support: readonly number[]): number[] {
  const P = tensor.perturbations.length;
  const keep = new Set(support);
  return tensor.perturbations.map((_, p) => p).filter((p) => tensor.observed[TARGET * P + p] && !keep.has(p));
}

const options = { seed: 1, preset: 'small' as const, geneLimit: 20, maxEpochs: 2 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('poisoning the target outside its support', () => {
  it('evaluate: query and every other non-support pair of the target leave all predictions unchanged', async () => {
    const tensor = screen();
    const run = { ...options, supportFraction: 0.3 };
    const split = evaluationSplit(tensor, TARGET, { supportFraction: 0.3, seed: options.seed });
    const bad = poisoned(tensor, notSupport(tensor, [...split.supportTrain, ...split.supportVal]));
    const clean = await evaluateTarget(tensor, TARGET, run);
    const dirty = await evaluateTarget(bad, TARGET, run);
    expect(dirty.genes).toEqual(clean.genes);
    expect(dirty.queryPerturbations).toEqual(clean.queryPerturbations);
    for (const method of METHODS) {
      expect(Array.from(dirty.predictions[method]), method).toEqual(Array.from(clean.predictions[method]));
    }
  });

  it('support sweep: pairs outside a point’s support and outside the shared query leave its scores unchanged', async () => {
    const tensor = screen();
    const fractions = [0.1, 0.5];
    // Scored on the largest fraction's query; the smaller point must not see the pairs between its own
    // support and that query (the larger support) nor the target-only pairs.
    const small = evaluationSplit(tensor, TARGET, { supportFraction: 0.1, seed: options.seed });
    const large = evaluationSplit(tensor, TARGET, { supportFraction: 0.5, seed: options.seed });
    const query = new Set(large.query);
    const between = notSupport(tensor, [...small.supportTrain, ...small.supportVal]).filter(
      (p) => !query.has(p),
    );
    expect(between.length).toBeGreaterThan(TARGET_ONLY.length);
    const clean = await sweepSupport(tensor, TARGET, fractions, options);
    const dirty = await sweepSupport(poisoned(tensor, between), TARGET, fractions, options);
    for (const method of METHODS) expect(dirty[0].metrics[method], method).toEqual(clean[0].metrics[method]);
  });
});
