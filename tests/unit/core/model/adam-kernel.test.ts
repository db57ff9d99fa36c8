import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { ADAM_KERNEL, FusedAdam, stepOptimizer } from '../../../../src/core/model/adam-kernel';
import { createRng } from '../../../../src/core/random';

/** Seeded values of n float32s spread over [-scale, scale). */
function seeded(n: number, seed: number, scale: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => scale * 2 * (rng.next() - 0.5));
}

/**
 * Two variables ([4, 37] and [9]) updated together by `optimizer` over `steps` steps of seeded gradients
 * (some steps update only the first, so the beta powers must advance per call, not per variable); their
 * values after each step, flattened.
 */
async function trajectory(
  optimizer: { applyGradients(g: { name: string; tensor: tf.Tensor }[]): void; dispose(): void },
  tag: string,
  steps: number,
): Promise<number[][]> {
  const [a, b] = tf.tidy(() => [
    tf.variable(tf.tensor2d(seeded(148, 1, 1), [4, 37]), true, `adam-a-${tag}`),
    tf.variable(tf.tensor1d(seeded(9, 2, 3)), true, `adam-b-${tag}`),
  ]);
  const values: number[][] = [];
  for (let step = 0; step < steps; step++) {
    // Gradients from 1e-4 to 1e2 in size: the moments' and the corrections' roundings both show.
    const ga = tf.tensor2d(seeded(148, 10 + step, 10 ** ((step % 7) - 4)), [4, 37]);
    const gb = tf.tensor1d(seeded(9, 50 + step, 1));
    const list = [{ name: a.name, tensor: ga as tf.Tensor }];
    if (step % 3 !== 1) list.push({ name: b.name, tensor: gb });
    optimizer.applyGradients(list);
    values.push([...(await a.data()), ...(await b.data())]);
    tf.dispose([ga, gb]);
  }
  optimizer.dispose();
  tf.dispose([a, b]);
  return values;
}

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(['cpu', 'wasm'])('FusedAdam on %s', (backend) => {
  it('gives tf.train.adam’s values exactly (float32, every step of 8), in one kernel per variable, leaking nothing', async () => {
    expect(await tf.setBackend(backend)).toBe(true);
    const before = tf.memory().numTensors;
    const reference = await trajectory(tf.train.adam(0.01), `ref-${backend}`, 8);
    const fused = await trajectory(new FusedAdam(0.01), `fused-${backend}`, 8);
    expect(tf.memory().numTensors).toBe(before);
    fused.forEach((values, step) => expect(values, `step ${step}`).toEqual(reference[step]));
    // 8 steps: 13 variable updates, each one kernel (the moments' zeros are made once per variable).
    const profile = await tf.profile(() => trajectory(new FusedAdam(0.01), `profiled-${backend}`, 8));
    expect(profile.kernels.filter((k) => k.name === ADAM_KERNEL)).toHaveLength(8 + 5);
    // The variables moved: the test compares trajectories, not two unchanged starts.
    expect(reference[7]).not.toEqual(reference[0]);
  });

  it('is what stepOptimizer gives when fused, and tf.train.adam when not', () => {
    const fused = stepOptimizer(0.01, true);
    const plain = stepOptimizer(0.01, false);
    expect(fused).toBeInstanceOf(FusedAdam);
    expect(plain).toBeInstanceOf(tf.AdamOptimizer);
    fused.dispose();
    plain.dispose();
  });
});
