import { describe, expect, it } from 'vitest';
import { chooseMultiple, TRANSFER_SCALES } from '../../../../src/core/model/transfer-train';

/** Per-pair scores where each multiple m scores base + slope * m on every pair, plus a per-pair wobble. */
function scoresOf(slope: (m: number) => number, wobble: number, pairs = 40) {
  return (m: number) =>
    Array.from({ length: pairs }, (_, i) => 0.5 + slope(m) + wobble * Math.sin(i * 7.3 + m));
}

describe('chooseMultiple: the transfer multiple kept on held-out pairs', () => {
  it('keeps 1 when no other multiple is better beyond its paired interval', () => {
    // Multiple 0 is better on average by 0.001 but the pairs scatter by 0.05 around it.
    expect(chooseMultiple(scoresOf((m) => -0.001 * m, 0.05))).toBe(1);
    expect(chooseMultiple(() => [0.4])).toBe(1);
  });

  it('switches the path off when every held-out pair is better without it', () => {
    expect(chooseMultiple(scoresOf((m) => -0.02 * m, 0.001))).toBe(0);
  });

  it('takes the largest clear gain among the multiples tried', () => {
    // The score peaks at m = 1.5: 1.25 and 1.5 both beat 1 clearly, 1.5 by more.
    const peak = (m: number) => -0.01 * (m - 1.5) ** 2;
    expect(chooseMultiple(scoresOf(peak, 0.0001))).toBe(1.5);
    expect(TRANSFER_SCALES).toContain(1.5);
  });
});
