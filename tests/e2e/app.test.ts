/**
 * The app in real headless Chromium: demo and file input, training with live progress, cancel, the WebGPU
 * override, rejected files, prediction mode and the support sweep. Screenshots of every view land in
 * test-results/screenshots/ for a person to look at.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { formatWideTable } from '../../src/core/data/write';
import type { Method } from '../../src/core/eval/methods';
import type { Metric } from '../../src/core/eval/metric-info';
import { METHODS } from '../../src/core/eval/methods';
import { METRICS } from '../../src/core/eval/metric-info';
import { simulate } from '../../src/core/simulate/simulator';
import { MALFORMED } from '../fixtures/malformed';
import type { PageLog } from './harness';
import { openApp, snap, appUnderTest } from './harness';
import { TRAIN_TIMEOUT, setMaxEpochs, trainToResults, waitOrError } from './driver';

/** |Δ| allowed between the wasm and WebGPU runs of the same seed, for every metric of every method. */
const BACKEND_TOLERANCE = 1e-3;

const app = appUnderTest();

interface FileSize {
  contexts: number;
  perturbations: number;
  genes: number;
}

/** The default test file: 4 contexts x 60 perturbations x 200 genes, 10% of pairs unmeasured. */
const SMALL: FileSize = { contexts: 4, perturbations: 60, genes: 200 };
/** For the slow WebGPU fallback adapter. */
const TINY: FileSize = { contexts: 3, perturbations: 40, genes: 100 };

/** A simulated effects file written as a wide CSV table, as a user would export it. */
function effectsFile(size: FileSize = SMALL): { name: string; mimeType: string; buffer: Buffer } {
  const { tensor } = simulate({ ...size, seed: 7, observedFraction: 0.9, counts: false });
  return { name: 'small-effects.csv', mimeType: 'text/csv', buffer: Buffer.from(formatWideTable(tensor)) };
}

async function open(): Promise<{ page: Page; log: PageLog }> {
  const opened = await openApp(app.browser, app.server.origin);
  await opened.page
    .getByTestId('backend')
    .filter({ hasText: /webgpu|wasm|cpu/ })
    .waitFor();
  return opened;
}

async function loadSmallFile(page: Page, size: FileSize = SMALL): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(effectsFile(size));
  await page.getByTestId('dataset-summary').filter({ hasText: 'small-effects.csv' }).waitFor();
}

const CEILING_ROW = '[data-testid=metrics-table] tr[data-method=noise_ceiling]';

/**
 * Reads every method's metric cell (full precision from data-value) and checks the visible text is the same
 * number. The noise-ceiling row of simulated screens is not a method and is left out.
 */
async function readMetrics(page: Page): Promise<Record<Method, Record<Metric, number>>> {
  const cells = await page
    .getByTestId('metrics-table')
    .locator('tbody tr:not([data-method=noise_ceiling])')
    .evaluateAll((rows) =>
      rows.flatMap((row) =>
        Array.from(row.querySelectorAll('td')).map((td) => ({
          method: row.getAttribute('data-method') ?? '',
          metric: td.getAttribute('data-metric') ?? '',
          value: td.getAttribute('data-value') ?? '',
          text: td.textContent ?? '',
        })),
      ),
    );
  const out = {} as Record<Method, Record<Metric, number>>;
  for (const cell of cells) {
    const method = cell.method as Method;
    out[method] ??= {} as Record<Metric, number>;
    out[method][cell.metric as Metric] = Number(cell.value);
    // The visible text is the same number to 4 significant digits.
    const shown = Number(cell.text);
    expect(Number.isFinite(shown), `${cell.method}/${cell.metric} shows "${cell.text}"`).toBe(true);
    expect(Math.abs(shown - Number(cell.value))).toBeLessThanOrEqual(
      Math.abs(Number(cell.value)) * 1e-3 + 1e-12,
    );
  }
  return out;
}

function expectCompleteMetrics(metrics: Record<Method, Record<Metric, number>>): void {
  expect(Object.keys(metrics).sort()).toEqual([...METHODS].sort());
  for (const method of METHODS) {
    for (const metric of METRICS) {
      expect(Number.isFinite(metrics[method][metric]), `${method}/${metric}`).toBe(true);
    }
  }
}

function expectClean(log: PageLog): void {
  expect(log.foreign, 'requests outside the app origin').toEqual([]);
  expect(log.errors, 'uncaught page errors').toEqual([]);
}

describe('C3TL Studio in headless Chromium', () => {
  it('loads the demo, trains with the defaults and shows metrics, verdict and scatter', async () => {
    const { page, log } = await open();
    await snap(page, '00-start');
    await page.getByTestId('demo-button').click();
    const summary = page.getByTestId('dataset-summary');
    await summary.waitFor();
    expect(await page.getByTestId('summary-contexts').textContent()).toBe('6');
    expect(await page.getByTestId('summary-perturbations').textContent()).toBe('300');
    expect(await page.getByTestId('summary-genes').textContent()).toBe('1000');
    await page.locator('[data-testid=coverage-heatmap] .main-svg').first().waitFor();
    await snap(page.getByTestId('data-view'), '01-data');
    await snap(page.getByTestId('setup-view'), '02-setup');

    await page.getByTestId('train-button').click();
    await waitOrError(
      page,
      page.getByTestId('progress-text').filter({ hasText: /Epoch \d+ of at most \d+/ }),
    );
    await snap(page.getByTestId('training-view'), '03-training');
    await waitOrError(page, page.getByTestId('metrics-table'));

    expectCompleteMetrics(await readMetrics(page));
    // The demo is a simulated screen, so its truth gives a noise ceiling.
    expect(await page.locator(CEILING_ROW).count()).toBe(1);
    await page.locator('[data-testid=scatter-plot] svg.main-svg').first().waitFor();
    const points = await page.locator('[data-testid=scatter-plot] .scatterlayer .point').count();
    expect(points).toBeGreaterThan(100);
    expect(await page.getByTestId('verdict').textContent()).toMatch(
      /(C3TL is (better|worse) than|No clear difference between C3TL and) the best other method .*% interval \[/,
    );
    expect(await page.getByTestId('per-pair-list').locator('li').count()).toBeGreaterThan(10);
    // The demo's target has five reference contexts: the mix names each with its weight.
    expect(await page.getByTestId('reference-mix').textContent()).toMatch(
      /mix of the other contexts: (ctx\d\d [+−]\d\.\d\d(, |\. )){5}/,
    );
    // The transfer's multiple is judged on the target's validation pairs and on all five references.
    expect(await page.getByTestId('transfer-info').textContent()).toMatch(
      /epochs of its learnt transfer path.* on \d+ pairs in 6 contexts/,
    );
    await page.locator('[data-testid=gene-heatmap] svg.main-svg').first().waitFor();
    await page.locator('[data-testid=loss-chart] svg.main-svg').first().waitFor();
    await snap(page.getByTestId('results-view'), '04-results');
    await snap(page, '05-full-page');
    expectClean(log);
    await page.close();
  });

  it('loads a simulated effects file through the file input and trains on it', async () => {
    const { page, log } = await open();
    await loadSmallFile(page);
    expect(await page.getByTestId('summary-contexts').textContent()).toBe('4');
    expect(await page.getByTestId('summary-perturbations').textContent()).toBe('60');
    expect(await page.getByTestId('summary-genes').textContent()).toBe('200');
    await trainToResults(page);
    expectCompleteMetrics(await readMetrics(page));
    // A file carries no truth, even when the simulator wrote it.
    expect(await page.locator(CEILING_ROW).count()).toBe(0);
    await page.locator('[data-testid=scatter-plot] svg.main-svg').first().waitFor();
    expectClean(log);
    await page.close();
  });

  it('cancel really stops training, and the app stays usable: load the demo, train to results', async () => {
    const { page, log } = await open();
    await loadSmallFile(page);
    // Early stopping waits 8 epochs without progress, so training is surely still running after epoch 1.
    await page.getByTestId('preset-select').selectOption('large');
    await setMaxEpochs(page, 500);
    await page.getByTestId('train-button').click();
    const progress = page.getByTestId('progress-text');
    await progress.filter({ hasText: /Epoch \d+ of at most 500/ }).waitFor({ timeout: TRAIN_TIMEOUT });
    await page.getByTestId('cancel-button').click();
    await page
      .getByTestId('status')
      .filter({ hasText: 'Training cancelled' })
      .waitFor({ timeout: TRAIN_TIMEOUT });
    const stoppedAt = await progress.textContent();
    expect(stoppedAt).toMatch(/Epoch \d+ of at most 500/);
    expect(await page.getByTestId('train-button').isEnabled()).toBe(true);
    expect(await page.getByTestId('metrics-table').count()).toBe(0);
    expect(await page.getByTestId('error').count()).toBe(0);
    await snap(page, '06-cancelled');

    // The worker runs one task at a time, so the demo would wait behind the old training had it not stopped.
    await page.getByTestId('demo-button').click();
    await page.getByTestId('dataset-summary').filter({ hasText: 'Built-in demo' }).waitFor();
    expect(await progress.count()).toBe(0);
    await page.getByTestId('preset-select').selectOption('small');
    await setMaxEpochs(page, 2);
    await trainToResults(page);
    expectCompleteMetrics(await readMetrics(page));
    expectClean(log);
    await page.close();
  });

  it('forcing WebGPU says so in the badge and agrees with wasm', async () => {
    const { page, log } = await open();
    await loadSmallFile(page, TINY);
    await setMaxEpochs(page, 2);

    await page.getByTestId('backend-select').selectOption('wasm');
    await page.getByTestId('backend').filter({ hasText: 'wasm' }).waitFor();
    await trainToResults(page);
    const wasm = await readMetrics(page);
    expect(await page.getByTestId('train-info').textContent()).toContain('on wasm');

    await page.getByTestId('backend-select').selectOption('webgpu');
    await page.locator('[data-testid=backend] .backend-name', { hasText: 'webgpu' }).waitFor();
    expect(await page.getByTestId('backend').textContent()).toMatch(/adapter: \S+/);
    await snap(page.locator('header'), '07-webgpu-badge');
    await trainToResults(page);
    expect(await page.getByTestId('train-info').textContent()).toContain('on webgpu');
    const webgpu = await readMetrics(page);

    expectCompleteMetrics(webgpu);
    for (const method of METHODS) {
      for (const metric of METRICS) {
        const delta = Math.abs(webgpu[method][metric] - wasm[method][metric]);
        expect(
          delta,
          `${method}/${metric}: wasm ${wasm[method][metric]}, webgpu ${webgpu[method][metric]}`,
        ).toBeLessThan(BACKEND_TOLERANCE);
      }
    }
    expectClean(log);
    await page.close();
  });

  it('a malformed file shows the error and keeps the previous dataset', async () => {
    const { page, log } = await open();
    await loadSmallFile(page);
    const picked = [
      'non-numeric value',
      'corrupt gzip',
      'binary file',
      'counts matrix without a sample sheet',
      'NUL byte past the first KiB',
      'gzip cut after 3 bytes',
      'UTF-16 (little-endian) text without a byte-order mark',
      'long table with several candidate value columns',
    ];
    const cases = MALFORMED.filter((c) => picked.includes(c.title));
    expect(cases.map((c) => c.title).sort()).toEqual([...picked].sort());
    for (const bad of cases) {
      const files = [bad, ...(bad.companions ?? [])].map((f) => ({
        name: f.name,
        mimeType: 'application/octet-stream',
        buffer: Buffer.from(f.bytes),
      }));
      await page.getByTestId('file-input').setInputFiles(files);
      const message = page.getByTestId('error-message');
      await message.waitFor();
      expect(await message.textContent(), bad.title).toMatch(bad.expect);
      // The previous dataset is still loaded and shown.
      await page.getByTestId('dataset-summary').filter({ hasText: 'small-effects.csv' }).waitFor();
      expect(await page.getByTestId('summary-contexts').textContent()).toBe('4');
      expect(await page.getByTestId('train-button').isEnabled()).toBe(true);
    }
    await snap(page, '08-error');
    expectClean(log);
    await page.close();
  });

  it('predicts never-measured pairs and runs the support sweep', async () => {
    const { page, log } = await open();
    await loadSmallFile(page);
    await setMaxEpochs(page, 20);
    const target = page.getByTestId('target-select');
    // The first context with missing perturbations (the file leaves 10% of pairs unmeasured).
    const options = await target.locator('option').allTextContents();
    const index = options.findIndex((o) => !/· 0 missing/.test(o));
    expect(index).toBeGreaterThanOrEqual(0);
    await target.selectOption(String(index));
    await page.getByTestId('mode-predict').check();
    await page.getByTestId('train-button').click();
    const table = page.getByTestId('prediction-table');
    await waitOrError(page, table);
    expect(await table.locator('tbody tr').count()).toBeGreaterThan(0);
    await snap(page.getByTestId('prediction-view'), '09-predictions');

    await page.getByTestId('mode-evaluate').check();
    await page.getByTestId('sweep-button').click();
    await page
      .getByTestId('status')
      .filter({ hasText: 'Support sweep finished' })
      .waitFor({ timeout: TRAIN_TIMEOUT });
    await page.locator('[data-testid=sweep-plot] svg.main-svg').first().waitFor();
    expect(await page.getByTestId('sweep-table').locator('tbody tr').count()).toBe(4);
    await snap(page.getByTestId('sweep-view'), '10-sweep');
    expectClean(log);
    await page.close();
  });

  it('opens with the demo loaded when the address says ?demo (the quick start)', async () => {
    const { page } = await openApp(app.browser, app.server.origin, '/?demo');
    await expect
      .poll(() => page.getByTestId('summary-contexts').textContent(), { timeout: 60_000 })
      .toContain('6');
    expect(await page.getByTestId('summary-perturbations').textContent()).toContain('300');
    await page.close();
  });

  it('warns about degenerate data in a banner and shows the metrics it leaves undefined as a dash', async () => {
    const { page, log } = await open();
    const genes = Array.from({ length: 20 }, (_, g) => `G${g}`);
    const rows = ['A', 'B', 'C'].flatMap((c) =>
      Array.from({ length: 10 }, (_, p) => [c, `p${p}`, ...genes.map(() => '0')].join(',')),
    );
    const text = [['context', 'perturbation', ...genes].join(','), ...rows].join('\n') + '\n';
    await page
      .getByTestId('file-input')
      .setInputFiles({ name: 'zeros.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });
    await page.getByTestId('dataset-summary').filter({ hasText: 'zeros.csv' }).waitFor();
    await setMaxEpochs(page, 2);
    await trainToResults(page);
    const banner = page.getByTestId('data-warning');
    await banner.waitFor();
    expect(await banner.textContent()).toMatch(/held-out pairs .* have an effect of 0 on every gene/);
    const pearson = page.locator('[data-testid=metrics-table] tr[data-method=c3tl] td[data-metric=pearson]');
    expect(await pearson.textContent()).toBe('—');
    expect(await pearson.getAttribute('data-value')).toBe('NaN');
    expectClean(log);
    await page.close();
  });

  it('stays readable in a narrow window (single column)', async () => {
    const { page, log } = await open();
    await page.setViewportSize({ width: 390, height: 844 });
    await loadSmallFile(page);
    await page.locator('[data-testid=coverage-heatmap] svg.main-svg').first().waitFor();
    // By structure and bounds, not by the width of native controls or text (they vary with fonts): every
    // visible element ends inside the viewport unless a box that scrolls or clips sideways holds it.
    const outside = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const contained = (el: Element): boolean => {
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
          if (getComputedStyle(p).overflowX !== 'visible') return true;
        }
        return false;
      };
      const name = (el: Element): string =>
        `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.getAttribute('data-testid') ? `[data-testid=${el.getAttribute('data-testid')}]` : ''}.${[...el.classList].join('.')}`;
      return [...document.body.querySelectorAll('*')]
        .filter((el) => {
          const r = el.getBoundingClientRect();
          return r.width > 0 && r.height > 0 && r.right > width + 1 && !contained(el);
        })
        .map(
          (el) => `${name(el)} (${Math.round(el.getBoundingClientRect().right - width)} px past the edge)`,
        );
    });
    expect(outside).toEqual([]);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    // The model-file picker is a button-like label over a hidden input, inside the viewport.
    const picker = await page
      .getByTestId('model-import')
      .locator('label.button-like')
      .evaluate((el) => {
        const r = el.getBoundingClientRect();
        return { left: r.left, right: r.right, width: document.documentElement.clientWidth };
      });
    expect(picker.left).toBeGreaterThanOrEqual(0);
    expect(picker.right).toBeLessThanOrEqual(picker.width);
    await snap(page, '11-narrow');
    expectClean(log);
    await page.close();
  });
});
