/**
 * The engine behind the worker's Comlink API: holds the loaded dataset and the backend, runs one heavy task
 * at a time, and hands back plain data (typed arrays are copied so transferring them never detaches
 * worker state).
 */
import * as Comlink from 'comlink';
import { loadDataset } from '../core/data/load';
import type { EffectTensor } from '../core/data/tensor';
import type {
  EpochLog,
  PredictionResult,
  RunOptions,
  SweepPoint,
  TargetEvaluation,
} from '../core/eval/protocol';
import { evaluateTarget, predictTarget, predictWithModelFile, sweepSupport } from '../core/eval/protocol';
import { decodeModelFile, MODEL_FILE_EXTENSION } from '../core/model/model-file';
import { simulate } from '../core/simulate/simulator';
import type {
  BackendInfo,
  BackendOptions,
  BackendPreference,
  CalibrationInfo,
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
import { activateBackend, availableBackends, probeWebGpu, selectBackend } from './backend';
import type { AdapterProbe } from './backend-plan';
import type { Calibrator } from './calibrate';
import { calibrateBackends } from './calibrate';
import { workerCalibrator } from './calibrate-host';
import type {
  CalibrationLimits,
  CalibrationOutcome,
  CalibrationRecord,
  DeviceTraits,
} from './calibrate-rules';
import { CALIBRATION_VERSION, deviceFingerprint, reusableRecord, worthStoring } from './calibrate-rules';
import type { CalibrationStore } from './calibrate-store';
import { indexedDbCalibrationStore } from './calibrate-store';
import { bestBaseline } from './best-baseline';
import { describeDataset, describeProgress } from './dataset-info';
import { DEMO_OPTIONS, demoInput, describeFiles, runRecord } from './provenance';
import type { StopToken } from './run-gate';
import { createRunGate } from './run-gate';
import type { LoadedDataset, SessionStore } from './sessions';
import { indexedDbSessionStore, sessionMethods } from './sessions';
import { cellMethods } from './cells';
import { simulationMethods, truthView } from './simulation';

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

/** The UI's slice of an evaluation: C3TL and the best baseline's predictions, arrays copied. */
function evaluationView(result: TargetEvaluation): EvaluationView {
  const best = bestBaseline(result.metrics);
  return {
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
    warnings: result.warnings,
  };
}

function predictionView(result: PredictionResult): PredictionView {
  return {
    context: result.context,
    support: result.support,
    perturbations: result.perturbations,
    genes: result.genes,
    predictions: result.predictions.c3tl.slice(),
    train: result.train,
  };
}

function evaluationBuffers(view: EvaluationView): ArrayBuffer[] {
  const truth = view.truth ? [view.truth.values] : [];
  return buffersOf([view.observed, view.contextMean, ...Object.values(view.predictions), ...truth]);
}

/** The target named in a model file's text ('' when it cannot be read). */
function modelTarget(text: string): string {
  const decoded = decodeModelFile(text);
  return decoded.ok ? decoded.data.target : '';
}

/** A file-name-safe form of a context name. */
function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'model';
}

export interface EngineOptions {
  /** Where saved sessions live; IndexedDB by default. */
  sessions?: SessionStore;
  /** Ids of new sessions; crypto.randomUUID by default. */
  newSessionId?: () => string;
  /** Milliseconds since 1970 for the saved-at and measured-at times; Date.now by default. */
  now?: () => number;
  /** Where calibration figures are remembered per device; IndexedDB by default. */
  calibration?: CalibrationStore;
  /** This browser and its cores, for the figures' key; read from navigator by default. */
  device?: () => Pick<DeviceTraits, 'userAgent' | 'hardwareConcurrency'>;
  /** Time limits of the calibration; calibrate-rules' defaults otherwise. */
  calibrationLimits?: Partial<CalibrationLimits>;
  /**
   * How the calibration runs: by default in a throw-away worker where workers exist (deadlines are then
   * kept by ending it), else in this thread on the engine's tfjs (Node).
   */
  calibrator?: Calibrator;
}

function defaultCalibrator(): Calibrator {
  if (typeof Worker === 'function') return workerCalibrator();
  return (request) => calibrateBackends({ ...request, activate: activateBackend });
}

function navigatorTraits(): Pick<DeviceTraits, 'userAgent' | 'hardwareConcurrency'> {
  const nav = globalThis.navigator as { userAgent?: string; hardwareConcurrency?: number } | undefined;
  return { userAgent: nav?.userAgent ?? 'unknown', hardwareConcurrency: nav?.hardwareConcurrency ?? 0 };
}

export function createEngine(engineOptions: EngineOptions = {}) {
  const gate = createRunGate();
  let tensor: EffectTensor | null = null;
  /** Where the current tensor came from: its DatasetInfo source, loader notes and input record. */
  let origin: Omit<LoadedDataset, 'tensor'> | null = null;
  let backend: BackendInfo | null = null;
  let preference: BackendPreference = 'auto';
  /** This page's calibration figures, once measured or read back (a failed calibration is tried again). */
  let calibration: CalibrationInfo | null = null;
  /** Whether new figures may be stored (false for the page that follows "Forget everything"). */
  let remember = true;
  const calibrationStore = engineOptions.calibration ?? indexedDbCalibrationStore();
  const clock = engineOptions.now ?? (() => Date.now());
  const calibrator = engineOptions.calibrator ?? defaultCalibrator();
  /** The model of the last run, as a model file's text, and its target's name. */
  let lastModel: { target: string; text: string } | null = null;
  const cells = cellMethods({
    gate,
    replace: (dataset) => {
      const { tensor: loaded, ...rest } = dataset;
      tensor = loaded;
      origin = rest;
    },
  });
  const simulation = simulationMethods({
    gate,
    replace: (dataset) => {
      const { tensor: loaded, ...rest } = dataset;
      tensor = loaded;
      origin = rest;
    },
    notify,
  });

  /**
   * This device's figures: read back from the store when they were measured here by this version of the
   * step (unless forced), else measured now on every available backend and stored. A calibration that
   * throws or is cancelled gives its reason instead, and 'auto' falls back to the rule.
   */
  const calibrate = async (
    probe: AdapterProbe,
    force: boolean,
    token: StopToken,
  ): Promise<CalibrationOutcome> => {
    const device = (engineOptions.device ?? navigatorTraits)();
    const fingerprint = deviceFingerprint({
      ...device,
      adapter: probe.adapter,
      isFallbackAdapter: probe.isFallbackAdapter,
    });
    if (!force) {
      // An unreadable store (no IndexedDB, private mode) only means measuring again.
      const stored = reusableRecord(await calibrationStore.get(fingerprint).catch(() => null), fingerprint);
      if (stored) {
        const { figures, measuredAt, totalMs } = stored;
        return { ok: true, info: { figures, measuredAt, totalMs, fromStore: true, stored: true } };
      }
    }
    try {
      const run = await calibrator({
        backends: availableBackends(probe),
        shouldStop: () => token.stopped,
        ...(engineOptions.calibrationLimits && { limits: engineOptions.calibrationLimits }),
      });
      const record: CalibrationRecord = {
        fingerprint,
        version: CALIBRATION_VERSION,
        figures: run.figures,
        measuredAt: clock(),
        totalMs: run.totalMs,
      };
      const stored =
        remember && worthStoring(run.figures, probe)
          ? await calibrationStore.put(record).then(
              () => true,
              () => false,
            )
          : false;
      const { figures, measuredAt, totalMs } = record;
      return { ok: true, info: { figures, measuredAt, totalMs, fromStore: false, stored } };
    } catch (error) {
      const why = token.stopped ? 'cancelled' : error instanceof Error ? error.message : String(error);
      return { ok: false, problem: why };
    }
  };

  /** Activates the backend for the preference; 'auto' calibrates first unless this page already did. */
  const activate = async (wanted: BackendPreference, token: StopToken, force = false) => {
    const probe = await probeWebGpu();
    let outcome: CalibrationOutcome | null = calibration && { ok: true, info: calibration };
    if (force || (wanted === 'auto' && calibration === null)) {
      outcome = await calibrate(probe, force, token);
      if (outcome.ok) calibration = outcome.info;
    }
    preference = wanted;
    backend = await selectBackend(wanted, { probe, calibration: outcome });
    return backend;
  };

  const ensureBackend = async (token: StopToken): Promise<BackendInfo> => {
    return backend ?? (await activate('auto', token));
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
      if (options.remember === false) remember = false;
      return gate.run((token) => activate(wanted, token));
    },

    /** Measures every backend again (ignoring stored figures), stores the figures and re-applies the preference. */
    recalibrate(): Promise<BackendInfo> {
      return gate.run((token) => activate(preference, token, true));
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
          const info = await ensureBackend(token);
          const result = await evaluateTarget(
            data,
            setup.target,
            runOptions(setup),
            { onEpoch: (log) => notify(onEpoch, log), shouldStop: () => token.stopped },
            { keepModelFile: true },
          );
          lastModel = result.modelFile ? { target: result.context, text: result.modelFile } : null;
          const held = simulation.truthOf(data);
          simulation.rememberEvaluation(data, setup.target, result);
          const view: EvaluationView = {
            ...evaluationView(result),
            ...(held && { truth: truthView(held, setup.target, result) }),
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
          return Comlink.transfer(view, evaluationBuffers(view));
        })
        .finally(() => release(onEpoch));
    },

    /** Prediction mode: every shared measured perturbation of the target is support; predicts the rest. */
    predict(setup: RunSetup, onEpoch?: (log: EpochLog) => void): Promise<PredictionView> {
      return gate
        .run(async (token) => {
          const data = requireTensor(setup.target);
          const input = origin?.input;
          const info = await ensureBackend(token);
          const { supportFraction: _unused, ...options } = runOptions(setup);
          const result = await predictTarget(
            data,
            setup.target,
            options,
            { onEpoch: (log) => notify(onEpoch, log), shouldStop: () => token.stopped },
            { keepModelFile: true },
          );
          lastModel = result.modelFile ? { target: result.context, text: result.modelFile } : null;
          const view: PredictionView = {
            ...predictionView(result),
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

    /** The model of the last evaluate or predict run (or of a restored session) as a model file. */
    exportModel(): Promise<ModelDownload> {
      return gate.run(async () => {
        if (lastModel === null) throw new Error('No trained model yet: train (evaluate or predict) first.');
        return {
          name: `c3tl-model_${fileSafe(lastModel.target)}${MODEL_FILE_EXTENSION}`,
          text: lastModel.text,
        };
      });
    },

    /**
     * Applies a model file to the loaded dataset without training: held-out metrics for a model saved from
     * an evaluation, predictions of the target's unmeasured perturbations for one saved from a prediction.
     * A refusal (damaged or newer file, missing genes, target or support) comes back as data.
     */
    importModel(text: string, fileName = 'model file'): Promise<ModelImportOutcome> {
      return gate.run(async (token): Promise<ModelImportOutcome> => {
        if (tensor === null)
          return { ok: false, message: 'Load the dataset the model was trained on first.' };
        const data = tensor;
        const decoded = decodeModelFile(text, fileName);
        if (!decoded.ok) return { ok: false, message: decoded.error.message };
        await ensureBackend(token);
        let restored;
        try {
          restored = await predictWithModelFile(
            data,
            decoded.data,
            { shouldStop: () => token.stopped },
            fileName,
          );
        } catch (error) {
          if (error instanceof Error && error.name === 'AbortError') throw error;
          return { ok: false, message: error instanceof Error ? error.message : String(error) };
        }
        lastModel = { target: decoded.data.target, text };
        const target = data.contexts.indexOf(decoded.data.target);
        if (restored.mode === 'evaluate') {
          const evaluation = evaluationView(restored.evaluation);
          const outcome: ModelImportOutcome = {
            ok: true,
            mode: 'evaluate',
            evaluation,
            target,
            notes: restored.notes,
          };
          return Comlink.transfer(outcome, evaluationBuffers(evaluation));
        }
        const prediction = predictionView(restored.prediction);
        const outcome: ModelImportOutcome = {
          ok: true,
          mode: 'predict',
          prediction,
          target,
          notes: restored.notes,
        };
        return Comlink.transfer(outcome, [prediction.predictions.buffer as ArrayBuffer]);
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
        const { tensor: restored, ...rest } = dataset;
        tensor = restored;
        origin = rest;
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
