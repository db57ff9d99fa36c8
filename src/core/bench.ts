/**
 * The measuring core of the training benchmark, shared by the Node CLI (src/cli/bench.ts) and the browser
 * benchmark page (src/bench): train C3TL on one target of a tensor with the active tfjs backend, predict the
 * held-out pairs, and report times, throughput, peak memory, the parameter count and what one training step
 * costs in kernels and bytes moved (step-cost.ts, measured in a separate pass). Memory outside tfjs
 * (JS heap, process RSS) is read through a callback, because Node and a browser worker measure it differently.
 */
import * as tf from '@tensorflow/tfjs';
import type { InputFile } from './data/load';
import { loadDataset, selectVariableGenes } from './data/load';
import type { EffectTensor } from './data/tensor';
import type { ModelPreset, RunHooks } from './eval/types';
import { evaluationSplit } from './eval/split';
import type { TargetSplit } from './eval/types';
import type { TrainOptions } from './model/train';
import { AbortError, DEFAULT_TRAIN_OPTIONS, trainC3tl } from './model/train';
import { DEFAULT_TRANSFER_OPTIONS } from './model/transfer-train';
import { simulate } from './simulate/simulator';
import type { CostMark } from './step-cost';
import { meterWork } from './step-cost';

/** The benchmark sizes, in the order they are usually run. */
export const BENCH_SIZES = ['demo', 'pbmc', 'replogle', 'tahoe'] as const;
export type BenchSize = (typeof BENCH_SIZES)[number];
/** The sizes made by the simulator (pbmc is real data read from a file). */
export type SimulatedSize = Exclude<BenchSize, 'pbmc'>;

export function isBenchSize(name: string): name is BenchSize {
  return (BENCH_SIZES as readonly string[]).includes(name);
}

/**
 * Simulated benchmark tensors, counts off: demo 6 contexts x 300 perturbations x 1000 genes (the built-in
 * demo), Replogle-scale 4 x 2000 x 2000, Tahoe-scale 50 x 1000 x 2000 (100 M float32 values, 400 MB dense).
 */
export function simulatedSizeTensor(size: SimulatedSize): EffectTensor {
  if (size === 'demo') return simulate({ counts: false }).tensor;
  if (size === 'replogle')
    return simulate({ contexts: 4, perturbations: 2000, genes: 2000, counts: false }).tensor;
  return simulate({ contexts: 50, perturbations: 1000, genes: 2000, counts: false }).tensor;
}

/** The tensor of an effects file (any format loadDataset reads); throws with the loader's message if refused. */
export async function fileSizeTensor(file: InputFile): Promise<EffectTensor> {
  const result = await loadDataset([file]);
  if (!result.ok) {
    const { file: name, expected, found } = result.error;
    throw new Error(`${name}: expected ${expected}, found ${found}`);
  }
  return result.data.tensor;
}

/** One benchmark result: one backend on one size. */
export interface BenchRow {
  backend: string;
  /** The WebGPU adapter (vendor, architecture, description), null for other backends. */
  adapter: string | null;
  size: string;
  contexts: number;
  perturbations: number;
  /** Genes trained on (the 2000 most variable at most). */
  genes: number;
  parameters: number;
  /** Epochs run, and the epoch whose weights were kept (early stopping). */
  epochs: number;
  bestEpoch: number;
  /** Training time to the early-stopping point (or the epoch cap), seconds. */
  trainSeconds: number;
  epochsPerSecond: number;
  /** Query pairs x genes scored in training per second (an upper bound: pairs and genes per step are caps). */
  pairGenesPerSecond: number;
  /** Time to predict every held-out pair of the target, seconds. */
  predictSeconds: number;
  /** Peak JS heap, MiB. */
  peakHeapMiB: number;
  /** Peak resident set size, MiB; null when the sampler cannot see it (a browser worker). */
  peakRssMiB: number | null;
  /** Peak tfjs tensor bytes (`tf.memory().numBytes`; on webgpu these live in GPU buffers), MiB. */
  peakTensorMiB: number;
  /**
   * Per training step of the fixed form, from its second epoch (the epoch's steps, its loss read-back and its
   * validation, divided by its steps): kernels tfjs's profiler records, bookkeeping excluded, and bytes of
   * tensors made from JS values and read back to JS (step-cost.ts). Null when training has no epochs (fewer
   * than 3 contexts).
   */
  kernelsPerStep: number | null;
  uploadBytesPerStep: number | null;
  downloadBytesPerStep: number | null;
  /**
   * The same for a step of the transfer path's training (transfer-train.ts, which follows the fixed form),
   * from its second epoch; null when the path does not train (no held-out reference context).
   */
  transferKernelsPerStep: number | null;
  transferUploadBytesPerStep: number | null;
  transferDownloadBytesPerStep: number | null;
}

/** What benchOne measures; the caller adds backend, adapter and size. */
export type BenchMeasure = Omit<BenchRow, 'backend' | 'adapter' | 'size'>;

/** Memory outside tfjs at one instant, bytes. */
export interface MemorySample {
  heapBytes: number;
  rssBytes?: number;
}

export interface BenchOptions {
  preset: ModelPreset;
  maxEpochs: number;
  /** Called before training, after every epoch and after predicting; its maxima are the peaks reported. */
  sampleMemory: () => MemorySample;
  /** Passed to training: onEpoch sees every epoch (after the memory sample), shouldStop can interrupt it. */
  hooks?: RunHooks;
}

const MiB = 1024 * 1024;

/** The fixed form's epoch whose steps are metered: the first has compiled the shaders, the second is steady. */
const METERED_EPOCH = 2;

/** The step-cost fields of a row. */
export type StepCost = Pick<
  BenchRow,
  | 'kernelsPerStep'
  | 'uploadBytesPerStep'
  | 'downloadBytesPerStep'
  | 'transferKernelsPerStep'
  | 'transferUploadBytesPerStep'
  | 'transferDownloadBytesPerStep'
>;

/** Per step of an epoch that ran between two epoch starts; nulls when either start is missing. */
function perStep(
  between: (a: CostMark, b: CostMark) => { kernels: number; uploadBytes: number; downloadBytes: number },
  starts: CostMark[],
  steps: number,
) {
  if (starts.length <= METERED_EPOCH) return { kernels: null, upload: null, download: null };
  const epoch = between(starts[METERED_EPOCH - 1], starts[METERED_EPOCH]);
  return {
    kernels: epoch.kernels / steps,
    upload: epoch.uploadBytes / steps,
    download: epoch.downloadBytes / steps,
  };
}

/**
 * Trains as benchOne does, under the profiler and the transfer counters (step-cost.ts), for METERED_EPOCH + 1
 * epochs of each stage, and meters the epoch between the starts of epochs METERED_EPOCH and METERED_EPOCH + 1
 * of each (divided by its steps): the fixed form's, then the transfer path's. The epoch starts are where
 * training polls shouldStop; a poll after the fixed form's last epoch (its onEpoch) is the transfer path's.
 */
export async function measureStepCost(
  tensor: EffectTensor,
  split: TargetSplit,
  options: TrainOptions,
): Promise<StepCost> {
  const epochs = METERED_EPOCH + 1;
  const fixedStarts: CostMark[] = [];
  const transferStarts: CostMark[] = [];
  let fixedEpochsDone = 0;
  const { between } = await meterWork(async (mark) => {
    try {
      const model = await trainC3tl(
        tensor,
        split,
        { ...options, maxEpochs: epochs, transferOptions: { ...options.transferOptions, maxEpochs: epochs } },
        {
          onEpoch: () => void fixedEpochsDone++,
          shouldStop: () => {
            (fixedEpochsDone < epochs ? fixedStarts : transferStarts).push(mark());
            return transferStarts.length > METERED_EPOCH;
          },
        },
      );
      model.dispose();
    } catch (error) {
      if (!(error instanceof AbortError)) throw error;
    }
  });
  const fixed = perStep(between, fixedStarts, options.stepsPerEpoch);
  const transfer = perStep(
    between,
    transferStarts,
    options.transferOptions?.stepsPerEpoch ?? DEFAULT_TRANSFER_OPTIONS.stepsPerEpoch,
  );
  return {
    kernelsPerStep: fixed.kernels,
    uploadBytesPerStep: fixed.upload,
    downloadBytesPerStep: fixed.download,
    transferKernelsPerStep: transfer.kernels,
    transferUploadBytesPerStep: transfer.upload,
    transferDownloadBytesPerStep: transfer.download,
  };
}

/**
 * Trains C3TL (seed 1) on target 0 with 10% support on the tensor's 2000 most variable genes with the active
 * tfjs backend until early stopping or maxEpochs, then predicts the target's query pairs. Rejects with
 * training's AbortError when hooks.shouldStop asks to stop; leaves no tensors behind either way.
 */
export async function benchOne(tensor: EffectTensor, options: BenchOptions): Promise<BenchMeasure> {
  const split = evaluationSplit(tensor, 0, { supportFraction: 0.1, seed: 1 });
  const selected = selectVariableGenes(tensor, { limit: 2000 });
  let peakTensor = 0;
  let peakHeap = 0;
  let peakRss: number | null = null;
  const sample = () => {
    const usage = options.sampleMemory();
    peakTensor = Math.max(peakTensor, tf.memory().numBytes);
    peakHeap = Math.max(peakHeap, usage.heapBytes);
    if (usage.rssBytes !== undefined) peakRss = Math.max(peakRss ?? 0, usage.rssBytes);
  };
  sample();
  const train = { ...DEFAULT_TRAIN_OPTIONS, preset: options.preset, seed: 1, maxEpochs: options.maxEpochs };
  const model = await trainC3tl(selected, split, train, {
    onEpoch: (log) => {
      sample();
      options.hooks?.onEpoch?.(log);
    },
    ...(options.hooks?.shouldStop && { shouldStop: options.hooks.shouldStop }),
  });
  let measured: Omit<BenchMeasure, keyof StepCost>;
  try {
    const support = [...split.supportTrain, ...split.supportVal];
    const predictStart = performance.now();
    await model.predict(support, split.query);
    const predictSeconds = (performance.now() - predictStart) / 1000;
    sample();
    const epochs = model.history.length;
    const steps = epochs * train.stepsPerEpoch;
    const genesPerStep = Math.min(train.genesPerStep || Infinity, selected.genes.length);
    measured = {
      contexts: tensor.contexts.length,
      perturbations: tensor.perturbations.length,
      genes: selected.genes.length,
      parameters: model.parameters,
      epochs,
      bestEpoch: model.bestEpoch,
      trainSeconds: model.seconds,
      epochsPerSecond: epochs / model.seconds,
      pairGenesPerSecond: (steps * train.episodes.maxQueryPairs * genesPerStep) / model.seconds,
      predictSeconds,
      peakHeapMiB: peakHeap / MiB,
      peakRssMiB: peakRss === null ? null : peakRss / MiB,
      peakTensorMiB: peakTensor / MiB,
    };
  } finally {
    model.dispose();
  }
  // After the timed run: the profiler slows every kernel down.
  return { ...measured, ...(await measureStepCost(selected, split, train)) };
}

/** One column of the text table: header and cell text. */
export type BenchColumn<Row> = [header: string, cell: (row: Row) => string];

const mib = (value: number | null) => (value === null ? '-' : value.toFixed(0));
const kib = (value: number | null) => (value === null ? '-' : (value / 1024).toFixed(1));

/** The columns of the Node benchmark's table. */
export const BENCH_COLUMNS: BenchColumn<BenchRow>[] = [
  ['backend', (r) => r.backend],
  ['size', (r) => `${r.size} ${r.contexts}x${r.perturbations}x${r.genes}`],
  ['params', (r) => String(r.parameters)],
  ['epochs(best)', (r) => `${r.epochs}(${r.bestEpoch})`],
  ['train s', (r) => r.trainSeconds.toFixed(2)],
  ['epochs/s', (r) => r.epochsPerSecond.toFixed(2)],
  ['pair-genes/s', (r) => r.pairGenesPerSecond.toExponential(2)],
  ['predict s', (r) => r.predictSeconds.toFixed(3)],
  ['RSS MiB', (r) => mib(r.peakRssMiB)],
  ['heap MiB', (r) => mib(r.peakHeapMiB)],
  ['tensor MiB', (r) => mib(r.peakTensorMiB)],
  ['kernels/step', (r) => (r.kernelsPerStep === null ? '-' : r.kernelsPerStep.toFixed(1))],
  ['up KiB/step', (r) => kib(r.uploadBytesPerStep)],
  ['down KiB/step', (r) => kib(r.downloadBytesPerStep)],
  [
    'transfer kernels/step',
    (r) => (r.transferKernelsPerStep === null ? '-' : r.transferKernelsPerStep.toFixed(1)),
  ],
  [
    'transfer up/down KiB/step',
    (r) => `${kib(r.transferUploadBytesPerStep)}/${kib(r.transferDownloadBytesPerStep)}`,
  ],
];

/** A plain-text table: a header line, then one line per row, columns padded to their widest cell. */
export function benchTable<Row>(rows: readonly Row[], columns: readonly BenchColumn<Row>[]): string {
  const cells = [columns.map((c) => c[0]), ...rows.map((r) => columns.map((c) => c[1](r)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n');
}
