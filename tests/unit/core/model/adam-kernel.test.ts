import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { ADAM_KERNEL, FusedAdam, stepOptimizer } from '../../../../src/core/model/adam-kernel';
import { adamTrajectory as trajectory } from './adam-fixture';

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
