/**
 * The engine behind the worker's Comlink API: holds the loaded dataset and the backend, runs one heavy task
 * at a time, and hands back plain data (typed arrays are copied so transferring them never detaches
 * worker state).
 */
import * as Comlink from 'comlink';
import { loadDataset } from '../core/data/load';
import type { EffectTensor } from '../core/data/tensor';
import type { SweepPoint } from '../core/eval/results';
import type { EpochLog } from '../core/eval/types';
import { evaluateTarget, predictTarget, sweepSupport } from '../core/eval/protocol';
import { MODEL_FILE_EXTENSION } from '../core/model/model-file';
import { simulate } from '../core/simulate/simulator';
import type {
  BackendInfo,
  BackendOptions,
  BackendPreference,
  DatasetInfo,
  EvaluationView,
  LoadOutcome,
  LoadProgress,
  ModelDownload,
  ModelImportOutcome,
  PredictionView,
  RunSetup,
  SweepProgress,
} from './api-types';
import { createBackendPolicy, type BackendPolicyOptions } from './engine-backend';
import {
  evaluationBuffers,
  evaluationView,
  fileSafe,
  modelTarget,
  notify,
  predictionView,
  release,
  runOptions,
} from './engine-views';
import { describeDataset, describeProgress } from './dataset-info';
import { DEMO_OPTIONS, demoInput, describeFiles, runRecord, type RunRecordParts } from './provenance';
import type { StopToken } from './run-gate';
import { createRunGate } from './run-gate';
import { applyModelFile, evaluationRecord, predictionRecord } from './model-apply';
import type { LoadedDataset, SessionStore } from './sessions';
import { indexedDbSessionStore, sessionMethods } from './sessions';
import { cellMethods } from './cells';
import { simulationMethods, truthView } from './simulation';

/** The demo: the simulator with its defaults (raw counts are not needed, which saves memory). */
export const DEMO_SOURCE =
  'Built-in demo: simulated screen (6 contexts x 300 perturbations x 1000 genes, seed 1)';

export interface EngineOptions extends BackendPolicyOptions {
  /** Where saved sessions live; IndexedDB by default. */
  sessions?: SessionStore;
  /** Ids of new sessions; crypto.randomUUID by default. */
  newSessionId?: () => string;
}

/** The file name a model is exported (and recorded, when applied) under. */
const modelFileName = (target: string) => `c3tl-model_${fileSafe(target)}${MODEL_FILE_EXTENSION}`;

export function createEngine(engineOptions: EngineOptions = {}) {
  const gate = createRunGate();
  let tensor: EffectTensor | null = null;
  /** Where the current tensor came from: its DatasetInfo source, loader notes and input record. */
  let origin: Omit<LoadedDataset, 'tensor'> | null = null;
  /** The model of the last run, as a model file's text, and its target's name. */
  let lastModel: { target: string; text: string } | null = null;
  const replace = (dataset: LoadedDataset): void => {
    const { tensor: loaded, ...rest } = dataset;
    tensor = loaded;
    origin = rest;
  };
  const cells = cellMethods({ gate, replace });
  const simulation = simulationMethods({ gate, replace, notify });

  const backends = createBackendPolicy(engineOptions);
  const ensureBackend = (token: StopToken) => backends.ensure(token);

  /**
   * What a training run on the target needs: the dataset, hooks that report epochs and poll the stop token,
   * and the run's reproducibility record (when the dataset's input is known) to spread into its view.
   */
  const startRun = async (
    setup: RunSetup,
    onEpoch: ((log: EpochLog) => void) | undefined,
    token: StopToken,
  ) => {
    const data = requireTensor(setup.target);
    const input = origin?.input;
    const backend = await ensureBackend(token);
    const hooks = { onEpoch: (log: EpochLog) => notify(onEpoch, log), shouldStop: () => token.stopped };
    const record = (mode: RunRecordParts['mode'], result: RunRecordParts['result']) =>
      input && { record: runRecord({ mode, tensor: data, input, backend, setup, result }) };
    return { data, hooks, record };
  };
  /** Applies a model file's text to the loaded dataset; an applied model becomes the engine's. */
  const applyModel = async (text: string, fileName: string, token: StopToken) => {
    const applied = await applyModelFile({
      tensor,
      input: origin?.input,
      text,
      fileName,
      backend: () => ensureBackend(token),
      shouldStop: () => token.stopped,
    });
    if (applied.ok) lastModel = { target: applied.target, text };
    return applied.outcome;
  };
  const requireTensor = (target: number): EffectTensor => {
    if (tensor === null) throw new Error('No dataset is loaded: load the demo or a file first.');
    if (!Number.isInteger(target) || target < 0 || target >= tensor.contexts.length) {
      throw new Error(`Target context ${target} does not exist (the dataset has ${tensor.contexts.length}).`);
    }
    return tensor;
  };

  return {
    /**
     * Activates the backend for a preference; waits for a running task. 'auto' picks the fastest backend
     * measured on this device: the first time, a short calibration times a training step on each one
     * (figures stored per device are reused), and BackendInfo.calibration carries the figures.
     */
    initBackend(wanted: BackendPreference, options: BackendOptions = {}): Promise<BackendInfo> {
      if (options.remember === false) backends.forgetFigures();
      return gate.run((token) => backends.activate(wanted, token));
    },

    /** Measures every backend again (ignoring stored figures), stores the figures and re-applies the preference. */
    recalibrate(): Promise<BackendInfo> {
      return gate.run((token) => backends.recalibrate(token));
    },

    /** Loads the simulated demo dataset and makes it the current one. */
    loadDemo(): Promise<DatasetInfo> {
      return gate.run(async () => {
        const data = simulate(DEMO_OPTIONS);
        simulation.keep(data);
        replace({ tensor: data.tensor, source: DEMO_SOURCE, notes: [], input: demoInput() });
        return describeDataset(data.tensor, DEMO_SOURCE, []);
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
          const input = await describeFiles(files, {
            shouldStop: () => token.stopped,
            onProgress: (p) => notify(onProgress, p),
          });
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
          const run = await startRun(setup, onEpoch, token);
          const result = await evaluateTarget(
            run.data,
            setup.target,
            { ...runOptions(setup), supportFraction: setup.supportFraction },
            run.hooks,
            { keepModelFile: true },
          );
          lastModel = result.modelFile ? { target: result.context, text: result.modelFile } : null;
          const held = simulation.truthOf(run.data);
          simulation.rememberEvaluation(run.data, setup.target, result);
          const view: EvaluationView = {
            ...evaluationView(result),
            ...(held && { truth: truthView(held, setup.target, result) }),
            ...run.record('evaluate', evaluationRecord(result)),
          };
          return Comlink.transfer(view, evaluationBuffers(view));
        })
        .finally(() => release(onEpoch));
    },

    /** Prediction mode: every shared measured perturbation of the target is support; predicts the rest. */
    predict(setup: RunSetup, onEpoch?: (log: EpochLog) => void): Promise<PredictionView> {
      return gate
        .run(async (token) => {
          const run = await startRun(setup, onEpoch, token);
          const result = await predictTarget(run.data, setup.target, runOptions(setup), run.hooks, {
            keepModelFile: true,
          });
          lastModel = result.modelFile ? { target: result.context, text: result.modelFile } : null;
          const view: PredictionView = {
            ...predictionView(result),
            ...run.record('predict', predictionRecord(result)),
          };
          return Comlink.transfer(view, [view.predictions.buffer as ArrayBuffer]);
        })
        .finally(() => release(onEpoch));
    },

    /** The model of the last evaluate or predict run (or of a restored session) as a model file. */
    exportModel(): Promise<ModelDownload> {
      return gate.run(async () => {
        if (lastModel === null) throw new Error('No trained model yet: train (evaluate or predict) first.');
        return { name: modelFileName(lastModel.target), text: lastModel.text };
      });
    },

    /**
     * Applies a model file to the loaded dataset without training: held-out metrics for a model saved from
     * an evaluation, predictions of the target's unmeasured perturbations for one saved from a prediction.
     * A refusal (damaged or newer file, missing genes, target or support) comes back as data.
     */
    importModel(text: string, fileName = 'model file'): Promise<ModelImportOutcome> {
      return gate.run((token) => applyModel(text, fileName, token));
    },

    /**
     * Applies the engine's model (the last one trained or imported, or the one a restored session kept) to
     * the loaded dataset without training, as importModel does with a file.
     */
    applySavedModel(): Promise<ModelImportOutcome> {
      return gate.run(async (token) => {
        if (lastModel === null) {
          return {
            ok: false,
            message: 'No model to apply: train, import a model file or restore a session with one.',
          };
        }
        return applyModel(lastModel.text, modelFileName(lastModel.target), token);
      });
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
          await ensureBackend(token);
          const options = runOptions(setup);
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
        const hadCells = cells.forget();
        simulation.forget();
        const hadDataset = tensor !== null || hadCells;
        tensor = null;
        origin = null;
        lastModel = null;
        return { hadDataset };
      });
    },

    ...sessionMethods({
      gate,
      store: engineOptions.sessions ?? indexedDbSessionStore(),
      ...(engineOptions.newSessionId && { newId: engineOptions.newSessionId }),
      ...(engineOptions.now && { now: engineOptions.now }),
      current: () => (tensor && origin ? { tensor, ...origin } : null),
      model: () => lastModel?.text ?? null,
      replaceModel: (text) => {
        lastModel = text === null ? null : { target: modelTarget(text), text };
      },
      replace: (dataset) => {
        replace(dataset);
        simulation.regain(dataset);
      },
    }),

    ...cells.methods,

    ...simulation.methods,

    /** Stops the running task at its next check (training polls between epochs); true when one was running. */
    cancel(): boolean {
      return gate.cancel();
    },
  };
}
