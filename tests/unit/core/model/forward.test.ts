import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BlockInputs, C3tlArchitecture, SupportMoments } from '../../../../src/core/model/c3tl';
import {
  GATE_SCALE,
  SUPPORT_MOMENT_NAMES,
  createParameters,
  disposeParameters,
  forward,
  initialParameterValues,
} from '../../../../src/core/model/c3tl';
import { createRng } from '../../../../src/core/random';
import { geneStandardisation } from '../../../../src/core/model/standardise';
import { DEFAULT_SWITCHES, hostData, supportMomentValues } from '../../../../src/core/model/train';
import { simulate } from '../../../../src/core/simulate/simulator';

/**
 * The forward pass takes the support as eight moments per context (c3tl.ts SupportMoments). This checks it
 * against the model's formula written out row by row over the support pairs, with every gate open.
 */
const C = 3;
const G = 5;
const Q = 4;
const supportContexts = [0, 0, 0, 1, 1, 1, 1, 2, 2];
const queryContexts = [0, 1, 2, 1];
const gates = { denoise: 0.021, shift: -0.013, slope: 0.017, shrink: -0.4 };

function randomRows(rows: number, rng: ReturnType<typeof createRng>): Float32Array {
  return Float32Array.from({ length: rows * G }, () => 2 * rng.next() - 1);
}

const softplus = (x: number) => Math.log1p(Math.exp(x));

/** The prediction by the formula of c3tl.ts, from the support rows: Q*G. */
function reference(
  rows: { o: Float32Array; m: Float32Array; d: Float32Array },
  query: { m: Float32Array; d: Float32Array },
) {
  const delta = GATE_SCALE * gates.denoise;
  const x = (m: number, d: number) => m + delta * d;
  const shift = new Float64Array(C * G);
  const xbar = new Float64Array(C * G);
  const cov = new Float64Array(C * G);
  const variance = new Float64Array(C * G);
  for (let c = 0; c < C; c++) {
    const members = supportContexts.flatMap((cc, r) => (cc === c ? [r] : []));
    for (let g = 0; g < G; g++) {
      const xs = members.map((r) => x(rows.m[r * G + g], rows.d[r * G + g]));
      const res = members.map((r, k) => rows.o[r * G + g] - xs[k]);
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      shift[c * G + g] = mean(res);
      xbar[c * G + g] = mean(xs);
      cov[c * G + g] = mean(res.map((r, k) => r * xs[k])) - mean(res) * mean(xs);
      variance[c * G + g] = Math.max(0, mean(xs.map((v) => v * v)) - mean(xs) ** 2);
    }
  }
  const out = new Float64Array(Q * G);
  for (let q = 0; q < Q; q++) {
    const c = queryContexts[q];
    let meanVariance = 0;
    for (let g = 0; g < G; g++) meanVariance += variance[c * G + g] / G;
    for (let g = 0; g < G; g++) {
      const i = c * G + g;
      const beta =
        (cov[i] / (variance[i] + meanVariance * softplus(gates.shrink) + 1e-6)) * GATE_SCALE * gates.slope;
      const xq = x(query.m[q * G + g], query.d[q * G + g]);
      out[q * G + g] = xq + (1 - GATE_SCALE * gates.shift) * shift[i] + beta * (xq - xbar[i]);
    }
  }
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('forward from support moments', () => {
  it('equals the formula over the support rows with every gate open (within 1e-5)', () => {
    const rng = createRng(11);
    const rows = { o: randomRows(9, rng), m: randomRows(9, rng), d: randomRows(9, rng) };
    const query = { m: randomRows(Q, rng), d: randomRows(Q, rng) };
    // Means, then central (co)variances, per context and gene.
    const moments = Object.fromEntries(SUPPORT_MOMENT_NAMES.map((n) => [n, new Float32Array(C * G)]));
    for (let c = 0; c < C; c++) {
      const members = supportContexts.flatMap((cc, r) => (cc === c ? [r] : []));
      for (let g = 0; g < G; g++) {
        const column = (v: Float32Array) => members.map((r) => v[r * G + g]);
        const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
        const cov = (a: number[], b: number[]) => mean(a.map((x, k) => x * b[k])) - mean(a) * mean(b);
        const [o, m, d] = [column(rows.o), column(rows.m), column(rows.d)];
        const values = {
          o: mean(o),
          m: mean(m),
          d: mean(d),
          om: cov(o, m),
          od: cov(o, d),
          mm: cov(m, m),
          md: cov(m, d),
          dd: cov(d, d),
        };
        for (const n of SUPPORT_MOMENT_NAMES) moments[n][c * G + g] = values[n];
      }
    }
    const arch: C3tlArchitecture = { genes: G, basisRank: 2, embedDim: 4, hidden: 4 };
    const values = initialParameterValues(arch, new Float32Array(G * 2), createRng(1));
    values.denoise_gate.fill(gates.denoise);
    values.shift_gate.fill(gates.shift);
    values.slope_gate.fill(gates.slope);
    values.slope_shrink.fill(gates.shrink);
    const params = createParameters(arch, values, [{ begin: 0, size: G }]);
    const before = tf.memory().numTensors;
    const predicted = tf.tidy(() => {
      const inputs: BlockInputs = {
        support: Object.fromEntries(
          SUPPORT_MOMENT_NAMES.map((n) => [n, tf.tensor2d(moments[n], [C, G])]),
        ) as unknown as SupportMoments,
        queryMean: tf.tensor2d(query.m, [Q, G]),
        queryDenoise: tf.tensor2d(query.d, [Q, G]),
        geneWeights: tf.ones([G]),
      };
      const select = tf.oneHot(tf.tensor1d(queryContexts, 'int32'), C).toFloat() as tf.Tensor2D;
      const switches = { ...DEFAULT_SWITCHES, network: false };
      return forward(params, undefined, { queryContextOneHot: select }, inputs, { block: 0, switches });
    });
    const got = predicted.dataSync();
    predicted.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const want = reference(rows, query);
    for (let i = 0; i < Q * G; i++) expect(got[i]).toBeCloseTo(want[i], 5);
    disposeParameters(params);
  });
});

describe('supportMomentValues', () => {
  const { tensor } = simulate({ contexts: 3, perturbations: 30, genes: 40, counts: false, seed: 2 });
  const P = 30;
  const mask = tensor.observed.slice();
  const genes = Int32Array.from({ length: 40 }, (_, g) => (g * 7) % 40);
  const host = hostData(tensor, mask, geneStandardisation(tensor, mask), genes);
  const block = { begin: 5, size: 20 };
  const support = (perContext: number[][]) => {
    const weights = new Float32Array(3 * P);
    const pairs: number[] = [];
    perContext.forEach((ps, c) =>
      ps.forEach((p) => {
        weights[c * P + p] = 1 / ps.length;
        pairs.push(c * P + p);
      }),
    );
    return { weights, pairs };
  };

  it('gives a context with one support pair exactly zero (co)variances, so the slope has nothing to divide', () => {
    const moments = supportMomentValues(host, support([[3], [4], [5]]), block);
    for (const name of ['om', 'od', 'mm', 'md', 'dd'] as const)
      expect(Array.from(moments[name])).toEqual(new Array(3 * block.size).fill(0));
    expect(moments.o.some((v) => v !== 0)).toBe(true);
  });

  it('equals two-pass means and central moments over the support rows (within 1e-6)', () => {
    const chosen = [
      [1, 2, 3, 8],
      [0, 9, 12],
      [4, 5, 6, 7, 20, 21],
    ];
    const moments = supportMomentValues(host, support(chosen), block);
    // The same rows from the full-block inputs of those pairs: o scaled effect, m and d as in c3tl.ts.
    const G = 40;
    chosen.forEach((ps, c) => {
      for (let i = 0; i < block.size; i++) {
        const g = block.begin + i;
        const rows = ps.map((p) => {
          const pair = c * P + p;
          const o = tensor.values[pair * G + genes[g]] * host.inverseScale[g];
          const inv = host.invOther[pair];
          const m = (host.sum[p * G + g] - o) * inv;
          const nu = host.noiseVariance[g] * inv + 1e-6;
          return { o, m, d: (-m * nu) / (m * m + nu) };
        });
        const mean = (f: (r: { o: number; m: number; d: number }) => number) =>
          rows.reduce((a, r) => a + f(r), 0) / rows.length;
        const [mo, mm, md] = [mean((r) => r.o), mean((r) => r.m), mean((r) => r.d)];
        const at = c * block.size + i;
        expect(moments.o[at]).toBeCloseTo(mo, 6);
        expect(moments.m[at]).toBeCloseTo(mm, 6);
        expect(moments.d[at]).toBeCloseTo(md, 6);
        expect(moments.om[at]).toBeCloseTo(
          mean((r) => (r.o - mo) * (r.m - mm)),
          6,
        );
        expect(moments.dd[at]).toBeCloseTo(
          mean((r) => (r.d - md) ** 2),
          6,
        );
        expect(moments.mm[at]).toBeCloseTo(
          mean((r) => (r.m - mm) ** 2),
          6,
        );
      }
    });
  });
});
