import { describe, expect, it } from 'vitest';
import type { EffectTensor } from '../../../../src/core/data/tensor';
import { evaluationSplit, predictionSplit, validationSize } from '../../../../src/core/eval/split';

/** Tensor with G = 1 and the given measured pairs per context (values are irrelevant to splits). */
function maskTensor(P: number, measured: number[][]): EffectTensor {
  const C = measured.length;
  const observed = new Uint8Array(C * P);
  measured.forEach((ps, c) => ps.forEach((p) => (observed[c * P + p] = 1)));
  return {
    contexts: measured.map((_, c) => `ctx${c}`),
    perturbations: Array.from({ length: P }, (_, i) => `p${i}`),
    genes: ['g0'],
    values: new Float32Array(C * P),
    observed,
    replicates: Uint16Array.from(observed),
  };
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

// Target ctx0 measures p0..p139; ctx1 measures p0..p134 and p145..p149; p140..p144 are measured nowhere.
// Shared with the target: p0..p134 (135); only in the target: p135..p139; elsewhere only: p145..p149.
const tensor = maskTensor(150, [range(0, 140), [...range(0, 135), ...range(145, 150)], []]);
const shared = range(0, 135);

describe('validationSize', () => {
  it.each([
    [1, 0.2, 0],
    [2, 0.2, 0], // < 3: none
    [3, 0.2, 1], // round(0.6)
    [4, 0.1, 0], // round(0.4), support < 5 may have none
    [6, 0.05, 1], // round(0.3) = 0, raised to 1 for support >= 5
    [14, 0.2, 3], // round(2.8)
    [3, 0.9, 2], // round(2.7) = 3, capped so one pair is left to fit on
    [10, 0, 0], // share 0: no validation asked
  ])('support %i, share %f -> %i', (support, share, expected) => {
    expect(validationSize(support, share)).toBe(expected);
  });
});

describe('evaluationSplit', () => {
  it.each([
    // support = max(1, round(f·135)); validation = validationSize(support, 0.2)
    { f: 0.01, train: 1, val: 0, query: 134 }, // round(1.35) = 1
    { f: 0.05, train: 6, val: 1, query: 128 }, // round(6.75) = 7, round(1.4) = 1
    { f: 0.1, train: 11, val: 3, query: 121 }, // round(13.5) = 14, round(2.8) = 3
    { f: 0.3, train: 33, val: 8, query: 94 }, // round(40.5) = 41, round(8.2) = 8
  ])('fraction $f of 135 shared: $train train, $val validation, $query query', ({ f, train, val, query }) => {
    const s = evaluationSplit(tensor, 0, { supportFraction: f, seed: 1 });
    expect(s.target).toBe(0);
    expect([s.supportTrain.length, s.supportVal.length, s.query.length]).toEqual([train, val, query]);
    // disjoint, covering exactly the shared perturbations, each list sorted
    const all = [...s.supportTrain, ...s.supportVal, ...s.query];
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort((a, b) => a - b)).toEqual(shared);
    for (const list of [s.supportTrain, s.supportVal, s.query])
      expect(list).toEqual([...list].sort((a, b) => a - b));
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = evaluationSplit(tensor, 0, { supportFraction: 0.1, seed: 42 });
    expect(evaluationSplit(tensor, 0, { supportFraction: 0.1, seed: 42 })).toEqual(a);
    const b = evaluationSplit(tensor, 0, { supportFraction: 0.1, seed: 43 });
    expect([...b.supportTrain, ...b.supportVal]).not.toEqual([...a.supportTrain, ...a.supportVal]);
  });

  it('nests supports of growing fractions for one seed', () => {
    const small = evaluationSplit(tensor, 0, { supportFraction: 0.05, seed: 7 });
    const large = evaluationSplit(tensor, 0, { supportFraction: 0.3, seed: 7 });
    const largeSupport = new Set([...large.supportTrain, ...large.supportVal]);
    for (const p of [...small.supportTrain, ...small.supportVal]) expect(largeSupport.has(p)).toBe(true);
  });

  it('honours validationShare', () => {
    // support 41, round(0.1·41) = 4
    const s = evaluationSplit(tensor, 0, { supportFraction: 0.3, validationShare: 0.1, seed: 1 });
    expect([s.supportTrain.length, s.supportVal.length]).toEqual([37, 4]);
  });

  it('keeps at least one query pair', () => {
    const two = maskTensor(3, [
      [0, 1],
      [0, 1, 2],
    ]);
    const s = evaluationSplit(two, 0, { supportFraction: 0.9, seed: 1 });
    expect([s.supportTrain.length, s.supportVal.length, s.query.length]).toEqual([1, 0, 1]);
  });

  it('throws clear errors', () => {
    const one = maskTensor(3, [
      [0, 2],
      [0, 1],
    ]);
    expect(() => evaluationSplit(one, 0, { supportFraction: 0.1, seed: 1 })).toThrow(
      /Context "ctx0" has 1 perturbation\(s\) also measured in another context.*at least 2/,
    );
    for (const f of [0, 1, Number.NaN]) {
      expect(() => evaluationSplit(tensor, 0, { supportFraction: f, seed: 1 })).toThrow(/supportFraction/);
    }
    expect(() => evaluationSplit(tensor, 0, { supportFraction: 0.1, validationShare: 1, seed: 1 })).toThrow(
      /validationShare/,
    );
    expect(() => evaluationSplit(tensor, 5, { supportFraction: 0.1, seed: 1 })).toThrow(/out of range/);
  });
});

describe('predictionSplit', () => {
  it('uses every shared perturbation as support and predicts those measured only elsewhere', () => {
    const s = predictionSplit(tensor, 0, { seed: 3 });
    // support 135 → validation round(0.2·135) = 27
    expect([s.supportTrain.length, s.supportVal.length]).toEqual([108, 27]);
    expect([...s.supportTrain, ...s.supportVal].sort((a, b) => a - b)).toEqual(shared);
    expect(s.query).toEqual(range(145, 150));
    expect(predictionSplit(tensor, 0, { seed: 3 })).toEqual(s);
    expect(predictionSplit(tensor, 0, { seed: 4 }).supportVal).not.toEqual(s.supportVal);
  });

  it('throws without shared perturbations; the query is what only the other contexts measured', () => {
    // ctx2 shares nothing: no support to transfer from
    expect(() => predictionSplit(tensor, 2, { seed: 1 })).toThrow(/shares no measured perturbation/);
    // ctx1 (viewed as target): shared p0..p134; the target-only p135..p139 of ctx0 are its query
    const s = predictionSplit(tensor, 1, { seed: 1 });
    expect(s.query).toEqual(range(135, 140));
  });
});
