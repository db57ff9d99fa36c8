import { describe, expect, it } from 'vitest';
import { INITIAL_STATE, studioReducer } from '../../../../src/ui/state/studio';
import type { Action, StudioState } from '../../../../src/ui/state/studio';
import type { DatasetInfo, EpochLog } from '../../../../src/worker/api-types';

const dataset = (source: string, contexts = ['a', 'b', 'c']): DatasetInfo => ({
  source,
  summary: {
    contexts: contexts.length,
    perturbations: 2,
    genes: 5,
    pairs: 4,
    averagedPairs: 0,
    pairsPerContext: contexts.map(() => 1),
  },
  contexts,
  perturbations: ['p', 'q'],
  observed: new Uint8Array(contexts.length * 2).fill(1),
  sharedPerContext: contexts.map(() => 2),
  unmeasuredPerContext: contexts.map(() => 0),
  notes: [],
});

const log = (epoch: number): EpochLog => ({
  epoch,
  maxEpochs: 10,
  trainLoss: 1,
  valLoss: 1,
  bestEpoch: epoch,
  elapsedSeconds: epoch,
});

const run = (actions: Action[], from: StudioState = INITIAL_STATE) => actions.reduce(studioReducer, from);

describe('studioReducer', () => {
  it('keeps the previous dataset when a file is rejected, and shows the error', () => {
    const state = run([
      { type: 'task-start', task: 'demo', status: '' },
      { type: 'dataset', dataset: dataset('demo') },
      { type: 'task-start', task: 'files', status: '' },
      { type: 'load-rejected', message: 'bad.csv, line 3: expected a number, found "x".' },
    ]);
    expect(state.dataset?.source).toBe('demo');
    expect(state.error).toMatch(/bad\.csv/);
    expect(state.task).toBeNull();
    expect(state.status).toMatch(/previous dataset is still loaded/);
  });

  it('clears results and keeps a valid target when a new dataset arrives', () => {
    const state = run([
      { type: 'dataset', dataset: dataset('one') },
      { type: 'setup', patch: { target: 2 } },
      { type: 'epochs', logs: [log(1)] },
      { type: 'dataset', dataset: dataset('two', ['x', 'y']) },
    ]);
    expect(state.setup.target).toBe(0);
    expect(state.epochs).toEqual([]);
    expect(state.evaluation).toBeNull();
  });

  it('a cancelled training leaves the app idle with no error', () => {
    const state = run([
      { type: 'dataset', dataset: dataset('demo') },
      { type: 'task-start', task: 'evaluate', status: '' },
      { type: 'epochs', logs: [log(1), log(2)] },
      { type: 'cancel-requested' },
      { type: 'task-cancelled' },
    ]);
    expect(state.task).toBeNull();
    expect(state.cancelling).toBe(false);
    expect(state.error).toBeNull();
    expect(state.status).toMatch(/Training cancelled/);
    expect(state.epochs).toHaveLength(2);
  });

  it('a new training starts from an empty loss curve', () => {
    const state = run([
      { type: 'epochs', logs: [log(1)] },
      { type: 'task-start', task: 'evaluate', status: 'go' },
    ]);
    expect(state.epochs).toEqual([]);
    expect(state.task).toBe('evaluate');
  });

  it('a failure is shown and ends the task; dismissing hides it', () => {
    const failed = run([
      { type: 'task-start', task: 'evaluate', status: '' },
      { type: 'task-failed', message: 'boom' },
    ]);
    expect(failed.error).toBe('boom');
    expect(failed.task).toBeNull();
    expect(failed.status).toBe('Training failed.');
    expect(studioReducer(failed, { type: 'dismiss-error' }).error).toBeNull();
  });

  it('sweep progress accumulates until done, and cancel closes it', () => {
    const started = run([{ type: 'task-start', task: 'sweep', status: '' }]);
    expect(started.sweep).toMatchObject({ points: [], done: false });
    const cancelled = run(
      [{ type: 'sweep-progress', points: [], epoch: log(3) }, { type: 'task-cancelled' }],
      started,
    );
    expect(cancelled.sweep).toMatchObject({ done: true, epoch: null });
  });
});
