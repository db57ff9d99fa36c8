/** The app's state and its transitions (pure), driven by useStudio. */
import type {
  BackendInfo,
  BackendPreference,
  CellsInfo,
  DatasetInfo,
  EpochLog,
  EvaluationView,
  LoadProgress,
  ModelImportOutcome,
  ModelPreset,
  PredictionView,
  RestoredSession,
  SweepPoint,
} from '../../worker/api-types';

export type Mode = 'evaluate' | 'predict';
export type Task =
  | 'backend'
  | 'demo'
  | 'simulate'
  | 'files'
  | 'cells'
  | 'pseudobulk'
  | 'evaluate'
  | 'predict'
  | 'sweep'
  | 'restore'
  | 'model';

export interface SetupValues {
  target: number;
  mode: Mode;
  /** Support share in evaluate mode, in percent. */
  supportPercent: number;
  seed: number;
  preset: ModelPreset;
  geneLimit: number;
  /** Upper bound on epochs; null leaves the engine's default. */
  maxEpochs: number | null;
}

export const DEFAULT_SETUP: SetupValues = {
  target: 0,
  mode: 'evaluate',
  supportPercent: 10,
  seed: 1,
  preset: 'small',
  geneLimit: 2000,
  maxEpochs: null,
};

/** Support fractions of the sweep panel. */
export const SWEEP_FRACTIONS = [0.01, 0.05, 0.1, 0.3];

export interface SweepState {
  points: SweepPoint[];
  fractions: number[];
  /** The training in progress, if any. */
  epoch: EpochLog | null;
  done: boolean;
}

export interface StudioState {
  backend: BackendInfo | null;
  preference: BackendPreference;
  dataset: DatasetInfo | null;
  /** A dropped single-cell input waiting for (or kept after) its pseudo-bulk choices. */
  cells: CellsInfo | null;
  setup: SetupValues;
  /** The task running in the worker, null when idle. */
  task: Task | null;
  cancelling: boolean;
  loadProgress: LoadProgress | null;
  /** Epoch logs of the current (or last) training. */
  epochs: EpochLog[];
  evaluation: EvaluationView | null;
  prediction: PredictionView | null;
  sweep: SweepState | null;
  /** Short line for the live status region. */
  status: string;
  error: string | null;
}

export const INITIAL_STATE: StudioState = {
  backend: null,
  preference: 'auto',
  dataset: null,
  cells: null,
  setup: DEFAULT_SETUP,
  task: null,
  cancelling: false,
  loadProgress: null,
  epochs: [],
  evaluation: null,
  prediction: null,
  sweep: null,
  status: 'Starting the engine…',
  error: null,
};

export type Action =
  | { type: 'task-start'; task: Task; status: string }
  | { type: 'task-failed'; message: string }
  | { type: 'link-rejected'; message: string }
  | { type: 'task-cancelled' }
  | { type: 'cancel-requested' }
  | { type: 'preference'; preference: BackendPreference }
  | { type: 'backend'; backend: BackendInfo }
  | { type: 'load-progress'; progress: LoadProgress }
  | { type: 'dataset'; dataset: DatasetInfo }
  | { type: 'load-rejected'; message: string }
  | { type: 'cells'; cells: CellsInfo }
  | { type: 'epochs'; logs: EpochLog[] }
  | { type: 'evaluation'; view: EvaluationView }
  | { type: 'prediction'; view: PredictionView }
  | { type: 'sweep-progress'; points: SweepPoint[]; epoch: EpochLog | null }
  | { type: 'sweep-done'; points: SweepPoint[] }
  | { type: 'setup'; patch: Partial<SetupValues> }
  | { type: 'session-restored'; session: RestoredSession }
  | { type: 'model-applied'; outcome: ModelImportOutcome & { ok: true } }
  | { type: 'dismiss-error' }
  | { type: 'engine-crashed'; message: string };

const TASK_NAMES: Record<Task, string> = {
  backend: 'Switching backend',
  demo: 'Loading the demo',
  simulate: 'Simulating the screen',
  files: 'Loading files',
  cells: 'Opening the single-cell file',
  pseudobulk: 'Pseudo-bulking',
  evaluate: 'Training',
  predict: 'Training',
  sweep: 'Sweep',
  restore: 'Restoring the session',
  model: 'Applying the model file',
};

export function studioReducer(state: StudioState, action: Action): StudioState {
  switch (action.type) {
    case 'task-start': {
      const training = action.task === 'evaluate' || action.task === 'predict' || action.task === 'sweep';
      return {
        ...state,
        task: action.task,
        cancelling: false,
        status: action.status,
        error: null,
        cells:
          action.task === 'files' ||
          action.task === 'demo' ||
          action.task === 'simulate' ||
          action.task === 'cells'
            ? null
            : state.cells,
        loadProgress:
          action.task === 'files' || action.task === 'cells' || action.task === 'pseudobulk'
            ? { fraction: Number.NaN, message: 'Reading files…' }
            : action.task === 'demo' || action.task === 'simulate'
              ? { fraction: Number.NaN, message: 'Simulating the screen (a few seconds)…' }
              : null,
        epochs: training ? [] : state.epochs,
        evaluation: action.task === 'evaluate' ? null : state.evaluation,
        prediction: action.task === 'predict' ? null : state.prediction,
        sweep:
          action.task === 'sweep'
            ? { points: [], fractions: SWEEP_FRACTIONS, epoch: null, done: false }
            : state.sweep,
      };
    }
    case 'task-failed': {
      const task = state.task ? TASK_NAMES[state.task] : 'The engine';
      return {
        ...state,
        task: null,
        cancelling: false,
        loadProgress: null,
        status: `${task} failed.`,
        error: action.message,
        sweep: state.sweep && !state.sweep.done ? { ...state.sweep, done: true, epoch: null } : state.sweep,
      };
    }
    case 'link-rejected':
      return { ...state, status: 'The simulation link could not be read.', error: action.message };
    case 'task-cancelled': {
      const task = state.task ? TASK_NAMES[state.task] : 'Task';
      return {
        ...state,
        task: null,
        cancelling: false,
        loadProgress: null,
        status: `${task} cancelled. Nothing else changed; you can start again.`,
        sweep: state.sweep && !state.sweep.done ? { ...state.sweep, done: true, epoch: null } : state.sweep,
      };
    }
    case 'cancel-requested': {
      const training = state.task === 'evaluate' || state.task === 'predict' || state.task === 'sweep';
      const when = training
        ? ' (stops after the current epoch)'
        : state.task === 'pseudobulk'
          ? ' (stops after the current block of cells)'
          : '';
      return { ...state, cancelling: true, status: `Cancelling…${when}` };
    }
    case 'preference':
      return { ...state, preference: action.preference };
    case 'backend':
      return {
        ...state,
        backend: action.backend,
        task: state.task === 'backend' ? null : state.task,
        status: `Engine ready: ${action.backend.name}.`,
      };
    case 'load-progress':
      return { ...state, loadProgress: action.progress };
    case 'dataset': {
      const target = action.dataset.contexts.length > state.setup.target ? state.setup.target : 0;
      return {
        ...state,
        task: null,
        loadProgress: null,
        dataset: action.dataset,
        setup: { ...state.setup, target },
        epochs: [],
        evaluation: null,
        prediction: null,
        sweep: null,
        status: `Loaded ${action.dataset.source}.`,
        error: null,
      };
    }
    case 'cells':
      return {
        ...state,
        task: null,
        loadProgress: null,
        cells: action.cells,
        status: `Opened ${action.cells.source}: ${action.cells.cells} cells x ${action.cells.genes} genes. Choose how to pseudo-bulk it.`,
        error: null,
      };
    case 'load-rejected':
      return {
        ...state,
        task: null,
        loadProgress: null,
        status: state.dataset
          ? 'The file was rejected; the previous dataset is still loaded.'
          : 'The file was rejected.',
        error: action.message,
      };
    case 'epochs':
      return { ...state, epochs: [...state.epochs, ...action.logs] };
    case 'evaluation':
      return {
        ...state,
        task: null,
        evaluation: action.view,
        status: `Results for ${action.view.context} are ready.`,
      };
    case 'prediction':
      return {
        ...state,
        task: null,
        prediction: action.view,
        status: `Predictions for ${action.view.context} are ready.`,
      };
    case 'sweep-progress':
      return state.sweep
        ? { ...state, sweep: { ...state.sweep, points: action.points, epoch: action.epoch } }
        : state;
    case 'sweep-done':
      return {
        ...state,
        task: null,
        sweep: { points: action.points, fractions: SWEEP_FRACTIONS, epoch: null, done: true },
        status: 'Support sweep finished.',
      };
    case 'setup':
      return { ...state, setup: { ...state.setup, ...action.patch } };
    case 'session-restored': {
      const { session } = action;
      // The loss curve of the run whose results the restored setup shows.
      const shown = session.setup.mode === 'evaluate' ? session.evaluation : session.prediction;
      return {
        ...state,
        task: null,
        loadProgress: null,
        dataset: session.dataset,
        setup: { ...session.setup },
        epochs: shown?.train.history ?? [],
        evaluation: session.evaluation,
        prediction: session.prediction,
        sweep: session.sweep
          ? { points: session.sweep, fractions: SWEEP_FRACTIONS, epoch: null, done: true }
          : null,
        status: `Restored the session “${session.summary.name}”.`,
        error: null,
      };
    }
    case 'model-applied': {
      const { outcome } = action;
      const view = outcome.mode === 'evaluate' ? outcome.evaluation : outcome.prediction;
      const note = outcome.notes.length > 0 ? ` ${outcome.notes.join(' ')}` : '';
      return {
        ...state,
        task: null,
        setup: { ...state.setup, mode: outcome.mode, target: outcome.target },
        epochs: [],
        ...(outcome.mode === 'evaluate'
          ? { evaluation: outcome.evaluation }
          : { prediction: outcome.prediction }),
        status: `Applied the model file to ${view.context} without training.${note}`,
        error: null,
      };
    }
    case 'dismiss-error':
      return { ...state, error: null };
    case 'engine-crashed':
      return {
        ...state,
        task: null,
        cancelling: false,
        status: 'The engine reported an error.',
        error: action.message,
      };
  }
}
