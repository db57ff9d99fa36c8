/**
 * Plain data that crosses the worker boundary (structured clone: objects, arrays, typed arrays). The UI
 * imports these types only; the engine itself stays inside the worker.
 */
import type { BackendName } from '../core/backend-name';
import type { InputError } from '../core/data/result';
import type { TensorSummary } from '../core/data/tensor';
import type { SweepPoint, TargetEvaluation } from '../core/eval/results';
import type { EpochLog, ModelPreset, TrainInfo } from '../core/eval/types';
import type { Method } from '../core/eval/methods';
import type { MetricValues } from '../core/eval/metric-info';
import type { ReproRecord, RunMode } from '../core/record';
import type { SimSettings } from '../core/simulate/settings';
import type { NetworkViewData } from '../core/simulate/network-view';

export type { BackendName };
export type BackendPreference = 'auto' | BackendName;

export interface BackendInfo {
  /** The tfjs backend now active in the worker. */
  name: BackendName;
  /** "vendor architecture description" of the WebGPU adapter, null when there is none. */
  adapter: string | null;
  isFallbackAdapter: boolean;
  /** One sentence on why this backend was chosen (shown to the user). */
  reason: string;
  /** Backends that can be selected in this browser. */
  available: BackendName[];
  /** Threads the wasm backend computes on (1: single-threaded); null when another backend is active. */
  wasmThreads: number | null;
  /** The timing of every available backend on this device; null until one was measured or read back. */
  calibration: CalibrationInfo | null;
}

/** Which part of a backend's calibration ran past its time limit. */
export type CalibrationPhase = 'warm-up' | 'timed';

/** One backend's calibration: the time of a C3TL training step, or why there is none. */
export type CalibrationFigure =
  | {
      backend: BackendName;
      status: 'measured';
      /** Mean wall time of one training step (optimiser update included), milliseconds. */
      msPerStep: number;
      /** Steps timed. */
      steps: number;
    }
  | {
      backend: BackendName;
      status: 'missed';
      phase: CalibrationPhase;
      /** The limit it ran past, milliseconds (the warm-up's, or the timed part's for its first steps). */
      limitMs: number;
    }
  | { backend: BackendName; status: 'failed'; message: string };

/** The figures of one calibration, as the UI shows them. */
export interface CalibrationInfo {
  /** One per backend measured, in the order they were measured. */
  figures: CalibrationFigure[];
  /** When they were measured, milliseconds since 1970-01-01 UTC. */
  measuredAt: number;
  /** Wall time of the whole calibration (problem set-up, warm-ups and timed parts), milliseconds. */
  totalMs: number;
  /** True when the figures were read back from this device's store instead of measured now. */
  fromStore: boolean;
  /** True when the figures are kept on this device (in IndexedDB) for the next visit. */
  stored: boolean;
}

/** How the engine should treat stored calibration figures when it activates a backend. */
export interface BackendOptions {
  /**
   * Whether new figures may be written to this device's store; default true. The page that follows
   * "Forget everything" passes false, so forgetting does not immediately store something again.
   */
  remember?: boolean;
}

/** What the UI shows about the loaded dataset. */
export interface DatasetInfo {
  /** "Built-in demo (simulated)" or the file names. */
  source: string;
  summary: TensorSummary;
  contexts: string[];
  perturbations: string[];
  /** Length C*P, 1 where (c, p) was measured: the coverage heatmap. */
  observed: Uint8Array;
  /** Per context, how many of its measured perturbations also occur in another context (usable as support). */
  sharedPerContext: number[];
  /** Per context, how many perturbations measured elsewhere are missing there (predictable). */
  unmeasuredPerContext: number[];
  /** Human notes from loading (averaged replicates, dropped columns, ...). */
  notes: string[];
}

export interface LoadProgress {
  /** 0..1 when known, NaN when the total is unknown. */
  fraction: number;
  message: string;
}

export type LoadOutcome = { ok: true; dataset: DatasetInfo } | { ok: false; error: InputError };

/** What the user picked in the setup panel. */
export interface RunSetup {
  target: number;
  /** Share of the target's shared perturbations used as support in evaluate mode (0 < f < 1). */
  supportFraction: number;
  seed: number;
  preset: ModelPreset;
  /** Most variable genes kept; 0 keeps all. */
  geneLimit: number;
  maxEpochs?: number;
}

/** Results of evaluate mode, slimmed to what the views need: the core's evaluation minus most predictions. */
export interface EvaluationView extends Omit<
  TargetEvaluation,
  'predictions' | 'modelFile' | 'warnings' | 'supportPerturbations'
> {
  /** Metrics left undefined by degenerate data (TargetEvaluation.warnings); absent in older saved sessions. */
  warnings?: string[];
  /** The baseline with the highest mean pearson_centered. */
  bestBaseline: Method;
  /** Q*G predictions of C3TL and of the best baseline. */
  predictions: Partial<Record<Method, Float32Array>>;
  /** How to get these numbers again: inputs, settings, backend, versions, metrics (built by the worker). */
  record?: ReproRecord;
  /** On a simulated screen: scores against its noise-free effects (core/eval/truth.ts). */
  truth?: TruthView;
}

/** The simulator's truth on the held-out pairs of an evaluation. */
export interface TruthView {
  /** The noise-free effects scored against the observations: the noise ceiling. */
  ceiling: MetricValues;
  /** Each method scored against the noise-free effects. */
  vsTruth: Record<Method, MetricValues>;
  /** Q*G noise-free effects of the query pairs, row-major, aligned with EvaluationView.observed. */
  values: Float32Array;
}

/** Results of prediction mode: C3TL's predictions for pairs never measured in the target. */
export interface PredictionView {
  context: string;
  support: number;
  perturbations: string[];
  genes: string[];
  /** Q*G predicted effects of C3TL, row-major by perturbation. */
  predictions: Float32Array;
  train: TrainInfo;
  /** Inputs, settings, backend and versions of this prediction (built by the worker). */
  record?: ReproRecord;
}

/** A model file as the engine hands it out for download. */
export interface ModelDownload {
  /** Suggested file name, ending in .c3tl.json. */
  name: string;
  /** The model file's text (core/model/model-file.ts). */
  text: string;
}

/**
 * What applying a model file gave: the results of its mode (computed without training) and notes (e.g.
 * that the dataset differs from the one it was trained on), or why it was refused.
 */
export type ModelImportOutcome =
  | { ok: true; mode: 'evaluate'; evaluation: EvaluationView; target: number; notes: string[] }
  | { ok: true; mode: 'predict'; prediction: PredictionView; target: number; notes: string[] }
  | { ok: false; message: string };

export interface SweepProgress {
  /** Points finished so far, in the order of the requested fractions. */
  points: SweepPoint[];
  /** The training in progress, if any. */
  epoch?: EpochLog;
}

/** The setup panel's values as a session keeps them (the UI's SetupValues has this shape). */
export interface SessionSetup {
  mode: RunMode;
  target: number;
  /** Support share in evaluate mode, in percent. */
  supportPercent: number;
  seed: number;
  preset: ModelPreset;
  geneLimit: number;
  maxEpochs: number | null;
}

/** What the UI holds of a session: its setup and the results it shows. */
export interface SessionResults {
  setup: SessionSetup;
  evaluation: EvaluationView | null;
  prediction: PredictionView | null;
  /** Finished support-sweep points, null when no sweep ran. */
  sweep: SweepPoint[] | null;
}

/** One saved session in the list (the heavy parts stay in the store until it is restored). */
export interface SessionSummary {
  id: string;
  name: string;
  /** Milliseconds since 1970-01-01 UTC. */
  savedAt: number;
  /** Size of what was stored (typed arrays by their bytes, text as UTF-8), in bytes. */
  bytes: number;
  /** Where the dataset came from (DatasetInfo.source). */
  source: string;
  contexts: number;
  perturbations: number;
  genes: number;
  mode: RunMode;
  /** Name of the target context of the setup. */
  target: string;
  /** Whether evaluation, prediction or sweep results were saved with the dataset. */
  hasResults: boolean;
  /** Whether a trained model file was saved with it (absent in sessions saved before model files). */
  hasModel?: boolean;
}

export interface RestoredSession extends SessionResults {
  summary: SessionSummary;
  /** The restored dataset, now loaded in the engine. */
  dataset: DatasetInfo;
}

export type {
  EpochLog,
  SweepPoint,
  TrainInfo,
  ModelPreset,
  Method,
  MetricValues,
  InputError,
  TensorSummary,
  ReproRecord,
  RunMode,
  SimSettings,
  NetworkViewData,
};

/** An obs column as the pseudo-bulk panel offers it. */
export interface CellColumn {
  name: string;
  /** Distinct values used by the cells. */
  distinct: number;
  /** Its values, when there are at most MAX_LISTED_VALUES (for the control-label choice). */
  values: string[] | null;
}

/** A dropped single-cell input (.h5ad or 10x folder), opened and waiting for the pseudo-bulk choices. */
export interface CellsInfo {
  source: string;
  format: 'h5ad' | 'mtx';
  cells: number;
  genes: number;
  columns: CellColumn[];
  /** Where the counts come from, or null when the input holds none. */
  counts: string | null;
  countsReason: string;
  lacks: string[];
  /** Likely context and perturbation columns and control labels, pre-selected by the panel. */
  guess: { context?: string; perturbation?: string; controls: string[] };
  notes: string[];
}

export type CellsOutcome = { ok: true; cells: CellsInfo } | { ok: false; error: InputError };

/** The pseudo-bulk panel's choices. */
export interface PseudobulkChoice {
  contextColumn: string;
  perturbationColumn: string;
  controls: string[];
  minCells: number;
}

/** Cells per (context, perturbation) group for a choice, before any matrix is read. */
export interface GroupPreview {
  /** Treated groups with at least minCells cells, and all treated groups. */
  kept: number;
  groups: number;
  /** Cells per kept treated group: fewest, median, most (0 when none). */
  min: number;
  median: number;
  max: number;
  /** Contexts with treated groups but fewer than minCells control cells. */
  contextsWithoutControls: string[];
}
