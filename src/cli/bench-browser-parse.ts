/**
 * Browser parse benchmark: writes the same synthetic wide effects table as bench-parse.ts (about `--mb`
 * megabytes, default 200) into a temporary folder, serves the built app (dist/, run `npx vite build` first)
 * to headless Chromium (/usr/bin/chromium), chooses the file through the file input as a person would, and
 * reports the parse time (file chosen -> dataset summary shown), peak memory, the longest main-thread task
 * and the progress updates the page showed.
 *
 *   npx tsx src/cli/bench-browser-parse.ts [--mb 200] [--genes 5000] [--gzip] [--json]
 *
 * --json prints one JSON object (the report) and nothing else on stdout.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser, openApp, serveDist } from './app-browser';
import type { LoadProbe } from './load-probe';
import { installLoadProbe, progressPasses, readLoadProbe } from './load-probe';
import { startMemorySampler } from './bench-browser-memory';
import { tableArgs } from './bench-args';
import { writeWideTable } from './synthetic-csv';

const MiB = 1024 * 1024;
/** The parse of a few hundred MB on a loaded machine. */
const LOAD_TIMEOUT_MS = 600_000;

function chromiumVersion(): string {
  try {
    return execFileSync('/usr/bin/chromium', ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}

async function waitForDataset(page: Page): Promise<void> {
  const error = page.getByTestId('error');
  await page.getByTestId('dataset-summary').or(error).first().waitFor({ timeout: LOAD_TIMEOUT_MS });
  if (await error.isVisible()) throw new Error(`The app shows an error: ${await error.textContent()}`);
}

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));
const mib = (bytes: number): number => round(bytes / MiB, 0);

/** The longest task among those starting in [from, to] (page clock, ms), 0 when there is none. */
function longestTask(probe: LoadProbe, from: number, to: number): number {
  const inside = probe.longTasks.filter((t) => t.start >= from && t.start <= to);
  return round(Math.max(0, ...inside.map((t) => t.duration)));
}

async function main(): Promise<void> {
  const parsed = tableArgs(process.argv.slice(2), 'json');
  if (!parsed.ok) throw new Error(parsed.reason);
  const args = parsed.data;
  const say = (line: string): void => {
    if (!args.json) console.log(line);
  };
  const dir = mkdtempSync(join(tmpdir(), 'c3tl-bench-browser-'));
  const fileName = args.gzip ? 'effects.csv.gz' : 'effects.csv';
  const path = join(dir, fileName);
  const server = await serveDist();
  const browser = await launchBrowser();
  try {
    const t0 = performance.now();
    const plan = await writeWideTable(path, { mb: args.mb, genes: args.genes, gzip: args.gzip });
    const fileBytes = statSync(path).size;
    say(
      `generated ${fileName}: ${mib(fileBytes)} MiB on disk, ${mib(plan.textBytes)} MiB of text, ${plan.rows} rows x ${plan.genes} genes in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    await installLoadProbe(browser.context);
    const { page, log } = await openApp(browser, server.origin);
    await page
      .getByTestId('backend')
      .filter({ hasText: /webgpu|wasm|cpu/ })
      .waitFor({ timeout: 120_000 });
    const cdp = await browser.context.newCDPSession(page);
    const { product } = await cdp.send('Browser.getVersion');

    const sampler = await startMemorySampler(cdp);
    const { before, peak } = sampler;

    await page.getByTestId('file-input').setInputFiles(path, { timeout: LOAD_TIMEOUT_MS });
    await waitForDataset(page);
    const { renderers, workerSamples } = await sampler.stop();

    const probe = await readLoadProbe(page);
    if (probe.chosenAt === null || probe.shownAt === null)
      throw new Error(
        `The probe missed the load: ${JSON.stringify({ ...probe, progress: probe.progress.length })}`,
      );
    const parseMs = probe.shownAt - probe.chosenAt;
    const passes = progressPasses(probe.progress);
    const lastProgressAt = probe.progress[probe.progress.length - 1]?.at ?? probe.shownAt;
    const summary = {
      contexts: Number(await page.getByTestId('summary-contexts').textContent()),
      perturbations: Number(await page.getByTestId('summary-perturbations').textContent()),
      genes: Number(await page.getByTestId('summary-genes').textContent()),
    };

    const report = {
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        chromium: `${chromiumVersion()} (${product})`,
        backend: await page.getByTestId('backend').textContent(),
      },
      command: `npx tsx src/cli/bench-browser-parse.ts --mb ${args.mb} --genes ${args.genes}${args.gzip ? ' --gzip' : ''}${args.json ? ' --json' : ''}`,
      file: {
        name: fileName,
        bytes: fileBytes,
        mib: mib(fileBytes),
        textMiB: mib(plan.textBytes),
        rows: plan.rows,
        gzip: args.gzip,
      },
      dataset: summary,
      expected: { contexts: plan.contexts, perturbations: plan.perturbations, genes: plan.genes },
      parse: {
        seconds: round(parseMs / 1000, 2),
        what: 'From the file input change event to the dataset summary in the DOM (page clock): both read passes, building the tensor, SHA-256 of the file, transfer to the page and the render.',
        mibPerSecond: round(fileBytes / MiB / (parseMs / 1000)),
        phases: probe.phases.map((p) => ({
          phase: p.phase,
          atSeconds: round((p.at - probe.chosenAt!) / 1000, 2),
        })),
      },
      progress: {
        updates: probe.progress.length,
        what: 'Distinct values of the <progress> bar the DOM showed (a MutationObserver), over all passes.',
        passes: passes.map((p) => ({ distinctFractions: p.length, first: p[0], last: p[p.length - 1] })),
      },
      mainThread: {
        longestTaskDuringReadMs: longestTask(probe, probe.chosenAt, lastProgressAt),
        longestTaskIncludingRenderMs: longestTask(probe, probe.chosenAt, probe.shownAt),
        longTasks: probe.longTasks.filter((t) => t.start >= probe.chosenAt! && t.start <= probe.shownAt!)
          .length,
        what: "Long tasks (> 50 ms, PerformanceObserver 'longtask') of the page's main thread that started while the worker read the file (until the last progress update), and until the dataset showed (its render included). fileReadsOnMainThread: reads of the file's bytes by the page itself (must be 0: the worker reads it).",
        fileReadsOnMainThread: probe.mainThreadReads.length,
      },
      memory: {
        chromiumRssPeakMiB: mib(peak.rss.allBytes),
        chromiumRssBeforeMiB: mib(before.rss.allBytes),
        rendererRssPeakMiB: mib(peak.rss.rendererBytes),
        rendererRssBeforeMiB: mib(before.rss.rendererBytes),
        rendererHwmMaxMiB: mib(Math.max(0, ...renderers.map((p) => p.hwmBytes))),
        pageJsHeapPeakMiB: mib(peak.pageHeap),
        workerJsHeapPeakMiB: mib(peak.workerHeap),
        workerJsHeapBeforeMiB: mib(before.worker?.usedSize ?? 0),
        workerBackingStorePeakMiB: mib(peak.workerBacking),
        workerBackingStoreBeforeMiB: mib(before.worker?.backingStorageSize ?? 0),
        workerHeapSamples: workerSamples,
        what: {
          chromiumRss:
            'Sum of VmRSS (/proc/<pid>/status) over every Chromium process of the run (browser, GPU, utility, renderers), sampled every 100 ms; "before" is just before the file was chosen.',
          rendererRss:
            'Sum of VmRSS over the renderer processes only; the page, its engine worker and the service worker run there. Sampled every 100 ms.',
          rendererHwm:
            'Largest VmHWM (the kernel-recorded peak RSS over the whole life of the process, not sampled) among the renderer processes.',
          pageJsHeap:
            "Peak V8 heap used of the page's main thread (CDP Runtime.getHeapUsage), sampled every 250 ms.",
          workerJsHeap:
            'Peak V8 heap used of the engine worker (CDP Runtime.getHeapUsage on the worker target), sampled every 250 ms; ArrayBuffers (the file chunks, the float32 tensor) are not in it.',
          workerBackingStore:
            "Peak off-heap backing storage of the worker's isolate (ArrayBuffers: file chunks, the float32 tensor; the wasm backend's memory), same samples.",
        },
      },
      errors: log.errors,
    };

    if (args.json) {
      console.log(JSON.stringify(report, null, 2));
      return;
    }
    say(`machine: ${report.machine.cpu}, ${report.machine.cores} cores; ${report.machine.chromium}`);
    say(
      `dataset: ${summary.contexts} contexts x ${summary.perturbations} perturbations x ${summary.genes} genes (expected ${plan.contexts} x ${plan.perturbations} x ${plan.genes})`,
    );
    say(
      `parse time (file chosen -> dataset shown): ${report.parse.seconds} s, ${report.parse.mibPerSecond} MiB/s of file`,
    );
    for (const p of report.parse.phases) say(`  ${p.atSeconds.toFixed(2)} s  ${p.phase}`);
    say(
      `progress updates seen: ${report.progress.updates} in ${passes.length} pass(es) (${passes.map((p) => p.length).join(' + ')} distinct fractions)`,
    );
    say(
      `main thread: longest task while the worker read ${report.mainThread.longestTaskDuringReadMs} ms, including the result render ${report.mainThread.longestTaskIncludingRenderMs} ms; ${report.mainThread.longTasks} long tasks; file reads on the main thread: ${report.mainThread.fileReadsOnMainThread}`,
    );
    const m = report.memory;
    say(`memory (MiB):`);
    say(
      `  all Chromium processes, summed RSS: ${m.chromiumRssBeforeMiB} before, ${m.chromiumRssPeakMiB} peak (sampled)`,
    );
    say(
      `  renderer processes (page + workers), summed RSS: ${m.rendererRssBeforeMiB} before, ${m.rendererRssPeakMiB} peak (sampled); largest renderer VmHWM ${m.rendererHwmMaxMiB}`,
    );
    say(`  page main-thread JS heap used: peak ${m.pageJsHeapPeakMiB}`);
    say(
      `  engine worker JS heap used: ${m.workerJsHeapBeforeMiB} before, peak ${m.workerJsHeapPeakMiB}; worker off-heap backing store (ArrayBuffers, wasm memory) ${m.workerBackingStoreBeforeMiB} before, peak ${m.workerBackingStorePeakMiB} (${m.workerHeapSamples} samples)`,
    );
    if (log.errors.length > 0) say(`page errors: ${log.errors.join('; ')}`);
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
