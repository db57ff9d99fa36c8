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
 * x V for x [N, G] and V [G, k], both row-major: [N, k]. Rows of x that are all zero are skipped, which
 * makes unobserved pairs free.
 */
export function projectRows(x: Float32Array, n: number, basis: Float32Array, k: number): Float32Array {
  const G = basis.length / k;
  const out = new Float32Array(n * k);
  const acc = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    acc.fill(0);
    const base = r * G;
    for (let g = 0; g < G; g++) {
      const v = x[base + g];
      if (v === 0) continue;
      const b = g * k;
      for (let j = 0; j < k; j++) acc[j] += v * basis[b + j];
    }
    for (let j = 0; j < k; j++) out[r * k + j] = acc[j];
  }
  return out;
}

/**
 * Top-`rank` right singular basis of x ([n, G] row-major, rows are pairs) by subspace iteration: [G, rank]
 * row-major, orthonormal columns. Plain JavaScript, so every tfjs backend gets the same basis; costs
 * iterations * 4*n*G*rank flops.
 */
export function principalBasis(
  x: Float32Array,
  n: number,
  G: number,
  rank: number,
  rng: Rng,
  iterations = 4,
): Float32Array {
  const basis = new Float32Array(G * rank);
  for (let i = 0; i < basis.length; i++) basis[i] = rng.normal();
  orthonormaliseColumns(basis, G, rank, rng);
  const next = new Float64Array(G * rank);
  for (let it = 0; it < iterations; it++) {
    // basis <- x^T (x basis), accumulated row by row of x.
    const projected = projectRows(x, n, basis, rank);
    next.fill(0);
    for (let r = 0; r < n; r++) {
      const base = r * G;
      for (let g = 0; g < G; g++) {
        const v = x[base + g];
        if (v === 0) continue;
        const b = g * rank;
        for (let j = 0; j < rank; j++) next[b + j] += v * projected[r * rank + j];
      }
    }
    for (let i = 0; i < basis.length; i++) basis[i] = next[i];
    orthonormaliseColumns(basis, G, rank, rng);
  }
  return basis;
}
