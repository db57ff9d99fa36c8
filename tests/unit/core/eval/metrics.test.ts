import { describe, expect, it } from 'vitest';
import { degenerateWarnings } from '../../../../src/core/eval/degenerate';
import { METRICS } from '../../../../src/core/eval/metric-info';
import {
  computeMetrics,
  definedMean,
  DISCRIMINATION_MAX_OTHERS,
  discriminationOthers,
  pairMetrics,
  pearson,
  topAbsIndices,
} from '../../../../src/core/eval/metrics';

describe('pearson', () => {
  it.each([
    // a=[1,2,3] (mean 2, da=[-1,0,1]); b=[2,4,7] (mean 13/3, db=[-7/3,-1/3,8/3]);
    // Σda·db = 7/3+0+8/3 = 5, Σda² = 2, Σdb² = (49+1+64)/9 = 114/9 → r = 5/sqrt(228/9) = 15/sqrt(228)
    { a: [1, 2, 3], b: [2, 4, 7], r: 15 / Math.sqrt(228) },
    { a: [1, 2, 3], b: [3, 2, 1], r: -1 },
    { a: [1, 2, 3], b: [10, 20, 30], r: 1 },
    // zero variance on either side (including a constant 0.1 whose float mean has rounding residue): 0, not NaN
    { a: [1, 1, 1], b: [1, 2, 3], r: 0 },
    { a: [1, 2, 3], b: [0.1, 0.1, 0.1], r: 0 },
    { a: [0, 0, 0], b: [0, 0, 0], r: 0 },
  ])('pearson($a, $b) = $r', ({ a, b, r }) => {
    expect(pearson(a, b)).toBeCloseTo(r, 12);
  });

  it('rejects vectors of different lengths', () => {
    expect(() => pearson([1, 2], [1, 2, 3])).toThrow(/lengths differ/);
  });
});

describe('topAbsIndices', () => {
  it('orders by |x| descending and breaks ties by the lower index', () => {
    // |x| = [1,3,3,0,2]: 3 (index 1), 3 (index 2), 2 (index 4)
    expect(Array.from(topAbsIndices([1, -3, 3, 0, 2], 3))).toEqual([1, 2, 4]);
    expect(Array.from(topAbsIndices([1, -3, 3, 0, 2], 10))).toEqual([1, 2, 4, 0, 3]);
    expect(Array.from(topAbsIndices([5, 5, 5, 5], 2))).toEqual([0, 1]);
  });
});

describe('pairMetrics', () => {
  it('matches hand-computed values on G = 4 (< 50, so top-k uses every gene)', () => {
    const pred = [1, -2, 0, 3];
    const obs = [2, -1, 1, 1];
    const center = [1, 0, 0, 1];
    const m = pairMetrics(pred, obs, center);
    // pred-obs = [-1,-1,-1,2]: mse = (1+1+1+4)/4, mae = (1+1+1+2)/4
    expect(m.mse).toBeCloseTo(1.75, 12);
    expect(m.mae).toBeCloseTo(1.25, 12);
    // pred mean 0.5 → dp=[0.5,-2.5,-0.5,2.5]; obs mean 0.75 → do=[1.25,-1.75,0.25,0.25]
    // Σdp·do = 0.625+4.375-0.125+0.625 = 5.5; Σdp² = 13; Σdo² = 4.75 → 5.5/sqrt(61.75)
    expect(m.pearson).toBeCloseTo(5.5 / Math.sqrt(61.75), 12);
    // centred: predC=[0,-2,0,2] (mean 0), obsC=[1,-1,1,0] (mean 0.25 → [0.75,-1.25,0.75,-0.25])
    // Σ = 0+2.5+0-0.5 = 2; Σdp² = 8; Σdo² = 2.75 → 2/sqrt(22)
    expect(m.pearson_centered).toBeCloseTo(2 / Math.sqrt(22), 12);
    // signs: g0 +/+ right, g1 -/- right, g2 pred exactly 0 → wrong, g3 +/+ right → 3/4
    expect(m.direction_top50).toBeCloseTo(0.75, 12);
    // k = min(50, 4) = 4: both top sets are all genes
    expect(m.deg_overlap_top50).toBe(1);
  });

  it('counts a prediction of exactly 0 as wrong, even where the observation is 0', () => {
    // G = 2 (< 50): g0 pred 0 / obs 0 → wrong, g1 +/+ → right → 1/2
    expect(pairMetrics([0, 1], [0, 2], [0, 0]).direction_top50).toBe(0.5);
  });

  it('gives pearson_centered 0 (not NaN) for a prediction equal to the centre', () => {
    const center = [0.3, -0.7, 0.1];
    const m = pairMetrics(center, [1, 2, -4], center);
    expect(m.pearson_centered).toBe(0);
    expect(Number.isNaN(m.pearson)).toBe(false);
  });

  it('leaves metrics undefined (NaN) where the observed effects are degenerate', () => {
    const zero = pairMetrics([0, 0, 0], [0, 0, 0], [0, 0, 0]);
    expect(zero.pearson).toBeNaN();
    expect(zero.pearson_centered).toBeNaN();
    expect(zero.direction_top50).toBeNaN();
    expect(zero.deg_overlap_top50).toBeNaN();
    expect(zero.mse).toBe(0);
    const constant = pairMetrics([1, 2, 3], [2, 2, 2], [0, 1, 0]);
    expect(constant.pearson).toBeNaN();
    expect(constant.deg_overlap_top50).toBeNaN();
    expect(constant.direction_top50).toBe(1);
    expect(Number.isNaN(constant.pearson_centered)).toBe(false);
    const shifted = pairMetrics([1, 2, 3], [1.5, 2.5, 0.5], [1, 2, 0]);
    expect(shifted.pearson_centered).toBeNaN();
    expect(Number.isNaN(shifted.pearson)).toBe(false);
  });

  it('counts only the 50 genes of largest |obs| for direction, ties by lower index', () => {
    const G = 60;
    // |obs| = 1 everywhere: the top 50 are genes 0..49 by the index tie-break
    const obs = Array.from({ length: G }, (_, g) => (g % 2 === 0 ? 1 : -1));
    // wrong sign on genes 50..59 only: outside the top 50 → 50/50
    const pred = obs.map((v, g) => (g >= 50 ? -v : v));
    expect(pairMetrics(pred, obs, new Array<number>(G).fill(0)).direction_top50).toBe(1);
    // wrong sign on genes 0..9 → 40/50; plus pred exactly 0 on gene 10 → 39/50
    const pred2 = obs.map((v, g) => (g < 10 ? -v : v));
    expect(pairMetrics(pred2, obs, new Array<number>(G).fill(0)).direction_top50).toBeCloseTo(0.8, 12);
    pred2[10] = 0;
    expect(pairMetrics(pred2, obs, new Array<number>(G).fill(0)).direction_top50).toBeCloseTo(0.78, 12);
  });

  it('measures the overlap of the top 50 |pred| and |obs| genes', () => {
    const G = 60;
    const zero = new Array<number>(G).fill(0);
    // obs: top 50 = genes 0..49 (|obs| = 100-g there, 0.5 beyond)
    const obs = Array.from({ length: G }, (_, g) => (g < 50 ? 100 - g : 0.5));
    // pred: top 50 = genes 10..59 → |{10..49}| = 40 → 40/50
    const pred = Array.from({ length: G }, (_, g) => (g >= 10 ? -(g + 1) : 0.1));
    expect(pairMetrics(pred, obs, zero).deg_overlap_top50).toBeCloseTo(0.8, 12);
    // all |pred| tied: the index tie-break picks genes 0..49 → full overlap
    expect(pairMetrics(new Array<number>(G).fill(2), obs, zero).deg_overlap_top50).toBe(1);
  });
});

describe('discriminationOthers', () => {
  it('uses every other pair up to the cap', () => {
    expect(discriminationOthers(2, 5)).toEqual([0, 1, 3, 4]);
    expect(discriminationOthers(0, DISCRIMINATION_MAX_OTHERS + 1)).toHaveLength(DISCRIMINATION_MAX_OTHERS);
  });

  it('beyond the cap picks evenly spaced pairs, never p itself', () => {
    // 400 others, 200 picks: j = floor(i·400/200) = 2i, shifted by one at and after p
    const o0 = discriminationOthers(0, 401);
    expect(o0).toEqual(Array.from({ length: 200 }, (_, i) => 2 * i + 1));
    const o5 = discriminationOthers(5, 401);
    expect(o5.slice(0, 4)).toEqual([0, 2, 4, 7]);
    expect(o5).toHaveLength(200);
    expect(new Set(o5).size).toBe(200);
    expect(o5.includes(5)).toBe(false);
  });
});

describe('computeMetrics', () => {
  const G = 2;
  // obs rows o0=[0,0], o1=[1,0], o2=[0,3]; pred rows p0=[0,0], p1=[0.5,0], p2=[1,0]
  const observed = Float32Array.from([0, 0, 1, 0, 0, 3]);
  const predicted = Float32Array.from([0, 0, 0.5, 0, 1, 0]);

  it('computes discrimination by hand, ties counting half', () => {
    const { perPair, mean } = computeMetrics({
      predicted,
      observed,
      contextMean: [0, 0],
      queryCount: 3,
      geneCount: G,
    });
    // p0: own L1 0; vs o1 1 > 0, vs o2 3 > 0 → 1
    // p1: own L1 |0.5-1| = 0.5; vs o0 0.5 (tie, 0.5), vs o2 0.5+3 = 3.5 > 0.5 (1) → 0.75
    // p2: own L1 |1-0|+|0-3| = 4; vs o0 1 < 4 (0), vs o1 0 < 4 (0) → 0
    expect(perPair.map((m) => m.discrimination)).toEqual([1, 0.75, 0]);
    expect(mean.discrimination).toBeCloseTo(1.75 / 3, 12);
    // mse per pair: 0, (0.25+0)/2 = 0.125, (1+9)/2 = 5 → mean 5.125/3
    expect(perPair.map((m) => m.mse)).toEqual([0, 0.125, 5]);
    expect(mean.mse).toBeCloseTo(5.125 / 3, 12);
    expect(Object.keys(mean).sort()).toEqual(Object.keys(perPair[0]).sort());
  });

  it('gives the same discrimination for any centre (L1 of vectors centred alike)', () => {
    const a = computeMetrics({ predicted, observed, contextMean: [0, 0], queryCount: 3, geneCount: G });
    const b = computeMetrics({ predicted, observed, contextMean: [5, -2], queryCount: 3, geneCount: G });
    expect(b.perPair.map((m) => m.discrimination)).toEqual(a.perPair.map((m) => m.discrimination));
    expect(b.mean.pearson_centered).not.toBe(a.mean.pearson_centered);
  });

  it('defines discrimination as 0.5 for a single query pair', () => {
    const r = computeMetrics({
      predicted: Float32Array.from([1, 2, 3]),
      observed: Float32Array.from([1, 2, 4]),
      contextMean: [0, 0, 0],
      queryCount: 1,
      geneCount: 3,
    });
    expect(r.perPair[0].discrimination).toBe(0.5);
    expect(r.mean.discrimination).toBe(0.5);
    expect(Object.values(r.mean).every(Number.isFinite)).toBe(true);
  });

  it('compares against the evenly spaced subset beyond the cap', () => {
    // G = 1, obs_q = q, pred_q = obs_q except pred_0 = 2 (own distance 2). Subset of p=0: q = 1,3,...,399
    // → |2-q| is 1, 1 (< 2, score 0) then ≥ 3 for the other 198 → 198/200. With all 400 others it would be
    // (0+0+0+0.5+396)/400 = 0.99125.
    const Q = 401;
    const observed1 = Float32Array.from({ length: Q }, (_, q) => q);
    const predicted1 = observed1.slice();
    predicted1[0] = 2;
    const r = computeMetrics({
      predicted: predicted1,
      observed: observed1,
      contextMean: [0],
      queryCount: Q,
      geneCount: 1,
    });
    expect(r.perPair[0].discrimination).toBeCloseTo(0.99, 12);
    expect(r.perPair[1].discrimination).toBe(1);
  });

  it('rejects inconsistent shapes and empty queries', () => {
    expect(() =>
      computeMetrics({ predicted, observed, contextMean: [0, 0], queryCount: 2, geneCount: G }),
    ).toThrow(/Q\*G/);
    expect(() =>
      computeMetrics({ predicted, observed, contextMean: [0], queryCount: 3, geneCount: G }),
    ).toThrow(/contextMean/);
    expect(() =>
      computeMetrics({
        predicted: new Float32Array(0),
        observed: new Float32Array(0),
        contextMean: [0, 0],
        queryCount: 0,
        geneCount: G,
      }),
    ).toThrow(/at least one query pair/);
  });
});

describe('degenerate data', () => {
  it('averages each metric over the pairs that define it', () => {
    const row = (v: number) =>
      Object.fromEntries(METRICS.map((m) => [m, v])) as Record<(typeof METRICS)[number], number>;
    expect(definedMean([row(1), row(NaN), row(3)]).pearson).toBe(2);
    expect(definedMean([row(NaN)]).mse).toBeNaN();
  });

  it('names the degenerate held-out pairs and the metrics they leave undefined', () => {
    // Three held-out pairs x 3 genes: all zero, constant 2, and a usable one.
    const observed = Float32Array.from([0, 0, 0, 2, 2, 2, 1, -3, 0.5]);
    const center = [0, 0, 0];
    const warnings = degenerateWarnings('HeLa', ['kdA', 'kdB', 'kdC'], observed, center);
    expect(warnings).toEqual([
      'Target "HeLa": 1 of 3 held-out pairs ("kdA") has an effect of 0 on every gene, so Pearson, top-50 direction and DEG overlap are undefined there and left out of the target\'s means.',
      'Target "HeLa": 1 of 3 held-out pairs ("kdB") has the same effect on every gene, so Pearson and top-50 DEG overlap are undefined there and left out of the target\'s means.',
      'Target "HeLa": 2 of 3 held-out pairs ("kdA", "kdB") have the target\'s support mean plus a constant on every gene, so centred Pearson is undefined there and left out of the target\'s means.',
    ]);
    expect(degenerateWarnings('HeLa', ['kdC'], observed.slice(6), center)).toEqual([]);
    expect(degenerateWarnings('A', ['p1', 'p2'], new Float32Array(4), [0, 0])[0]).toMatch(
      /^Target "A": all 2 held-out pairs \("p1", "p2"\) have an effect of 0 on every gene, .* are undefined for this target\.$/,
    );
  });
});
