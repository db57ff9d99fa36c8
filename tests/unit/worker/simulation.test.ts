import { describe, expect, it } from 'vitest';
import { formatWideTable } from '../../../src/core/data/write';
import { METRICS } from '../../../src/core/eval/metric-info';
import { DEFAULT_SIM_SETTINGS, type SimSettings } from '../../../src/core/simulate/settings';
import { simulate } from '../../../src/core/simulate/simulator';
import type { RunSetup } from '../../../src/worker/api-types';
import { createEngine } from '../../../src/worker/engine';
import { memoryStore } from '../../fixtures/session-store';

const SETTINGS: SimSettings = { ...DEFAULT_SIM_SETTINGS, contexts: 3, perturbations: 40, genes: 80, seed: 4 };
const SETUP: RunSetup = {
  target: 0,
  supportFraction: 0.3,
  seed: 1,
  preset: 'small',
  geneLimit: 0,
  maxEpochs: 2,
};

describe('engine: simulated screens (teaching mode)', () => {
  it('generates the settings screen and scores its evaluations against the truth it keeps', async () => {
    const engine = createEngine();
    await engine.initBackend('cpu');
    const progress: string[] = [];
    const outcome = await engine.loadSimulation(SETTINGS, (p) => progress.push(p.message));
    expect(outcome.ok && outcome.dataset.summary).toMatchObject({
      contexts: 3,
      perturbations: 40,
      genes: 80,
    });
    expect(outcome.ok && outcome.dataset.source).toMatch(/^Simulated screen \(3 contexts/);
    expect(progress[0]).toMatch(/^Simulating/);

    const view = await engine.evaluate(SETUP);
    expect(view.truth).toBeDefined();
    const truth = view.truth!;
    expect(Object.keys(truth.ceiling).sort()).toEqual([...METRICS].sort());
    expect(truth.ceiling.pearson).toBeGreaterThan(0);
    expect(truth.values.length).toBe(view.observed.length);
    expect(Number.isFinite(truth.vsTruth.c3tl.pearson_centered)).toBe(true);

    const network = await engine.networkView(view.queryPerturbations[0], null);
    expect(network.target).toBe(view.context);
    expect(network.genes[0].role).toBe('perturbed');
    expect(network.genes[0].predicted).not.toBeNull();
  }, 60_000);

  it('keeps the truth of the built-in demo, which is a simulated screen too', async () => {
    const engine = createEngine();
    await engine.initBackend('cpu');
    await engine.loadDemo();
    const view = await engine.evaluate({ ...SETUP, geneLimit: 100, maxEpochs: 1 });
    expect(view.truth).toBeDefined();
    expect(view.truth!.values.length).toBe(view.observed.length);
    expect(view.truth!.ceiling.pearson).toBeGreaterThan(0);
    const network = await engine.networkView(view.queryPerturbations[0], null);
    expect(network.target).toBe(view.context);
  }, 120_000);

  it('gets the truth back when a saved simulated screen is restored, and none for a file', async () => {
    const store = memoryStore();
    const engine = createEngine({ sessions: store });
    await engine.initBackend('cpu');
    await engine.loadSimulation(SETTINGS);
    const setup = { mode: 'evaluate', target: 0, supportPercent: 30, seed: 1, preset: 'small' } as const;
    const session = {
      setup: { ...setup, geneLimit: 0, maxEpochs: 2 },
      evaluation: null,
      prediction: null,
      sweep: null,
    };
    const saved = await engine.saveSession('simulated', session);

    const later = createEngine({ sessions: store });
    await later.initBackend('cpu');
    await later.restoreSession(saved.id);
    const view = await later.evaluate(SETUP);
    expect(view.truth).toBeDefined();
    expect(view.truth!.values.length).toBe(view.observed.length);

    const { tensor } = simulate({ contexts: 3, perturbations: 40, genes: 80, seed: 4, counts: false });
    await later.loadFiles([new File([formatWideTable(tensor)], 'same.csv', { type: 'text/csv' })]);
    const fromFile = await later.saveSession('file', session);
    const third = createEngine({ sessions: store });
    await third.initBackend('cpu');
    await third.restoreSession(fromFile.id);
    expect((await third.evaluate(SETUP)).truth).toBeUndefined();
  }, 120_000);

  it('refuses invalid settings as data and forgets the truth when another dataset replaces it', async () => {
    const engine = createEngine();
    await engine.initBackend('cpu');
    const bad = await engine.loadSimulation({ ...SETTINGS, contexts: 1 });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error.message).toMatch(/contexts must be a whole number from 2/);

    await engine.loadSimulation(SETTINGS);
    const { tensor } = simulate({ contexts: 3, perturbations: 40, genes: 80, seed: 4, counts: false });
    const file = new File([formatWideTable(tensor)], 'same.csv', { type: 'text/csv' });
    expect((await engine.loadFiles([file])).ok).toBe(true);
    const view = await engine.evaluate(SETUP);
    expect(view.truth).toBeUndefined();
    await expect(engine.networkView(view.queryPerturbations[0], null)).rejects.toThrow(/simulated screen/);
  }, 60_000);
});
