import { describe, expect, it } from 'vitest';
import type { EffectTensor } from '../../../src/core/data/tensor';
import { describeDataset, describeProgress } from '../../../src/worker/dataset-info';

// 3 contexts x 3 perturbations: p0 everywhere, p1 in A and B, p2 only in C (so C cannot use it as support).
const tensor: EffectTensor = {
  contexts: ['A', 'B', 'C'],
  perturbations: ['p0', 'p1', 'p2'],
  genes: ['g0', 'g1'],
  values: new Float32Array(18),
  observed: Uint8Array.from([1, 1, 0, 1, 1, 0, 1, 0, 1]),
  replicates: Uint16Array.from([2, 1, 0, 1, 1, 0, 1, 0, 3]),
};

describe('describeDataset', () => {
  it('summarises coverage per context without copying effect values', () => {
    const info = describeDataset(tensor, 'x.csv', ['note']);
    expect(info.summary).toMatchObject({
      contexts: 3,
      perturbations: 3,
      genes: 2,
      pairs: 6,
      averagedPairs: 2,
    });
    expect(info.sharedPerContext).toEqual([2, 2, 1]);
    expect(info.unmeasuredPerContext).toEqual([1, 1, 1]);
    expect(Array.from(info.observed)).toEqual(Array.from(tensor.observed));
    expect(info.observed).not.toBe(tensor.observed);
    expect(info).not.toHaveProperty('values');
    expect(info.notes).toEqual(['note']);
  });
});

describe('describeProgress', () => {
  it.each([
    [
      { file: 'a.csv', bytesRead: 512 * 1024, totalBytes: 1024 * 1024, stage: 'reading' },
      0.5,
      'Reading a.csv: 0.5 MB of 1.0 MB',
    ],
    [{ file: 'a.csv', bytesRead: 10, totalBytes: 0, stage: 'reading' }, Number.NaN, 'Reading a.csv: 0.0 MB'],
    [
      { file: 'a.csv', bytesRead: 256 * 1024, totalBytes: 1024 * 1024, stage: 'scanning' },
      0.25,
      'Scanning the rows of a.csv: 0.3 MB of 1.0 MB',
    ],
    [{ file: 'a.csv', bytesRead: 1, totalBytes: 1, stage: 'building' }, 1, 'Building the table of a.csv…'],
    [{ file: 'a.csv', bytesRead: 1, totalBytes: 1, stage: 'merging' }, 1, 'Merging files…'],
  ])('%j', (progress, fraction, message) => {
    const out = describeProgress(progress);
    if (Number.isNaN(fraction)) expect(out.fraction).toBeNaN();
    else expect(out.fraction).toBeCloseTo(fraction);
    expect(out.message).toBe(message);
  });
});
