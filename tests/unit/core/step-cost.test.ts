import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BOOKKEEPING_KERNELS, countKernels, meterWork } from '../../../src/core/step-cost';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('countKernels', () => {
  it('counts every kernel but Reshape, Identity and Cast', () => {
    expect([...BOOKKEEPING_KERNELS].sort()).toEqual(['Cast', 'Identity', 'Reshape']);
    expect(countKernels(['Reshape', 'MatMul', 'Identity', 'Cast', 'Add', 'Reshape'])).toBe(2);
    expect(countKernels([])).toBe(0);
  });
});

describe('meterWork', () => {
  it('counts the kernels and bytes of a known small graph between two marks', async () => {
    const engine = tf.engine();
    const methods = [engine.makeTensor, engine.read, engine.readSync];
    const before = tf.memory().numTensors;
    const { result, between } = await meterWork(async (mark) => {
      // Outside the marks: not counted.
      tf.tensor1d([9, 9]).dispose();
      const start = mark();
      const a = tf.tensor1d([1, 2, 3, 4]); // 16 bytes up
      const b = tf.tensor1d([1, 2, 3, 4], 'int32'); // 16 bytes up
      // Reshape x2, Cast, Identity (clone): bookkeeping; Add and Multiply: 2 kernels; the scalar 2: 4 bytes up.
      const out = tf.tidy(() =>
        tf.mul(tf.add(tf.reshape(a, [2, 2]), tf.reshape(tf.cast(b, 'float32'), [2, 2])), 2).clone(),
      );
      const values = await out.data(); // 16 bytes down
      out.dataSync(); // 16 bytes down
      const end = mark();
      tf.dispose([a, b, out]);
      return { start, end, values: Array.from(values) };
    });
    expect(result.values).toEqual([4, 8, 12, 16]);
    expect(between(result.start, result.end)).toEqual({ kernels: 2, uploadBytes: 36, downloadBytes: 32 });
    expect(tf.memory().numTensors).toBe(before);
    // Profiling is off and the engine's own methods are back.
    expect(engine.state.profiling).toBe(false);
    expect([engine.makeTensor, engine.read, engine.readSync]).toEqual(methods);
  });

  it('rethrows the work’s error with profiling switched off', async () => {
    await expect(
      meterWork(async () => {
        throw new Error('broken work');
      }),
    ).rejects.toThrow('broken work');
    expect(tf.engine().state.profiling).toBe(false);
  });
});
