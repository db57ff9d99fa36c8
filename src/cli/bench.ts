/**
 * Training benchmark: `npm run -s bench -- [--json] [--backends cpu,wasm,webgpu] [--sizes demo,pbmc,replogle,tahoe]
 * [--max-epochs N] [--preset small]`. For each backend and size it trains C3TL on one target (10% support, seed 1)
 * and reports time to the early-stopping point, epochs/s, training throughput (query pairs x genes per second),
 * prediction time, peak memory (JS heap, RSS, tfjs tensor bytes) and the parameter count.
 */
import { existsSync, openAsBlob } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../core/data/load';
import { selectVariableGenes } from '../core/data/select';
import type { EffectTensor } from '../core/data/tensor';
import { evaluationSplit } from '../core/eval/split';
import { DEFAULT_TRAIN_OPTIONS, trainC3tl } from '../core/model/train';
import type { ModelPreset } from '../core/eval/protocol';
import { simulate } from '../core/simulate/simulator';
import { useBackend } from './backend';

/** Real data beside the checkout (DESIGN.md); skipped when absent. */
const PBMC = '../shared/data/pbmc-drugs/effects.csv.gz';

const SIZES: Record<string, () => Promise<EffectTensor | null>> = {
  demo: async () => simulate({ counts: false }).tensor,
  pbmc: async () => {
    if (!existsSync(PBMC)) return null;
    const blob = await openAsBlob(PBMC);
    const result = await loadDataset([
      { name: 'effects.csv.gz', size: blob.size, stream: () => blob.stream() },
    ]);
    return result.ok ? result.data.tensor : null;
  },
  replogle: async () => simulate({ contexts: 4, perturbations: 2000, genes: 2000, counts: false }).tensor,
  tahoe: async () => simulate({ contexts: 50, perturbations: 1000, genes: 2000, counts: false }).tensor,
};

export interface BenchRow {
  backend: string;
  adapter: string | null;
  size: string;
  contexts: number;
  perturbations: number;
  genes: number;
  parameters: number;
  epochs: number;
  bestEpoch: number;
  trainSeconds: number;
  epochsPerSecond: number;
  pairGenesPerSecond: number;
  predictSeconds: number;
  peakHeapMiB: number;
  peakRssMiB: number;
  peakTensorMiB: number;
}

const MiB = 1024 * 1024;

async function benchOne(
  tensor: EffectTensor,
  options: { preset: ModelPreset; maxEpochs: number },
): Promise<Omit<BenchRow, 'backend' | 'adapter' | 'size'>> {
  const split = evaluationSplit(tensor, 0, { supportFraction: 0.1, seed: 1 });
  const selected = selectVariableGenes(tensor, { limit: 2000 });
  let peakTensor = tf.memory().numBytes;
  let peakHeap = process.memoryUsage().heapUsed;
  let peakRss = process.memoryUsage().rss;
  const sample = () => {
    const usage = process.memoryUsage();
    peakTensor = Math.max(peakTensor, tf.memory().numBytes);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
    peakRss = Math.max(peakRss, usage.rss);
  };
  const train = { ...DEFAULT_TRAIN_OPTIONS, preset: options.preset, seed: 1, maxEpochs: options.maxEpochs };
  const model = await trainC3tl(selected, split, train, { onEpoch: sample });
  const support = [...split.supportTrain, ...split.supportVal];
  const predictStart = performance.now();
  await model.predict(support, split.query);
  const predictSeconds = (performance.now() - predictStart) / 1000;
  sample();
  const epochs = model.history.length;
  const steps = epochs * train.stepsPerEpoch;
  const row = {
    contexts: tensor.contexts.length,
    perturbations: tensor.perturbations.length,
    genes: selected.genes.length,
    parameters: model.parameters,
    epochs,
    bestEpoch: model.bestEpoch,
    trainSeconds: model.seconds,
    epochsPerSecond: epochs / model.seconds,
    pairGenesPerSecond:
      (steps *
        train.episodes.maxQueryPairs *
        Math.min(train.genesPerStep ?? Infinity, selected.genes.length)) /
      model.seconds,
    predictSeconds,
    peakHeapMiB: peakHeap / MiB,
    peakRssMiB: peakRss / MiB,
    peakTensorMiB: peakTensor / MiB,
  };
  model.dispose();
  return row;
}

function table(rows: BenchRow[]): string {
  const columns: [keyof BenchRow, string, (v: BenchRow) => string][] = [
    ['backend', 'backend', (r) => r.backend],
    ['size', 'size', (r) => `${r.size} ${r.contexts}x${r.perturbations}x${r.genes}`],
    ['parameters', 'params', (r) => String(r.parameters)],
    ['epochs', 'epochs(best)', (r) => `${r.epochs}(${r.bestEpoch})`],
    ['trainSeconds', 'train s', (r) => r.trainSeconds.toFixed(2)],
    ['epochsPerSecond', 'epochs/s', (r) => r.epochsPerSecond.toFixed(2)],
    ['pairGenesPerSecond', 'pair-genes/s', (r) => r.pairGenesPerSecond.toExponential(2)],
    ['predictSeconds', 'predict s', (r) => r.predictSeconds.toFixed(3)],
    ['peakRssMiB', 'RSS MiB', (r) => r.peakRssMiB.toFixed(0)],
    ['peakHeapMiB', 'heap MiB', (r) => r.peakHeapMiB.toFixed(0)],
    ['peakTensorMiB', 'tensor MiB', (r) => r.peakTensorMiB.toFixed(0)],
  ];
  const cells = [columns.map((c) => c[1]), ...rows.map((r) => columns.map((c) => c[2](r)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      backends: { type: 'string', default: 'cpu,wasm' },
      sizes: { type: 'string', default: 'demo,pbmc' },
      'max-epochs': { type: 'string', default: String(DEFAULT_TRAIN_OPTIONS.maxEpochs) },
      preset: { type: 'string', default: 'small' },
    },
  });
  const rows: BenchRow[] = [];
  for (const backendName of values.backends.split(',')) {
    const { backend, adapter } = await useBackend(backendName);
    for (const size of values.sizes.split(',')) {
      const make = SIZES[size];
      if (!make) throw new Error(`Unknown size "${size}": expected ${Object.keys(SIZES).join(', ')}.`);
      const tensor = await make();
      if (!tensor) {
        process.stderr.write(`skipping ${size}: ../shared/data is absent\n`);
        continue;
      }
      const row = {
        backend,
        adapter,
        size,
        ...(await benchOne(tensor, {
          preset: values.preset as ModelPreset,
          maxEpochs: Number(values['max-epochs']),
        })),
      };
      rows.push(row);
      process.stderr.write(`${table([row]).split('\n')[1]}\n`);
    }
  }
  process.stdout.write(values.json ? `${JSON.stringify({ rows }, null, 1)}\n` : `${table(rows)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
