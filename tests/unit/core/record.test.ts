import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { InputFile } from '../../../src/core/data/source';
import { tensorSummary } from '../../../src/core/data/tensor';
import { evaluateTarget } from '../../../src/core/eval/protocol';
import type { Method } from '../../../src/core/eval/methods';
import type { MetricValues } from '../../../src/core/eval/metric-info';
import type { TrainInfo } from '../../../src/core/eval/types';
import { METHODS } from '../../../src/core/eval/methods';
import { METRICS } from '../../../src/core/eval/metric-info';
import type { RecordParts, ReproRecord } from '../../../src/core/record';
import {
  buildRecord,
  describeInputFile,
  RECORD_FORMAT,
  RECORD_KEYS,
  recordJson,
  runOf,
} from '../../../src/core/record';
import { sha256Hex } from '../../../src/core/sha256';
import type { SimulatorOptions } from '../../../src/core/simulate/simulator';
import { simulate } from '../../../src/core/simulate/simulator';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const bytesOf = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text);
const nodeSha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** An InputFile whose stream hands out the bytes in chunks of the given size. */
function chunkedFile(name: string, bytes: Uint8Array, chunk: number, size = bytes.length): InputFile {
  return {
    name,
    size,
    stream: () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += chunk) controller.enqueue(bytes.slice(i, i + chunk));
          controller.close();
        },
      }),
  };
}

describe('sha256Hex', () => {
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
  ])('hashes %j to the FIPS 180-2 test vector', async (text, digest) => {
    expect(await sha256Hex(bytesOf(text))).toBe(digest);
    expect(await sha256Hex(bytesOf(text).buffer)).toBe(digest);
  });
});

describe('describeInputFile', () => {
  const bytes = new Uint8Array(100_003).map((_, i) => (i * 7919) % 251);

  it.each([13, 4096, 65_536, 100_003])(
    'records name, size and SHA-256 whatever the chunk size (%i bytes)',
    async (chunk) => {
      const record = await describeInputFile(chunkedFile('effects.csv.gz', bytes, chunk));
      expect(record).toEqual({ name: 'effects.csv.gz', bytes: 100_003, sha256: nodeSha256(bytes) });
    },
  );

  it('reads a Blob (what File is) the same way', async () => {
    const blob = new Blob([bytes]);
    const record = await describeInputFile({ name: 'a.tsv', size: blob.size, stream: () => blob.stream() });
    expect(record.sha256).toBe(nodeSha256(bytes));
  });

  it('hashes every byte read when the file turns out longer or shorter than its size said', async () => {
    const longer = await describeInputFile(chunkedFile('grew.csv', bytes, 1000, 10));
    expect(longer).toEqual({ name: 'grew.csv', bytes: bytes.length, sha256: nodeSha256(bytes) });
    const shorter = await describeInputFile(chunkedFile('shrank.csv', bytes.slice(0, 5), 2, 100));
    expect(shorter).toEqual({ name: 'shrank.csv', bytes: 5, sha256: nodeSha256(bytes.slice(0, 5)) });
  });
});

function metricsOf(value: number): Record<Method, MetricValues> {
  const row = Object.fromEntries(METRICS.map((m) => [m, value])) as MetricValues;
  return Object.fromEntries(METHODS.map((m) => [m, { ...row }])) as Record<Method, MetricValues>;
}

const TRAIN: TrainInfo = {
  backend: 'cpu',
  seconds: 1.5,
  epochs: 3,
  bestEpoch: 2,
  parameters: 1234,
  trainedParameters: 1234,
  history: [
    { epoch: 1, maxEpochs: 3, trainLoss: 1, valLoss: 1, bestEpoch: 1, elapsedSeconds: 0.5 },
    { epoch: 2, maxEpochs: 3, trainLoss: 0.8, valLoss: 0.9, bestEpoch: 2, elapsedSeconds: 1 },
  ],
};

function parts(overrides: Partial<RecordParts> = {}): RecordParts {
  return {
    createdAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
    versions: { app: '0.1.0', tfjs: '4.22.0' },
    backend: { name: 'webgpu', adapter: 'google swiftshader', isFallbackAdapter: true },
    input: { kind: 'files', files: [{ name: 'a.csv', bytes: 3, sha256: 'ab'.repeat(32) }] },
    dataset: {
      contexts: 4,
      perturbations: 60,
      genes: 200,
      pairs: 216,
      averagedPairs: 0,
      pairsPerContext: [54, 54, 54, 54],
    },
    settings: {
      mode: 'evaluate',
      target: 1,
      targetName: 'ctx02',
      supportFraction: 0.1,
      seed: 7,
      preset: 'small',
      geneLimit: 2000,
      maxEpochs: null,
    },
    result: {
      context: 'ctx02',
      support: 5,
      query: 49,
      genes: 200,
      train: TRAIN,
      metrics: metricsOf(0.5),
    },
    ...overrides,
  };
}

describe('buildRecord', () => {
  it('keeps inputs, settings, backend, versions and metrics under the documented keys', () => {
    const record = buildRecord(parts());
    expect(Object.keys(record)).toEqual([...RECORD_KEYS]);
    expect(record.format).toBe(RECORD_FORMAT);
    expect(record.formatVersion).toBe(1);
    expect(record.createdAt).toBe('2026-01-02T03:04:05.000Z');
    expect(record.versions).toEqual({ app: '0.1.0', tfjs: '4.22.0' });
    expect(record.backend).toEqual({
      name: 'webgpu',
      adapter: 'google swiftshader',
      isFallbackAdapter: true,
    });
    expect(record.input).toEqual({
      kind: 'files',
      files: [{ name: 'a.csv', bytes: 3, sha256: 'ab'.repeat(32) }],
    });
    // Only the four counts of the summary: per-context detail follows from the files.
    expect(record.dataset).toEqual({ contexts: 4, perturbations: 60, genes: 200, pairs: 216 });
    expect(record.settings).toEqual(parts().settings);
    expect(record.result.metrics).toEqual(metricsOf(0.5));
  });

  it('names the model file after the documented keys when the results were applied from one', () => {
    const model = {
      name: 'm.c3tl.json',
      bytes: 10,
      sha256: 'cd'.repeat(32),
      createdAt: '2026-01-01T00:00:00.000Z',
      training: { backend: 'wasm', epochs: 30, bestEpoch: 22, seconds: 4 },
    };
    const given = parts({ model });
    const record = buildRecord(given);
    expect(Object.keys(record)).toEqual([...RECORD_KEYS, 'model']);
    expect(record.model).toEqual(model);
    given.model!.training.epochs = 1;
    expect(record.model!.training.epochs).toBe(30);
    expect('model' in buildRecord(parts())).toBe(false);
  });

  it('drops the epoch history but keeps the training summary', () => {
    const { train } = buildRecord(parts()).result;
    expect(train).toEqual({
      backend: 'cpu',
      seconds: 1.5,
      epochs: 3,
      bestEpoch: 2,
      parameters: 1234,
      trainedParameters: 1234,
    });
    expect('history' in train).toBe(false);
  });

  it('copies what it keeps: changing the parts afterwards does not change the record', () => {
    const source = parts();
    const record = buildRecord(source);
    if (source.input.kind === 'files') source.input.files[0].name = 'changed.csv';
    source.settings.seed = 99;
    source.result.metrics!.c3tl.mse = 42;
    source.versions.app = '9.9.9';
    expect(record.input).toEqual(parts().input);
    expect(record.settings.seed).toBe(7);
    expect(record.result.metrics!.c3tl.mse).toBe(0.5);
    expect(record.versions.app).toBe('0.1.0');
  });

  it('records the demo by its simulator options, and predict mode without metrics', () => {
    const record = buildRecord(
      parts({
        input: { kind: 'demo', simulator: { contexts: 6, seed: 1, counts: false } },
        settings: { ...parts().settings, mode: 'predict', supportFraction: null },
        result: { ...parts().result, metrics: null },
      }),
    );
    expect(record.input).toEqual({ kind: 'demo', simulator: { contexts: 6, seed: 1, counts: false } });
    expect(record.result.metrics).toBeNull();
  });

  it('writes JSON that parses back to the record; non-finite metrics become null', () => {
    const metrics = metricsOf(0.25);
    metrics.ridge.pearson = Number.NaN;
    const record = buildRecord(parts({ result: { ...parts().result, metrics } }));
    const text = recordJson(record);
    expect(text.endsWith('\n')).toBe(true);
    const parsed = JSON.parse(text) as ReproRecord;
    expect(Object.keys(parsed)).toEqual([...RECORD_KEYS]);
    expect(parsed.result.metrics!.ridge.pearson).toBeNull();
    expect(parsed.result.metrics!.c3tl).toEqual(metrics.c3tl);
    expect(parsed.settings).toEqual(record.settings);
  });
});

describe('runOf', () => {
  it('gives evaluateTarget its target and options, maxEpochs only when set', () => {
    const record = buildRecord(parts());
    expect(runOf(record)).toEqual({
      mode: 'evaluate',
      target: 1,
      options: { supportFraction: 0.1, seed: 7, preset: 'small', geneLimit: 2000 },
    });
    const capped = buildRecord(parts({ settings: { ...parts().settings, maxEpochs: 5 } }));
    expect(runOf(capped).options).toEqual({
      supportFraction: 0.1,
      seed: 7,
      preset: 'small',
      geneLimit: 2000,
      maxEpochs: 5,
    });
  });

  it('gives predictTarget no support fraction', () => {
    const record = buildRecord(
      parts({ settings: { ...parts().settings, mode: 'predict', supportFraction: null } }),
    );
    expect(runOf(record)).toEqual({
      mode: 'predict',
      target: 1,
      options: { seed: 7, preset: 'small', geneLimit: 2000 },
    });
  });

  it('refuses an evaluation record without a support fraction', () => {
    const record = buildRecord(parts({ settings: { ...parts().settings, supportFraction: null } }));
    expect(() => runOf(record)).toThrow(/no support fraction/);
  });
});

describe('evaluating again from a record', () => {
  it('gives identical metrics on the cpu backend, twice, from the record alone', async () => {
    const simulator: SimulatorOptions = {
      contexts: 4,
      perturbations: 40,
      genes: 120,
      seed: 5,
      counts: false,
    };
    const tensor = simulate(simulator).tensor;
    const options = {
      supportFraction: 0.25,
      seed: 3,
      preset: 'small' as const,
      geneLimit: 100,
      maxEpochs: 3,
    };
    const first = await evaluateTarget(tensor, 2, options);
    const record = buildRecord({
      createdAt: new Date(),
      versions: { app: '0.1.0', tfjs: tf.version_core },
      backend: { name: tf.getBackend(), adapter: null, isFallbackAdapter: false },
      input: { kind: 'demo', simulator },
      dataset: tensorSummary(tensor),
      settings: {
        mode: 'evaluate',
        target: 2,
        targetName: tensor.contexts[2],
        supportFraction: options.supportFraction,
        seed: options.seed,
        preset: options.preset,
        geneLimit: options.geneLimit,
        maxEpochs: options.maxEpochs,
      },
      result: { ...first, genes: first.genes.length },
    });

    // Only what the saved JSON holds: the input is simulated again from its options.
    const saved = JSON.parse(recordJson(record)) as ReproRecord;
    expect(saved.backend.name).toBe('cpu');
    if (saved.input.kind !== 'demo') throw new Error('expected the demo input');
    const again = simulate(saved.input.simulator).tensor;
    const rerun = runOf(saved);
    if (rerun.mode !== 'evaluate') throw new Error('expected an evaluation');
    const a = await evaluateTarget(again, rerun.target, rerun.options);
    const b = await evaluateTarget(again, rerun.target, rerun.options);
    expect(a.context).toBe(saved.settings.targetName);
    expect(a.metrics).toEqual(b.metrics);
    expect(a.metrics).toEqual(saved.result.metrics);
    expect([a.support, a.query, a.genes.length]).toEqual([
      saved.result.support,
      saved.result.query,
      saved.result.genes,
    ]);
  });
});
