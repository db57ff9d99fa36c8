/**
 * Browser training benchmark: `npx tsx src/cli/bench-browser.ts [--json] [--backends webgpu,wasm,cpu]
 * [--sizes demo,pbmc,replogle,tahoe] [--max-epochs N] [--preset small] [--wasm-threads 1,2] [--stop-check]`.
 * wasm runs once per thread count; for N > 1 the page and its workers report 2N logical cores (tfjs computes
 * on cores / 2 threads), whatever the machine has: the row's wasm column says what ran.
 *
 * Bundles the benchmark page and its worker (src/bench, not part of the app) with esbuild into a temporary
 * folder beside the tfjs wasm binaries, serves it cross-origin isolated under the app's CSP, and drives the
 * machine's headless Chromium with WebGPU exposed (docs/DESIGN.md §9). Every backend the browser offers among
 * those asked for runs every size in a fresh page and worker, measured by src/core/bench.ts; the runner adds
 * what only it can see: the worker's JS heap peak (CDP Runtime.getHeapUsage on the worker target, polled), and
 * the RSS peaks of the renderer and GPU processes (/proc, polled). With --stop-check it then starts a
 * Tahoe-scale run, asks the worker to stop after its second epoch and reports how long stopping took and
 * whether the tab and the worker stayed alive. Prints the same table (or JSON) as src/cli/bench.ts plus
 * those columns.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import {
  esbuildThreadedWasm,
  threadedWasmSources,
  THREAD_GLUE_FILE,
  THREAD_WORKER_FILE,
} from '../build/threaded-wasm';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { BenchColumn, BenchRow } from '../core/bench';
import { BENCH_COLUMNS, BENCH_SIZES, benchTable, isBenchSize } from '../core/bench';
import type { ModelPreset } from '../core/eval/protocol';
import { DEFAULT_TRAIN_OPTIONS } from '../core/model/train';
import type { BackendOffer, BenchBackend, BenchPageApi, RunOutcome, StopResult } from '../bench/protocol';
import { CSP_HEADER } from '../ui/privacy/csp';
import { ISOLATION_HEADERS, serveStatic } from './static-server';
import { positiveNumber } from './bench-args';
import { SAMPLE_MS, Sampler } from './bench-browser-sampler';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium';
import { emulateLogicalCores } from './emulate-cores';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Real data beside the checkout (DESIGN.md); skipped when absent, never copied. */
const PBMC = join(ROOT, '../shared/data/pbmc-drugs/effects.csv.gz');
const WASM_FILES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];
const MiB = 1024 * 1024;

/** A Node benchmark row (peakRssMiB: the renderer's) plus what the browser adds. */
export interface BrowserBenchRow extends BenchRow {
  /** True when the WebGPU adapter is a software fallback; null for other backends. */
  isFallbackAdapter: boolean | null;
  /** wasm build details, null for other backends. */
  wasm: string | null;
  /** Where peakHeapMiB (the worker's JS heap) comes from. */
  heapSource: string;
  /** Peak of the worker's ArrayBuffer backing stores (typed arrays live there, outside the JS heap), MiB. */
  peakWorkerArrayBuffersMiB: number | null;
  /** Peak RSS of the GPU process (where WebGPU buffers live with SwiftShader), MiB. */
  peakGpuProcessRssMiB: number | null;
  /** Peak of webgpu's allocated GPU buffers (its pool included), MiB; null for other backends. */
  peakGpuAllocatedMiB: number | null;
}

export interface BrowserBenchReport {
  chromium: string;
  offer: BackendOffer;
  rows: BrowserBenchRow[];
  stopCheck?: StopCheck;
}

export interface StopCheck extends StopResult {
  backend: BenchBackend;
  size: string;
  /** From the runner asking to stop to the page reporting the stop, seconds (includes the CDP round trips). */
  roundTripSeconds: number;
  /** The page still evaluated script after the stop. */
  tabAlive: boolean;
  peakRendererRssMiB: number | null;
}

const mib = (value: number | null) => (value === null ? '-' : value.toFixed(0));

const BROWSER_COLUMNS: BenchColumn<BrowserBenchRow>[] = [
  ...BENCH_COLUMNS.map(([header, cell]): BenchColumn<BrowserBenchRow> => [
    header === 'RSS MiB' ? 'renderer RSS MiB' : header === 'heap MiB' ? 'worker heap MiB' : header,
    cell,
  ]),
  ['wasm', (r) => r.wasm ?? '-'],
  ['worker ArrayBuffers MiB', (r) => mib(r.peakWorkerArrayBuffersMiB)],
  ['GPU-process RSS MiB', (r) => mib(r.peakGpuProcessRssMiB)],
  ['GPU buffers MiB', (r) => mib(r.peakGpuAllocatedMiB)],
];

/** Bundles page and worker into a temporary folder with index.html and the tfjs wasm binaries. */
async function bundle(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'c3tl-bench-'));
  await build({
    entryPoints: { page: join(ROOT, 'src/bench/page.ts'), worker: join(ROOT, 'src/bench/worker.ts') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: out,
    logLevel: 'error',
    plugins: [esbuildThreadedWasm()],
  });
  const threads = threadedWasmSources();
  writeFileSync(join(out, THREAD_WORKER_FILE), threads.worker);
  writeFileSync(join(out, THREAD_GLUE_FILE), threads.glue);
  copyFileSync(join(ROOT, 'src/bench/index.html'), join(out, 'index.html'));
  const wasmDir = join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  for (const file of WASM_FILES) copyFileSync(join(wasmDir, file), join(out, file));
  return out;
}

interface BenchWindow {
  c3tlBench: BenchPageApi;
}

async function openBenchPage(
  browser: Browser,
  origin: string,
  size: string,
  emulatedCores?: number,
): Promise<Page> {
  const page = await browser.newPage();
  if (emulatedCores !== undefined) await emulateLogicalCores(page.context(), page, emulatedCores);
  page.on('pageerror', (error) => process.stderr.write(`page error: ${error.message}\n`));
  await page.exposeFunction('c3tlBenchProgress', (text: string) => process.stderr.write(`  ${text}\n`));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => 'c3tlBench' in window);
  // The real file goes straight from ../shared/data into the page's file input.
  if (size === 'pbmc') await page.setInputFiles('#file', PBMC);
  return page;
}

interface Options {
  backends: string[];
  sizes: string[];
  maxEpochs: number;
  preset: ModelPreset;
  /** Thread counts each wasm size runs with. */
  wasmThreads: number[];
  stopCheck: boolean;
}

async function runAll(options: Options): Promise<BrowserBenchReport> {
  const folder = await bundle();
  const server = await serveStatic(folder, {
    ...ISOLATION_HEADERS,
    'Content-Security-Policy': CSP_HEADER,
    'Cache-Control': 'no-store',
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const sampler = new Sampler(await browser.newBrowserCDPSession());
    sampler.start();
    const probePage = await openBenchPage(browser, server.origin, 'demo');
    const offer = await probePage.evaluate(() => (window as unknown as BenchWindow).c3tlBench.probe());
    await probePage.close();
    process.stderr.write(
      `Chromium ${browser.version()}; offered: ${offer.backends.join(', ')}` +
        (offer.adapter
          ? `; WebGPU adapter ${offer.adapter}${offer.isFallbackAdapter ? ' (fallback)' : ''}`
          : '') +
        (offer.webgpuProblem ? `; no webgpu: ${offer.webgpuProblem}` : '') +
        '\n',
    );

    const rows: BrowserBenchRow[] = [];
    for (const backend of options.backends as BenchBackend[]) {
      if (!offer.backends.includes(backend)) {
        process.stderr.write(`skipping ${backend}: this browser does not offer it\n`);
        continue;
      }
      for (const size of options.sizes)
        for (const threads of backend === 'wasm' ? options.wasmThreads : [1]) {
          if (!isBenchSize(size))
            throw new Error(`Unknown size "${size}": expected ${BENCH_SIZES.join(', ')}.`);
          if (size === 'pbmc' && !existsSync(PBMC)) {
            process.stderr.write(`skipping pbmc: ${PBMC} is absent\n`);
            continue;
          }
          const page = await openBenchPage(
            browser,
            server.origin,
            size,
            threads > 1 ? 2 * threads : undefined,
          );
          sampler.reset();
          const request = {
            backend,
            size,
            preset: options.preset,
            maxEpochs: options.maxEpochs,
            wasmThreads: threads,
          };
          const outcome: RunOutcome = await page.evaluate(
            (r) => (window as unknown as BenchWindow).c3tlBench.run(r),
            request,
          );
          await page.close();
          if (outcome.kind !== 'done') {
            throw new Error(`${backend} ${size}: ${outcome.kind === 'error' ? outcome.message : 'stopped'}`);
          }
          const { result } = outcome;
          const inWorker = result.measure.peakHeapMiB * MiB;
          const row: BrowserBenchRow = {
            backend,
            adapter: result.adapter,
            size,
            ...result.measure,
            peakHeapMiB: Math.max(inWorker, sampler.peakHeap) / MiB,
            peakRssMiB: sampler.peakRenderer > 0 ? sampler.peakRenderer / MiB : null,
            isFallbackAdapter: result.isFallbackAdapter,
            wasm: result.wasm,
            heapSource: result.heapSource ?? `CDP Runtime.getHeapUsage every ${SAMPLE_MS} ms`,
            peakWorkerArrayBuffersMiB: sampler.peakBacking > 0 ? sampler.peakBacking / MiB : null,
            peakGpuProcessRssMiB: sampler.peakGpuProcess > 0 ? sampler.peakGpuProcess / MiB : null,
            peakGpuAllocatedMiB: result.peakGpuAllocatedMiB,
          };
          rows.push(row);
          process.stderr.write(`${benchTable([row], BROWSER_COLUMNS).split('\n')[1]}\n`);
        }
    }
    const report: BrowserBenchReport = { chromium: browser.version(), offer, rows };
    if (options.stopCheck)
      report.stopCheck = await stopCheck(browser, server.origin, sampler, options, offer);
    sampler.stop();
    return report;
  } finally {
    await browser.close();
    await server.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Starts a Tahoe-scale run, asks it to stop once two epochs are done, and times the stop. */
async function stopCheck(
  browser: Browser,
  origin: string,
  sampler: Sampler,
  options: Options,
  offer: BackendOffer,
): Promise<StopCheck> {
  const backend: BenchBackend = offer.backends.includes('wasm') ? 'wasm' : 'cpu';
  const size = 'tahoe';
  const page = await openBenchPage(browser, origin, size);
  sampler.reset();
  const request = {
    backend,
    size,
    preset: options.preset,
    maxEpochs: DEFAULT_TRAIN_OPTIONS.maxEpochs,
  } as const;
  const running = page.evaluate((r) => (window as unknown as BenchWindow).c3tlBench.run(r), request);
  await page.waitForFunction(() => (window as unknown as BenchWindow).c3tlBench.epochs() >= 2, undefined, {
    timeout: 0,
    polling: 200,
  });
  process.stderr.write('  asking the worker to stop\n');
  const asked = performance.now();
  await page.evaluate(() => (window as unknown as BenchWindow).c3tlBench.stop());
  const outcome = await running;
  const roundTripSeconds = (performance.now() - asked) / 1000;
  const tabAlive = (await page.evaluate(() => 1 + 1)) === 2;
  await page.close();
  if (outcome.kind !== 'stopped') {
    throw new Error(
      `The stop check did not stop: ${outcome.kind === 'error' ? outcome.message : 'it finished'}`,
    );
  }
  return {
    backend,
    size,
    ...outcome.stop,
    roundTripSeconds,
    tabAlive,
    peakRendererRssMiB: sampler.peakRenderer > 0 ? sampler.peakRenderer / MiB : null,
  };
}

function stopLine(check: StopCheck): string {
  return (
    `interruptibility (${check.backend}, ${check.size}): stop asked after epoch ${check.epochs}; training ended ` +
    `${check.stopSeconds.toFixed(2)} s after the page asked (${check.afterMessageSeconds.toFixed(3)} s after the ` +
    `worker got the message, ${check.roundTripSeconds.toFixed(2)} s seen from the runner), ${check.tensorsAfterStop} tensors left; worker ${check.workerAlive ? 'alive' : 'not answering'}, ` +
    `tab ${check.tabAlive ? 'alive' : 'dead'}; renderer RSS peak ${mib(check.peakRendererRssMiB)} MiB`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      backends: { type: 'string', default: 'webgpu,wasm,cpu' },
      sizes: { type: 'string', default: 'demo,pbmc' },
      'max-epochs': { type: 'string', default: String(DEFAULT_TRAIN_OPTIONS.maxEpochs) },
      preset: { type: 'string', default: 'small' },
      'wasm-threads': { type: 'string', default: '1' },
      'stop-check': { type: 'boolean' },
    },
  });
  const wasmThreads = values['wasm-threads'].split(',').map((text) => {
    const count = positiveNumber(text, 'wasm-threads', true);
    if (!count.ok) throw new Error(count.reason);
    return count.data;
  });
  const backends = values.backends.split(',');
  for (const backend of backends) {
    if (!['webgpu', 'wasm', 'cpu'].includes(backend)) {
      throw new Error(`Unknown backend "${backend}": expected webgpu, wasm or cpu.`);
    }
  }
  const maxEpochs = positiveNumber(values['max-epochs'], 'max-epochs', true);
  if (!maxEpochs.ok) throw new Error(maxEpochs.reason);
  const report = await runAll({
    backends,
    // --sizes '' runs no size (with --stop-check: the stop check alone).
    sizes: values.sizes.split(',').filter((size) => size !== ''),
    maxEpochs: maxEpochs.data,
    preset: values.preset as ModelPreset,
    wasmThreads,
    stopCheck: values['stop-check'] ?? false,
  });
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);
  else {
    process.stdout.write(`${benchTable(report.rows, BROWSER_COLUMNS)}\n`);
    if (report.stopCheck) process.stdout.write(`${stopLine(report.stopCheck)}\n`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
