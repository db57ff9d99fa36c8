/**
 * Browser pseudo-bulk benchmark: writes a synthetic single-cell screen (sparse CSR counts; 4 contexts x 50
 * perturbations plus controls, cells spread evenly) as an .h5ad file or a 10x folder in a temporary folder,
 * drops it on the built app (dist/, run `npx vite build` first) in headless Chromium, pseudo-bulks it with
 * the pre-selected columns, and reports the time to open it, the time to pseudo-bulk it and the memory of
 * the tab and of the engine worker.
 *
 *   npx tsx src/cli/bench-browser-cells.ts [--format h5ad|mtx] [--cells 50000] [--genes 2000] [--per-cell 400]
 *     [--keep | --input DIR]
 *
 * --keep leaves the generated input in its temporary folder (named on stderr) instead of deleting it;
 * --input DIR drops the input a --keep run left there (same format and shape options) instead of writing one.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, openApp, serveDist } from './app-browser';
import { startMemorySampler } from './bench-browser-memory';
import { inputPaths, writeSyntheticH5ad, writeSyntheticMtx } from './bench-cells-input';

const MiB = 1024 * 1024;
const TIMEOUT_MS = 3_600_000;

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const seconds = (ms: number): number => Number((ms / 1000).toFixed(1));
const mib = (bytes: number): number => Math.round(bytes / MiB);

async function main(): Promise<void> {
  const format = option('format', 'h5ad');
  const cells = Number(option('cells', '50000'));
  const genes = Number(option('genes', '2000'));
  const perCell = Number(option('per-cell', '400'));
  if (
    !['h5ad', 'mtx'].includes(format) ||
    ![cells, genes, perCell].every((n) => Number.isInteger(n) && n > 0)
  )
    throw new Error('usage: --format h5ad|mtx --cells N --genes N --per-cell N');
  const given = option('input', '');
  const dir = given || mkdtempSync(join(tmpdir(), 'c3tl-bench-cells-'));
  const server = await serveDist();
  const browser = await launchBrowser();
  try {
    let t = performance.now();
    const shape = { cells, genes, perCell };
    const paths = given
      ? inputPaths(dir, format)
      : format === 'h5ad'
        ? await writeSyntheticH5ad(dir, shape)
        : writeSyntheticMtx(dir, shape);
    const missing = paths.filter((p) => !existsSync(p));
    if (missing.length) throw new Error(`--input ${dir} lacks ${missing.join(', ')}`);
    const bytes = paths.reduce((sum, p) => sum + statSync(p).size, 0);
    // null when the input was reused (--input): nothing was written.
    const generatedS = given ? null : seconds(performance.now() - t);

    const { page, log } = await openApp(browser, server.origin);
    await page
      .getByTestId('backend')
      .filter({ hasText: /webgpu|wasm|cpu/ })
      .waitFor({ timeout: 300_000 });
    const cdp = await browser.context.newCDPSession(page);
    const { product } = await cdp.send('Browser.getVersion');
    const sampler = await startMemorySampler(cdp);
    t = performance.now();
    await page.getByTestId('file-input').setInputFiles(paths, { timeout: TIMEOUT_MS });
    await page
      .getByTestId('pseudobulk-button')
      .and(page.locator(':enabled'))
      .waitFor({ timeout: TIMEOUT_MS });
    const openS = seconds(performance.now() - t);
    const progress: { text: string; atS: number }[] = [];
    t = performance.now();
    await page.getByTestId('pseudobulk-button').click();
    const clickS = seconds(performance.now() - t);
    const summary = page.getByTestId('dataset-summary').filter({ hasText: 'pseudo-bulk by' });
    while (!(await summary.isVisible())) {
      const error = page.getByTestId('error');
      if (await error.isVisible()) throw new Error(`The app shows an error: ${await error.textContent()}`);
      const bar = page.getByTestId('load-progress').locator('label');
      // allTextContents does not wait: the bar may vanish between two polls.
      const text = (await bar.allTextContents())[0] ?? null;
      if (text && text !== progress[progress.length - 1]?.text)
        progress.push({ text, atS: seconds(performance.now() - t) });
      await page.waitForTimeout(200);
    }
    const pseudobulkS = seconds(performance.now() - t);
    const { renderers, workerSamples } = await sampler.stop();
    const { before, peak } = sampler;
    const report = {
      command: `npx tsx src/cli/bench-browser-cells.ts --format ${format} --cells ${cells} --genes ${genes} --per-cell ${perCell}${given ? ` --input ${given}` : ''}`,
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, chromium: product },
      input: { format, cells, genes, storedCounts: cells * perCell, bytes, mib: mib(bytes), generatedS },
      dataset: {
        contexts: Number(await page.getByTestId('summary-contexts').textContent()),
        perturbations: Number(await page.getByTestId('summary-perturbations').textContent()),
        genes: Number(await page.getByTestId('summary-genes').textContent()),
      },
      seconds: {
        open: openS,
        click: clickS,
        pseudobulk: pseudobulkS,
        afterClick: Number((pseudobulkS - clickS).toFixed(1)),
        what: 'open: files chosen -> pseudo-bulk button enabled; click: until the click landed (Playwright); pseudobulk: click started -> pseudo-bulked dataset shown; afterClick: pseudobulk - click',
      },
      cellsPerSecondAfterClick: Math.round(cells / (pseudobulkS - clickS)),
      progress,
      memoryMiB: {
        chromiumRss: { before: mib(before.rss.allBytes), peak: mib(peak.rss.allBytes) },
        rendererRss: { before: mib(before.rss.rendererBytes), peak: mib(peak.rss.rendererBytes) },
        rendererHwmMax: mib(Math.max(0, ...renderers.map((p) => p.hwmBytes))),
        pageJsHeapPeak: mib(peak.pageHeap),
        workerJsHeap: { before: mib(before.worker?.usedSize ?? 0), peak: mib(peak.workerHeap) },
        workerBackingStore: {
          before: mib(before.worker?.backingStorageSize ?? 0),
          peak: mib(peak.workerBacking),
        },
        workerHeapSamples: workerSamples,
      },
      errors: log.errors,
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await browser.close();
    await server.close();
    if (given || process.argv.includes('--keep')) console.error(`input kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
