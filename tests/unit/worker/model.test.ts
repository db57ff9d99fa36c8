import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatWideTable } from '../../../src/core/data/write';
import { simulate } from '../../../src/core/simulate/simulator';
import { createEngine } from '../../../src/worker/engine';
import { gapsFile, memoryStore, SMALL_SETUP as SETUP } from '../../fixtures/session-store';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function effectsFile(genes = 90): File {
  const { tensor } = simulate({ contexts: 3, perturbations: 30, genes, seed: 4, counts: false });
  return new File([formatWideTable(tensor)], 'effects.csv', { type: 'text/csv' });
}

describe('engine model files', () => {
  it('exports the last run, applies it without training, saves it with a session and restores it', async () => {
    const store = memoryStore();
    const engine = createEngine({ sessions: store, newSessionId: () => 's1' });
    await engine.initBackend('cpu');
    await expect(engine.exportModel()).rejects.toThrow(/No trained model yet/);
    expect((await engine.loadFiles([effectsFile()])).ok).toBe(true);
    const trained = await engine.evaluate(SETUP);
    const { name, text } = await engine.exportModel();
    expect(name).toBe('c3tl-model_ctx02.c3tl.json');

    const fresh = createEngine({ sessions: memoryStore() });
    await fresh.initBackend('cpu');
    expect(await fresh.importModel(text, name)).toEqual({
      ok: false,
      message: 'Load the dataset the model was trained on first.',
    });
    expect((await fresh.loadFiles([effectsFile()])).ok).toBe(true);
    const applied = await fresh.importModel(text, name);
    if (!applied.ok || applied.mode !== 'evaluate') throw new Error(JSON.stringify(applied));
    expect(applied.target).toBe(1);
    expect(applied.notes).toEqual([]);
    expect(applied.evaluation.train.epochs).toBe(0);
    const a = applied.evaluation.predictions.c3tl!;
    const b = trained.predictions.c3tl!;
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-5);

    expect(await fresh.importModel('{"format":"c3tl-model","formatVersion":9}', name)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/version 9, written by a newer C3TL Studio/),
    });
    expect((await fresh.loadFiles([effectsFile(40)])).ok).toBe(true);
    expect(await fresh.importModel(text, name)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/trained on 80 genes\), found a dataset that lacks \d+ of them/),
    });

    const results = {
      setup: {
        mode: 'evaluate' as const,
        target: 1,
        supportPercent: 25,
        seed: 2,
        preset: 'small' as const,
        geneLimit: 80,
        maxEpochs: 2,
      },
      evaluation: null,
      prediction: null,
      sweep: null,
    };
    const summary = await engine.saveSession('with model', results);
    expect(summary.hasModel).toBe(true);
    expect(new TextDecoder().decode(store.rows.get('s1')!.session.modelFile)).toBe(text);
    await engine.reset();
    await expect(engine.exportModel()).rejects.toThrow(/No trained model yet/);
    await engine.restoreSession('s1');
    expect((await engine.exportModel()).text).toBe(text);
  });

  it("records an applied model's results like trained ones, naming the model file and its training", async () => {
    const engine = createEngine({ sessions: memoryStore() });
    await engine.initBackend('cpu');
    await engine.loadFiles([effectsFile()]);
    const trained = await engine.evaluate(SETUP);
    const { name, text } = await engine.exportModel();

    const fresh = createEngine({ sessions: memoryStore() });
    await fresh.initBackend('cpu');
    await fresh.loadFiles([effectsFile()]);
    const applied = await fresh.importModel(text, 'shared.c3tl.json');
    if (!applied.ok || applied.mode !== 'evaluate') throw new Error(JSON.stringify(applied));
    const record = applied.evaluation.record!;
    const mine = trained.record!;
    expect(record.input).toEqual(mine.input);
    expect(record.dataset).toEqual(mine.dataset);
    expect(record.settings).toEqual(mine.settings);
    expect(record.backend).toEqual(mine.backend);
    expect(record.result).toMatchObject({ context: 'ctx02', support: mine.result.support, genes: 80 });
    expect(record.result.train.epochs).toBe(0);
    expect(record.result.metrics).toEqual(applied.evaluation.metrics);
    const bytes = Buffer.from(text, 'utf8');
    expect(record.model).toEqual({
      name: 'shared.c3tl.json',
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      createdAt: JSON.parse(text).createdAt,
      training: {
        backend: 'cpu',
        epochs: mine.result.train.epochs,
        bestEpoch: mine.result.train.bestEpoch,
        seconds: expect.any(Number),
      },
    });
    expect(mine.model).toBeUndefined();
    expect(name).toBe('c3tl-model_ctx02.c3tl.json');
  });

  it('a restored session applies the model it kept in one call, without importing a file', async () => {
    const store = memoryStore();
    const engine = createEngine({ sessions: store, newSessionId: () => 'p1' });
    await engine.initBackend('cpu');
    expect(await engine.applySavedModel()).toMatchObject({
      ok: false,
      message: expect.stringMatching(/No model to apply/),
    });
    await engine.loadFiles([gapsFile()]);
    const predicted = await engine.predict({ ...SETUP, target: 0, geneLimit: 0 });
    const setup = {
      mode: 'predict' as const,
      target: 0,
      supportPercent: 25,
      seed: 2,
      preset: 'small' as const,
      geneLimit: 0,
      maxEpochs: 2,
    };
    await engine.saveSession('prediction', { setup, evaluation: null, prediction: predicted, sweep: null });

    const later = createEngine({ sessions: store });
    await later.initBackend('cpu');
    await later.restoreSession('p1');
    const applied = await later.applySavedModel();
    if (!applied.ok || applied.mode !== 'predict') throw new Error(JSON.stringify(applied));
    expect(applied.target).toBe(0);
    expect(applied.prediction.perturbations).toEqual(predicted.perturbations);
    const a = applied.prediction.predictions;
    expect(Math.max(...a.map((v, i) => Math.abs(v - predicted.predictions[i])))).toBeLessThan(1e-5);
    const record = applied.prediction.record!;
    expect(record.settings).toEqual(predicted.record!.settings);
    expect(record.input).toEqual(predicted.record!.input);
    expect(record.model).toMatchObject({ name: 'c3tl-model_ctx01.c3tl.json', training: { backend: 'cpu' } });
  });
});
