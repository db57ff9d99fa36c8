import { describe, expect, it } from 'vitest';
import type { Method } from '../../../../src/core/eval/methods';
import type { MetricValues } from '../../../../src/core/eval/metric-info';
import { INITIAL_STATE, studioReducer, SWEEP_FRACTIONS } from '../../../../src/ui/state/studio';
import type { Action, StudioState } from '../../../../src/ui/state/studio';
import type {
  DatasetInfo,
  EpochLog,
  EvaluationView,
  PredictionView,
  RestoredSession,
  SweepPoint,
} from '../../../../src/worker/api-types';

const dataset = (source: string): DatasetInfo => ({
  source,
  summary: { contexts: 2, perturbations: 2, genes: 3, pairs: 4, averagedPairs: 0, pairsPerContext: [2, 2] },
  contexts: ['a', 'b'],
  perturbations: ['p', 'q'],
  observed: new Uint8Array(4).fill(1),
  sharedPerContext: [2, 2],
  unmeasuredPerContext: [0, 0],
  notes: [],
});

const log = (epoch: number): EpochLog => ({
  epoch,
  maxEpochs: 5,
  trainLoss: 1 / epoch,
  valLoss: 1,
  bestEpoch: epoch,
  elapsedSeconds: epoch,
});

const train = (epochs: number) => ({
  backend: 'wasm',
  seconds: 1,
  epochs,
  bestEpoch: epochs,
  parameters: 10,
  history: Array.from({ length: epochs }, (_, i) => log(i + 1)),
});

const evaluation = { context: 'b', train: train(3) } as unknown as EvaluationView;
const prediction = { context: 'a', train: train(2) } as unknown as PredictionView;
const sweep: SweepPoint[] = [{ fraction: 0.1, support: 1, metrics: {} as Record<Method, MetricValues> }];

function session(patch: Partial<RestoredSession> = {}): RestoredSession {
  return {
    summary: {
      id: 'x',
      name: 'Monday run',
      savedAt: 0,
      bytes: 10,
      source: 'saved.csv',
      contexts: 2,
      perturbations: 2,
      genes: 3,
      mode: 'evaluate',
      target: 'b',
      hasResults: true,
    },
    dataset: dataset('saved.csv'),
    setup: {
      mode: 'evaluate',
      target: 1,
      supportPercent: 30,
      seed: 9,
      preset: 'medium',
      geneLimit: 0,
      maxEpochs: 5,
    },
    evaluation,
    prediction,
    sweep,
    ...patch,
  };
}

const run = (actions: Action[], from: StudioState = INITIAL_STATE) => actions.reduce(studioReducer, from);

describe('restoring a session into the page state', () => {
  it('replaces dataset, setup and results, ends the task and says so', () => {
    const state = run([
      { type: 'task-start', task: 'demo', status: '' },
      { type: 'dataset', dataset: dataset('demo') },
      { type: 'task-start', task: 'restore', status: 'Restoring…' },
      { type: 'session-restored', session: session() },
    ]);
    expect(state.task).toBeNull();
    expect(state.dataset?.source).toBe('saved.csv');
    expect(state.setup).toEqual(session().setup);
    expect(state.evaluation).toBe(evaluation);
    expect(state.prediction).toBe(prediction);
    expect(state.sweep).toEqual({ points: sweep, fractions: SWEEP_FRACTIONS, epoch: null, done: true });
    expect(state.status).toBe('Restored the session “Monday run”.');
    expect(state.error).toBeNull();
  });

  it('shows the loss curve of the results the restored mode shows', () => {
    expect(run([{ type: 'session-restored', session: session() }]).epochs).toHaveLength(3);
    const predict = session({ setup: { ...session().setup, mode: 'predict' } });
    expect(run([{ type: 'session-restored', session: predict }]).epochs).toHaveLength(2);
    const bare = session({ evaluation: null, prediction: null, sweep: null });
    const state = run([{ type: 'session-restored', session: bare }]);
    expect(state.epochs).toEqual([]);
    expect(state.sweep).toBeNull();
  });

  it('a failed restore keeps what was there and shows why', () => {
    const state = run([
      { type: 'task-start', task: 'demo', status: '' },
      { type: 'dataset', dataset: dataset('demo') },
      { type: 'task-start', task: 'restore', status: '' },
      { type: 'task-failed', message: 'That session is no longer stored.' },
    ]);
    expect(state.dataset?.source).toBe('demo');
    expect(state.status).toBe('Restoring the session failed.');
    expect(state.error).toBe('That session is no longer stored.');
  });

  it('one click from a saved session: its restored results, then the results of the model it kept', () => {
    const applied = {
      context: 'a',
      train: train(0),
      record: { model: { name: 'm' } },
    } as unknown as PredictionView;
    const state = run([
      { type: 'task-start', task: 'restore', status: '' },
      { type: 'session-restored', session: session({ prediction: null }) },
      { type: 'task-start', task: 'model', status: '' },
      {
        type: 'model-applied',
        outcome: { ok: true, mode: 'predict', prediction: applied, target: 0, notes: [] },
      },
    ]);
    expect(state.task).toBeNull();
    expect(state.dataset?.source).toBe('saved.csv');
    expect(state.setup).toMatchObject({ mode: 'predict', target: 0, seed: 9 });
    expect(state.prediction).toBe(applied);
    expect(state.evaluation).toBe(evaluation);
    expect(state.status).toBe('Applied the model file to a without training.');
  });
});
