import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluationSplit } from '../../../../src/core/eval/split';
import type { C3tlArchitecture, C3tlSwitches, ParameterName } from '../../../../src/core/model/c3tl';
import {
  createParameters,
  disposeParameters,
  episodeLoss,
  forward,
  initialParameterValues,
} from '../../../../src/core/model/c3tl';
import { sampleEpisode, type EpisodePool } from '../../../../src/core/model/episodes';
import {
  fixedFormLossAndGradients,
  fixedFormPredictions,
} from '../../../../src/core/model/fixed-form-kernel';
import { geneStandardisation } from '../../../../src/core/model/standardise';
import { DEFAULT_TRAIN_OPTIONS, trainC3tl } from '../../../../src/core/model/train';
import {
  disposeEpisode,
  episodeTensors,
  geneBlocks,
  supportPairsOf,
} from '../../../../src/core/model/train-episodes';
import {
  blockGeneWeights,
  blockInputs,
  disposeInputs,
  hostData,
  queryRowTable,
  supportMomentTable,
} from '../../../../src/core/model/train-host';
import { DEFAULT_SWITCHES } from '../../../../src/core/model/train-options';
import { createRng } from '../../../../src/core/random';
import { simulate } from '../../../../src/core/simulate/simulator';

const C = 4;
const P = 40;
const G = 60;
const tensor = simulate({ contexts: C, perturbations: P, genes: G, counts: false, seed: 11 }).tensor;
const mask = tensor.observed.slice();
const geneOrder = Int32Array.from({ length: G }, (_, g) => (g * 7) % G);
const host = hostData(tensor, mask, geneStandardisation(tensor, mask), geneOrder);
const blocks = geneBlocks(G, 25);
const arch: C3tlArchitecture = { genes: G, basisRank: 4, embedDim: 8, hidden: 8 };
const pool: EpisodePool = {
  contexts: C,
  perturbations: P,
  targets: [0],
  pairs: Array.from({ length: C }, () => Array.from({ length: P }, (_, p) => p)),
};

/** Gates well away from zero (every term of the fixed form active), seeded. */
function openGates(): Record<ParameterName, Float32Array> {
  const values = initialParameterValues(arch, new Float32Array(G * 4), createRng(2));
  const rng = createRng(9);
  for (const name of ['denoise_gate', 'shift_gate', 'slope_gate'] as const)
    values[name] = Float32Array.from({ length: G }, () => 0.04 * (rng.next() - 0.5));
  values.slope_shrink = Float32Array.from({ length: G }, () => 3 * (rng.next() - 0.5));
  return values;
}

/** Every combination of the three fixed-form switches, the network off. */
const COMBINATIONS: C3tlSwitches[] = [0, 1, 2, 3, 4, 5, 6, 7].map((bits) => ({
  ...DEFAULT_SWITCHES,
  network: false,
  denoise: (bits & 1) !== 0,
  shift: (bits & 2) !== 0,
  slope: (bits & 4) !== 0,
}));

/** Autodiff of episodeLoss and the fused kernel on the same step inputs of block b. */
async function bothWays(switches: C3tlSwitches, b: number, seed: number) {
  const params = createParameters(arch, openGates(), blocks);
  const weights = blockGeneWeights(host, blocks);
  const sampled = sampleEpisode(pool, DEFAULT_TRAIN_OPTIONS.episodes, createRng(seed));
  const support = { weights: sampled.supportWeights, pairs: supportPairsOf(sampled.supportWeights) };
  const Q = sampled.queryPairs.length;
  const block = blocks[b];
  const episode = episodeTensors(host, support, sampled.queryPairs, false);
  const { inputs, queryObserved } = blockInputs(host, support, sampled.queryPairs, block, weights[b]);
  const queryWeights2d = tf.tensor2d(sampled.queryWeights, [Q, 1]);
  const gates = params.blocks[b].gates;
  const options = { block: b, switches };
  const loss = () => episodeLoss(params, undefined, episode, inputs, queryObserved, queryWeights2d, options);
  // With every switch off the loss does not depend on the gates: autodiff refuses, the gradient is zero.
  const reference =
    switches.denoise || switches.shift || switches.slope
      ? tf.variableGrads(loss, [gates])
      : { value: tf.tidy(loss), grads: { [gates.name]: tf.zerosLike(gates) } };
  const fusedInputs = {
    gates: gates as tf.Tensor as tf.Tensor2D,
    gateScale: params.gateScale,
    moments: tf.tensor2d(supportMomentTable(host, support, block), [8 * C, block.size]),
    rows: tf.tensor2d(queryRowTable(host, sampled.queryPairs, block), [3 * Q, block.size]),
    queryContexts: tf.tensor1d(
      Int32Array.from(sampled.queryPairs, (pair) => Math.floor(pair / P)),
      'int32',
    ),
    queryWeights: tf.tensor1d(sampled.queryWeights),
    geneWeights: weights[b],
  };
  const fused = fixedFormLossAndGradients(fusedInputs, switches);
  const forwardPredicted = tf.tidy(() => forward(params, undefined, episode, inputs, options));
  const fusedPredicted = fixedFormPredictions(fusedInputs, switches);
  const out = {
    forwardPredicted: (await forwardPredicted.data()) as Float32Array,
    fusedPredicted: (await fusedPredicted.data()) as Float32Array,
    referenceLoss: (await reference.value.data())[0],
    referenceGradient: (await reference.grads[gates.name].array()) as number[][],
    fusedLoss: (await fused.loss.data())[0],
    fusedGradient: (await fused.gradient.array()) as number[][],
  };
  tf.dispose([reference.value, ...Object.values(reference.grads), fused.loss, fused.gradient]);
  tf.dispose([forwardPredicted, fusedPredicted]);
  tf.dispose([queryWeights2d, queryObserved, fusedInputs.moments, fusedInputs.rows]);
  tf.dispose([fusedInputs.queryContexts, fusedInputs.queryWeights, ...weights]);
  disposeInputs(inputs);
  disposeEpisode(episode);
  disposeParameters(params);
  return out;
}

/** Largest difference of each gate row, relative to the row's largest autodiff entry. */
function rowErrors(reference: number[][], fused: number[][]): number[] {
  return reference.map((row, r) => {
    const scale = Math.max(...row.map(Math.abs));
    const worst = Math.max(...row.map((v, g) => Math.abs(v - fused[r][g])));
    return scale > 0 ? worst / scale : worst;
  });
}

describe.each(['cpu', 'wasm'])('the fused fixed-form kernel on %s', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each(COMBINATIONS.map((s) => [`denoise ${+s.denoise} shift ${+s.shift} slope ${+s.slope}`, s] as const))(
    "gives episodeLoss, its autodiff gradient and forward's predictions within 1e-5 relative (measured: 4e-7), leaking nothing: %s",
    async (_, switches) => {
      const before = tf.memory().numTensors;
      for (const [b, seed] of [
        [0, 3],
        [2, 8],
      ]) {
        const out = await bothWays(switches, b, seed);
        expect(Math.abs(out.fusedLoss - out.referenceLoss)).toBeLessThan(1e-5 * out.referenceLoss);
        for (const [r, error] of rowErrors(out.referenceGradient, out.fusedGradient).entries()) {
          expect(error, `gate row ${r}`).toBeLessThan(1e-5);
        }
        const largest = Math.max(...Array.from(out.forwardPredicted, Math.abs));
        const worst = Math.max(
          ...Array.from(out.forwardPredicted, (v, i) => Math.abs(v - out.fusedPredicted[i])),
        );
        expect(worst).toBeLessThan(1e-5 * largest);
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
