import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EffectTensor } from '../../../../src/core/data/tensor';
import { evaluationSplit, predictionSplit } from '../../../../src/core/eval/split';
import { predictBaselines } from '../../../../src/core/model/baselines';
import { orthonormaliseColumns, principalBasis } from '../../../../src/core/model/basis';
import { PARAMETER_NAMES, parameterCount, parameterShapes } from '../../../../src/core/model/c3tl';
import { sampleEpisode, type EpisodePool } from '../../../../src/core/model/episodes';
import { heldGenes } from '../../../../src/core/model/held-genes';
import { geneStandardisation } from '../../../../src/core/model/standardise';
import {
  AbortError,
  DEFAULT_TRAIN_OPTIONS,
  trainC3tl,
  type TrainOptions,
} from '../../../../src/core/model/train';
import { createRng } from '../../../../src/core/random';
import { simulate } from '../../../../src/core/simulate/simulator';
import { restrictToContexts } from '../../../../src/core/data/select';

// A small simulated screen: 4 contexts x 80 perturbations x 120 genes, 10% support (6 train + 2 validation).
const tiny = (): EffectTensor =>
  simulate({ contexts: 4, perturbations: 80, genes: 120, counts: false, dispersion: 0.02, seed: 3 }).tensor;
const options = (overrides: Partial<TrainOptions> = {}): TrainOptions => ({
  ...DEFAULT_TRAIN_OPTIONS,
  preset: 'small',
  seed: 7,
  maxEpochs: 4,
  patience: 100,
  genesPerStep: 50,
  ...overrides,
});
const supportOf = (split: { supportTrain: number[]; supportVal: number[] }) => [
  ...split.supportTrain,
  ...split.supportVal,
];

/**
 * Largest |predicted - additive| over the genes the target expresses: those it does not (held-genes.ts) are
 * held at their value, not added to.
 */
function worstOffAdditive(
  tensor: EffectTensor,
  target: number,
  support: number[],
  predicted: Float32Array,
  additive: Float32Array,
): number {
  const G = tensor.genes.length;
  const held = heldGenes(tensor.values, tensor.perturbations.length, G, target, support);
  let worst = 0;
  for (let i = 0; i < additive.length; i++)
    if (!held.genes.includes(i % G)) worst = Math.max(worst, Math.abs(predicted[i] - additive[i]));
  return worst;
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

let tensor: EffectTensor;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tensor = tiny();
});

describe('trainC3tl on the cpu backend', () => {
  it('predicts Q x G values, reports its weights in the documented shapes and logs each epoch', async () => {
    const split = evaluationSplit(tensor, 1, { supportFraction: 0.1, seed: 1 });
    const epochs: number[] = [];
    const model = await trainC3tl(tensor, split, options(), { onEpoch: (log) => epochs.push(log.epoch) });
    const G = tensor.genes.length;
    expect((await model.predict(supportOf(split), split.query)).c3tl).toHaveLength(split.query.length * G);
    expect((await model.predict(supportOf(split), [])).c3tl).toHaveLength(0);
    const shapes = parameterShapes(model.architecture);
    const weights = await model.weights();
    for (const name of PARAMETER_NAMES) {
      expect(weights[name], name).toHaveLength(shapes[name].reduce((a, b) => a * b, 1));
    }
    const transfer = model.transfer;
    expect(transfer).toBeDefined();
    expect(model.parameters).toBe(parameterCount(model.architecture) + (transfer?.parameters ?? 0));
    // The learnt network is off by default: its weights are held but never trained.
    const G2 = model.architecture.genes;
    expect(model.trainedParameters).toBe(4 * G2 + (transfer?.parameters ?? 0));
    expect(transfer?.parameters).toBe(2 * (transfer?.features.length ?? 0) + G2 + 4);
    expect(epochs).toEqual([1, 2, 3, 4]);
    expect(model.history.map((h) => h.epoch)).toEqual(epochs);
    for (const h of model.history) {
      expect(Number.isFinite(h.trainLoss)).toBe(true);
      expect(Number.isFinite(h.valLoss)).toBe(true);
      expect(h.bestEpoch).toBeLessThanOrEqual(h.epoch);
    }
    model.dispose();
  });

  it('predicts unmeasured perturbations in prediction mode', async () => {
    const sparse = simulate({
      contexts: 3,
      perturbations: 60,
      genes: 80,
      observedFraction: 0.7,
      counts: false,
    });
    const split = predictionSplit(sparse.tensor, 0, { seed: 1 });
    expect(split.query.length).toBeGreaterThan(0);
    const model = await trainC3tl(sparse.tensor, split, options({ maxEpochs: 1 }));
    const predicted = (await model.predict(supportOf(split), split.query)).c3tl;
    expect(predicted).toHaveLength(split.query.length * sparse.tensor.genes.length);
    expect(predicted.every(Number.isFinite)).toBe(true);
    model.dispose();
  });

  it.each([0, 2])(
    'its fixed form is the additive baseline before training (target %i, maxEpochs 0)',
    async (target) => {
      const split = evaluationSplit(tensor, target, { supportFraction: 0.1, seed: 2 });
      const model = await trainC3tl(tensor, split, options({ maxEpochs: 0 }));
      const predicted = (await model.predict(supportOf(split), split.query)).calibrated;
      const { additive } = predictBaselines({
        tensor,
        target,
        support: supportOf(split),
        query: split.query,
      });
      expect(worstOffAdditive(tensor, target, supportOf(split), predicted, additive)).toBeLessThan(1e-4);
      expect(model.bestEpoch).toBe(0);
      expect(model.history).toEqual([]);
      expect(model.transfer?.epochs).toBe(0);
      model.dispose();
    },
  );

  it('predicts a gene the target does not express at its held value, with and without the transfer path', async () => {
    const split = evaluationSplit(tensor, 1, { supportFraction: 0.1, seed: 2 });
    const P = tensor.perturbations.length;
    const G = tensor.genes.length;
    const values = Float32Array.from(tensor.values);
    // Gene 4 silent in the target (0 on every pair), gene 6 at 0.5 on every support pair.
    for (let p = 0; p < P; p++) values[(P + p) * G + 4] = 0;
    for (const p of supportOf(split)) values[(P + p) * G + 6] = 0.5;
    const model = await trainC3tl({ ...tensor, values }, split, options({ maxEpochs: 2 }));
    const { c3tl, calibrated } = await model.predict(supportOf(split), split.query);
    for (const predicted of [c3tl, calibrated]) {
      const column = (g: number) => split.query.map((_, q) => predicted[q * G + g]);
      expect(new Set(column(4))).toEqual(new Set([0]));
      expect(new Set(column(6))).toEqual(new Set([0.5]));
      expect(new Set(column(5)).size).toBeGreaterThan(1);
    }
    model.dispose();
  });

  it('with the transfer path off, C3TL is its fixed form', async () => {
    const split = evaluationSplit(tensor, 1, { supportFraction: 0.1, seed: 2 });
    const model = await trainC3tl(tensor, split, options({ maxEpochs: 2, switches: { transfer: false } }));
    const { c3tl, calibrated } = await model.predict(supportOf(split), split.query);
    expect(Array.from(c3tl)).toEqual(Array.from(calibrated));
    expect(model.transfer).toBeUndefined();
    expect(model.trainedParameters).toBe(4 * tensor.genes.length);
    model.dispose();
  });

  it('without the slope, C3TL is the slope-free fixed form plus the transfer; calibrated keeps the slope', async () => {
    const split = evaluationSplit(tensor, 1, { supportFraction: 0.1, seed: 2 });
    const support = supportOf(split);
    const G = tensor.genes.length;
    const trained = await trainC3tl(tensor, split, options({ maxEpochs: 2 }));
    const weights = await trained.weights();
    const transferWeights = await trained.transferWeights();
    const { standardisation, sparseBase } = trained;
    const features = trained.transfer?.features;
    trained.dispose();
    if (!transferWeights || !features) throw new Error('The transfer path is on by default.');
    // The slope wide open, and a path that adds nothing (zero gain): C3TL is then the form it sits on.
    const opened = { ...weights, slope_gate: new Float32Array(G).fill(1 / 30) };
    const silent = { ...transferWeights, gain: new Float32Array(G) };
    const restored = (withoutSlope: boolean, switches: TrainOptions['switches'] = {}) =>
      trainC3tl(
        tensor,
        split,
        options({
          maxEpochs: 0,
          initialWeights: opened,
          initialTransfer: { features, weights: silent, sparseMix: false, withoutSlope, robustShift: true },
          standardisation,
          sparseBase,
          switches,
        }),
      );
    const predictionsOf = async (model: Awaited<ReturnType<typeof trainC3tl>>) => {
      const predicted = await model.predict(support, split.query);
      model.dispose();
      return predicted;
    };
    const whole = await predictionsOf(await restored(false));
    const slopeFree = await predictionsOf(await restored(true));
    const formWithoutSlope = await predictionsOf(await restored(false, { slope: false, transfer: false }));
    expect(Array.from(whole.c3tl)).toEqual(Array.from(whole.calibrated));
    expect(Array.from(slopeFree.calibrated)).toEqual(Array.from(whole.calibrated));
    expect(maxDifference(slopeFree.c3tl, formWithoutSlope.calibrated)).toBeLessThan(1e-6);
    expect(maxDifference(slopeFree.c3tl, whole.calibrated)).toBeGreaterThan(1e-3);
  });

  it('with one reference context nothing held out can judge training: gates closed, transfer rule kept', async () => {
    const two = restrictToContexts(tensor, tensor.contexts.slice(0, 2));
    const split = evaluationSplit(two, 0, { supportFraction: 0.2, seed: 2 });
    const model = await trainC3tl(two, split, options({ maxEpochs: 3 }));
    const { calibrated } = await model.predict(supportOf(split), split.query);
    const { additive } = predictBaselines({
      tensor: two,
      target: 0,
      support: supportOf(split),
      query: split.query,
    });
    expect(worstOffAdditive(two, 0, supportOf(split), calibrated, additive)).toBeLessThan(1e-4);
    expect(model.history).toEqual([]);
    expect(model.transfer?.epochs).toBe(0);
    model.dispose();
  });

  it('leaves no tensors behind after training, prediction and dispose', async () => {
    const split = evaluationSplit(tensor, 0, { supportFraction: 0.1, seed: 1 });
    const before = tf.memory().numTensors;
    for (const switches of [{}, { network: true }]) {
      const model = await trainC3tl(tensor, split, options({ maxEpochs: 2, switches }));
      await model.predict(supportOf(split), split.query);
      await model.transferWeights();
      await model.weights();
      model.dispose();
      expect(tf.memory().numTensors, JSON.stringify(switches)).toBe(before);
    }
  });

  it('rejects with AbortError when stopped and leaves no tensors behind', async () => {
    const split = evaluationSplit(tensor, 0, { supportFraction: 0.1, seed: 1 });
    const before = tf.memory().numTensors;
    let epochs = 0;
    const run = trainC3tl(tensor, split, options({ maxEpochs: 10, switches: { network: true } }), {
      onEpoch: () => epochs++,
      shouldStop: () => epochs >= 2,
    });
    await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(epochs).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is deterministic for a seed and depends on it', async () => {
    const split = evaluationSplit(tensor, 3, { supportFraction: 0.1, seed: 1 });
    const run = async (seed: number) => {
      const model = await trainC3tl(tensor, split, options({ seed, maxEpochs: 3 }));
      const out = (await model.predict(supportOf(split), split.query)).c3tl;
      model.dispose();
      return out;
    };
    const first = await run(7);
    expect(await run(7)).toEqual(first);
    expect(await run(8)).not.toEqual(first);
  });

  it('lowers its training loss and improves its held-out score over the additive start', async () => {
    const clean = simulate({
      contexts: 4,
      perturbations: 100,
      genes: 150,
      dispersion: 0.005,
      counts: false,
      seed: 5,
    }).tensor;
    const split = evaluationSplit(clean, 0, { supportFraction: 0.2, seed: 1 });
    const model = await trainC3tl(clean, split, options({ maxEpochs: 12, patience: 100 }));
    const losses = model.history.map((h) => h.trainLoss);
    const lastThree = losses.slice(-3).reduce((a, b) => a + b, 0) / 3;
    expect(lastThree).toBeLessThan(0.9 * losses[0]);
    expect(model.bestEpoch).toBeGreaterThan(0);
    model.dispose();
  });
});

describe('trainC3tl: cpu and wasm backends agree', () => {
  it('gives the same short training within 1e-5 of the largest prediction (measured: 1e-7)', async () => {
    const split = evaluationSplit(tensor, 1, { supportFraction: 0.1, seed: 4 });
    const run = async (backend: 'cpu' | 'wasm') => {
      expect(await tf.setBackend(backend)).toBe(true);
      const model = await trainC3tl(tensor, split, options({ maxEpochs: 3 }));
      const out = {
        predicted: (await model.predict(supportOf(split), split.query)).c3tl,
        bestEpoch: model.bestEpoch,
        losses: model.history.map((h) => h.trainLoss),
      };
      model.dispose();
      return out;
    };
    try {
      const cpu = await run('cpu');
      const wasm = await run('wasm');
      expect(wasm.bestEpoch).toBe(cpu.bestEpoch);
      let scale = 0;
      let worst = 0;
      for (let i = 0; i < cpu.predicted.length; i++) {
        scale = Math.max(scale, Math.abs(cpu.predicted[i]));
        worst = Math.max(worst, Math.abs(cpu.predicted[i] - wasm.predicted[i]));
      }
      expect(worst).toBeLessThan(1e-5 * scale);
      wasm.losses.forEach((l, i) => expect(Math.abs(l - cpu.losses[i])).toBeLessThan(1e-5 * cpu.losses[i]));
    } finally {
      await tf.setBackend('cpu');
    }
  });
});

describe('sampleEpisode', () => {
  const pool = (): EpisodePool => ({
    contexts: 3,
    perturbations: 50,
    targets: [2],
    pairs: [
      Array.from({ length: 50 }, (_, p) => p),
      Array.from({ length: 40 }, (_, p) => p + 10),
      [1, 5, 9, 13, 17, 21],
    ],
  });

  it('draws a support per context within the fraction range and scores the rest, target halves weighted', () => {
    const rng = createRng(1);
    const episodeOptions = {
      supportFractionRange: [0.1, 0.3] as [number, number],
      maxQueryPairs: 40,
      targetWeight: 0.3,
    };
    for (let draw = 0; draw < 20; draw++) {
      const e = sampleEpisode(pool(), episodeOptions, rng);
      const P = 50;
      const support = (c: number) => pool().pairs[c].filter((p) => e.supportWeights[c * P + p] > 0);
      expect(support(0).length).toBeGreaterThanOrEqual(5);
      expect(support(0).length).toBeLessThanOrEqual(15);
      expect(support(2)).toHaveLength(3);
      for (let c = 0; c < 3; c++) {
        const s = support(c);
        s.forEach((p) => expect(e.supportWeights[c * P + p]).toBeCloseTo(1 / s.length, 6));
      }
      // Queries are never support pairs, are training pairs, and at most maxQueryPairs.
      expect(e.queryPairs.length).toBeLessThanOrEqual(40);
      for (const pair of e.queryPairs) {
        expect(e.supportWeights[pair]).toBe(0);
        expect(pool().pairs[Math.floor(pair / P)]).toContain(pair % P);
      }
      const weightOf = (c: number) =>
        Array.from(e.queryPairs).reduce(
          (s, pair, i) => s + (Math.floor(pair / P) === c ? e.queryWeights[i] : 0),
          0,
        );
      expect(weightOf(2)).toBeCloseTo(0.3, 5);
      expect(weightOf(0) + weightOf(1)).toBeCloseTo(0.7, 5);
    }
  });
});

describe('principalBasis', () => {
  it('returns orthonormal columns spanning the top singular subspace', () => {
    const rng = createRng(2);
    const n = 60;
    const G = 30;
    // Rank-2 signal with very different strengths plus small noise.
    const u = Array.from({ length: 2 }, () => Float32Array.from({ length: G }, () => rng.normal()));
    orthonormaliseColumns(u[0], G, 1, rng);
    const x = new Float32Array(n * G);
    for (let r = 0; r < n; r++) {
      const a = 5 * rng.normal();
      const b = 2 * rng.normal();
      for (let g = 0; g < G; g++) x[r * G + g] = a * u[0][g] + b * u[1][g] + 0.01 * rng.normal();
    }
    const basis = principalBasis(x, n, G, 2, createRng(3), 8);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        let dot = 0;
        for (let g = 0; g < G; g++) dot += basis[g * 2 + i] * basis[g * 2 + j];
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 4);
      }
    }
    // Each signal direction lies in the span: its projection keeps (almost) all of its norm.
    for (const v of u) {
      let norm = 0;
      let kept = 0;
      for (let g = 0; g < G; g++) norm += v[g] ** 2;
      for (let j = 0; j < 2; j++) {
        let dot = 0;
        for (let g = 0; g < G; g++) dot += basis[g * 2 + j] * v[g];
        kept += dot * dot;
      }
      expect(kept / norm).toBeGreaterThan(0.999);
    }
  });
});

describe('geneStandardisation', () => {
  it('scales each gene by its RMS over the masked pairs, keeps 0 as the location and floors tiny scales', () => {
    const t: EffectTensor = {
      contexts: ['a', 'b'],
      perturbations: ['p', 'q'],
      genes: ['g1', 'g2', 'g3'],
      // pairs (a,p), (a,q), (b,p), (b,q); the last is not in the mask.
      values: Float32Array.from([3, 1, 0, 4, -1, 0, 0, 1, 0, 100, 100, 100]),
      observed: Uint8Array.from([1, 1, 1, 1]),
      replicates: Uint16Array.from([1, 1, 1, 1]),
    };
    const { mean, scale } = geneStandardisation(t, Uint8Array.from([1, 1, 1, 0]));
    expect(Array.from(mean)).toEqual([0, 0, 0]);
    expect(scale[0]).toBeCloseTo(Math.sqrt((9 + 16 + 0) / 3), 6);
    expect(scale[1]).toBeCloseTo(Math.sqrt((1 + 1 + 1) / 3), 6);
    // Gene 3 is 0 on every masked pair: floored at 1e-3 of the median scale.
    expect(scale[2]).toBeCloseTo(1e-3 * scale[1], 9);
  });
});
