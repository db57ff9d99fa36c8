import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random';

/**
 * Orthonormalises the columns of a [rows, cols] row-major matrix in place (modified Gram-Schmidt, run twice
 * for stability). A column that collapses (rank deficiency) is replaced by a fresh random direction.
 */
export function orthonormaliseColumns(m: Float32Array, rows: number, cols: number, rng: Rng): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < cols; j++) {
      for (let attempt = 0; attempt < 3; attempt++) {
        for (let i = 0; i < j; i++) {
          let dot = 0;
          for (let r = 0; r < rows; r++) dot += m[r * cols + i] * m[r * cols + j];
          for (let r = 0; r < rows; r++) m[r * cols + j] -= dot * m[r * cols + i];
        }
        let norm = 0;
        for (let r = 0; r < rows; r++) norm += m[r * cols + j] ** 2;
        norm = Math.sqrt(norm);
        if (norm > 1e-6) {
          for (let r = 0; r < rows; r++) m[r * cols + j] /= norm;
          break;
        }
        for (let r = 0; r < rows; r++) m[r * cols + j] = rng.normal();
      }
    }
  }
}

/**
 * Top-`rank` right singular basis of z ([N, G], rows are pairs) by subspace iteration: [G, rank] row-major,
 * orthonormal columns. Costs iterations * 4*N*G*rank flops on the active tfjs backend.
 */
export function principalBasis(z: tf.Tensor2D, rank: number, rng: Rng, iterations = 4): Float32Array {
  const G = z.shape[1];
  const basis = new Float32Array(G * rank);
  for (let i = 0; i < basis.length; i++) basis[i] = rng.normal();
  orthonormaliseColumns(basis, G, rank, rng);
  for (let it = 0; it < iterations; it++) {
    const next = tf.tidy(() => {
      const v = tf.tensor2d(basis, [G, rank]);
      return tf.matMul(z, tf.matMul(z, v), true, false);
    });
    basis.set(next.dataSync());
    next.dispose();
    orthonormaliseColumns(basis, G, rank, rng);
  }
  return basis;
}
