import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BenchColumn, MemorySample } from '../../../src/core/bench';
import {
  BENCH_COLUMNS,
  BENCH_SIZES,
  benchOne,
  benchTable,
  fileSizeTensor,
  isBenchSize,
  simulatedSizeTensor,
} from '../../../src/core/bench';
import type { InputFile } from '../../../src/core/data/load';
import { AbortError, DEFAULT_TRAIN_OPTIONS } from '../../../src/core/model/train';
import { simulate } from '../../../src/core/simulate/simulator';

const tiny = () =>
  simulate({ contexts: 3, perturbations: 40, genes: 50, counts: false, dispersion: 0.02, seed: 5 }).tensor;
const MiB = 1024 * 1024;

/** A memory sampler whose readings grow by a known step, so the peak is the last reading. */
function growingSampler(rss: boolean) {
  const seen: MemorySample[] = [];
  const sample = (): MemorySample => {
    const n = seen.length + 1;
    const reading = rss ? { heapBytes: n * MiB, rssBytes: 10 * n * MiB } : { heapBytes: n * MiB };
    seen.push(reading);
    return reading;
  };
  return { seen, sample };
}

function textFile(name: string, text: string): InputFile {
  const bytes = new TextEncoder().encode(text);
  return { name, size: bytes.length, stream: () => new Blob([bytes]).stream() };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('benchOne', () => {
  it('measures a run with finite, consistent fields and leaves no tensors', async () => {
    const tensor = tiny();
    const before = tf.memory().numTensors;
    const sampler = growingSampler(true);
    const epochLogs: number[] = [];
    const row = await benchOne(tensor, {
      preset: 'small',
      maxEpochs: 3,
      sampleMemory: sampler.sample,
      hooks: { onEpoch: (log) => epochLogs.push(log.epoch) },
    });
    expect(tf.memory().numTensors).toBe(before);

    expect(row.contexts).toBe(3);
    expect(row.perturbations).toBe(40);
    expect(row.genes).toBe(50);
    expect(row.epochs).toBeGreaterThanOrEqual(1);
    expect(row.epochs).toBeLessThanOrEqual(3);
    expect(epochLogs).toEqual(Array.from({ length: row.epochs }, (_, i) => i + 1));
    expect(row.bestEpoch).toBeLessThanOrEqual(row.epochs);
    for (const value of [row.parameters, row.trainSeconds, row.epochsPerSecond, row.pairGenesPerSecond]) {
      expect(Number.isFinite(value) && value > 0).toBe(true);
    }
    expect(Number.isFinite(row.predictSeconds) && row.predictSeconds >= 0).toBe(true);
    expect(row.epochsPerSecond * row.trainSeconds).toBeCloseTo(row.epochs, 9);
    // Every step scores at most maxQueryPairs queries on at most genesPerStep genes (here all 50).
    const steps = row.epochs * DEFAULT_TRAIN_OPTIONS.stepsPerEpoch;
    expect(row.pairGenesPerSecond * row.trainSeconds).toBeCloseTo(
      steps * DEFAULT_TRAIN_OPTIONS.episodes.maxQueryPairs * 50,
      3,
    );

    // Sampled before training, after each epoch and after predicting; the peaks are the largest readings.
    expect(sampler.seen).toHaveLength(row.epochs + 2);
    expect(row.peakHeapMiB).toBe(sampler.seen.length);
    expect(row.peakRssMiB).toBe(10 * sampler.seen.length);
    expect(row.peakTensorMiB).toBeGreaterThan(0);
    expect(row.peakTensorMiB).toBeLessThan(100);

    // One metered epoch: every step dispatches kernels (at least the fused gradient and the fused Adam update)
    // and uploads its episode; the epoch reads back its loss.
    expect(row.kernelsPerStep).toBeGreaterThanOrEqual(2);
    expect(row.uploadBytesPerStep).toBeGreaterThan(1000);
    expect(row.downloadBytesPerStep).toBeGreaterThan(0);
  });

  it('reports no step cost when training has no epochs (fewer than 3 contexts)', async () => {
    const twoContexts = simulate({
      contexts: 2,
      perturbations: 30,
      genes: 40,
      counts: false,
      seed: 3,
    }).tensor;
    const row = await benchOne(twoContexts, {
      preset: 'small',
      maxEpochs: 2,
      sampleMemory: () => ({ heapBytes: 0 }),
    });
    expect([
      row.kernelsPerStep,
      row.uploadBytesPerStep,
      row.downloadBytesPerStep,
      row.transferKernelsPerStep,
      row.transferUploadBytesPerStep,
      row.transferDownloadBytesPerStep,
    ]).toEqual([null, null, null, null, null, null]);
  });

  it('reports no RSS when the sampler has none (a browser worker)', async () => {
    const row = await benchOne(tiny(), {
      preset: 'small',
      maxEpochs: 1,
      sampleMemory: growingSampler(false).sample,
    });
    expect(row.peakRssMiB).toBeNull();
    expect(row.peakHeapMiB).toBe(3);
  });

  it('stops when shouldStop asks, with training’s AbortError and nothing leaked', async () => {
    const before = tf.memory().numTensors;
    let epochs = 0;
    const run = benchOne(tiny(), {
      preset: 'small',
      maxEpochs: 20,
      sampleMemory: () => ({ heapBytes: 0 }),
      hooks: { onEpoch: () => epochs++, shouldStop: () => epochs >= 1 },
    });
    await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(epochs).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('benchmark sizes', () => {
  it.each([
    ['demo', true],
    ['pbmc', true],
    ['replogle', true],
    ['tahoe', true],
    ['huge', false],
    ['', false],
  ])('isBenchSize(%j) is %s', (name, expected) => {
    expect(isBenchSize(name)).toBe(expected);
  });

  it('lists the sizes in run order', () => {
    expect(BENCH_SIZES).toEqual(['demo', 'pbmc', 'replogle', 'tahoe']);
  });

  it('makes the demo tensor (6 x 300 x 1000)', () => {
    const tensor = simulatedSizeTensor('demo');
    expect([tensor.contexts.length, tensor.perturbations.length, tensor.genes.length]).toEqual([
      6, 300, 1000,
    ]);
  });

  it('reads an effects file into a tensor', async () => {
    const csv = 'context,perturbation,g1,g2\nA,p1,0.5,-1\nA,p2,1,2\nB,p1,0,0.25\n';
    const tensor = await fileSizeTensor(textFile('effects.csv', csv));
    expect(tensor.contexts).toEqual(['A', 'B']);
    expect(tensor.perturbations).toEqual(['p1', 'p2']);
    expect(tensor.genes).toEqual(['g1', 'g2']);
  });

  it('throws with the loader’s reason when a file is refused', async () => {
    await expect(
      fileSizeTensor(textFile('effects.csv', 'context,perturbation,g1\nA,p1,abc\n')),
    ).rejects.toThrow(/effects\.csv: expected .*found/);
  });
});

describe('benchTable', () => {
  const columns: BenchColumn<{ a: string; b: number }>[] = [
    ['name', (r) => r.a],
    ['value', (r) => r.b.toFixed(1)],
  ];

  it.each([
    [[], ['name  value']],
    [[{ a: 'x', b: 1 }], ['name  value', 'x     1.0  ']],
    [
      [
        { a: 'longer name', b: 12.25 },
        { a: 'y', b: 3 },
      ],
      ['name         value', 'longer name  12.3 ', 'y            3.0  '],
    ],
  ])('pads every column to its widest cell (%#)', (rows, lines) => {
    expect(benchTable(rows, columns).split('\n')).toEqual(lines);
  });

  it('has the Node benchmark’s columns, RSS shown as "-" when unknown', () => {
    const row = {
      backend: 'cpu',
      adapter: null,
      size: 'demo',
      contexts: 6,
      perturbations: 300,
      genes: 1000,
      parameters: 152648,
      epochs: 22,
      bestEpoch: 14,
      trainSeconds: 6.37,
      epochsPerSecond: 3.45,
      pairGenesPerSecond: 4.5e6,
      predictSeconds: 0.039,
      peakHeapMiB: 63.2,
      peakRssMiB: null,
      peakTensorMiB: 4.06,
      kernelsPerStep: 151.3,
      uploadBytesPerStep: 1.58 * MiB,
      downloadBytesPerStep: null,
      transferKernelsPerStep: 60.21,
      transferUploadBytesPerStep: 2 * 1024,
      transferDownloadBytesPerStep: null,
    };
    const [header, line] = benchTable([row], BENCH_COLUMNS).split('\n');
    expect(header.split(/\s{2,}/)).toEqual([
      'backend',
      'size',
      'params',
      'epochs(best)',
      'train s',
      'epochs/s',
      'pair-genes/s',
      'predict s',
      'RSS MiB',
      'heap MiB',
      'tensor MiB',
      'kernels/step',
      'up KiB/step',
      'down KiB/step',
      'transfer kernels/step',
      'transfer up/down KiB/step',
    ]);
    expect(line.trim().split(/\s{2,}/)).toEqual([
      'cpu',
      'demo 6x300x1000',
      '152648',
      '22(14)',
      '6.37',
      '3.45',
      '4.50e+6',
      '0.039',
      '-',
      '63',
      '4',
      '151.3',
      '1617.9',
      '-',
      '60.2',
      '2.0/-',
    ]);
  });
});
