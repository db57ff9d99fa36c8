import { it } from 'vitest';
import { createEngine } from '../../src/worker/engine';
import { DEFAULT_SIM_SETTINGS } from '../../src/core/simulate/settings';
import { verdict } from '../../src/ui/lib/results';

it('negative control on the teaching screen', async () => {
  const engine = createEngine();
  await engine.initBackend('cpu');
  for (const seed of [1, 2, 3, 4])
    for (const modulation of [3, 0]) {
      await engine.loadSimulation({ ...DEFAULT_SIM_SETTINGS, contexts: 4, perturbations: 200, genes: 400, seed, modulation });
      const view = await engine.evaluate({ target: 0, supportFraction: 0.1, seed: 1, preset: 'small', geneLimit: 2000, maxEpochs: null } as never);
      const v = verdict(view);
      console.log('seed', seed, 'mod', modulation, 'c3tl', view.metrics.c3tl.pearson_centered.toFixed(4), view.bestBaseline,
        view.metrics[view.bestBaseline].pearson_centered.toFixed(4), v.difference.mean.toFixed(4), v.difference.lo.toFixed(4), v.difference.hi.toFixed(4));
    }
}, 3_000_000);
