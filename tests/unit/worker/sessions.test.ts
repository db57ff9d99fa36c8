import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatWideTable } from '../../../src/core/data/write';
import { simulate } from '../../../src/core/simulate/simulator';
import type { SessionResults } from '../../../src/worker/api-types';
import { createEngine } from '../../../src/worker/engine';
import { gapsFile, memoryStore, SMALL_SETUP as SETUP } from '../../fixtures/session-store';
import { DEMO_OPTIONS, VERSIONS } from '../../../src/worker/provenance';
import type { SessionStore, StoredDataset } from '../../../src/worker/sessions';
import {
  EARLIER_SESSION_NOTE,
  SESSION_SHAPE,
  restoreDataset,
  storedBytes,
} from '../../../src/worker/sessions';
import packageJson from '../../../package.json';
import { SHAPE1_SESSION, SHAPE1_SUMMARY } from '../../fixtures/session-shape1';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function effectsFile(): { file: File; bytes: Buffer } {
  const { tensor } = simulate({ contexts: 3, perturbations: 30, genes: 90, seed: 4, counts: false });
  const bytes = Buffer.from(formatWideTable(tensor));
  return { file: new File([bytes], 'effects.csv', { type: 'text/csv' }), bytes };
}

function engineWith(store: SessionStore, ids = ['s1', 's2', 's3']) {
  let clock = 1_700_000_000_000;
  const queue = [...ids];
  return createEngine({ sessions: store, newSessionId: () => queue.shift()!, now: () => (clock += 1000) });
}

describe('run records from the engine', () => {
  it('names each file with its size and SHA-256, the settings, backend and versions', async () => {
    const engine = createEngine({ sessions: memoryStore() });
    await engine.initBackend('cpu');
    const { file, bytes } = effectsFile();
    expect((await engine.loadFiles([file])).ok).toBe(true);
    const view = await engine.evaluate(SETUP);
    const record = view.record!;
    expect(record.input).toEqual({
      kind: 'files',
      files: [
        {
          name: 'effects.csv',
          bytes: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        },
      ],
    });
    expect(record.settings).toEqual({
      mode: 'evaluate',
      target: 1,
      targetName: 'ctx02',
      supportFraction: 0.25,
      seed: 2,
      preset: 'small',
      geneLimit: 80,
      maxEpochs: 2,
    });
    expect(record.backend).toEqual({ name: 'cpu', adapter: null, isFallbackAdapter: false });
    expect(record.versions).toEqual({ app: packageJson.version, tfjs: tf.version_core });
    expect(VERSIONS.app).toBe(packageJson.version);
    expect(record.result.metrics).toEqual(view.metrics);
    expect(record.result).toMatchObject({
      context: 'ctx02',
      support: view.support,
      query: view.query,
      genes: 80,
    });
  });

  it('records the demo by its simulator options', async () => {
    const engine = createEngine({ sessions: memoryStore() });
    await engine.initBackend('cpu');
    await engine.loadDemo();
    const view = await engine.evaluate({ ...SETUP, geneLimit: 40, maxEpochs: 1 });
    expect(view.record!.input).toEqual({ kind: 'demo', simulator: { ...DEMO_OPTIONS } });
    expect(view.record!.dataset).toEqual({ contexts: 6, perturbations: 300, genes: 1000, pairs: 1800 });
  });

  it('records a prediction without metrics (nothing is held out)', async () => {
    const engine = createEngine({ sessions: memoryStore() });
    await engine.initBackend('cpu');
    await engine.loadFiles([gapsFile()]);
    const prediction = await engine.predict({ ...SETUP, target: 0, geneLimit: 0 });
    expect(prediction.record!.settings).toMatchObject({ mode: 'predict', supportFraction: null, target: 0 });
    expect(prediction.record!.result.metrics).toBeNull();
    expect(prediction.record!.result.query).toBe(prediction.perturbations.length);
  });
});

function results(setup: Partial<SessionResults['setup']> = {}): SessionResults {
  return {
    setup: {
      mode: 'evaluate',
      target: 1,
      supportPercent: 25,
      seed: 2,
      preset: 'small',
      geneLimit: 80,
      maxEpochs: 2,
      ...setup,
    },
    evaluation: null,
    prediction: null,
    sweep: null,
  };
}

describe('sessions', () => {
  it('restores a session saved before the transfer path: dataset and settings only, with a note why', async () => {
    const store = memoryStore();
    await store.put(SHAPE1_SUMMARY, SHAPE1_SESSION);
    const engine = engineWith(store);
    await engine.initBackend('cpu');
    const restored = await engine.restoreSession('old');
    expect(restored.dataset.summary).toMatchObject({ contexts: 2, perturbations: 2, genes: 3 });
    expect(restored.dataset.notes).toContain(EARLIER_SESSION_NOTE);
    expect(restored.setup).toEqual(SHAPE1_SESSION.results.setup);
    expect(restored.evaluation).toBeNull();
    expect(restored.prediction).toBeNull();
    expect(restored.sweep).toBeNull();
    // Its format-1 model file is not made the engine's model: saving again stores none.
    const saved = await engine.saveSession('again', { ...restored, evaluation: null });
    expect(saved.hasModel).toBe(false);
    expect(store.rows.get(saved.id)!.session.shape).toBe(SESSION_SHAPE);
  });

  it('saves the dataset and results, lists them newest first with size, restores into a new engine', async () => {
    const store = memoryStore();
    const engine = engineWith(store);
    await engine.initBackend('cpu');
    const { file } = effectsFile();
    await engine.loadFiles([file]);
    const view = await engine.evaluate(SETUP);
    const saved = await engine.saveSession('  First run  ', { ...results(), evaluation: view });
    expect(saved).toMatchObject({
      id: 's1',
      name: 'First run',
      savedAt: 1_700_000_001_000,
      contexts: 3,
      perturbations: 30,
      genes: 90,
      mode: 'evaluate',
      target: 'ctx02',
      hasResults: true,
    });
    // At least the tensor's arrays: 3*30*90 float32 values, 90 observed bytes, 90 uint16 replicate counts.
    expect(saved.bytes).toBeGreaterThan(3 * 30 * 90 * 4 + 90 + 180);
    expect(saved.bytes).toBe(
      storedBytes(store.rows.get('s1')!.session) + storedBytes({ ...saved, bytes: 0 }),
    );

    await engine.loadDemo();
    const second = await engine.saveSession('Demo, nothing run', results({ target: 0 }));
    expect(second.hasResults).toBe(false);
    expect((await engine.listSessions()).map((s) => s.name)).toEqual(['Demo, nothing run', 'First run']);

    // A fresh engine (a reloaded page) gets the dataset and the results back.
    const later = engineWith(store);
    await later.initBackend('cpu');
    const restored = await later.restoreSession('s1');
    expect(restored.summary).toEqual(saved);
    expect(restored.dataset.source).toMatch(/^effects\.csv \(wide/);
    expect(restored.dataset.summary).toMatchObject({ contexts: 3, perturbations: 30, genes: 90 });
    expect(restored.setup).toEqual(results().setup);
    expect(restored.evaluation!.metrics).toEqual(view.metrics);
    expect(restored.evaluation!.perPair).toEqual(view.perPair);
    expect(restored.evaluation!.predictions.c3tl).toEqual(view.predictions.c3tl);
    expect(restored.evaluation!.observed).toBeInstanceOf(Float32Array);
    expect(restored.evaluation!.record).toEqual(view.record);

    // The restored dataset is the engine's: the same run gives the same numbers and the same input record.
    const again = await later.evaluate(SETUP);
    expect(again.metrics).toEqual(view.metrics);
    expect(again.record!.input).toEqual(view.record!.input);
  });

  it('deletes a session; restoring a deleted one says so', async () => {
    const store = memoryStore();
    const engine = engineWith(store);
    await engine.loadDemo();
    await engine.saveSession('to delete', results());
    expect(await engine.deleteSession('s1')).toBe(true);
    expect(await engine.deleteSession('s1')).toBe(false);
    expect(await engine.listSessions()).toEqual([]);
    await expect(engine.restoreSession('s1')).rejects.toThrow(/no longer stored/);
  });

  it('refuses to save without a dataset or without a name, and stores nothing', async () => {
    const store = memoryStore();
    const engine = engineWith(store);
    await expect(engine.saveSession('x', results())).rejects.toThrow(/No dataset is loaded/);
    await engine.loadDemo();
    await expect(engine.saveSession('   ', results())).rejects.toThrow(/needs a name/);
    expect(store.rows.size).toBe(0);
  });

  it('forgetting the dataset (reset) leaves nothing to save', async () => {
    const engine = engineWith(memoryStore());
    await engine.loadDemo();
    await engine.reset();
    await expect(engine.saveSession('x', results())).rejects.toThrow(/No dataset is loaded/);
  });
});

describe('restoreDataset', () => {
  const stored = (): StoredDataset => ({
    contexts: ['a', 'b'],
    perturbations: ['p', 'q', 'r'],
    genes: ['g1', 'g2'],
    values: new Float32Array(12),
    observed: new Uint8Array(6),
    replicates: new Uint16Array(6),
    source: 'x.csv',
    notes: [],
    input: { kind: 'files', files: [] },
  });

  it('rebuilds the tensor with its basal expression', () => {
    const { tensor } = restoreDataset({ ...stored(), basal: new Float32Array(4) });
    expect(tensor.basal).toHaveLength(4);
    expect(tensor.values).toHaveLength(12);
  });

  it.each([
    ['values', { values: new Float32Array(11) }],
    ['observed', { observed: new Uint8Array(5) }],
    ['replicates', { replicates: new Uint16Array(7) }],
    ['basal', { basal: new Float32Array(3) }],
  ])('rejects a damaged %s array', (what, patch) => {
    expect(() => restoreDataset({ ...stored(), ...patch })).toThrow(new RegExp(`damaged: ${what} has`));
  });
});

describe('storedBytes', () => {
  it.each([
    ['a typed array', new Float32Array(10), 40],
    ['a typed array view counts its own bytes only', new Uint8Array(new ArrayBuffer(100), 10, 5), 5],
    ['an ArrayBuffer', new ArrayBuffer(7), 7],
    ['ASCII text', 'abc', 3],
    ['UTF-8 text', 'é→', 5],
    ['a number', 1.5, 8],
    ['a boolean', true, 1],
    ['null', null, 0],
    ['an array', [1, 'ab'], 10],
    ['an object with its keys', { ab: 1, c: [new Uint16Array(2)] }, 2 + 8 + 1 + 4],
  ])('%s', (_what, value, bytes) => {
    expect(storedBytes(value)).toBe(bytes);
  });
});
