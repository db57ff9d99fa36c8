import { existsSync, openAsBlob } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../../../src/core/data/load';
import { evaluate, evaluateTarget, predictTarget, sweepSupport } from '../../../../src/core/eval/protocol';
import { RunOptionError } from '../../../../src/core/eval/switches';
import { METHODS } from '../../../../src/core/eval/methods';
import { METRICS } from '../../../../src/core/eval/metric-info';
import { simulate } from '../../../../src/core/simulate/simulator';

const small = simulate({ contexts: 4, perturbations: 40, genes: 120, seed: 3, counts: false }).tensor;
const run = { supportFraction: 0.25, seed: 1, preset: 'small' as const, geneLimit: 100, maxEpochs: 2 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('evaluateTarget', () => {
  it('reports every method and metric as a finite number, on the held-out pairs only', async () => {
    const result = await evaluateTarget(small, 1, run);
    expect(result.context).toBe('ctx02');
    expect(result.support + result.query).toBe(40);
    expect(result.genes).toHaveLength(100);
    expect(result.observed).toHaveLength(result.query * 100);
    for (const method of METHODS) {
      expect(result.predictions[method]).toHaveLength(result.query * 100);
      expect(result.perPair[method]).toHaveLength(result.query);
      for (const metric of METRICS) expect(Number.isFinite(result.metrics[method][metric])).toBe(true);
    }
    expect(result.train.backend).toBe('cpu');
    expect(result.train.epochs).toBeGreaterThan(0);
  });

  it('leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    await evaluateTarget(small, 0, run);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives the same numbers for the same seed and data', async () => {
    const a = await evaluateTarget(small, 2, run);
    const b = await evaluateTarget(small, 2, run);
    expect(b.metrics).toEqual(a.metrics);
  });
});

describe('evaluate', () => {
  it('builds the CLI report over all targets with means', async () => {
    const report = await evaluate(small, 'all', { ...run, maxEpochs: 1 });
    expect(report.dataset).toEqual({ contexts: 4, perturbations: 40, genes: 120, pairs: 160 });
    expect(report.targets.map((t) => t.context)).toEqual(['ctx01', 'ctx02', 'ctx03', 'ctx04']);
    const mean = report.targets.reduce((s, t) => s + t.metrics.ridge.mae, 0) / 4;
    expect(report.mean.ridge.mae).toBeCloseTo(mean, 10);
    expect(report.train.backend).toBe('cpu');
  });

  it('names the contexts when the target does not exist', async () => {
    await expect(evaluate(small, 'nope', run)).rejects.toThrow(/ctx01, ctx02/);
  });
});

describe('model switches', () => {
  it('pass through to training, and an unknown name fails the whole run instead of skipping targets', async () => {
    const switchesOf = (file: string | undefined): Record<string, boolean> =>
      (JSON.parse(file ?? '{}') as { architecture: { switches: Record<string, boolean> } }).architecture
        .switches;
    const plain = await evaluateTarget(small, 1, run, {}, { keepModelFile: true });
    const [name, value] = Object.entries(switchesOf(plain.modelFile))[0];
    const flipped = await evaluateTarget(
      small,
      1,
      { ...run, switches: { [name]: !value } },
      {},
      { keepModelFile: true },
    );
    expect(switchesOf(flipped.modelFile)[name]).toBe(!value);
    await expect(evaluate(small, 'all', { ...run, switches: { nope: true } })).rejects.toThrow(
      RunOptionError,
    );
  });
});

describe('predictTarget', () => {
  it('predicts exactly the perturbations measured elsewhere but not in the target', async () => {
    const sparse = simulate({
      contexts: 3,
      perturbations: 30,
      genes: 80,
      seed: 5,
      observedFraction: 0.7,
      counts: false,
    });
    const t = sparse.tensor;
    const P = t.perturbations.length;
    const target = 0;
    const expected = t.perturbations.filter(
      (_, p) => !t.observed[target * P + p] && [1, 2].some((c) => t.observed[c * P + p]),
    );
    const result = await predictTarget(t, target, { seed: 1, preset: 'small', geneLimit: 0, maxEpochs: 1 });
    expect(result.perturbations).toEqual(expected);
    expect(result.predictions.c3tl).toHaveLength(expected.length * 80);
    expect(result.predictions.c3tl.every(Number.isFinite)).toBe(true);
  });
});

describe('sweepSupport', () => {
  it('grows the support with the fraction', async () => {
    const points = await sweepSupport(small, 0, [0.1, 0.3], {
      seed: 1,
      preset: 'small',
      geneLimit: 50,
      maxEpochs: 1,
    });
    expect(points.map((p) => p.fraction)).toEqual([0.1, 0.3]);
    expect(points[0].support).toBeLessThan(points[1].support);
  });

  it('scores every fraction on the same held-out pairs: those the largest support leaves', async () => {
    const options = { seed: 1, preset: 'small' as const, geneLimit: 50, maxEpochs: 0 };
    const points = await sweepSupport(small, 0, [0.1, 0.3], options);
    const atLargest = await evaluateTarget(small, 0, { ...options, supportFraction: 0.3 });
    // With no training, each point is the baselines on that query: the 30% point must equal a plain evaluation.
    expect(points[1].metrics.additive).toEqual(atLargest.metrics.additive);
    const atSmallest = await evaluateTarget(small, 0, { ...options, supportFraction: 0.1 });
    expect(points[0].metrics.perturb_mean).not.toEqual(atSmallest.metrics.perturb_mean);
  });
});

const PBMC = '../shared/data/pbmc-drugs/effects.csv.gz';
if (!existsSync(PBMC)) console.warn(`skipping the pbmc reference check: ${PBMC} is absent`);

describe.skipIf(!existsSync(PBMC))('pbmc-drugs baselines (real data)', () => {
  it('are near the reference numbers of ../shared/data/README.md', async () => {
    const blob = await openAsBlob(PBMC);
    const loaded = await loadDataset([
      { name: 'effects.csv.gz', size: blob.size, stream: () => blob.stream() },
    ]);
    if (!loaded.ok) throw new Error(loaded.error.message);
    const report = await evaluate(loaded.data.tensor, 'all', {
      supportFraction: 0.1,
      seed: 1,
      preset: 'small',
      geneLimit: 2000,
      maxEpochs: 0,
    });
    // Reference: one random split, mean over the 4 targets; different splits move them by a few hundredths.
    const reference = {
      perturb_mean: [0.33, 0.32],
      context_mean: [0.29, 0],
      additive: [0.39, 0.29],
      knn_residual: [0.4, 0.31],
    } as const;
    for (const [method, [pearson, centred]] of Object.entries(reference)) {
      const m = report.mean[method as keyof typeof reference];
      expect(Math.abs(m.pearson - pearson), `${method} pearson ${m.pearson}`).toBeLessThan(0.05);
      expect(Math.abs(m.pearson_centered - centred), `${method} centred ${m.pearson_centered}`).toBeLessThan(
        0.05,
      );
    }
  });
});
