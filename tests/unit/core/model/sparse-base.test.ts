import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EffectTensor } from '../../../../src/core/data/tensor';
import { centredPearson } from '../../../../src/core/eval/metrics';
import { evaluationSplit } from '../../../../src/core/eval/split';
import { predictBaselines } from '../../../../src/core/model/baselines';
import {
  additiveScores,
  baseJudgedSets,
  chooseSparseBase,
  perturbationMeans,
} from '../../../../src/core/model/sparse-base';
import { DEFAULT_TRAIN_OPTIONS, trainC3tl } from '../../../../src/core/model/train';
import { geneStandardisation } from '../../../../src/core/model/standardise';
import { createRng } from '../../../../src/core/random';
import { denseTensor } from './dense-tensor';

const C = 5;
const P = 60;
const G = 50;

/** Five contexts sharing each perturbation's effect, plus noise of SD 1: sparse (3 genes moved by 2) or dense. */
function screen(dense: boolean): EffectTensor {
  const rng = createRng(31);
  const base = new Float32Array(P * G);
  for (let p = 0; p < P; p++)
    for (let g = 0; g < G; g++)
      base[p * G + g] = dense ? 2 * rng.normal() : (p * 7 + g) % 17 === 0 ? 2 * (g % 2 ? 1 : -1) : 0;
  const values = new Float32Array(C * P * G);
  for (let c = 0; c < C; c++) for (let i = 0; i < P * G; i++) values[c * P * G + i] = base[i] + rng.normal();
  return denseTensor(values, C, P, G);
}

const unit = new Float32Array(G).fill(1);
const everything = new Uint8Array(C * P).fill(1);
const set = { context: 0, support: Array.from({ length: 10 }, (_, i) => i), queries: [20, 21, 22, 23] };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the additive rule on judged pairs', () => {
  it('scores each query as the additive baseline does (raw means)', () => {
    const tensor = screen(false);
    const scores = additiveScores(tensor, everything, unit, [set]);
    const { additive } = predictBaselines({ tensor, target: 0, support: set.support, query: set.queries });
    const centre = new Float32Array(G);
    for (const s of set.support) for (let g = 0; g < G; g++) centre[g] += tensor.values[s * G + g] / 10;
    set.queries.forEach((q, i) => {
      const expected = centredPearson(
        additive.subarray(i * G, (i + 1) * G),
        tensor.values.subarray(q * G, (q + 1) * G),
        centre,
      );
      expect(scores[i]).toBeCloseTo(expected, 5);
    });
  });

  it('never reads a pair off the mask into a mean', () => {
    const tensor = screen(false);
    const mask = everything.slice();
    mask[2 * P + 20] = 0;
    const before = additiveScores(tensor, mask, unit, [set]);
    const poisoned = { ...tensor, values: Float32Array.from(tensor.values) };
    poisoned.values.fill(100, (2 * P + 20) * G, (2 * P + 21) * G);
    expect(additiveScores(poisoned, mask, unit, [set])).toEqual(before);
  });
});

describe('chooseSparseBase', () => {
  const sets = (tensor: EffectTensor) =>
    baseJudgedSets(tensor, everything, {
      target: 0,
      supportTrain: set.support,
      supportVal: [40, 41, 42, 43, 44],
      maxQueries: 40,
      seed: 3,
    });

  it('judges on the target validation pairs and every reference playing the target once', () => {
    const judged = sets(screen(false));
    expect(judged[0]).toEqual({ context: 0, support: set.support, queries: [40, 41, 42, 43, 44] });
    expect(judged.slice(1).map((s) => s.context)).toEqual([1, 2, 3, 4]);
    for (const s of judged.slice(1)) {
      expect(s.support).toHaveLength(10);
      expect(s.queries).toHaveLength(40);
      expect(s.queries.some((q) => s.support.includes(q))).toBe(false);
    }
  });

  it('keeps denoised means on a sparse noisy screen and the observed ones on a dense screen', () => {
    const sparse = screen(false);
    expect(chooseSparseBase(sparse, everything, unit, sets(sparse))).toEqual(
      perturbationMeans(sparse, everything, unit, true),
    );
    const dense = screen(true);
    expect(chooseSparseBase(dense, everything, unit, sets(dense))).toBeUndefined();
  });
});

describe('the fixed form on sparse means', () => {
  const options = {
    ...DEFAULT_TRAIN_OPTIONS,
    preset: 'small' as const,
    seed: 7,
    switches: { transfer: false },
  };

  it('chooses them where the judged pairs prefer them, and not on a dense screen', async () => {
    for (const [dense, expected] of [
      [false, true],
      [true, false],
    ] as const) {
      const tensor = screen(dense);
      const split = evaluationSplit(tensor, 0, { supportFraction: 0.2, seed: 1 });
      const model = await trainC3tl(tensor, split, { ...options, maxEpochs: 1 });
      expect(model.sparseBase, dense ? 'dense' : 'sparse').toBe(expected);
      model.dispose();
    }
  });

  it('untrained, is the additive rule on the denoised means', async () => {
    const tensor = screen(false);
    const split = evaluationSplit(tensor, 0, { supportFraction: 0.2, seed: 1 });
    const support = [...split.supportTrain, ...split.supportVal];
    const model = await trainC3tl(tensor, split, { ...options, maxEpochs: 0, sparseBase: true });
    expect(model.sparseBase).toBe(true);
    const { calibrated } = await model.predict(support, split.query);
    const mask = new Uint8Array(C * P).fill(1);
    mask.fill(0, 0, P);
    for (const p of support) mask[p] = 1;
    const { scale } = geneStandardisation(tensor, mask);
    const denoised = perturbationMeans(tensor, mask, scale, true);
    const meanOf = (p: number, g: number) => denoised[p * G + g] * scale[g];
    let worst = 0;
    split.query.forEach((q, i) => {
      for (let g = 0; g < G; g++) {
        let offset = 0;
        for (const s of support) offset += (tensor.values[s * G + g] - meanOf(s, g)) / support.length;
        worst = Math.max(worst, Math.abs(calibrated[i * G + g] - (meanOf(q, g) + offset)));
      }
    });
    expect(worst).toBeLessThan(1e-4);
    model.dispose();
  });
});

describe('perturbationMeans', () => {
  it('are each pair’s mean over the other contexts that read it, 0 where none does', () => {
    const values = Float32Array.from({ length: 3 * 2 * 2 }, (_, i) => i);
    const tensor = denseTensor(values, 3, 2, 2);
    const mask = Uint8Array.from([1, 1, 1, 0, 0, 1]);
    const means = perturbationMeans(tensor, mask, Float32Array.from([1, 2]), false);
    // Context 0, perturbation 0: contexts 1 and 2 read only by 1 (values 4, 5 at scale 1, 2).
    expect(Array.from(means.subarray(0, 2))).toEqual([4, 2.5]);
    // Context 1, perturbation 1: read by contexts 0 and 2; context 2, perturbation 0: by 0 and 1.
    expect(Array.from(means.subarray(6, 8))).toEqual([6, 3.5]);
    expect(Array.from(means.subarray(8, 10))).toEqual([2, 1.5]);
    // Context 0, perturbation 1 is read by context 2 alone; nothing reads context 2's own pairs into it.
    expect(Array.from(means.subarray(2, 4))).toEqual([10, 5.5]);
  });
});
