/**
 * Parser benchmark: writes a wide effects table of about `--mb` megabytes (default 200) into a temporary
 * folder, streams it through loadDataset from disk, and prints parse seconds, throughput and peak memory.
 *
 *   npm run -s bench:parse -- [--mb 200] [--genes 5000] [--gzip] [--keep]
 *
 * Peak RSS is the process maximum (getrusage), reported next to the RSS before parsing; peak heap and
 * ArrayBuffer memory are sampled at every progress callback (once per chunk read).
 */
import { mkdtempSync, openAsBlob, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadDataset } from '../core/data/load';
import { tensorSummary } from '../core/data/tensor';
import { tableArgs } from './bench-args';
import { writeWideTable } from './synthetic-csv';

const MiB = 1024 * 1024;
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const parsed = tableArgs(process.argv.slice(2), 'keep');
  if (!parsed.ok) throw new Error(parsed.reason);
  const args = parsed.data;
  const dir = mkdtempSync(join(tmpdir(), 'c3tl-bench-'));
  const path = join(dir, args.gzip ? 'effects.csv.gz' : 'effects.csv');
  try {
    const t0 = performance.now();
    const written = await writeWideTable(path, args);
    const fileBytes = statSync(path).size;
    console.log(
      `generated ${path}: ${mib(fileBytes)} on disk, ${mib(written.textBytes)} of text, ${written.rows} rows x ${args.genes} genes in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    globalThis.gc?.();
    const before = process.memoryUsage();
    let peakHeap = before.heapUsed;
    let peakBuffers = before.arrayBuffers;
    let peakSampledRss = before.rss;
    const blob = await openAsBlob(path);
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const result = await loadDataset(
      [{ name: basename(path), size: blob.size, stream: () => blob.stream() }],
      {
        memoryBudgetBytes: 4 * 1024 ** 3,
        onProgress: () => {
          const m = process.memoryUsage();
          peakHeap = Math.max(peakHeap, m.heapUsed);
          peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
          peakSampledRss = Math.max(peakSampledRss, m.rss);
        },
      },
    );
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const after = process.memoryUsage();
    if (!result.ok) {
      console.error(result.error.message);
      process.exitCode = 1;
      return;
    }
    const s = tensorSummary(result.data.tensor);
    const tensorBytes = result.data.tensor.values.byteLength;
    console.log(
      `parsed: ${s.contexts} contexts x ${s.perturbations} perturbations x ${s.genes} genes, ${s.pairs} pairs (${s.averagedPairs} averaged)`,
    );
    console.log(
      `parse time: ${seconds.toFixed(2)} s wall (${(written.textBytes / MiB / seconds).toFixed(0)} MiB/s of text), ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU`,
    );
    console.log(`output tensor: ${mib(tensorBytes)} (float32)`);
    console.log(
      `RSS before parse: ${mib(before.rss)}; peak RSS sampled during parse: ${mib(peakSampledRss)}; process peak RSS: ${mib(process.resourceUsage().maxRSS * 1024)}; after: ${mib(after.rss)}`,
    );
    console.log(`peak JS heap used: ${mib(peakHeap)}; peak ArrayBuffers: ${mib(peakBuffers)}`);
    for (const note of result.notes) console.log(`note: ${note}`);
  } finally {
    if (args.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
