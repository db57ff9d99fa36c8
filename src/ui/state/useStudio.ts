import * as Comlink from 'comlink';
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { isSingleCellDrop } from '../../core/data/single-cell';
import type {
  BackendPreference,
  GroupPreview,
  PseudobulkChoice,
  EpochLog,
  LoadOutcome,
  LoadProgress,
  ModelImportOutcome,
  RunSetup,
  SimSettings,
  SweepProgress,
} from '../../worker/api-types';
import { FORGOTTEN_HASH } from '../privacy/forget';
import type { EngineClient } from './engine-client';
import { errorMessage, isAbort } from './errors';
import type { SetupValues, StudioState } from './studio';
import { INITIAL_STATE, studioReducer, SWEEP_FRACTIONS } from './studio';

/** Epoch logs are batched so that fast training cannot flood React with renders. */
const EPOCH_FLUSH_MS = 120;

export interface StudioActions {
  setPreference(preference: BackendPreference): void;
  /** Times every backend again (the figures are stored again) and re-applies the preference. */
  recalibrate(): void;
  loadDemo(): void;
  /** Simulates a screen from the teaching panel's settings (or a #sim= link) and makes it the dataset. */
  simulate(settings: SimSettings): void;
  /** Shows why a #sim= link could not be read, in the error banner. */
  reportLinkError(message: string): void;
  loadFiles(files: File[]): void;
  /** Cells per group for a pseudo-bulk choice of the opened single-cell input (annotations only). */
  previewGroups(choice: PseudobulkChoice): Promise<GroupPreview>;
  /** Pseudo-bulks the opened single-cell input; the result becomes the dataset. */
  pseudobulk(choice: PseudobulkChoice): void;
  train(setup: SetupValues): void;
  sweep(setup: SetupValues): void;
  cancel(): void;
  updateSetup(patch: Partial<SetupValues>): void;
  dismissError(): void;
  /**
   * Puts a saved session's dataset back into the engine and its setup and results into the page; with
   * applyModel, then applies the model it kept to the dataset (no training, no file to import).
   */
  restoreSession(id: string, applyModel?: boolean): void;
  /** Applies a model file to the loaded dataset (no training); a refusal shows as the error. */
  importModel(file: File): void;
}

function runSetup(setup: SetupValues): RunSetup {
  return {
    target: setup.target,
    supportFraction: setup.supportPercent / 100,
    seed: setup.seed,
    preset: setup.preset,
    geneLimit: setup.geneLimit,
    ...(setup.maxEpochs !== null ? { maxEpochs: setup.maxEpochs } : {}),
  };
}

/** The app's state plus the actions that ask the worker; the UI thread only renders and waits. */
export function useStudio(client: EngineClient): { state: StudioState; actions: StudioActions } {
  const [state, dispatch] = useReducer(studioReducer, INITIAL_STATE);
  const pendingEpochs = useRef<EpochLog[]>([]);
  const flushTimer = useRef<number | null>(null);
  const cancelRequested = useRef(false);
  // Read while rendering, before the privacy panel takes the marker: the page that follows "Forget
  // everything" must not store anything again, calibration figures included.
  const [afterForget] = useState(() => window.location.hash === FORGOTTEN_HASH);

  const flushEpochs = useCallback(() => {
    if (flushTimer.current !== null) window.clearTimeout(flushTimer.current);
    flushTimer.current = null;
    if (pendingEpochs.current.length === 0) return;
    const logs = pendingEpochs.current;
    pendingEpochs.current = [];
    dispatch({ type: 'epochs', logs });
  }, []);

  const onEpoch = useCallback(
    (log: EpochLog) => {
      pendingEpochs.current.push(log);
      flushTimer.current ??= window.setTimeout(flushEpochs, EPOCH_FLUSH_MS);
    },
    [flushEpochs],
  );

  const failed = useCallback(
    (error: unknown) => {
      flushEpochs();
      // Only a cancel the user asked for counts as one: WebGPU, for one, rejects with AbortError on its own.
      if (cancelRequested.current && isAbort(error)) {
        dispatch({ type: 'task-cancelled' });
        return;
      }
      // The stack (from the worker) helps a bug report; the banner shows the message.
      console.error(error);
      dispatch({ type: 'task-failed', message: errorMessage(error) });
    },
    [flushEpochs],
  );

  const begin = useCallback((task: Parameters<typeof dispatch>[0] & { type: 'task-start' }) => {
    cancelRequested.current = false;
    pendingEpochs.current = [];
    dispatch(task);
  }, []);

  /** A model applied without training: its results, or its refusal as the error. */
  const applied = (outcome: ModelImportOutcome) =>
    dispatch(
      outcome.ok ? { type: 'model-applied', outcome } : { type: 'task-failed', message: outcome.message },
    );

  /** A load's progress callback for the worker, and what its outcome does to the state. */
  const loadProgress = () =>
    Comlink.proxy((progress: LoadProgress) => dispatch({ type: 'load-progress', progress }));
  const settleLoad = (outcome: LoadOutcome) =>
    outcome.ok
      ? dispatch({ type: 'dataset', dataset: outcome.dataset })
      : dispatch({ type: 'load-rejected', message: outcome.error.message });

  useEffect(() => {
    let live = true;
    client.api
      .initBackend('auto', { remember: !afterForget })
      .then((backend) => live && dispatch({ type: 'backend', backend }))
      .catch((error: unknown) => live && dispatch({ type: 'engine-crashed', message: errorMessage(error) }));
    const onError = (event: ErrorEvent) =>
      dispatch({ type: 'engine-crashed', message: `The engine failed: ${event.message || 'unknown error'}` });
    const onMessageError = () =>
      dispatch({ type: 'engine-crashed', message: 'The engine sent a message that could not be read.' });
    client.worker.addEventListener('error', onError);
    client.worker.addEventListener('messageerror', onMessageError);
    return () => {
      live = false;
      client.worker.removeEventListener('error', onError);
      client.worker.removeEventListener('messageerror', onMessageError);
    };
  }, [client, afterForget]);

  useEffect(
    () => () => {
      if (flushTimer.current !== null) window.clearTimeout(flushTimer.current);
    },
    [],
  );

  const actions = useMemo<StudioActions>(() => {
    const { api } = client;
    return {
      setPreference(preference) {
        dispatch({ type: 'preference', preference });
        begin({ type: 'task-start', task: 'backend', status: `Switching to ${preference}…` });
        api
          .initBackend(preference)
          .then((backend) => dispatch({ type: 'backend', backend }))
          .catch(failed);
      },
      recalibrate() {
        begin({ type: 'task-start', task: 'backend', status: 'Timing a training step on every backend…' });
        api
          .recalibrate()
          .then((backend) => dispatch({ type: 'backend', backend }))
          .catch(failed);
      },
      loadDemo() {
        begin({ type: 'task-start', task: 'demo', status: 'Simulating the demo screen…' });
        api
          .loadDemo()
          .then((dataset) => dispatch({ type: 'dataset', dataset }))
          .catch(failed);
      },
      simulate(settings) {
        begin({ type: 'task-start', task: 'simulate', status: 'Simulating the screen…' });
        api.loadSimulation(settings, loadProgress()).then(settleLoad).catch(failed);
      },
      reportLinkError(message) {
        dispatch({ type: 'link-rejected', message });
      },
      loadFiles(files) {
        if (files.length === 0) return;
        if (isSingleCellDrop(files.map((f) => f.name))) {
          begin({
            type: 'task-start',
            task: 'cells',
            status: `Opening ${files.map((f) => f.name).join(', ')}…`,
          });
          api
            .openCells(files)
            .then((outcome) =>
              outcome.ok
                ? dispatch({ type: 'cells', cells: outcome.cells })
                : dispatch({ type: 'load-rejected', message: outcome.error.message }),
            )
            .catch(failed);
          return;
        }
        begin({
          type: 'task-start',
          task: 'files',
          status: `Reading ${files.map((f) => f.name).join(', ')}…`,
        });
        api.loadFiles(files, loadProgress()).then(settleLoad).catch(failed);
      },
      previewGroups(choice) {
        return api.previewGroups(choice);
      },
      pseudobulk(choice) {
        begin({
          type: 'task-start',
          task: 'pseudobulk',
          status: 'Summing counts per (context, perturbation)…',
        });
        api.pseudobulk(choice, loadProgress()).then(settleLoad).catch(failed);
      },
      train(setup) {
        const request = runSetup(setup);
        if (setup.mode === 'evaluate') {
          begin({ type: 'task-start', task: 'evaluate', status: 'Training C3TL and the baselines…' });
          api
            .evaluate(request, Comlink.proxy(onEpoch))
            .then((view) => {
              flushEpochs();
              dispatch({ type: 'evaluation', view });
            })
            .catch(failed);
        } else {
          begin({
            type: 'task-start',
            task: 'predict',
            status: 'Training C3TL on every measured perturbation…',
          });
          api
            .predict(request, Comlink.proxy(onEpoch))
            .then((view) => {
              flushEpochs();
              dispatch({ type: 'prediction', view });
            })
            .catch(failed);
        }
      },
      sweep(setup) {
        const request = runSetup(setup);
        begin({ type: 'task-start', task: 'sweep', status: 'Running the support sweep…' });
        api
          .sweep(
            request,
            SWEEP_FRACTIONS,
            Comlink.proxy((progress: SweepProgress) => {
              dispatch({ type: 'sweep-progress', points: progress.points, epoch: progress.epoch ?? null });
            }),
          )
          .then((points) => dispatch({ type: 'sweep-done', points }))
          .catch(failed);
      },
      cancel() {
        cancelRequested.current = true;
        dispatch({ type: 'cancel-requested' });
        void api.cancel();
      },
      updateSetup(patch) {
        dispatch({ type: 'setup', patch });
      },
      dismissError() {
        dispatch({ type: 'dismiss-error' });
      },
      restoreSession(id, applyModel = false) {
        begin({ type: 'task-start', task: 'restore', status: 'Restoring the saved session…' });
        api
          .restoreSession(id)
          .then(async (session) => {
            dispatch({ type: 'session-restored', session });
            if (!applyModel) return;
            begin({ type: 'task-start', task: 'model', status: 'Applying the session’s model…' });
            applied(await api.applySavedModel());
          })
          .catch(failed);
      },
      importModel(file) {
        begin({ type: 'task-start', task: 'model', status: `Applying the model file ${file.name}…` });
        file
          .text()
          .then((text): Promise<ModelImportOutcome> => api.importModel(text, file.name))
          .then(applied)
          .catch(failed);
      },
    };
  }, [client, begin, failed, onEpoch, flushEpochs]);

  return { state, actions };
}
