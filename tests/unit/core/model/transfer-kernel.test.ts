import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluationSplit } from '../../../../src/core/eval/split';
import { DEFAULT_TRANSFER_OPTIONS, trainTransfer } from '../../../../src/core/model/transfer-train';
import { simulate } from '../../../../src/core/simulate/simulator';
import {
  relativeError,
  TRANSFER_COMBINATIONS as COMBINATIONS,
  transferFixture,
  transferLabel as label,
} from './transfer-fixture';

const { bothWays, blocks: BLOCKS } = transferFixture(30, 24, 12);

describe.each(['cpu', 'wasm'])('the fused transfer kernels on %s', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each(COMBINATIONS.map((s) => [label(s), s] as const))(
    "give meanSquaredError of transferForward, its autodiff gradient and transferForward's predictions within 1e-5 relative (measured: 3.2e-6), leaking nothing: %s",
    async (_, switches) => {
      const before = tf.memory().numTensors;
      // S = 1: the context representation is off whatever its switch says; S = 2 and 5: on when asked.
      for (const [supportSize, seed] of [
        [1, 3],
        [2, 5],
        [5, 8],
      ]) {
        const out = await bothWays(switches, supportSize, seed);
        const at = `S = ${supportSize}`;
        expect(Math.abs(out.loss[0] - out.loss[1]) / out.loss[1], `loss, ${at}`).toBeLessThan(1e-5);
        expect(relativeError(out.predictions[0], out.predictions[1]), `predictions, ${at}`).toBeLessThan(
          1e-5,
        );
        for (const [name, start, end] of BLOCKS) {
          const [ours, theirs] = out.gradient.map((g) => g.subarray(start, end));
          expect(relativeError(ours, theirs), `${name}, ${at}`).toBeLessThan(1e-5);
          // A weight that takes no part (deviations off; the context without the switch or with S < 2) has
          // exactly zero gradient, as autodiff gives; the others have some.
          const idle =
            (name === 'devWeight' && !switches.deviations) ||
            (name === 'context' && (!switches.context || supportSize < 2));
          if (idle)
            expect(
              ours.every((v) => v === 0),
              `${name}, ${at}`,
            ).toBe(true);
          else
            expect(
              ours.some((v) => v !== 0),
              `${name}, ${at}`,
            ).toBe(true);
        }
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});

describe('a short transfer training with the fused step', () => {
  it('gives the weights, held-out scores and predictions of the autodiff step within 1e-5 (measured: 5e-7; cpu and wasm), leaking nothing', async () => {
    const screen = simulate({ contexts: 5, perturbations: 40, genes: 50, counts: false, seed: 6 });
    const split = evaluationSplit(screen.tensor, 0, { supportFraction: 0.2, seed: 2 });
    const scale = new Float32Array(50).fill(0.7);
    const holdout = { context: 1, support: [0, 1, 2, 3, 4, 5], queries: [20, 21, 22, 23, 24, 25, 26, 27] };
    const run = async (backend: string, fusedStep: boolean) => {
      expect(await tf.setBackend(backend)).toBe(true);
      const before = tf.memory().numTensors;
      const trained = await trainTransfer(screen.tensor, split, scale, {
        ...DEFAULT_TRANSFER_OPTIONS,
        seed: 9,
        maxEpochs: 4,
        patience: 100,
        featureGenes: 16,
        holdout,
        fusedStep,
      });
      const support = [...split.supportTrain, ...split.supportVal];
      const residual = Float32Array.from({ length: support.length * 50 }, (_, i) => Math.sin(i));
      const out = {
        weights: await trained.weights(),
        scores: trained.scores,
        scale: trained.scale,
        bestEpoch: trained.bestEpoch,
        predicted: (await trained.transfer(support, split.query, residual)).deviations,
      };
      trained.dispose();
      expect(tf.memory().numTensors).toBe(before);
      return out;
    };
    try {
      for (const backend of ['cpu', 'wasm']) {
        const fused = await run(backend, true);
        const autodiff = await run(backend, false);
        expect([fused.scale, fused.bestEpoch]).toEqual([autodiff.scale, autodiff.bestEpoch]);
        fused.scores.forEach((s, i) =>
          expect(Math.abs(s - autodiff.scores[i]), `score ${i}`).toBeLessThan(1e-5),
        );
        for (const [name, values] of Object.entries(fused.weights)) {
          const theirs = autodiff.weights[name as keyof typeof fused.weights];
          expect(relativeError(values, theirs), `${backend} ${name}`).toBeLessThan(1e-5);
        }
        expect(relativeError(fused.predicted, autodiff.predicted), backend).toBeLessThan(1e-5);
        // The path trained and kept a trained epoch: the gain and the context weight moved off their start.
        expect(fused.bestEpoch).toBeGreaterThan(0);
        expect(fused.weights.gain.some((v) => Math.abs(v - 1) > 1e-3)).toBe(true);
        expect(Math.abs(fused.weights.context[0])).toBeGreaterThan(1e-3);
      }
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
