import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  TRANSFER_PARAMETER_NAMES,
  createTransferParameters,
  meanSquaredError,
  scaleTransferGain,
  transferInputs,
  transferWeightValues,
  type TransferInputs,
} from '../../../../src/core/model/transfer';
import { buildEpisode, featureGenes, type TransferSource } from '../../../../src/core/model/transfer-data';
import {
  disposeProfiles,
  episodeInputs,
  residentProfiles,
} from '../../../../src/core/model/transfer-resident';
import { createRng } from '../../../../src/core/random';
import { simulate } from '../../../../src/core/simulate/simulator';

const C = 4;
const P = 30;
const G = 24;
const { tensor } = simulate({ contexts: C, perturbations: P, genes: G, counts: false, seed: 8 });
const mask = tensor.observed.slice();
// Some unreadable pairs, so profiles hold zero rows and fewer references in the means.
for (const pair of [3, 31, 65, 100]) mask[pair] = 0;
const source: TransferSource = {
  tensor,
  mask,
  scale: new Float32Array(G).fill(0.5),
  features: featureGenes(tensor, mask, 16),
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('packed transfer weights', () => {
  it('give back each weight as created and scale only the gain', async () => {
    const rng = createRng(3);
    const values = Object.fromEntries(
      TRANSFER_PARAMETER_NAMES.map((name) => {
        const size = { devWeight: 16, meanWeight: 16, gain: G, logits: 3, context: 1 }[name];
        return [name, Float32Array.from({ length: size }, () => rng.next())];
      }),
    ) as Record<(typeof TRANSFER_PARAMETER_NAMES)[number], Float32Array>;
    const params = createTransferParameters(16, G, values);
    expect(params.packed.shape).toEqual([2 * 16 + G + 4]);
    expect(await transferWeightValues(params)).toEqual(values);
    scaleTransferGain(params, 0.5);
    const scaled = await transferWeightValues(params);
    expect(scaled.gain).toEqual(values.gain.map((v) => v * 0.5));
    for (const name of ['devWeight', 'meanWeight', 'logits', 'context'] as const)
      expect(scaled[name]).toEqual(values[name]);
    params.packed.dispose();
  });
});

describe('resident profiles', () => {
  it('gather exactly the rows an episode uploads, and are not made over budget', async () => {
    const before = tf.memory().numTensors;
    const contexts = [1, 3];
    const tables = residentProfiles(source, contexts);
    expect([...tables!.keys()]).toEqual(contexts);
    for (const context of contexts) {
      const support = [2, 5, 9];
      const queries = [0, 7, 11, 29, 3];
      const full = buildEpisode(source, context, support, queries);
      const lean = buildEpisode(source, context, support, queries, { profiles: false });
      expect(lean.devQuery).toHaveLength(0);
      expect(lean.residual).toEqual(full.residual);
      expect(lean.additive).toEqual(full.additive);
      const uploaded = transferInputs(full, 16);
      const gathered = episodeInputs(lean, 16, tables);
      for (const key of Object.keys(uploaded) as (keyof TransferInputs)[])
        expect(gathered[key]?.arraySync(), key).toEqual(uploaded[key]?.arraySync());
      tf.dispose([...Object.values(uploaded), ...Object.values(gathered)]);
    }
    disposeProfiles(tables);
    expect(residentProfiles(source, contexts, 2 * P * C * 16 * 4 - 1)).toBeUndefined();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('meanSquaredError', () => {
  it('has the value and gradient of tf.mean(tf.squaredDifference), bit for bit', () => {
    const rng = createRng(5);
    const random = () =>
      tf.tensor2d(
        Float32Array.from({ length: 7 * 13 }, () => rng.next() - 0.5),
        [7, 13],
      );
    const [x, target, w] = [random(), random(), random()];
    const f = (loss: (p: tf.Tensor2D) => tf.Scalar) =>
      tf.valueAndGrad((v: tf.Tensor) => loss(tf.mul(v, w)))(x);
    const ours = f((p) => meanSquaredError(p, target));
    const theirs = f((p) => tf.mean(tf.squaredDifference(p, target)) as tf.Scalar);
    expect(ours.value.dataSync()).toEqual(theirs.value.dataSync());
    expect(ours.grad.dataSync()).toEqual(theirs.grad.dataSync());
    tf.dispose([x, target, w, ours.value, ours.grad, theirs.value, theirs.grad]);
  });
});
