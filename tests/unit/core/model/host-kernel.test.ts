import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wasmProduct } from '../../../../src/core/model/host-kernel';
import { hostProduct } from '../../../../src/core/model/transfer-maths';
import { createRng } from '../../../../src/core/random';

describe("the wasm backend's product inside kernels", () => {
  beforeAll(async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  // Odd, unequal sizes so that a transposition done the wrong way round fails on shape or values.
  it.each([
    ['a b', false, false],
    ['a b^T', false, true],
    ['a^T b', true, false],
  ] as const)(
    "gives the plain loops' %s within 1e-5 relative, and frees its heap",
    (_, transposeA, transposeB) => {
      const [m, k, n] = [7, 13, 5];
      const rng = createRng(3);
      const a = Float32Array.from({ length: m * k }, () => rng.normal());
      const b = Float32Array.from({ length: k * n }, () => rng.normal());
      const product = wasmProduct(tf.backend());
      const before = tf.backend().numDataIds();
      const got = product(a, b, m, k, n, transposeA, transposeB);
      expect(tf.backend().numDataIds()).toBe(before);
      const want = hostProduct(a, b, m, k, n, transposeA, transposeB);
      expect(got).toHaveLength(m * n);
      const size = Math.max(...Array.from(want, Math.abs));
      for (let i = 0; i < m * n; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5 * size);
    },
  );
});
