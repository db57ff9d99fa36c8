import { describe, expect, it } from 'vitest';
import {
  SPARSE_FIT_ROWS,
  SPARSE_MIN_ROWS,
  sparsePosteriorMeans,
} from '../../../../src/core/model/sparse-maths';
import { createRng } from '../../../../src/core/random';

/** n rows x G genes: baseline per gene plus noise of SD 0.1; every 10th row holds a real effect of size 2. */
function sparseBlock(n: number, G: number, seed: number) {
  const rng = createRng(seed);
  const truth = new Float64Array(n * G);
  const values = new Float64Array(n * G);
  for (let i = 0; i < n; i++)
    for (let g = 0; g < G; g++) {
      const baseline = 0.05 * g;
      truth[i * G + g] = baseline + (i % 10 === g % 10 ? (g % 2 ? 2 : -2) : 0);
      values[i * G + g] = truth[i * G + g] + 0.1 * rng.normal();
    }
  return { truth, values };
}

const squaredError = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return sum;
};

describe('sparsePosteriorMeans: effects denoised under a spike-and-slab prior per gene', () => {
  it('pulls noise to the baseline and keeps real effects, closer to the truth than the values', () => {
    const n = 60;
    const G = 12;
    const { truth, values } = sparseBlock(n, G, 3);
    const denoised = sparsePosteriorMeans(values, n, G);
    expect(squaredError(denoised, truth)).toBeLessThan(0.2 * squaredError(values, truth));
    let nullError = 0;
    let nulls = 0;
    for (let i = 0; i < n; i++)
      for (let g = 0; g < G; g++) {
        const error = Math.abs(denoised[i * G + g] - truth[i * G + g]);
        if (truth[i * G + g] !== 0.05 * g) expect(error).toBeLessThan(0.3);
        else {
          nullError += error;
          nulls++;
        }
      }
    // Raw noise of SD 0.1 is 0.08 off on average; what is left is mostly the median's own error.
    expect(nullError / nulls).toBeLessThan(0.03);
  });

  it('fits the prior on evenly spaced rows of a wide block and denoises every row', () => {
    const n = SPARSE_FIT_ROWS + 300;
    const G = 4;
    const { truth, values } = sparseBlock(n, G, 5);
    const denoised = sparsePosteriorMeans(values, n, G);
    expect(squaredError(denoised, truth)).toBeLessThan(0.2 * squaredError(values, truth));
    const tail = n * G - 100 * G;
    expect(squaredError(denoised.subarray(tail), truth.subarray(tail))).toBeLessThan(
      0.2 * squaredError(values.subarray(tail), truth.subarray(tail)),
    );
  });

  it('moves with a gene-wide offset (the baseline is the median, not zero)', () => {
    const n = 40;
    const G = 5;
    const { values } = sparseBlock(n, G, 8);
    const shifted = Float64Array.from(values, (v, i) => v + (i % G === 2 ? 3 : 0));
    const a = sparsePosteriorMeans(values, n, G);
    const b = sparsePosteriorMeans(shifted, n, G);
    a.forEach((v, i) => expect(b[i] - v).toBeCloseTo(i % G === 2 ? 3 : 0, 6));
  });

  it('returns the values unchanged below the fewest rows a prior is fitted on', () => {
    const n = SPARSE_MIN_ROWS - 1;
    const { values } = sparseBlock(n, 4, 1);
    expect(Array.from(sparsePosteriorMeans(values, n, 4))).toEqual(Array.from(values));
  });

  it('stays finite on constant genes and genes whose bulk is exactly constant', () => {
    const n = 20;
    const values = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) values[i * 2] = 1.5;
    values[2 * 3 + 1] = 4;
    const denoised = sparsePosteriorMeans(values, n, 2);
    expect(denoised.every(Number.isFinite)).toBe(true);
    for (let i = 0; i < n; i++) expect(denoised[i * 2]).toBeCloseTo(1.5, 9);
    expect(denoised[2 * 3 + 1]).toBeCloseTo(4, 3);
  });
});
