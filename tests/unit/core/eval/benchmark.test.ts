import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  runBenchmark,
  summariseRows,
  summariseTruth,
  type BenchmarkRow,
} from '../../../../src/core/eval/benchmark';
import { METHODS, OTHER_METHODS, REFERENCE_METHOD, type Method } from '../../../../src/core/eval/methods';
import { METRICS, type MetricValues } from '../../../../src/core/eval/metric-info';
import { simulate } from '../../../../src/core/simulate/simulator';
import { computeMetrics } from '../../../../src/core/eval/metrics';
import { truthRows } from '../../../../src/core/eval/truth';
import type { TargetEvaluation } from '../../../../src/core/eval/results';

/** A row in which every metric of a method equals value[method] (default 0). */
function row(target: string, seed: number, value: Partial<Record<Method, number>>): BenchmarkRow {
  const metrics = {} as Record<Method, MetricValues>;
  for (const m of METHODS) {
    metrics[m] = Object.fromEntries(METRICS.map((k) => [k, value[m] ?? 0])) as MetricValues;
  }
  return { target, seed, support: 3, query: 27, metrics };
}

describe('summariseRows', () => {
  const rows = [
    row('a', 1, { c3tl: 0.5, additive: 0.4 }),
    row('b', 1, { c3tl: 0.3, additive: 0.1 }),
    row('a', 2, { c3tl: 0.6, additive: 0.3 }),
  ];
  const summary = summariseRows(rows);

  it('gives mean and sample sd per method and metric', () => {
    expect(summary.rows).toBe(3);
    expect(summary.methods.c3tl.mean.pearson_centered).toBeCloseTo(0.4666667, 6);
    expect(summary.methods.c3tl.sd.mae).toBeCloseTo(0.1527525, 6);
    expect(summary.methods.ridge.sd.mse).toBe(0);
  });

  it('pairs the reference with every other method, row by row, with a t-interval', () => {
    expect(Object.keys(summary.paired).sort()).toEqual([...OTHER_METHODS].sort());
    expect(OTHER_METHODS).not.toContain(REFERENCE_METHOD);
    // Differences 0.1, 0.2, 0.3: mean 0.2, sd 0.1, t_{0.975, 2} = 4.303.
    const d = summary.paired.additive.pearson_centered;
    expect(d.n).toBe(3);
    expect(d.mean).toBeCloseTo(0.2, 10);
    const half = (4.302653 * 0.1) / Math.sqrt(3);
    expect(d.lo).toBeCloseTo(0.2 - half, 5);
    expect(d.hi).toBeCloseTo(0.2 + half, 5);
  });

  it('leaves the interval unknown (NaN) for a single row', () => {
    const one = summariseRows([rows[0]]);
    expect(one.paired.additive.mse.mean).toBeCloseTo(0.1, 10);
    expect(one.paired.additive.mse.lo).toBeNaN();
    expect(one.methods.c3tl.sd.mse).toBeNaN();
  });
});

describe('runBenchmark', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('evaluates every target for every seed and support, drawing a simulated world per seed', async () => {
    const drawn: number[] = [];
    const runs: string[] = [];
    const report = await runBenchmark(
      [
        {
          name: 'tiny',
          perSeed: true,
          draw: (seed) => {
            drawn.push(seed);
            return {
              tensor: simulate({ contexts: 3, perturbations: 30, genes: 50, seed, counts: false }).tensor,
            };
          },
        },
      ],
      { seeds: [1, 2], supports: [0.2, 0.4], target: 'all', preset: 'small', geneLimit: 30, maxEpochs: 1 },
      { onRun: (at) => runs.push(`${at.seed}/${at.support}`) },
    );
    expect(drawn).toEqual([1, 2]);
    expect(runs).toEqual(['1/0.2', '1/0.4', '2/0.2', '2/0.4']);
    expect(report.datasets.map((d) => d.support)).toEqual([0.2, 0.4]);
    for (const cell of report.datasets) {
      expect(cell.rows).toBe(6);
      expect(cell.targetRows.map((r) => `${r.target}@${r.seed}`)).toEqual([
        'ctx01@1',
        'ctx02@1',
        'ctx03@1',
        'ctx01@2',
        'ctx02@2',
        'ctx03@2',
      ]);
      expect(cell.dataset).toMatchObject({ contexts: 3, perturbations: 30, genes: 50 });
      for (const method of OTHER_METHODS) {
        const d = cell.paired[method].pearson_centered;
        expect(d.n).toBe(6);
        expect(d.lo).toBeLessThanOrEqual(d.mean);
        expect(d.hi).toBeGreaterThanOrEqual(d.mean);
      }
    }
    expect(report.datasets[0].targetRows[0].support).toBeLessThan(report.datasets[1].targetRows[0].support);
    expect(report.datasets[0].truth).toBeUndefined();
    for (const r of report.datasets[0].targetRows) {
      expect(r.train?.epochs).toBe(1);
      expect(r.train?.bestEpoch).toBeLessThanOrEqual(1);
      expect(r.train?.transfer?.scale).toEqual(expect.any(Number));
    }
  });

  it('scores simulated data against its truth: the ceiling from the same pairs, every method against the truth', async () => {
    const sim = simulate({ contexts: 3, perturbations: 30, genes: 50, seed: 3, counts: false });
    const seen: TargetEvaluation[] = [];
    const report = await runBenchmark(
      [{ name: 'tiny', perSeed: true, draw: () => ({ tensor: sim.tensor, truth: sim.truth }) }],
      { seeds: [1], supports: [0.3], target: 'all', preset: 'small', geneLimit: 30, maxEpochs: 1 },
      { onTarget: (_, evaluation) => seen.push(evaluation) },
    );
    const cell = report.datasets[0];
    expect(cell.truth?.vsTruth.rows).toBe(3);
    expect(seen).toHaveLength(3);
    for (const [i, evaluation] of seen.entries()) {
      const context = sim.tensor.contexts.indexOf(evaluation.context);
      const G = evaluation.genes.length;
      const rowsOf = (names: string[]) => truthRows(sim.tensor, sim.truth, context, names, evaluation.genes);
      const support = rowsOf(evaluation.supportPerturbations);
      const S = evaluation.supportPerturbations.length;
      expect(S).toBe(evaluation.support);
      // The truth plus the context's offset measured on the support (observed minus true support means).
      const truth = rowsOf(evaluation.queryPerturbations).map((v, i) => {
        let trueMean = 0;
        for (let s = 0; s < S; s++) trueMean += support[s * G + (i % G)] / S;
        return v + evaluation.contextMean[i % G] - trueMean;
      });
      const shape = {
        contextMean: evaluation.contextMean,
        queryCount: evaluation.query,
        geneCount: evaluation.genes.length,
      };
      const ceiling = computeMetrics({ predicted: truth, observed: evaluation.observed, ...shape }).mean;
      const c3tl = computeMetrics({ predicted: evaluation.predictions.c3tl, observed: truth, ...shape }).mean;
      const row = cell.targetRows[i];
      expect(row.truth?.ceiling.pearson_centered).toBeCloseTo(ceiling.pearson_centered, 10);
      expect(row.truth?.vsTruth.c3tl.pearson_centered).toBeCloseTo(c3tl.pearson_centered, 10);
      // The truth is not the observations: scoring against it changes the numbers.
      expect(row.truth?.vsTruth.c3tl.pearson_centered).not.toBeCloseTo(row.metrics.c3tl.pearson_centered, 6);
    }
    const ceilings = cell.targetRows.map((r) => r.truth?.ceiling.pearson_centered ?? NaN);
    expect(cell.truth?.ceiling.mean.pearson_centered).toBeCloseTo(
      ceilings.reduce((a, b) => a + b, 0) / 3,
      10,
    );
    expect(cell.truth?.vsTruth.paired.calibrated.pearson_centered.n).toBe(3);
  });
});

describe('summariseTruth', () => {
  const scores = (value: Partial<Record<Method, number>>) => row('x', 1, value).metrics;
  const withTruth = (
    r: BenchmarkRow,
    ceiling: number,
    vs: Partial<Record<Method, number>>,
  ): BenchmarkRow => ({
    ...r,
    truth: { ceiling: scores({ c3tl: ceiling }).c3tl, vsTruth: scores(vs) },
  });

  it('summarises the ceiling and pairs the methods against the truth', () => {
    const rows = [
      withTruth(row('a', 1, { c3tl: 0.5 }), 0.7, { c3tl: 0.6, calibrated: 0.5 }),
      withTruth(row('b', 1, { c3tl: 0.3 }), 0.9, { c3tl: 0.8, calibrated: 0.6 }),
    ];
    const summary = summariseTruth(rows);
    expect(summary?.ceiling.mean.pearson_centered).toBeCloseTo(0.8, 10);
    expect(summary?.vsTruth.methods.c3tl.mean.pearson_centered).toBeCloseTo(0.7, 10);
    expect(summary?.vsTruth.paired.calibrated.pearson_centered.mean).toBeCloseTo(0.15, 10);
  });

  it('is undefined when any row has no truth (real data)', () => {
    expect(summariseTruth([withTruth(row('a', 1, {}), 0.7, {}), row('b', 1, {})])).toBeUndefined();
    expect(summariseTruth([])).toBeUndefined();
  });
});
