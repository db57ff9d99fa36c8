/**
 * Training benchmark: `npm run -s bench -- [--json] [--backends cpu,wasm,webgpu] [--sizes demo,pbmc,replogle,tahoe]
 * [--max-epochs N] [--preset small]`. For each backend and size it trains C3TL on one target (10% support, seed 1)
 * and reports time to the early-stopping point, epochs/s, training throughput (query pairs x genes per second),
 * prediction time, peak memory (JS heap, RSS, tfjs tensor bytes) and the parameter count. The measuring itself
 * is src/core/bench.ts, shared with the browser benchmark (src/cli/bench-browser.ts).
 */
import { existsSync, openAsBlob } from 'node:fs';
import { parseArgs } from 'node:util';
import type { BenchRow } from '../core/bench';
import {
  BENCH_COLUMNS,
  BENCH_SIZES,
  benchOne,
  benchTable,
  fileSizeTensor,
  isBenchSize,
  simulatedSizeTensor,
} from '../core/bench';
import type { EffectTensor } from '../core/data/tensor';
import type { ModelPreset } from '../core/eval/protocol';
import { DEFAULT_TRAIN_OPTIONS } from '../core/model/train';
import { useBackend } from './backend';
import { positiveNumber } from './bench-args';

export type { BenchRow };

/** Real data beside the checkout (DESIGN.md); skipped when absent. */
const PBMC = '../shared/data/pbmc-drugs/effects.csv.gz';

async function sizeTensor(size: string): Promise<EffectTensor | null> {
  if (!isBenchSize(size)) throw new Error(`Unknown size "${size}": expected ${BENCH_SIZES.join(', ')}.`);
  if (size !== 'pbmc') return simulatedSizeTensor(size);
  if (!existsSync(PBMC)) return null;
  const blob = await openAsBlob(PBMC);
  return fileSizeTensor({ name: 'effects.csv.gz', size: blob.size, stream: () => blob.stream() });
}

const nodeMemory = () => {
  const usage = process.memoryUsage();
  return { heapBytes: usage.heapUsed, rssBytes: usage.rss };
};

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
  const maxEpochs = positiveNumber(values['max-epochs'], 'max-epochs', true);
  if (!maxEpochs.ok) throw new Error(maxEpochs.reason);
  const rows: BenchRow[] = [];
  for (const backendName of values.backends.split(',')) {
    const { backend, adapter } = await useBackend(backendName);
    for (const size of values.sizes.split(',')) {
      const tensor = await sizeTensor(size);
      if (!tensor) {
        process.stderr.write(`skipping ${size}: ../shared/data is absent\n`);
        continue;
      }
      const measure = await benchOne(tensor, {
        preset: values.preset as ModelPreset,
        maxEpochs: maxEpochs.data,
        sampleMemory: nodeMemory,
      });
      const row: BenchRow = { backend, adapter, size, ...measure };
      rows.push(row);
      process.stderr.write(`${benchTable([row], BENCH_COLUMNS).split('\n')[1]}\n`);
    }
  }
  process.stdout.write(
    values.json ? `${JSON.stringify({ rows }, null, 1)}\n` : `${benchTable(rows, BENCH_COLUMNS)}\n`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
