import { describe, expect, it } from 'vitest';
import { formatWideTable } from '../../../src/core/data/write';
import { simulate } from '../../../src/core/simulate/simulator';
import type { RunSetup } from '../../../src/worker/api-types';
import { createEngine } from '../../../src/worker/engine';

const SETUP: RunSetup = { target: 0, supportFraction: 0.5, seed: 1, preset: 'small', geneLimit: 0 };

function effectsFile(perturbations: number): File {
  const { tensor } = simulate({
    contexts: 3,
    perturbations,
    genes: Math.max(50, perturbations),
    seed: 3,
    counts: false,
  });
  return new File([formatWideTable(tensor)], 'effects.csv', { type: 'text/csv' });
}

describe('engine.reset', () => {
  it('says when there was nothing to forget', async () => {
    await expect(createEngine().reset()).resolves.toEqual({ hadDataset: false });
  });

  it('unloads a loaded dataset: the next task finds none', async () => {
    const engine = createEngine();
    const outcome = await engine.loadFiles([effectsFile(20)]);
    expect(outcome.ok).toBe(true);
    await expect(engine.reset()).resolves.toEqual({ hadDataset: true });
    await expect(engine.evaluate(SETUP)).rejects.toThrow(/No dataset is loaded/);
    await expect(engine.reset()).resolves.toEqual({ hadDataset: false });
  });

  it('waits for a load in progress, so the load cannot bring the data back afterwards', async () => {
    const engine = createEngine();
    const load = engine.loadFiles([effectsFile(400)]);
    const reset = engine.reset();
    await Promise.allSettled([load]);
    await reset;
    // A second reset finds nothing: the load finished before the first one cleared the tensor.
    await expect(engine.reset()).resolves.toEqual({ hadDataset: false });
  });
});
