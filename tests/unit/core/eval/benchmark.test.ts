import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runBenchmark, summariseRows, type BenchmarkRow } from '../../../../src/core/eval/benchmark';
import { METHODS, OTHER_METHODS, REFERENCE_METHOD, type Method } from '../../../../src/core/eval/methods';
import { METRICS, type MetricValues } from '../../../../src/core/eval/metric-info';
import { simulate } from '../../../../src/core/simulate/simulator';

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
          tensorFor: (seed) => {
            drawn.push(seed);
            return simulate({ contexts: 3, perturbations: 30, genes: 50, seed, counts: false }).tensor;
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
  });
});
