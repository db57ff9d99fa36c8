import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluationSplit } from '../../../../src/core/eval/split';
import { DEFAULT_TRAIN_OPTIONS, trainC3tl } from '../../../../src/core/model/train';
import { simulate } from '../../../../src/core/simulate/simulator';
import { COMBINATIONS, disagreement, fixedFormFixture, switchLabel } from './fixed-form-fixture';

const { bothWays } = fixedFormFixture(60, 25);

describe.each(['cpu', 'wasm'])('the fused fixed-form kernel on %s', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each(COMBINATIONS.map((s) => [switchLabel(s), s] as const))(
    "gives episodeLoss, its autodiff gradient and forward's predictions within 1e-5 relative (measured: 4e-7), leaking nothing: %s",
    async (_, switches) => {
      const before = tf.memory().numTensors;
      for (const [b, seed] of [
        [0, 3],
        [2, 8],
      ]) {
        const out = await bothWays(switches, b, seed);
        const error = disagreement(out);
        expect(error.loss).toBeLessThan(1e-5);
        error.gradient.forEach((e, r) => expect(e, `gate row ${r}`).toBeLessThan(1e-5));
        expect(error.predictions).toBeLessThan(1e-5);
        // A switch that is off leaves its rows' gradient at exactly zero, as autodiff does.
        const on = [switches.denoise, switches.shift, switches.slope, switches.slope];
        on.forEach((isOn, r) => {
          if (!isOn) expect(out.fusedGradient[r].every((v) => v === 0)).toBe(true);
          else expect(out.fusedGradient[r].some((v) => v !== 0)).toBe(true);
        });
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});

describe('a short training with the fused step', () => {
  it('gives the weights, losses, held-out losses and predictions of the autodiff step within 1e-5 (measured: 5e-7; cpu and wasm)', async () => {
    const screen = simulate({
      contexts: 4,
      perturbations: 80,
      genes: 120,
      counts: false,
      dispersion: 0.02,
      seed: 3,
    });
    const split = evaluationSplit(screen.tensor, 1, { supportFraction: 0.1, seed: 4 });
    const run = async (backend: string, fusedStep: boolean) => {
      expect(await tf.setBackend(backend)).toBe(true);
      const before = tf.memory().numTensors;
      const model = await trainC3tl(screen.tensor, split, {
        ...DEFAULT_TRAIN_OPTIONS,
        preset: 'small',
        seed: 7,
        maxEpochs: 4,
        patience: 100,
        genesPerStep: 50,
        fusedStep,
        switches: { transfer: false },
      });
      const out = {
        weights: await model.weights(),
        losses: model.history.map((h) => h.trainLoss),
        heldOut: model.history.map((h) => h.valLoss),
        predicted: (await model.predict([...split.supportTrain, ...split.supportVal], split.query)).c3tl,
        bestEpoch: model.bestEpoch,
      };
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
      return out;
    };
    try {
      for (const backend of ['cpu', 'wasm']) {
        const reference = await run(backend, false);
        const fused = await run(backend, true);
        expect(fused.bestEpoch).toBe(reference.bestEpoch);
        fused.losses.forEach((l, i) =>
          expect(Math.abs(l - reference.losses[i])).toBeLessThan(1e-5 * reference.losses[i]),
        );
        fused.heldOut.forEach((l, i) =>
          expect(Math.abs(l - reference.heldOut[i])).toBeLessThan(1e-5 * reference.heldOut[i]),
        );
        const largest = Math.max(...Array.from(reference.predicted, Math.abs));
        const worstPrediction = Math.max(
          ...Array.from(reference.predicted, (v, i) => Math.abs(v - fused.predicted[i])),
        );
        expect(worstPrediction).toBeLessThan(1e-5 * largest);
        for (const name of ['denoise_gate', 'shift_gate', 'slope_gate', 'slope_shrink'] as const) {
          const a = reference.weights[name];
          const b = fused.weights[name];
          const worst = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
          const scale = Math.max(...Array.from(a, Math.abs));
          expect(worst, name).toBeLessThan(1e-5 * scale);
          // The training moved the gates, so the comparison is not of two untouched starts.
          expect(scale, name).toBeGreaterThan(0);
        }
      }
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
