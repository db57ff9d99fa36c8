import { describe, expect, it } from 'vitest';
import type { Method } from '../../../../src/core/eval/methods';
import type { MetricValues } from '../../../../src/core/eval/metric-info';
import { METHODS } from '../../../../src/core/eval/methods';
import { METRICS } from '../../../../src/core/eval/metric-info';
import { formatNumber, formatPercent, formatSeconds } from '../../../../src/ui/lib/format';
import {
  bestPerMetric,
  etaSeconds,
  predictionsCsv,
  rankPairs,
  heldGenesText,
  referenceMixText,
  robustLimit,
  slopeFreeText,
  sparseBaseText,
  strongestRows,
  sweepSeries,
  topGenesOfRow,
  topVariableGenes,
  verdict,
} from '../../../../src/ui/lib/results';
import { bestBaseline } from '../../../../src/core/eval/best-baseline';
import { plural } from '../../../../src/core/text';

function metricsWith(
  pc: Partial<Record<Method, number>>,
  extra: Partial<Record<Method, Partial<MetricValues>>> = {},
) {
  const out = {} as Record<Method, MetricValues>;
  for (const m of METHODS) {
    const values = Object.fromEntries(METRICS.map((k) => [k, 0.5])) as MetricValues;
    out[m] = { ...values, pearson_centered: pc[m] ?? 0.1, ...extra[m] };
  }
  return out;
}

describe('formatNumber', () => {
  it.each([
    [0.987654, '0.9877'],
    [0.0012346, '0.001235'],
    [-0.5, '-0.5'],
    [0, '0'],
    [12345.6, '12350'],
    [Number.NaN, 'n/a'],
    [Number.POSITIVE_INFINITY, 'n/a'],
  ])('%s -> %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });
  it('round-trips through Number within 4 significant digits', () => {
    expect(Math.abs(Number(formatNumber(0.123456)) - 0.123456)).toBeLessThan(1e-4);
  });
});

describe('other formats', () => {
  it.each([
    [0.84, '0.8 s'],
    [42.4, '42 s'],
    [185, '3 min 05 s'],
    [-1, '–'],
  ])('formatSeconds(%s) = %s', (s, text) => expect(formatSeconds(s)).toBe(text));
  it('formats percent and plurals', () => {
    expect(formatPercent(0.05)).toBe('5%');
    expect(formatPercent(0.125)).toBe('12.5%');
    expect(plural(1, 'gene')).toBe('1 gene');
    expect(plural(2000, 'gene')).toBe('2,000 genes');
  });
});

describe('bestPerMetric', () => {
  it('takes the max for correlations and the min for errors, ignoring NaN', () => {
    const metrics = metricsWith(
      { c3tl: 0.4, ridge: 0.3 },
      { ridge: { mse: 0.1, mae: Number.NaN }, c3tl: { mse: 0.2, mae: 0.3 }, additive: { mae: 0.2 } },
    );
    const best = bestPerMetric(metrics);
    expect(best.pearson_centered).toBe('c3tl');
    expect(best.mse).toBe('ridge');
    expect(best.mae).toBe('additive');
  });
  it('gives null when a column has no finite value', () => {
    const metrics = metricsWith({});
    for (const m of METHODS) metrics[m].discrimination = Number.NaN;
    expect(bestPerMetric(metrics).discrimination).toBeNull();
  });
});

describe('bestBaseline', () => {
  it('picks the highest centred Pearson among baselines only', () => {
    expect(bestBaseline(metricsWith({ c3tl: 0.9, ridge: 0.3, knn_residual: 0.35 }))).toBe('knn_residual');
  });
  it('skips NaN values', () => {
    expect(bestBaseline(metricsWith({ additive: Number.NaN, ridge: 0.2 }))).toBe('ridge');
  });
});

describe('verdict', () => {
  /** A view whose per-pair centred Pearson is c3tl[i] for C3TL and additive[i] for Additive (the best other). */
  function view(c3tl: number[], additive: number[]) {
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const metrics = metricsWith({ c3tl: mean(c3tl), additive: mean(additive) });
    const perPair = Object.fromEntries(
      METHODS.map((m) => [m, c3tl.map(() => ({ ...metrics[m] }))]),
    ) as Record<Method, MetricValues[]>;
    c3tl.forEach((v, i) => (perPair.c3tl[i].pearson_centered = v));
    additive.forEach((v, i) => (perPair.additive[i].pearson_centered = v));
    return { query: c3tl.length, context: 'ctx01', bestBaseline: 'additive' as Method, metrics, perPair };
  }

  it('is "better" when the paired 95% interval lies above 0, and states the interval', () => {
    // Differences 0.1, 0.12, 0.14, 0.16, 0.18: mean 0.14, sd 0.0316, interval [0.1007, 0.1793].
    const v = verdict(view([0.5, 0.52, 0.54, 0.56, 0.58], [0.4, 0.4, 0.4, 0.4, 0.4]));
    expect(v.kind).toBe('better');
    expect(v.difference.mean).toBeCloseTo(0.14, 10);
    expect(v.difference.lo).toBeCloseTo(0.14 - (2.776445 * Math.sqrt(0.001)) / Math.sqrt(5), 5);
    expect(v.text).toMatch(/C3TL is better than the best other method \(Additive\)/);
    expect(v.text).toContain('5 held-out perturbations in ctx01');
    expect(v.text).toContain('95% interval [+0.1007, +0.1793]');
  });

  it('is "worse" when the interval lies below 0, and names the method to prefer', () => {
    const v = verdict(view([0.3, 0.31, 0.29, 0.3], [0.5, 0.52, 0.49, 0.51]));
    expect(v.kind).toBe('worse');
    expect(v.difference.hi).toBeLessThan(0);
    expect(v.text).toMatch(/C3TL is worse than the best other method \(Additive\).*Prefer Additive/);
  });

  it('is "no clear difference" when the interval includes 0, even with a sizeable mean difference', () => {
    const v = verdict(view([0.5, 0.6, 0.7], [0.4, 0.4, 0.4]));
    expect(v.difference.mean).toBeCloseTo(0.2, 10);
    expect(v.difference.lo).toBeLessThan(0);
    expect(v.kind).toBe('unclear');
    expect(v.text).toMatch(/No clear difference between C3TL and the best other method \(Additive\)/);
    expect(v.text).toMatch(/interval \[-0\.04\d+, \+0\.44\d+\] includes 0/);
  });

  it('does not claim anything with fewer than two comparable pairs', () => {
    const single = verdict(view([0.9], [0.1]));
    expect(single.kind).toBe('unclear');
    expect(single.text).toMatch(/No verdict/);
    const missing = verdict(view([0.5, Number.NaN], [0.1, 0.2]));
    expect(missing.kind).toBe('unclear');
    expect(missing.difference.n).toBe(1);
  });
});

describe('rankPairs', () => {
  it('sorts by C3TL centred Pearson, NaN last, ties by input order', () => {
    const row = (pc: number) => ({ ...metricsWith({}).c3tl, pearson_centered: pc });
    const perPair = Object.fromEntries(
      METHODS.map((m) => [m, [row(0.1), row(0.1), row(0.1), row(0.1)]]),
    ) as Record<Method, MetricValues[]>;
    perPair.c3tl = [row(0.2), row(Number.NaN), row(0.9), row(0.2)];
    perPair.ridge = [row(0.3), row(0.3), row(0.4), row(0.5)];
    const ranked = rankPairs({ perPair, queryPerturbations: ['a', 'b', 'c', 'd'], bestBaseline: 'ridge' });
    expect(ranked.map((r) => r.name)).toEqual(['c', 'a', 'd', 'b']);
    expect(ranked[0]).toEqual({ index: 2, name: 'c', c3tl: 0.9, baseline: 0.4 });
  });
});

describe('matrix helpers (rows x genes, row-major)', () => {
  // 3 rows x 4 genes; gene 2 varies most, row 1 is strongest.
  const m = Float32Array.from([0, 1, -3, 0, 0.5, 1, 5, -2, 0, 1, 0, 0]);
  it('topVariableGenes orders genes by variance across rows', () => {
    expect(topVariableGenes(m, 3, 4, 2)).toEqual([2, 3]);
    expect(topVariableGenes(m, 3, 4, 10)).toHaveLength(4);
  });
  it('strongestRows orders rows by L2 norm', () => {
    expect(strongestRows(m, 3, 4, 3)).toEqual([1, 0, 2]);
  });
  it('topGenesOfRow orders genes of one row by |value|', () => {
    expect(topGenesOfRow(m, 1, 4, 3)).toEqual([2, 3, 1]);
  });
});

describe('robustLimit', () => {
  it('ignores the most extreme 2% of |values|', () => {
    const values = Array.from({ length: 100 }, (_, i) => (i % 2 ? -1 : 1) * (i + 1));
    values[0] = 1e6;
    expect(robustLimit(values)).toBe(100);
  });
  it('falls back to 1 when everything is zero or missing', () => {
    expect(robustLimit([])).toBe(1);
    expect(robustLimit([0, 0, Number.NaN])).toBe(1);
  });
});

describe('etaSeconds', () => {
  it('extrapolates the time per epoch to the epoch cap', () => {
    const log = { epoch: 10, maxEpochs: 50, trainLoss: 1, valLoss: 1, bestEpoch: 9, elapsedSeconds: 5 };
    expect(etaSeconds(log)).toBeCloseTo(20);
    expect(etaSeconds({ ...log, epoch: 0 })).toBeNaN();
  });
});

describe('predictionsCsv', () => {
  it('writes a wide table with quoted labels', () => {
    const csv = predictionsCsv({
      context: 'ctx,1',
      support: 3,
      perturbations: ['KD_A', 'DRUG "x"'],
      genes: ['G1', 'G2'],
      predictions: Float32Array.from([0.5, -1, 2, 0]),
      train: {
        backend: 'cpu',
        seconds: 1,
        epochs: 1,
        bestEpoch: 1,
        parameters: 1,
        trainedParameters: 1,
        history: [],
      },
    });
    expect(csv).toBe('context,perturbation,G1,G2\n"ctx,1",KD_A,0.5,-1\n"ctx,1","DRUG ""x""",2,0\n');
  });
});

describe('sweepSeries', () => {
  it('orders points by support and takes the best baseline per point', () => {
    const series = sweepSeries([
      { fraction: 0.3, support: 90, metrics: metricsWith({ c3tl: 0.6, ridge: 0.5 }) },
      { fraction: 0.01, support: 3, metrics: metricsWith({ c3tl: 0.2, additive: 0.25 }) },
    ]);
    expect(series.support).toEqual([3, 90]);
    expect(series.c3tl).toEqual([0.2, 0.6]);
    expect(series.baseline).toEqual([0.25, 0.5]);
    expect(series.baselineName).toEqual(['Additive', 'Ridge']);
  });
});

describe('heldGenesText', () => {
  it('counts the held genes and says what the model did with them; nothing when there are none', () => {
    expect(heldGenesText(12)).toMatch(
      /^12 genes have the same effect on every support perturbation .*predict that value/,
    );
    expect(heldGenesText(1)).toMatch(/^1 gene has the same effect/);
    expect(heldGenesText(0)).toBeUndefined();
    expect(heldGenesText(undefined)).toBeUndefined();
  });
});

describe('sparseBaseText', () => {
  it('says when the fixed form read sparse-denoised means, and nothing otherwise', () => {
    expect(sparseBaseText(true)).toMatch(
      /denoised each perturbation's mean .* as sparse.*preferred to the raw means/,
    );
    expect(sparseBaseText(false)).toBeUndefined();
    expect(sparseBaseText(undefined)).toBeUndefined();
  });
});

describe('slopeFreeText', () => {
  it('says when C3TL sits on the fixed form without its slope, and nothing otherwise', () => {
    expect(slopeFreeText(true)).toMatch(
      /without the support slope.*held-out pairs.*Calibrated keeps the slope/,
    );
    expect(slopeFreeText(false)).toBeUndefined();
    expect(slopeFreeText(undefined)).toBeUndefined();
  });
});

describe('referenceMixText', () => {
  it('names the reference contexts by the size of their weight, with signs, and counts the rest', () => {
    const mix = [
      { context: 'a', weight: 0.05 },
      { context: 'b', weight: -0.4 },
      { context: 'c', weight: 0.62 },
      { context: 'd', weight: 0.01 },
      { context: 'e', weight: -0.02 },
      { context: 'f', weight: 0.003 },
      { context: 'g', weight: 0 },
    ];
    const text = referenceMixText(mix) ?? '';
    expect(text).toMatch(
      /mix of the other contexts: c \+0\.62, b −0\.40, a \+0\.05, e −0\.02, d \+0\.01, and 2 more\./,
    );
  });

  it('says whether the contexts were read denoised as sparse', () => {
    const mix = [{ context: 'a', weight: 0.5 }];
    expect(referenceMixText(mix)).toMatch(/in particular\)\.$/);
    expect(referenceMixText(mix, false)).not.toMatch(/sparse/);
    expect(referenceMixText(mix, true)).toMatch(/denoised as sparse .* preferred to the raw effects\.$/);
  });

  it('says nothing without a mix', () => {
    expect(referenceMixText(undefined)).toBeUndefined();
    expect(referenceMixText([])).toBeUndefined();
  });
});
