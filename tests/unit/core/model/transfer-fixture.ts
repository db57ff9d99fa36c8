import * as tf from '@tensorflow/tfjs';
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
import { createRng } from '../../../../src/core/random';
import { simulate } from '../../../../src/core/simulate/simulator';

/*
 * The fused transfer kernels against autodiff of meanSquaredError(transferForward) and against
 * transferForward on one episode, on the active backend: shared by the unit test (cpu, wasm) and
 * tests/webgpu/transfer-agreement.ts.
 */

/** Every combination of the four switches. */
export const TRANSFER_COMBINATIONS: TransferSwitches[] = Array.from({ length: 16 }, (_, i) => ({
  deviations: (i & 1) !== 0,
  context: (i & 2) !== 0,
  mix: (i & 4) !== 0,
  linear: (i & 8) !== 0,
}));

export const transferLabel = (s: TransferSwitches) =>
  (['deviations', 'context', 'mix', 'linear'] as const).map((k) => (s[k] ? k : `no-${k}`)).join(' ');

/** Largest |ours - theirs|, relative to the largest |theirs| (the absolute error when theirs is all zero). */
export function relativeError(ours: Float32Array, theirs: Float32Array): number {
  let worst = 0;
  let scale = 0;
  theirs.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(ours[i] - v));
    scale = Math.max(scale, Math.abs(v));
  });
  return scale === 0 ? worst : worst / scale;
}

/** An episode source of P perturbations in 4 contexts, G genes, F feature genes, with unreadable pairs. */
export function transferFixture(P: number, G: number, F: number) {
  const { tensor } = simulate({ contexts: 4, perturbations: P, genes: G, counts: false, seed: 11 });
  const mask = tensor.observed.slice();
  // Unreadable pairs, so some profiles hold zero rows.
  for (const pair of [4, P + 3, 2 * P + 10]) mask[pair] = 0;
  const source: TransferSource = {
    tensor,
    mask,
    scale: new Float32Array(G).fill(0.5),
    features: featureGenes(tensor, mask, F),
  };
  /** Gradient blocks of the packed variable, [start, end), by name. */
  const blocks = [
    ['devWeight', 0, F],
    ['meanWeight', F, 2 * F],
    ['gain', 2 * F, 2 * F + G],
    ['logits', 2 * F + G, 2 * F + G + 3],
    ['context', 2 * F + G + 3, 2 * F + G + 4],
  ] as const;
  /**
   * Random weights away from the initial rule (so every term has a gradient), an episode of `supportSize`
   * support pairs in context 2 with the switches' support rules and random support residuals, and a random
   * target: the fused kernels' loss, gradient and predictions next to autodiff's and transferForward's.
   */
  async function bothWays(switches: TransferSwitches, supportSize: number, seed: number, queryCount = 9) {
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
    const queries = order.slice(supportSize, supportSize + queryCount);
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
    const read = async (t: tf.Tensor) => (await t.data()) as Float32Array;
    const out = {
      loss: [(await read(ours.loss))[0], (await read(theirs.value))[0]],
      gradient: [await read(ours.gradient), await read(theirs.grads[params.packed.name])],
      predictions: [await read(ourPredictions), await read(theirPredictions)],
    };
    tf.dispose([ours.loss, ours.gradient, theirs.value, ...Object.values(theirs.grads)]);
    tf.dispose([ourPredictions, theirPredictions, target, params.packed]);
    disposeTransferInputs(inputs);
    return out;
  }
  return { bothWays, blocks };
}
