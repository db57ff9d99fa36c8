import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTransferParameters,
  disposeTransferInputs,
  meanSquaredError,
  transferForward,
  transferInputs,
  type TransferSwitches,
} from '../../../../src/core/model/transfer';
import { transferLossAndGradients, transferPredictions } from '../../../../src/core/model/transfer-kernel';
import { buildEpisode, featureGenes, type TransferSource } from '../../../../src/core/model/transfer-data';
import { withSupportRules } from '../../../../src/core/model/transfer-support';
import { DEFAULT_TRANSFER_OPTIONS, trainTransfer } from '../../../../src/core/model/transfer-train';
import { evaluationSplit } from '../../../../src/core/eval/split';
import { createRng } from '../../../../src/core/random';
import { simulate } from '../../../../src/core/simulate/simulator';

const C = 4;
const P = 30;
const G = 24;
const F = 12;
const { tensor } = simulate({ contexts: C, perturbations: P, genes: G, counts: false, seed: 11 });
const mask = tensor.observed.slice();
// Unreadable pairs, so some profiles hold zero rows.
for (const pair of [4, 33, 70]) mask[pair] = 0;
const source: TransferSource = {
  tensor,
  mask,
  scale: new Float32Array(G).fill(0.5),
  features: featureGenes(tensor, mask, F),
};

/** Every combination of the four switches. */
const COMBINATIONS: TransferSwitches[] = Array.from({ length: 16 }, (_, i) => ({
  deviations: (i & 1) !== 0,
  context: (i & 2) !== 0,
  mix: (i & 4) !== 0,
  linear: (i & 8) !== 0,
}));
const label = (s: TransferSwitches) =>
  (['deviations', 'context', 'mix', 'linear'] as const).map((k) => (s[k] ? k : `no-${k}`)).join(' ');

/** Gradient blocks of the packed variable, [start, end), and their names. */
const BLOCKS = [
  ['devWeight', 0, F],
  ['meanWeight', F, 2 * F],
  ['gain', 2 * F, 2 * F + G],
  ['logits', 2 * F + G, 2 * F + G + 3],
  ['context', 2 * F + G + 3, 2 * F + G + 4],
] as const;

/** Largest |ours - theirs| over a block, relative to the block's largest |theirs| (0 when both are zero). */
function relativeError(ours: Float32Array, theirs: Float32Array): number {
  let worst = 0;
  let scale = 0;
  theirs.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(ours[i] - v));
    scale = Math.max(scale, Math.abs(v));
  });
  return scale === 0 ? worst : worst / scale;
}

/**
 * Random weights away from the initial rule (so every term has a gradient), an episode of `supportSize`
 * support pairs in context 2 with the switches' support rules and random support residuals, and a random
 * target: the fused kernels' loss,
 * gradient and predictions next to autodiff's and transferForward's.
 */
function bothWays(switches: TransferSwitches, supportSize: number, seed: number) {
  const rng = createRng(seed);
  const around = (size: number, centre: number, spread: number) =>
    Float32Array.from({ length: size }, () => centre + spread * (rng.next() - 0.5));
  const params = createTransferParameters(F, G, {
    devWeight: around(F, 1, 1),
    meanWeight: around(F, 1, 1),
    gain: around(G, 1, 1),
    // The sink open: with one support pair and the sink shut, its share is 1 - 1e-7 and autodiff's float32
    // softmax gradient is mostly rounding (measured: 3e-4 relative on devWeight).
    logits: Float32Array.of(Math.log(10) + rng.next() - 0.5, Math.log(5) + rng.next() - 0.5, 4),
    context: Float32Array.of(0.8),
  });
  const order = Array.from({ length: P }, (_, p) => p).filter((p) => mask[2 * P + p]);
  const support = order.slice(0, supportSize);
  const queries = order.slice(supportSize, supportSize + 9);
  const episode = withSupportRules(source, buildEpisode(source, 2, support, queries), switches);
  // A lone support pair's residual is zero (its own mean); random residuals give every weight a gradient.
  episode.residual = around(supportSize * G, 0, 2);
  const inputs = transferInputs(episode, F);
  const target = tf.tensor2d(around(queries.length * G, 0, 2), [queries.length, G]);
  const theirs = tf.variableGrads(
    () => meanSquaredError(transferForward(params, switches, inputs), target),
    [params.packed],
  );
  const ours = transferLossAndGradients(params, switches, inputs, target);
  const theirPredictions = tf.tidy(() => transferForward(params, switches, inputs));
  const ourPredictions = transferPredictions(params, switches, inputs);
  const read = (t: tf.Tensor) => t.dataSync() as Float32Array;
  const out = {
    loss: [read(ours.loss)[0], read(theirs.value)[0]],
    gradient: [read(ours.gradient), read(theirs.grads[params.packed.name])],
    predictions: [read(ourPredictions), read(theirPredictions)],
  };
  tf.dispose([ours.loss, ours.gradient, theirs.value, ...Object.values(theirs.grads)]);
  tf.dispose([ourPredictions, theirPredictions, target, params.packed]);
  disposeTransferInputs(inputs);
  return out;
}

describe.each(['cpu', 'wasm'])('the fused transfer kernels on %s', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each(COMBINATIONS.map((s) => [label(s), s] as const))(
    "give meanSquaredError of transferForward, its autodiff gradient and transferForward's predictions within 1e-5 relative (measured: 3.2e-6), leaking nothing: %s",
    (_, switches) => {
      const before = tf.memory().numTensors;
      // S = 1: the context representation is off whatever its switch says; S = 2 and 5: on when asked.
      for (const [supportSize, seed] of [
        [1, 3],
        [2, 5],
        [5, 8],
      ]) {
        const out = bothWays(switches, supportSize, seed);
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
