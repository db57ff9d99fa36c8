import * as tf from '@tensorflow/tfjs';
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
import { DEFAULT_TRAIN_OPTIONS } from '../../../../src/core/model/train';
import {
  disposeEpisode,
  episodeTensors,
  geneBlocks,
  queryContextTensor,
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

/*
 * The fused fixed-form kernels against autodiff of episodeLoss and against forward on one step's inputs, on
 * the active backend: shared by the unit test (cpu, wasm) and tests/webgpu/fixed-form-agreement.ts.
 */

/** Every combination of the three fixed-form switches, the network off. */
export const COMBINATIONS: C3tlSwitches[] = [0, 1, 2, 3, 4, 5, 6, 7].map((bits) => ({
  ...DEFAULT_SWITCHES,
  network: false,
  denoise: (bits & 1) !== 0,
  shift: (bits & 2) !== 0,
  slope: (bits & 4) !== 0,
}));

export const switchLabel = (s: C3tlSwitches) => `denoise ${+s.denoise} shift ${+s.shift} slope ${+s.slope}`;

/** The kernels' outputs next to autodiff's and forward's. */
export interface BothWays {
  referenceLoss: number;
  fusedLoss: number;
  referenceGradient: number[][];
  fusedGradient: number[][];
  forwardPredicted: Float32Array;
  fusedPredicted: Float32Array;
}

/** A simulated screen of C = 4 contexts, 40 perturbations and `genes` genes in blocks of about `blockSize`. */
export function fixedFormFixture(genes: number, blockSize: number) {
  const C = 4;
  const P = 40;
  const G = genes;
  const tensor = simulate({ contexts: C, perturbations: P, genes: G, counts: false, seed: 11 }).tensor;
  const mask = tensor.observed.slice();
  const geneOrder = Int32Array.from({ length: G }, (_, g) => (g * 7) % G);
  const host = hostData(tensor, mask, geneStandardisation(tensor, mask), geneOrder);
  const blocks = geneBlocks(G, blockSize);
  const arch: C3tlArchitecture = { genes: G, basisRank: 4, embedDim: 8, hidden: 8 };
  const pool: EpisodePool = {
    contexts: C,
    perturbations: P,
    targets: [0],
    pairs: Array.from({ length: C }, () => Array.from({ length: P }, (_, p) => p)),
  };

  /** Gates well away from zero (every term of the fixed form active), seeded. */
  const openGates = (): Record<ParameterName, Float32Array> => {
    const values = initialParameterValues(arch, new Float32Array(G * 4), createRng(2));
    const rng = createRng(9);
    for (const name of ['denoise_gate', 'shift_gate', 'slope_gate'] as const)
      values[name] = Float32Array.from({ length: G }, () => 0.04 * (rng.next() - 0.5));
    values.slope_shrink = Float32Array.from({ length: G }, () => 3 * (rng.next() - 0.5));
    return values;
  };

  /** Autodiff of episodeLoss, forward and the fused kernels on the same step inputs of block b. */
  const bothWays = async (switches: C3tlSwitches, b: number, seed: number): Promise<BothWays> => {
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
    const loss = () =>
      episodeLoss(params, undefined, episode, inputs, queryObserved, queryWeights2d, options);
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
      queryContexts: queryContextTensor(host, sampled.queryPairs),
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
  };
  return { blocks, bothWays };
}

/** Largest difference of each gate row, relative to the row's largest autodiff entry. */
export function rowErrors(reference: number[][], fused: number[][]): number[] {
  return reference.map((row, r) => {
    const scale = Math.max(...row.map(Math.abs));
    const worst = Math.max(...row.map((v, g) => Math.abs(v - fused[r][g])));
    return scale > 0 ? worst / scale : worst;
  });
}

/** Relative disagreements: the loss, each gate row's gradient, the predictions (largest entry as scale). */
export function disagreement(out: BothWays): { loss: number; gradient: number[]; predictions: number } {
  const largest = Math.max(...Array.from(out.forwardPredicted, Math.abs));
  const worst = Math.max(...Array.from(out.forwardPredicted, (v, i) => Math.abs(v - out.fusedPredicted[i])));
  return {
    loss: Math.abs(out.fusedLoss - out.referenceLoss) / out.referenceLoss,
    gradient: rowErrors(out.referenceGradient, out.fusedGradient),
    predictions: worst / largest,
  };
}
