/**
 * The engine behind the worker's Comlink API: holds the loaded dataset and the backend, runs one heavy task
 * at a time, and hands back plain data (typed arrays are copied so transferring them never detaches
 * worker state).
 */
import * as Comlink from 'comlink';
import { loadDataset } from '../core/data/load';
import type { EffectTensor } from '../core/data/tensor';
import type { EpochLog, RunOptions, SweepPoint } from '../core/eval/protocol';
import { evaluateTarget, predictTarget, sweepSupport } from '../core/eval/protocol';
import { simulate } from '../core/simulate/simulator';
import type {
  BackendInfo,
  BackendPreference,
  DatasetInfo,
  EvaluationView,
  LoadOutcome,
  LoadProgress,
  PredictionView,
  RunSetup,
  SweepProgress,
} from './api-types';
import { selectBackend } from './backend';
import { bestBaseline } from './best-baseline';
import { describeDataset, describeProgress } from './dataset-info';
import { DEMO_OPTIONS, demoInput, describeFiles, runRecord } from './provenance';
import { createRunGate } from './run-gate';
import type { LoadedDataset, SessionStore } from './sessions';
import { indexedDbSessionStore, sessionMethods } from './sessions';

/** The demo: the simulator with its defaults (raw counts are not needed, which saves memory). */
export const DEMO_SOURCE =
  'Built-in demo: simulated screen (6 contexts x 300 perturbations x 1000 genes, seed 1)';

/** Calls a callback that may be a Comlink proxy (its call returns a promise) without awaiting it. */
function notify<T>(callback: ((value: T) => void) | undefined, value: T): void {
  if (!callback) return;
  // A UI that went away must not break training: a rejected notification is dropped.
  Promise.resolve(callback(value) as unknown).catch(() => undefined);
}

function release(callback: unknown): void {
  const remote = callback as { [Comlink.releaseProxy]?: () => void } | undefined;
  if (typeof callback === 'function' && typeof remote?.[Comlink.releaseProxy] === 'function') {
    remote[Comlink.releaseProxy]();
  }
}

function buffersOf(arrays: ArrayBufferView[]): ArrayBuffer[] {
  return [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
}

function runOptions(setup: RunSetup): RunOptions {
  return {
    supportFraction: setup.supportFraction,
    seed: setup.seed,
    preset: setup.preset,
    geneLimit: setup.geneLimit,
    ...(setup.maxEpochs !== undefined ? { maxEpochs: setup.maxEpochs } : {}),
  };
}

export interface EngineOptions {
  /** Where saved sessions live; IndexedDB by default. */
  sessions?: SessionStore;
  /** Ids of new sessions; crypto.randomUUID by default. */
  newSessionId?: () => string;
  /** Milliseconds since 1970 for the saved-at time; Date.now by default. */
  now?: () => number;
}

export function createEngine(engineOptions: EngineOptions = {}) {
  const gate = createRunGate();
  let tensor: EffectTensor | null = null;
  /** Where the current tensor came from: its DatasetInfo source, loader notes and input record. */
  let origin: Omit<LoadedDataset, 'tensor'> | null = null;
  let backend: BackendInfo | null = null;

  const ensureBackend = async (): Promise<BackendInfo> => {
    backend ??= await selectBackend('auto');
    return backend;
  };
  const requireTensor = (target: number): EffectTensor => {
    if (tensor === null) throw new Error('No dataset is loaded: load the demo or a file first.');
    if (!Number.isInteger(target) || target < 0 || target >= tensor.contexts.length) {
      throw new Error(`Target context ${target} does not exist (the dataset has ${tensor.contexts.length}).`);
    }
    return tensor;
  };

  return {
    /** Activates the backend for a preference ('auto' picks the fastest); waits for a running task. */
    initBackend(preference: BackendPreference): Promise<BackendInfo> {
      return gate.run(async () => {
        backend = await selectBackend(preference);
        return backend;
      });
    },

    /** Loads the simulated demo dataset and makes it the current one. */
    loadDemo(): Promise<DatasetInfo> {
      return gate.run(async () => {
        const data = simulate(DEMO_OPTIONS);
        tensor = data.tensor;
        origin = { source: DEMO_SOURCE, notes: [], input: demoInput() };
        return describeDataset(tensor, DEMO_SOURCE, []);
      });
    },

    /**
     * Parses the files into a new dataset. On error the previous dataset stays loaded, untouched, and the
     * error (file, line, what was expected and found) comes back as data.
     */
    loadFiles(files: File[], onProgress?: (progress: LoadProgress) => void): Promise<LoadOutcome> {
      return gate
        .run(async (token): Promise<LoadOutcome> => {
          const result = await loadDataset(files, {
            onProgress: (progress) => notify(onProgress, describeProgress(progress)),
            shouldStop: () => token.stopped,
          });
          if (!result.ok) return { ok: false, error: result.error };
          notify(onProgress, { fraction: Number.NaN, message: 'Computing SHA-256 checksums of the files…' });
          const input = await describeFiles(files, () => token.stopped);
          const loaded = result.data.tensor;
          tensor = loaded;
          const source = result.data.sources.map((s) => `${s.file} (${s.format}, ${s.rows} rows)`).join(', ');
          origin = { source, notes: result.data.notes, input };
          return {
            ok: true,
            dataset: describeDataset(loaded, source, result.data.notes),
          };
        })
        .finally(() => release(onProgress));
    },

    /** Evaluate mode: split the target's shared perturbations, train, and score every method on the query. */
    evaluate(setup: RunSetup, onEpoch?: (log: EpochLog) => void): Promise<EvaluationView> {
      return gate
        .run(async (token) => {
          const data = requireTensor(setup.target);
          const input = origin?.input;
          const info = await ensureBackend();
          const result = await evaluateTarget(data, setup.target, runOptions(setup), {
            onEpoch: (log) => notify(onEpoch, log),
            shouldStop: () => token.stopped,
          });
          const best = bestBaseline(result.metrics);
          const view: EvaluationView = {
            context: result.context,
            support: result.support,
            query: result.query,
            metrics: result.metrics,
            perPair: result.perPair,
            queryPerturbations: result.queryPerturbations,
            genes: result.genes,
            observed: result.observed.slice(),
            bestBaseline: best,
            predictions: { c3tl: result.predictions.c3tl.slice(), [best]: result.predictions[best].slice() },
            contextMean: result.contextMean.slice(),
            train: result.train,
            ...(input && {
              record: runRecord({
                mode: 'evaluate',
                tensor: data,
                input,
                backend: info,
                setup,
                result: { ...result, genes: result.genes.length, metrics: result.metrics },
              }),
            }),
          };
          const arrays = [view.observed, view.contextMean, ...Object.values(view.predictions)];
          return Comlink.transfer(view, buffersOf(arrays));
        })
        .finally(() => release(onEpoch));
    },

    /** Prediction mode: every shared measured perturbation of the target is support; predicts the rest. */
    predict(setup: RunSetup, onEpoch?: (log: EpochLog) => void): Promise<PredictionView> {
      return gate
        .run(async (token) => {
          const data = requireTensor(setup.target);
          const input = origin?.input;
          const info = await ensureBackend();
          const { supportFraction: _unused, ...options } = runOptions(setup);
          const result = await predictTarget(data, setup.target, options, {
            onEpoch: (log) => notify(onEpoch, log),
            shouldStop: () => token.stopped,
          });
          const view: PredictionView = {
            context: result.context,
            support: result.support,
            perturbations: result.perturbations,
            genes: result.genes,
            predictions: result.predictions.c3tl.slice(),
            train: result.train,
            ...(input && {
              record: runRecord({
                mode: 'predict',
                tensor: data,
                input,
                backend: info,
                setup,
                result: {
                  ...result,
                  query: result.perturbations.length,
                  genes: result.genes.length,
                  metrics: null,
                },
              }),
            }),
          };
          return Comlink.transfer(view, [view.predictions.buffer as ArrayBuffer]);
        })
        .finally(() => release(onEpoch));
    },

    /** Support-fraction sweep for the target: one evaluation per fraction, reported as each finishes. */
    sweep(
      setup: RunSetup,
      fractions: number[],
      onProgress?: (progress: SweepProgress) => void,
    ): Promise<SweepPoint[]> {
      return gate
        .run(async (token) => {
          const data = requireTensor(setup.target);
          await ensureBackend();
          const { supportFraction: _unused, ...options } = runOptions(setup);
          const points: SweepPoint[] = [];
          return sweepSupport(data, setup.target, fractions, options, {
            onEpoch: (epoch) => notify(onProgress, { points: points.slice(), epoch }),
            onPoint: (point) => {
              points.push(point);
              notify(onProgress, { points: points.slice() });
            },
            shouldStop: () => token.stopped,
          });
        })
        .finally(() => release(onProgress));
    },

    /**
     * Forgets the loaded dataset: stops the running task, then, once it has stopped (the gate runs tasks in
     * order), drops the tensor so nothing of the user's data stays referenced here. hadDataset says whether
     * one was loaded. The backend stays selected: it holds no user data.
     */
    reset(): Promise<{ hadDataset: boolean }> {
      gate.cancel();
      return gate.run(async () => {
        const hadDataset = tensor !== null;
        tensor = null;
        origin = null;
        return { hadDataset };
      });
    },

    ...sessionMethods({
      gate,
      store: engineOptions.sessions ?? indexedDbSessionStore(),
      ...(engineOptions.newSessionId && { newId: engineOptions.newSessionId }),
      ...(engineOptions.now && { now: engineOptions.now }),
      current: () => (tensor && origin ? { tensor, ...origin } : null),
      replace: (dataset) => {
        const { tensor: restored, ...rest } = dataset;
        tensor = restored;
        origin = rest;
      },
    }),

    /** Stops the running task at its next check (training polls between epochs); true when one was running. */
    cancel(): boolean {
      return gate.cancel();
    },
  };
}
