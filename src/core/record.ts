/**
 * The reproducibility record of one run: what went in (input files with size and SHA-256, or the demo's
 * simulator options), every setting, the backend, the versions and the numbers that came out. Evaluating
 * again with the same record and the same files gives the same numbers on the same backend (training is
 * seeded); `runOf` turns a record back into the protocol's arguments.
 */
import type { InputFile } from './data/source';
import type { TensorSummary } from './data/tensor';
import type { Method } from './eval/methods';
import type { MetricValues } from './eval/metric-info';
import type { EvaluateOptions, ModelPreset, RunOptions, TrainInfo } from './eval/types';
import type { SimulatorOptions } from './simulate/simulator';
import { sha256OfStream, type HashHooks } from './sha256';

export const RECORD_FORMAT = 'c3tl-studio/reproducibility-record';
export const RECORD_FORMAT_VERSION = 1;

export interface InputFileRecord {
  name: string;
  /** Size in bytes as stored (compressed size for .gz). */
  bytes: number;
  /** SHA-256 of the stored bytes, 64 lowercase hex digits. */
  sha256: string;
}

/** Where the dataset came from: the user's files, or the built-in simulator with its options. */
export type InputRecord =
  { kind: 'files'; files: InputFileRecord[] } | { kind: 'demo'; simulator: SimulatorOptions };

export type RunMode = 'evaluate' | 'predict';

export interface RunSettings {
  mode: RunMode;
  /** Index of the target context in the dataset's context order. */
  target: number;
  /** Its name, so that a reordered input is noticed. */
  targetName: string;
  /** Share of the target's shared perturbations used as support (0 < f < 1); null in predict mode. */
  supportFraction: number | null;
  seed: number;
  preset: ModelPreset;
  /** Most variable genes kept; 0 keeps all. */
  geneLimit: number;
  /** Upper bound on epochs; null left the engine's default. */
  maxEpochs: number | null;
}

export interface RecordResult {
  context: string;
  /** Support size (train + validation). */
  support: number;
  /** Held-out pairs (evaluate) or predicted pairs (predict). */
  query: number;
  /** Genes used after gene selection. */
  genes: number;
  train: Omit<TrainInfo, 'history'>;
  /** Mean over held-out pairs, per method; null in predict mode (nothing held out). */
  metrics: Record<Method, MetricValues> | null;
}

/**
 * The model file whose weights gave a run's results, when they were applied from a file (imported, or kept
 * with a saved session) rather than trained in the run: the file itself, and how it was trained.
 */
export interface ModelFileRecord extends InputFileRecord {
  /** ISO 8601 time the file was written. */
  createdAt: string;
  /** The training that made it: backend, epochs run, the epoch kept, seconds. */
  training: { backend: string; epochs: number; bestEpoch: number; seconds: number };
}

export interface ReproRecord {
  format: typeof RECORD_FORMAT;
  formatVersion: typeof RECORD_FORMAT_VERSION;
  /** ISO 8601 time the run finished. */
  createdAt: string;
  versions: { app: string; tfjs: string };
  backend: { name: string; adapter: string | null; isFallbackAdapter: boolean };
  input: InputRecord;
  dataset: Pick<TensorSummary, 'contexts' | 'perturbations' | 'genes' | 'pairs'>;
  settings: RunSettings;
  result: RecordResult;
  /** Present when the results come from a model file (settings are then the file's training settings). */
  model?: ModelFileRecord;
}

/**
 * The top-level keys of every record, in order (the JSON export and its tests use them); `model` follows them
 * in a record of results applied from a model file.
 */
export const RECORD_KEYS = [
  'format',
  'formatVersion',
  'createdAt',
  'versions',
  'backend',
  'input',
  'dataset',
  'settings',
  'result',
] as const satisfies readonly (keyof ReproRecord)[];

export interface RecordParts {
  createdAt: Date;
  versions: ReproRecord['versions'];
  backend: ReproRecord['backend'];
  input: InputRecord;
  dataset: TensorSummary;
  settings: RunSettings;
  result: {
    context: string;
    support: number;
    query: number;
    genes: number;
    train: TrainInfo;
    metrics: Record<Method, MetricValues> | null;
  };
  model?: ModelFileRecord;
}

/** Assembles a record; copies what it keeps, drops the epoch history (the loss curve is not needed to rerun). */
export function buildRecord(parts: RecordParts): ReproRecord {
  const { history: _history, ...train } = parts.result.train;
  const metrics = parts.result.metrics;
  return {
    format: RECORD_FORMAT,
    formatVersion: RECORD_FORMAT_VERSION,
    createdAt: parts.createdAt.toISOString(),
    versions: { ...parts.versions },
    backend: { ...parts.backend },
    input:
      parts.input.kind === 'files'
        ? { kind: 'files', files: parts.input.files.map((f) => ({ ...f })) }
        : { kind: 'demo', simulator: { ...parts.input.simulator } },
    dataset: {
      contexts: parts.dataset.contexts,
      perturbations: parts.dataset.perturbations,
      genes: parts.dataset.genes,
      pairs: parts.dataset.pairs,
    },
    settings: { ...parts.settings },
    result: {
      context: parts.result.context,
      support: parts.result.support,
      query: parts.result.query,
      genes: parts.result.genes,
      train,
      metrics: metrics
        ? (Object.fromEntries(Object.entries(metrics).map(([m, v]) => [m, { ...v }])) as Record<
            Method,
            MetricValues
          >)
        : null,
    },
    ...(parts.model && { model: { ...parts.model, training: { ...parts.model.training } } }),
  };
}

export type Rerun =
  | { mode: 'evaluate'; target: number; options: EvaluateOptions }
  | { mode: 'predict'; target: number; options: RunOptions };

/** The protocol's arguments for running a record again (evaluateTarget or predictTarget). */
export function runOf(record: ReproRecord): Rerun {
  const s = record.settings;
  const options: RunOptions = {
    seed: s.seed,
    preset: s.preset,
    geneLimit: s.geneLimit,
    ...(s.maxEpochs !== null ? { maxEpochs: s.maxEpochs } : {}),
  };
  if (s.mode === 'predict') return { mode: 'predict', target: s.target, options };
  if (s.supportFraction === null) {
    throw new Error('The record is of an evaluation but has no support fraction.');
  }
  return { mode: 'evaluate', target: s.target, options: { ...options, supportFraction: s.supportFraction } };
}

/** The record as pretty JSON (non-finite metrics, which JSON cannot hold, become null). */
export function recordJson(record: ReproRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/**
 * Records an input file's name, size (bytes actually read) and SHA-256, hashed as it streams: peak memory is
 * one chunk of the stream, whatever the file's size. Hooks as in sha256OfStream.
 */
export async function describeInputFile(file: InputFile, hooks?: HashHooks): Promise<InputFileRecord> {
  const { sha256, bytes } = await sha256OfStream(file.stream(), hooks);
  return { name: file.name, bytes, sha256 };
}
