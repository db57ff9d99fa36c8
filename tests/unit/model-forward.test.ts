import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BlockInputs, C3tlArchitecture, SupportMoments } from '../../src/core/model/c3tl';
import {
  GATE_SCALE,
  SUPPORT_MOMENT_NAMES,
  createParameters,
  forward,
  initialParameterValues,
} from '../../src/core/model/c3tl';
import { createRng } from '../../src/core/random';

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
    const moments = Object.fromEntries(SUPPORT_MOMENT_NAMES.map((n) => [n, new Float32Array(C * G)]));
    supportContexts.forEach((c, r) => {
      const w = 1 / supportContexts.filter((cc) => cc === c).length;
      for (let g = 0; g < G; g++) {
        const [o, m, d] = [rows.o[r * G + g], rows.m[r * G + g], rows.d[r * G + g]];
        const terms = { o, m, d, om: o * m, od: o * d, mm: m * m, md: m * d, dd: d * d };
        for (const n of SUPPORT_MOMENT_NAMES) moments[n][c * G + g] += w * terms[n];
      }
    });
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
      const switches = { denoise: true, shift: true, slope: true, network: false };
      return forward(params, undefined, { queryContextOneHot: select }, inputs, { block: 0, switches });
    });
    const got = predicted.dataSync();
    predicted.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const want = reference(rows, query);
    for (let i = 0; i < Q * G; i++) expect(got[i]).toBeCloseTo(want[i], 5);
    tf.dispose(Object.values(params.shared));
    tf.dispose(Object.values(params.blocks[0]));
  });
});
