import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { evaluationSplit } from '../../../../src/core/eval/split';
import { DEFAULT_TRANSFER_OPTIONS, trainTransfer } from '../../../../src/core/model/transfer-train';
import {
  chooseMultiple,
  preferredOver,
  referenceChecks,
  TRANSFER_SCALES,
} from '../../../../src/core/model/transfer-judge';
import { simulate } from '../../../../src/core/simulate/simulator';
import { robustShift } from '../../../../src/core/model/transfer-support';
import { buildEpisode } from '../../../../src/core/model/transfer-data';
import { createRng } from '../../../../src/core/random';
import type { EffectTensor } from '../../../../src/core/data/tensor';
import { denseTensor } from './dense-tensor';

/** Per-pair scores where each multiple m scores base + slope * m on every pair, plus a per-pair wobble. */
function scoresOf(slope: (m: number) => number, wobble: number, pairs = 40) {
  return (m: number) =>
    Array.from({ length: pairs }, (_, i) => 0.5 + slope(m) + wobble * Math.sin(i * 7.3 + m));
}

describe('chooseMultiple: the transfer multiple kept on held-out pairs', () => {
  it('keeps 1 when no other multiple is better beyond its paired interval', () => {
    // Multiple 0 is better on average by 0.001 but the pairs scatter by 0.05 around it.
    expect(chooseMultiple(scoresOf((m) => -0.001 * m, 0.05))).toBe(1);
    expect(chooseMultiple(() => [0.4])).toBe(1);
  });

  it('switches the path off when every held-out pair is better without it', () => {
    expect(chooseMultiple(scoresOf((m) => -0.02 * m, 0.001))).toBe(0);
  });

  it('takes the largest clear gain among the multiples tried', () => {
    // The score peaks at m = 1.5: 1.25 and 1.5 both beat 1 clearly, 1.5 by more.
    const peak = (m: number) => -0.01 * (m - 1.5) ** 2;
    expect(chooseMultiple(scoresOf(peak, 0.0001))).toBe(1.5);
    expect(TRANSFER_SCALES).toContain(1.5);
  });
});

describe('preferredOver: the rule of every choice made on judged pairs', () => {
  it('gives the mean gain only when the paired interval lies above zero', () => {
    const incumbent = Array.from({ length: 30 }, (_, i) => 0.5 + 0.1 * Math.sin(i));
    const better = incumbent.map((s, i) => s + 0.01 + 0.002 * Math.cos(i * 3));
    expect(preferredOver(better, incumbent)).toBeCloseTo(0.01, 2);
    const noisy = incumbent.map((s, i) => s + 0.001 + 0.05 * Math.cos(i * 3));
    expect(preferredOver(noisy, incumbent)).toBeUndefined();
    expect(preferredOver(incumbent, better)).toBeUndefined();
  });
});

describe('referenceChecks: the reference contexts that judge the multiple beside the held-out pairs', () => {
  const usable = [[], [0, 1, 2, 3, 4, 5, 6, 7], [2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [1, 2, 3, 4, 5]];
  const plan = { skip: 1, supportSize: 3, maxQueries: 4, seed: 5 };

  it('plays each trainable context but the held-out one once, support and queries disjoint and usable', () => {
    const checks = referenceChecks([1, 2, 3], usable, plan);
    expect(checks.map((check) => check.context)).toEqual([2, 3]);
    for (const { context, support, queries } of checks) {
      expect(support).toHaveLength(3);
      expect(queries.length).toBe(Math.min(4, usable[context].length - 3));
      expect(new Set([...support, ...queries]).size).toBe(support.length + queries.length);
      for (const p of [...support, ...queries]) expect(usable[context]).toContain(p);
    }
  });

  it('draws the same supports for the same seed and others for another seed', () => {
    expect(referenceChecks([1, 2, 3], usable, plan)).toEqual(referenceChecks([1, 2, 3], usable, plan));
    const supports = (seed: number) =>
      referenceChecks([2], usable, { ...plan, seed, maxQueries: 0 })[0].support.join();
    expect(new Set([1, 2, 3, 4, 5, 6].map(supports)).size).toBeGreaterThan(1);
  });

  it('skips nothing without a held-out context and leaves out contexts too small to play the target', () => {
    expect(referenceChecks([1, 2, 3], usable, { ...plan, skip: undefined }).map((c) => c.context)).toEqual([
      1, 2, 3,
    ]);
    expect(referenceChecks([1, 3], usable, { ...plan, skip: undefined, supportSize: 5 })).toHaveLength(1);
  });
});

describe('the multiple after a training: judged on every context that can play the target', () => {
  it('pools the held-out context, the target and every other trainable reference (or the held-out sets alone)', async () => {
    expect(await tf.setBackend('cpu')).toBe(true);
    const P = 40;
    const screen = simulate({ contexts: 5, perturbations: P, genes: 50, counts: false, seed: 6 });
    const split = evaluationSplit(screen.tensor, 0, { supportFraction: 0.2, seed: 2 });
    const holdout = { context: 1, support: [0, 1, 2, 3, 4, 5], queries: [20, 21, 22, 23, 24, 25, 26, 27] };
    const judgedOn = async (checkReferences: boolean) => {
      const trained = await trainTransfer(screen.tensor, split, new Float32Array(50).fill(0.7), {
        ...DEFAULT_TRANSFER_OPTIONS,
        seed: 9,
        maxEpochs: 1,
        featureGenes: 16,
        holdout,
        checkReferences,
      });
      trained.dispose();
      return trained.judgedOn;
    };
    const heldOut = holdout.queries.length + split.supportVal.length;
    expect(split.supportVal.length).toBeGreaterThan(0);
    expect(await judgedOn(false)).toEqual({ contexts: 2, pairs: heldOut });
    // Contexts 2, 3 and 4 each play the target with a support of the target's training-support size.
    const supportSize = split.supportTrain.length;
    expect(await judgedOn(true)).toEqual({ contexts: 5, pairs: heldOut + 3 * (P - supportSize) });
  });
});

describe('the sparse-denoised mix: chosen before training where the judged pairs prefer it', () => {
  const P = 80;
  const G = 60;
  /**
   * Six contexts in sibling pairs: every effect is sparse (each perturbation moves 3 genes by 2) plus noise
   * of SD `noise`; a sibling pair shares how it changes 10 of the perturbations (a sparse deviation), so a
   * target is its sibling's deviations plus noise.
   */
  function siblingScreen(noise: number, dense: boolean): EffectTensor {
    const rng = createRng(21);
    const C = 6;
    const base = new Float32Array(P * G);
    for (let p = 0; p < P; p++)
      for (let g = 0; g < G; g++)
        base[p * G + g] = dense ? rng.normal() : (p * 7 + g) % 10 === 0 ? 2 * (g % 2 ? 1 : -1) : 0;
    const lineage = Array.from({ length: C / 2 }, () => {
      const deviation = new Float32Array(P * G);
      for (let p = 0; p < P; p++)
        if (rng.next() < 0.5)
          for (let g = 0; g < G; g++)
            deviation[p * G + g] = dense ? rng.normal() : base[p * G + g] !== 0 ? 1.5 * base[p * G + g] : 0;
      return deviation;
    });
    const values = new Float32Array(C * P * G);
    for (let c = 0; c < C; c++)
      for (let i = 0; i < P * G; i++)
        values[c * P * G + i] = base[i] + lineage[c >> 1][i] + noise * rng.normal();
    return denseTensor(values, C, P, G);
  }
  const holdout = {
    context: 2,
    support: Array.from({ length: 20 }, (_, i) => i),
    queries: Array.from({ length: 40 }, (_, i) => 20 + i),
  };
  const sparseMixOf = async (tensor: EffectTensor, sparseMix: 'choose' | 'off') => {
    expect(await tf.setBackend('cpu')).toBe(true);
    const split = evaluationSplit(tensor, 0, { supportFraction: 0.25, seed: 3 });
    const trained = await trainTransfer(tensor, split, new Float32Array(G).fill(1), {
      ...DEFAULT_TRANSFER_OPTIONS,
      seed: 5,
      maxEpochs: 1,
      featureGenes: 40,
      holdout,
      sparseMix,
    });
    trained.dispose();
    return trained.sparseMix;
  };

  it('restores the choice with the weights: the same transfer, and another without it', async () => {
    expect(await tf.setBackend('cpu')).toBe(true);
    const tensor = siblingScreen(1.2, false);
    const split = evaluationSplit(tensor, 0, { supportFraction: 0.25, seed: 3 });
    const options = { ...DEFAULT_TRANSFER_OPTIONS, seed: 5, featureGenes: 40 };
    const trained = await trainTransfer(tensor, split, new Float32Array(G).fill(1), {
      ...options,
      maxEpochs: 1,
      holdout,
    });
    expect(trained.sparseMix).toBe(true);
    const support = [...split.supportTrain, ...split.supportVal];
    const residual = Float32Array.from({ length: support.length * G }, (_, i) => Math.sin(i));
    const weights = await trained.weights();
    const transferOf = async (sparseMix: boolean) => {
      const restored = await trainTransfer(tensor, split, new Float32Array(G).fill(1), {
        ...options,
        maxEpochs: 0,
        restore: { features: trained.features, weights, sparseMix, withoutSlope: false, robustShift: true },
      });
      const { deviations } = await restored.transfer(support, split.query, residual);
      restored.dispose();
      return deviations;
    };
    const expected = (await trained.transfer(support, split.query, residual)).deviations;
    trained.dispose();
    expect(Array.from(await transferOf(true))).toEqual(Array.from(expected));
    expect(Array.from(await transferOf(false))).not.toEqual(Array.from(expected));
  });

  it('reads sparse-denoised effects where effects are sparse and noisy, raw ones where they are dense', async () => {
    expect(await sparseMixOf(siblingScreen(1.2, false), 'choose')).toBe(true);
    expect(await sparseMixOf(siblingScreen(0.4, false), 'off')).toBe(false);
    expect(await sparseMixOf(siblingScreen(0.1, true), 'choose')).toBe(false);
  });
});

describe('the fixed form the path sits on: without the slope unless the held-out sets prefer it', () => {
  const P = 40;
  const G = 50;
  const screen = simulate({ contexts: 5, perturbations: P, genes: G, counts: false, seed: 6 }).tensor;
  const split = evaluationSplit(screen, 0, { supportFraction: 0.2, seed: 2 });
  const holdout = { context: 1, support: [0, 1, 2, 3, 4, 5], queries: [20, 21, 22, 23, 24, 25, 26, 27] };
  /** A form that reads the queries' own values: every held-out pair scores near 1 whatever the path adds. */
  const exact = async (context: number, _support: readonly number[], queries: readonly number[]) =>
    Float32Array.from({ length: queries.length * G }, (_, i) => {
      const [q, g] = [Math.floor(i / G), i % G];
      return screen.values[(context * P + queries[q]) * G + g];
    });
  /** The same values with the genes rotated: nothing like the pair. */
  const scrambled = async (context: number, support: readonly number[], queries: readonly number[]) => {
    const values = await exact(context, support, queries);
    return Float32Array.from(values, (_, i) => values[i - (i % G) + (((i % G) * 7 + 3) % G)]);
  };
  const support = [...split.supportTrain, ...split.supportVal];
  const residual = Float32Array.from({ length: support.length * G }, (_, i) => Math.sin(i));
  const base = {
    queries: Float32Array.from({ length: split.query.length * G }, (_, i) => 2 * Math.cos(0.7 * i)),
    support: Float32Array.from({ length: support.length * G }, (_, i) => 2 * Math.cos(1.3 * i)),
  };
  /**
   * A path trained (one epoch) or restored on the screen with these options, and its transfer of one support
   * residual given the base predictions and without them.
   */
  const pathWith = async (options: Partial<Parameters<typeof trainTransfer>[3]>) => {
    expect(await tf.setBackend('cpu')).toBe(true);
    const trained = await trainTransfer(screen, split, new Float32Array(G).fill(0.7), {
      ...DEFAULT_TRANSFER_OPTIONS,
      seed: 9,
      maxEpochs: 1,
      featureGenes: 16,
      holdout,
      ...options,
    });
    const weights = await trained.weights();
    const onBase = (await trained.transfer(support, split.query, residual, base)).deviations;
    const withoutBase = (await trained.transfer(support, split.query, residual)).deviations;
    trained.dispose();
    return { withoutSlope: trained.withoutSlope, features: trained.features, weights, onBase, withoutBase };
  };
  const withoutSlopeOf = async (options: Partial<Parameters<typeof trainTransfer>[3]>) =>
    (await pathWith(options)).withoutSlope;

  it('takes the slope-free form unless the whole form is clearly better on the held-out pairs', async () => {
    expect(await withoutSlopeOf({ fixedForm: scrambled, slopeFreeFixedForm: exact })).toBe(true);
    expect(await withoutSlopeOf({ fixedForm: exact, slopeFreeFixedForm: scrambled })).toBe(false);
    expect(await withoutSlopeOf({ fixedForm: exact, slopeFreeFixedForm: exact })).toBe(true);
  });

  it('keeps the whole form when the path would be off on the slope-free one (C3TL is then calibrated)', async () => {
    // Exact on the queries but scrambled on the support: the support's deviations are noise, so the path's
    // multiple there is 0, however much better the form alone scores.
    const exactButNoisySupport = (context: number, support: readonly number[], queries: readonly number[]) =>
      queries === support ? scrambled(context, support, queries) : exact(context, support, queries);
    expect(await withoutSlopeOf({ fixedForm: scrambled, slopeFreeFixedForm: exactButNoisySupport })).toBe(
      false,
    );
  });

  it('judges on the held-out sets only, not on the reference checks (whose pairs trained the fixed form)', async () => {
    const heldOut = new Set([0, holdout.context]);
    const onHeldOut =
      (good: boolean) => (context: number, support: readonly number[], queries: readonly number[]) =>
        heldOut.has(context) === good
          ? exact(context, support, queries)
          : scrambled(context, support, queries);
    // Better on the two held-out contexts, worse on the three references' checks (many more pairs).
    expect(await withoutSlopeOf({ fixedForm: onHeldOut(false), slopeFreeFixedForm: onHeldOut(true) })).toBe(
      true,
    );
    expect(await withoutSlopeOf({ fixedForm: onHeldOut(true), slopeFreeFixedForm: onHeldOut(false) })).toBe(
      false,
    );
  });

  it('keeps the whole form without a slope-free one, without epochs, and as restored; only the slope-free form refits the slope on the base', async () => {
    expect(await withoutSlopeOf({ fixedForm: scrambled })).toBe(false);
    expect(await withoutSlopeOf({ fixedForm: scrambled, slopeFreeFixedForm: exact, maxEpochs: 0 })).toBe(
      false,
    );
    const { features, weights } = await pathWith({});
    const restore = { features, weights, sparseMix: false, robustShift: true };
    for (const withoutSlope of [true, false]) {
      const restored = await pathWith({
        maxEpochs: 0,
        restore: { ...restore, withoutSlope },
        fixedForm: exact,
        slopeFreeFixedForm: scrambled,
      });
      expect(restored.withoutSlope).toBe(withoutSlope);
      // The remainder slope reads the base predictions on the slope-free form, and only there.
      const moved = restored.onBase.some((v, i) => Math.abs(v - restored.withoutBase[i]) > 1e-4);
      expect(moved).toBe(withoutSlope);
    }
  });
});

describe("the robust shift: the path's correction of the fixed form's mean shift", () => {
  it('is added to the transfer when the path is on, not when it is off (C3TL is then calibrated) nor when restored from a file written before it', async () => {
    expect(await tf.setBackend('cpu')).toBe(true);
    const P = 40;
    const G = 50;
    const tensor = simulate({ contexts: 4, perturbations: P, genes: G, counts: false, seed: 8 }).tensor;
    const split = evaluationSplit(tensor, 0, { supportFraction: 0.25, seed: 4 });
    const scale = Float32Array.from({ length: G }, (_, g) => 0.5 + g / G);
    const support = [...split.supportTrain, ...split.supportVal];
    const residual = Float32Array.from({ length: support.length * G }, (_, i) => Math.sin(i));
    const trained = await trainTransfer(tensor, split, scale, {
      ...DEFAULT_TRANSFER_OPTIONS,
      seed: 3,
      maxEpochs: 0,
      featureGenes: 16,
    });
    const weights = await trained.weights();
    const features = trained.features;
    trained.dispose();
    /**
     * The restored path's transfer with every gene's gain set to `gain` (0: the path off), with the robust
     * shift or without it (a model file written before it).
     */
    const transferWithGain = async (gain: number, robustShift = true) => {
      const restored = await trainTransfer(tensor, split, scale, {
        ...DEFAULT_TRANSFER_OPTIONS,
        seed: 3,
        maxEpochs: 0,
        restore: {
          features,
          weights: { ...weights, gain: new Float32Array(G).fill(gain) },
          sparseMix: false,
          withoutSlope: false,
          robustShift,
        },
      });
      const { deviations } = await restored.transfer(support, split.query, residual);
      restored.dispose();
      return deviations;
    };
    expect((await transferWithGain(0)).every((v) => v === 0)).toBe(true);
    // A vanishing gain leaves the learnt transfer at ~0 and the robust shift alone, in the tensor's units.
    const source = { tensor, mask: tensor.observed, scale, features };
    const shift = robustShift(buildEpisode(source, split.target, support, [], { profiles: false }));
    expect(shift.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    const deviations = await transferWithGain(1e-20);
    split.query.forEach((_, q) => {
      for (let g = 0; g < G; g++) expect(deviations[q * G + g]).toBeCloseTo(shift[g] * scale[g], 5);
    });
    expect((await transferWithGain(1e-20, false)).every((v) => Math.abs(v) < 1e-6)).toBe(true);
  });
});
