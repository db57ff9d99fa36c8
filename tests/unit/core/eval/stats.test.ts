import { describe, expect, it } from 'vitest';
import {
  mean,
  meanInterval,
  normalQuantile,
  regularizedBeta,
  sampleSd,
  studentTCdf,
  studentTQuantile,
} from '../../../../src/core/eval/stats';

describe('studentTQuantile', () => {
  // Reference values from printed t tables (and R's qt).
  it.each([
    [0.975, 1, 12.706],
    [0.975, 2, 4.303],
    [0.975, 4, 2.776],
    [0.975, 14, 2.145],
    [0.975, 30, 2.042],
    [0.95, 10, 1.812],
    [0.995, 5, 4.032],
    [0.975, 1000, 1.962],
    [0.975, Number.POSITIVE_INFINITY, 1.96],
  ])('t_{%s, %s} = %s', (p, df, t) => {
    expect(studentTQuantile(p, df)).toBeCloseTo(t, 3);
  });
  it('is symmetric, zero at the median and inverts the CDF', () => {
    expect(studentTQuantile(0.025, 7)).toBeCloseTo(-studentTQuantile(0.975, 7), 10);
    expect(studentTQuantile(0.5, 3)).toBe(0);
    for (const df of [1, 2, 3, 9.5, 50]) {
      for (const p of [0.6, 0.9, 0.999]) expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 9);
    }
  });
  it('approaches the normal quantile as df grows', () => {
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(normalQuantile(0.975), 4);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
  });
  it('rejects p outside (0, 1) and df <= 0', () => {
    expect(() => studentTQuantile(1, 3)).toThrow(RangeError);
    expect(() => studentTQuantile(0.5, 0)).toThrow(RangeError);
  });
});

describe('regularizedBeta and studentTCdf', () => {
  it('match closed forms', () => {
    // I_x(1, 1) = x; I_x(a, 1) = x^a.
    expect(regularizedBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12);
    expect(regularizedBeta(0.6, 3, 1)).toBeCloseTo(0.216, 12);
    // Cauchy (df = 1): P(T <= 1) = 0.75.
    expect(studentTCdf(1, 1)).toBeCloseTo(0.75, 10);
    expect(studentTCdf(0, 5)).toBeCloseTo(0.5, 12);
    expect(studentTCdf(1.96, Number.POSITIVE_INFINITY)).toBeCloseTo(0.975, 4);
  });
});

describe('meanInterval', () => {
  it('is mean ± t · sd / √n', () => {
    const values = [1, 2, 3, 4, 5];
    const r = meanInterval(values);
    expect(r.mean).toBe(3);
    expect(r.n).toBe(5);
    expect(r.sd).toBeCloseTo(Math.sqrt(2.5), 12);
    const half = (2.776445 * Math.sqrt(2.5)) / Math.sqrt(5);
    expect(r.lo).toBeCloseTo(3 - half, 5);
    expect(r.hi).toBeCloseTo(3 + half, 5);
  });
  it('drops non-finite values and gives no interval below two values', () => {
    expect(meanInterval([1, Number.NaN, 3]).n).toBe(2);
    const one = meanInterval([0.2]);
    expect(one.mean).toBe(0.2);
    expect(one.lo).toBeNaN();
    expect(one.hi).toBeNaN();
  });
  it('widens with the level', () => {
    const values = [0.1, -0.05, 0.2, 0.03, 0.07];
    const narrow = meanInterval(values, { level: 0.8 });
    const wide = meanInterval(values, { level: 0.99 });
    expect(wide.hi - wide.lo).toBeGreaterThan(narrow.hi - narrow.lo);
  });
});

describe('mean and sampleSd', () => {
  it('handle the edge cases', () => {
    expect(mean([])).toBeNaN();
    expect(sampleSd([4])).toBeNaN();
    expect(sampleSd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.13809, 6);
  });
});
