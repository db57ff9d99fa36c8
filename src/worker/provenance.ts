/**
 * What the engine records about a dataset and a run, so that the numbers can be had again: the input
 * (files with size and SHA-256, or the demo's simulator options), the versions of the app and of tfjs, and
 * the reproducibility record built when a run finishes.
 */
import * as tf from '@tensorflow/tfjs';
import { version as appVersion } from '../../package.json';
import type { InputFile } from '../core/data/source';
import type { EffectTensor } from '../core/data/tensor';
import { tensorSummary } from '../core/data/tensor';
import type { ModelFile } from '../core/model/model-file';
import type {
  InputFileRecord,
  InputRecord,
  ModelFileRecord,
  RecordParts,
  ReproRecord,
  RunMode,
} from '../core/record';
import { buildRecord, describeInputFile } from '../core/record';
import { sha256Hex } from '../core/sha256';
import type { SimulatorOptions } from '../core/simulate/simulator';
import type { BackendInfo, LoadProgress, RunSetup } from './api-types';
import { describeChecksum } from './dataset-info';

/** The demo's simulator options, spelled out so the record names them (they equal the simulator's defaults). */
export const DEMO_OPTIONS: Readonly<SimulatorOptions> = {
  contexts: 6,
  perturbations: 300,
  genes: 1000,
  seed: 1,
  counts: false,
};

export const VERSIONS: ReproRecord['versions'] = { app: appVersion, tfjs: tf.version_core };

/** Bytes hashed between two progress messages (one per stream chunk would flood the page). */
const PROGRESS_STEP_BYTES = 32 * 1024 * 1024;

/**
 * Name, size and SHA-256 of each file, one file at a time (each is streamed once more through the hash:
 * peak memory is one chunk). shouldStop is polled before each chunk: true rejects with an AbortError.
 * onProgress hears the bytes hashed of all files, every 32 MiB and at the end.
 */
export async function describeFiles(
  files: readonly InputFile[],
  hooks: { shouldStop?: () => boolean; onProgress?: (progress: LoadProgress) => void } = {},
): Promise<InputRecord> {
  const total = files.reduce((n, f) => n + f.size, 0);
  let reported = 0;
  const report = (hashed: number) => {
    reported = hashed;
    hooks.onProgress?.(describeChecksum(hashed, Math.max(total, hashed)));
  };
  report(0);
  const out: InputFileRecord[] = [];
  let done = 0;
  for (const file of files) {
    const record = await describeInputFile(file, {
      shouldStop: hooks.shouldStop,
      onBytes: (n) => {
        if (done + n - reported >= PROGRESS_STEP_BYTES) report(done + n);
      },
    });
    done += record.bytes;
    out.push(record);
  }
  if (reported !== done || done === 0) report(done);
  return { kind: 'files', files: out };
}

export function demoInput(): InputRecord {
  return { kind: 'demo', simulator: { ...DEMO_OPTIONS } };
}

export interface RunRecordParts {
  mode: RunMode;
  tensor: EffectTensor;
  input: InputRecord;
  backend: BackendInfo;
  setup: RunSetup;
  result: RecordParts['result'];
  /** The model file the results were applied from, when they were not trained in this run. */
  model?: ModelFileRecord;
}

/** A model file as a record names it: its name, size and SHA-256 (of its UTF-8 text), and its training. */
export async function modelFileRecord(
  text: string,
  name: string,
  model: ModelFile,
): Promise<ModelFileRecord> {
  const bytes = new TextEncoder().encode(text);
  return {
    name,
    bytes: bytes.length,
    sha256: await sha256Hex(bytes),
    createdAt: model.createdAt,
    training: { ...model.training },
  };
}

/** The record of a run that just finished on the engine's current backend. */
export function runRecord(parts: RunRecordParts): ReproRecord {
  const { setup, mode } = parts;
  return buildRecord({
    createdAt: new Date(),
    versions: VERSIONS,
    backend: {
      // The backend that trained (tfjs' own name), with the adapter the engine found.
      name: parts.result.train.backend,
      adapter: parts.backend.adapter,
      isFallbackAdapter: parts.backend.isFallbackAdapter,
    },
    input: parts.input,
    dataset: tensorSummary(parts.tensor),
    settings: {
      mode,
      target: setup.target,
      targetName: parts.tensor.contexts[setup.target],
      supportFraction: mode === 'evaluate' ? setup.supportFraction : null,
      seed: setup.seed,
      preset: setup.preset,
      geneLimit: setup.geneLimit,
      maxEpochs: setup.maxEpochs ?? null,
    },
    result: parts.result,
    ...(parts.model && { model: parts.model }),
  });
}
