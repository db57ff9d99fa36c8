import { describe, expect, it } from 'vitest';
import type { EffectTensor } from '../../../../src/core/data/tensor';
import { computeMetrics } from '../../../../src/core/eval/metrics';
import { BASELINE_METHODS } from '../../../../src/core/eval/methods';
import { contextMean, perturbationMeans, predictBaselines } from '../../../../src/core/model/baselines';
import { DEFAULT_RIDGE_LAMBDAS, fitRidge } from '../../../../src/core/model/ridge';
import { createRng } from '../../../../src/core/random';
import { denseTensor } from './dense-tensor';

/** A dense tensor from a list of measured pairs [context, perturbation, effect vector]. */
function makeTensor(C: number, P: number, G: number, pairs: [number, number, number[]][]): EffectTensor {
  const values = new Float32Array(C * P * G);
  const observed = new Uint8Array(C * P);
  const replicates = new Uint16Array(C * P);
  for (const [c, p, y] of pairs) {
    values.set(y, (c * P + p) * G);
    observed[c * P + p] = 1;
    replicates[c * P + p] = 1;
  }
  return {
    contexts: Array.from({ length: C }, (_, i) => `c${i}`),
    perturbations: Array.from({ length: P }, (_, i) => `p${i}`),
    genes: Array.from({ length: G }, (_, i) => `g${i}`),
    values,
    observed,
    replicates,
  };
}

function withValues(t: EffectTensor, values: Float32Array): EffectTensor {
  return { ...t, values };
}

// 3 contexts x 5 perturbations x 3 genes; target t = 2, support {p0, p1}, query {p2, p3}.
// c1 lacks p3; p4 is measured only in the target; the target's own p2 value (9,9,9) must never be read.
const tiny = makeTensor(3, 5, 3, [
  [0, 0, [1, 2, 3]],
  [0, 1, [0, 1, 0]],
  [0, 2, [2, 2, -2]],
  [0, 3, [4, 4, 4]],
  [1, 0, [3, 2, 1]],
  [1, 1, [2, 3, 0]],
  [1, 2, [0, 0, 2]],
  [2, 0, [2, 3, 4]],
  [2, 1, [1, 1, 1]],
  [2, 2, [9, 9, 9]],
  [2, 4, [7, 7, 7]],
]);
const tinyInput = { tensor: tiny, target: 2, support: [0, 1], query: [2, 3] };

function rows(a: Float32Array, G: number): number[][] {
  return Array.from({ length: a.length / G }, (_, i) => Array.from(a.subarray(i * G, (i + 1) * G)));
}

function expectRowsClose(actual: Float32Array, expected: number[][], digits = 5): void {
  const G = expected[0].length;
  const got = rows(actual, G);
  expect(got).toHaveLength(expected.length);
  got.forEach((row, i) => row.forEach((v, g) => expect(v).toBeCloseTo(expected[i][g], digits)));
}

describe('perturbationMeans and contextMean', () => {
  it('average the other contexts and count them', () => {
    const { means, counts } = perturbationMeans(tiny, 2);
    // p0: ([1,2,3]+[3,2,1])/2; p1: ([0,1,0]+[2,3,0])/2; p2: ([2,2,-2]+[0,0,2])/2; p3: c0 only; p4: nowhere else
    expect(rows(means, 3)).toEqual([
      [2, 2, 2],
      [1, 2, 0],
      [1, 1, 0],
      [4, 4, 4],
      [0, 0, 0],
    ]);
    expect(Array.from(counts)).toEqual([2, 2, 2, 1, 0]);
    // excluding c0 instead: p4 now counts the target context c2
    const ex0 = perturbationMeans(tiny, 0);
    expect(Array.from(ex0.counts)).toEqual([2, 2, 2, 0, 1]);
    expect(rows(ex0.means, 3)[4]).toEqual([7, 7, 7]);
  });

  it('m_t is the mean over the support in the target, and rejects unmeasured support', () => {
    // ([2,3,4] + [1,1,1]) / 2
    expect(Array.from(contextMean(tiny, 2, [0, 1]))).toEqual([1.5, 2, 2.5]);
    expect(() => contextMean(tiny, 2, [3])).toThrow(/not measured in context "c2"/);
    expect(() => contextMean(tiny, 2, [])).toThrow(/empty/);
  });
});

describe('predictBaselines on a hand-computed tensor', () => {
  const pred = predictBaselines(tinyInput, { ridgeLambdas: [1 / 21] });

  it('returns Q*G predictions for every baseline method', () => {
    expect(Object.keys(pred).sort()).toEqual([...BASELINE_METHODS].sort());
    for (const m of BASELINE_METHODS) expect(pred[m]).toHaveLength(2 * 3);
  });

  it('perturb_mean and context_mean', () => {
    expectRowsClose(pred.perturb_mean, [
      [1, 1, 0],
      [4, 4, 4],
    ]);
    expectRowsClose(pred.context_mean, [
      [1.5, 2, 2.5],
      [1.5, 2, 2.5],
    ]);
  });

  it('additive = pm_p + m_t - mean_s pm_s', () => {
    // mean pm_S = ([2,2,2]+[1,2,0])/2 = [1.5,2,1]; shift = [1.5,2,2.5] - [1.5,2,1] = [0,0,1.5]
    expectRowsClose(pred.additive, [
      [1, 1, 1.5],
      [4, 4, 5.5],
    ]);
  });

  it('ridge with a fixed penalty solves the 2x2 normal equations', () => {
    // Rows (all genes of p0, p1): x_c0 = [1,2,3,0,1,0], x_c1 = [3,2,1,2,3,0], y = [2,3,4,1,1,1]
    // XᵀX = [[15,13],[13,27]], Xᵀy = [21,21], scale = trace/2 = 21 → λ = (1/21)·21 = 1
    // [[16,13],[13,28]] w = [21,21], det 279 → w = [315/279, 63/279]
    const fit = fitRidge(tiny, 2, [0, 1], perturbationMeans(tiny, 2).means, [1 / 21]);
    expect(fit.weights[0]).toBeCloseTo(315 / 279, 10);
    expect(fit.weights[1]).toBeCloseTo(63 / 279, 10);
    // p2: w0·[2,2,-2] + w1·[0,0,2]; p3: c1 missing → filled with pm_p3 = [4,4,4] → 4·(w0+w1) = 1512/279
    expectRowsClose(pred.ridge, [
      [630 / 279, 630 / 279, -504 / 279],
      [1512 / 279, 1512 / 279, 1512 / 279],
    ]);
  });

  it('knn_residual weights support residuals by softmax of correlations', () => {
    // additive_s: s0 = [2,2,2]+[0,0,1.5] = [2,2,3.5], s1 = [1,2,1.5]
    // residuals r0 = [2,3,4]-[2,2,3.5] = [0,1,0.5], r1 = [1,1,1]-[1,2,1.5] = [0,-1,-0.5]
    // p2: pm = [1,1,0]; corr with pm_s0 = [2,2,2] is 0 (constant); with pm_s1 = [1,2,0]:
    //   da = [1/3,1/3,-2/3], db = [0,1,-1] → 1/sqrt((2/3)·2) = sqrt(3)/2
    //   weights softmax(5·[0, sqrt(3)/2]) → w0 = 1/(1+e^(5·sqrt(3)/2)), w1 = 1 - w0
    const e = Math.exp((5 * Math.sqrt(3)) / 2);
    const w0 = 1 / (1 + e);
    const w1 = e / (1 + e);
    // p3: pm = [4,4,4] constant → both correlations 0 → equal weights → residuals cancel → additive
    expectRowsClose(pred.knn_residual, [
      [1, 1 + w0 - w1, 1.5 + 0.5 * (w0 - w1)],
      [4, 4, 5.5],
    ]);
  });

  it('rejects a support perturbation measured nowhere else', () => {
    expect(() => predictBaselines({ ...tinyInput, support: [0, 4] })).toThrow(
      /measured in no context other than "c2"/,
    );
  });
});

/** C contexts with random effects; the target (last context) is an exact mix of the others. */
function mixTensor(P: number, G: number, weights: number[], seed: number): EffectTensor {
  const rng = createRng(seed);
  const K = weights.length;
  const pairs: [number, number, number[]][] = [];
  const base: number[][][] = [];
  for (let c = 0; c < K; c++) {
    base.push([]);
    for (let p = 0; p < P; p++) {
      const y = Array.from({ length: G }, () => rng.normal());
      base[c].push(y);
      pairs.push([c, p, y]);
    }
  }
  for (let p = 0; p < P; p++) {
    pairs.push([
      K,
      p,
      Array.from({ length: G }, (_, g) => weights.reduce((s, w, c) => s + w * base[c][p][g], 0)),
    ]);
  }
  return makeTensor(K + 1, P, G, pairs);
}

describe('ridge', () => {
  const trueW = [0.5, -1.2, 2];
  const t = mixTensor(30, 20, trueW, 7);
  const support = Array.from({ length: 10 }, (_, i) => i);
  const query = Array.from({ length: 20 }, (_, i) => i + 10);

  it('recovers known weights on noiseless data and chooses the smallest penalty by leave-one-out', () => {
    const fit = fitRidge(t, 3, support, perturbationMeans(t, 3).means, DEFAULT_RIDGE_LAMBDAS);
    expect(fit.lambda).toBe(Math.min(...DEFAULT_RIDGE_LAMBDAS));
    fit.weights.forEach((w, c) => expect(w).toBeCloseTo(trueW[c], 4));
    const pred = predictBaselines({ tensor: t, target: 3, support, query });
    const G = 20;
    for (let i = 0; i < query.length; i++) {
      for (let g = 0; g < G; g++) {
        expect(pred.ridge[i * G + g]).toBeCloseTo(t.values[(3 * 30 + query[i]) * G + g], 3);
      }
    }
  });

  it('chooses the largest penalty when the target is noise unrelated to the other contexts', () => {
    const noise = createRng(11);
    const values = t.values.slice();
    for (let i = 3 * 30 * 20; i < 4 * 30 * 20; i++) values[i] = noise.normal();
    const fit = fitRidge(
      withValues(t, values),
      3,
      support,
      perturbationMeans(t, 3).means,
      DEFAULT_RIDGE_LAMBDAS,
    );
    expect(fit.lambda).toBe(Math.max(...DEFAULT_RIDGE_LAMBDAS));
  });

  it('uses the middle of the grid without leave-one-out below 3 support pairs', () => {
    const fit = fitRidge(t, 3, [0, 1], perturbationMeans(t, 3).means, [1, 1e-6, 1e-2]);
    expect(fit.lambda).toBe(1e-2);
  });
});

describe('knn_residual and leakage', () => {
  it('reduces to additive when every support residual is zero', () => {
    // Target = perturb_mean + a fixed context shift d for every perturbation, so y_ts - additive_s = 0.
    const P = 12;
    const G = 6;
    const rng = createRng(3);
    const pairs: [number, number, number[]][] = [];
    const d = Array.from({ length: G }, () => rng.normal());
    for (let p = 0; p < P; p++) {
      const a = Array.from({ length: G }, () => rng.normal());
      const b = Array.from({ length: G }, () => rng.normal());
      pairs.push([0, p, a], [1, p, b], [2, p, a.map((v, g) => (v + b[g]) / 2 + d[g])]);
    }
    const t = makeTensor(3, P, G, pairs);
    const pred = predictBaselines({
      tensor: t,
      target: 2,
      support: [0, 1, 2, 3, 4],
      query: [5, 6, 7, 8, 9, 10, 11],
    });
    pred.knn_residual.forEach((v, i) => expect(v).toBeCloseTo(pred.additive[i], 5));
  });

  it('never reads the target values of the query pairs', () => {
    const t = mixTensor(30, 20, [0.3, 0.3, 0.4], 5);
    const input = {
      tensor: t,
      target: 3,
      support: [0, 1, 2, 3, 4, 5],
      query: Array.from({ length: 24 }, (_, i) => i + 6),
    };
    const before = predictBaselines(input);
    const values = t.values.slice();
    const rng = createRng(99);
    for (const q of input.query)
      for (let g = 0; g < 20; g++) values[(3 * 30 + q) * 20 + g] = 100 * rng.normal();
    const after = predictBaselines({ ...input, tensor: withValues(t, values) });
    for (const m of BASELINE_METHODS) expect(Array.from(after[m])).toEqual(Array.from(before[m]));
    // and the tiny tensor's target p2 = (9,9,9) was already ignored: changing it changes nothing
    const tinyValues = tiny.values.slice();
    tinyValues.fill(-50, (2 * 5 + 2) * 3, (2 * 5 + 3) * 3);
    const a = predictBaselines(tinyInput);
    const b = predictBaselines({ ...tinyInput, tensor: withValues(tiny, tinyValues) });
    for (const m of BASELINE_METHODS) expect(Array.from(b[m])).toEqual(Array.from(a[m]));
  });
});

describe('speed sanity', () => {
  it('runs baselines and metrics on 4 x 2000 x 2000 with Q = 1800', () => {
    const C = 4;
    const P = 2000;
    const G = 2000;
    const rng = createRng(1);
    const values = new Float32Array(C * P * G);
    for (let i = 0; i < values.length; i++) values[i] = rng.normal();
    const tensor = denseTensor(values, C, P, G);
    const support = Array.from({ length: 200 }, (_, i) => i);
    const query = Array.from({ length: 1800 }, (_, i) => i + 200);
    const t0 = performance.now();
    const pred = predictBaselines({ tensor, target: 3, support, query });
    const t1 = performance.now();
    const observed = values.slice(3 * P * G + 200 * G, 4 * P * G);
    const mt = contextMean(tensor, 3, support);
    for (const m of BASELINE_METHODS) {
      const r = computeMetrics({
        predicted: pred[m],
        observed,
        contextMean: mt,
        queryCount: 1800,
        geneCount: G,
      });
      expect(Object.values(r.mean).every(Number.isFinite)).toBe(true);
    }
    const t2 = performance.now();
    console.log(
      `4x2000x2000, Q=1800: predictBaselines ${((t1 - t0) / 1000).toFixed(2)} s, computeMetrics x5 ${((t2 - t1) / 1000).toFixed(2)} s`,
    );
  });
});
