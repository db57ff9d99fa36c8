/**
 * A ~200 MB wide effects file chosen through the file input: the worker parses it while the progress bar
 * moves and the page keeps handling input, then the summary shows the table's shape. No timing assertion:
 * on a loaded 2-core machine the parse may take minutes, so every wait is generous.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WideTablePlan } from '../../src/cli/synthetic-csv';
import { writeWideTable } from '../../src/cli/synthetic-csv';
import type { PageLog } from './harness';
import { openApp, appUnderTest } from './harness';
import { installLoadProbe, progressPasses, readLoadProbe } from '../../src/cli/load-probe';

/** Every wait of this file: a 200 MB parse on a busy 2-core CI machine. */
const LONG = 240_000;
const FILE_NAME = 'large-effects.csv';

let dir: string;
let path: string;
let plan: WideTablePlan;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'c3tl-large-'));
  path = join(dir, FILE_NAME);
  plan = await writeWideTable(path, { mb: 200, genes: 5000 });
}, LONG);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const app = appUnderTest({ prepare: (browser) => installLoadProbe(browser.context), timeout: LONG });

/** What one interaction left in the DOM, read in the same main-thread task as the load state. */
interface Snapshot {
  detailsOpen: boolean;
  /** The progress bar's value attribute; null when the bar shows no fraction or is gone. */
  progress: string | null;
  datasetShown: boolean;
}

/** Toggles the privacy <details> by clicking its summary, as a person would, and reads the outcome. */
async function toggleDetails(page: Page): Promise<Snapshot> {
  await page.locator('details.privacy-details > summary').click({ timeout: LONG });
  return page.evaluate(() => ({
    detailsOpen: document.querySelector<HTMLDetailsElement>('details.privacy-details')?.open ?? false,
    progress: document.querySelector('[data-testid=load-progress] progress')?.getAttribute('value') ?? null,
    datasetShown: document.querySelector('[data-testid=dataset-summary]') !== null,
  }));
}

describe('a 200 MB effects file in headless Chromium', () => {
  it('parses in the worker with a moving progress bar while the page stays responsive', async () => {
    expect(statSync(path).size).toBeGreaterThan(190e6);
    const { page, log }: { page: Page; log: PageLog } = await openApp(app.browser, app.server.origin);
    await page
      .getByTestId('backend')
      .filter({ hasText: /webgpu|wasm|cpu/ })
      .waitFor({ timeout: LONG });

    // A path, not a buffer: the browser reads the file from disk as it would a person's file.
    await page.getByTestId('file-input').setInputFiles(path, { timeout: LONG });

    // Once the bar shows a fraction below 100 %, the main thread must handle clicks while the worker reads.
    await page.waitForFunction(
      () => {
        const progress = (window as { __loadProbe?: { progress: { fraction: number }[] } }).__loadProbe
          ?.progress;
        return progress?.some((p) => p.fraction > 0 && p.fraction < 1) ?? false;
      },
      undefined,
      { timeout: LONG, polling: 100 },
    );
    // A parse on the main thread would hold the click until it ended, by then the bar is gone or full.
    const opened = await toggleDetails(page);
    expect(opened.detailsOpen, 'the <details> opened').toBe(true);
    expect(opened.datasetShown, 'the dataset appeared before the click was handled').toBe(false);
    expect(opened.progress, 'the bar shows a fraction when the click is handled').not.toBeNull();
    expect(Number(opened.progress)).toBeLessThan(1);
    const closed = await toggleDetails(page);
    expect(closed.detailsOpen, 'the <details> closed').toBe(false);

    const summary = page.getByTestId('dataset-summary').filter({ hasText: FILE_NAME });
    await summary.or(page.getByTestId('error')).first().waitFor({ timeout: LONG });
    const error = page.getByTestId('error');
    if (await error.isVisible()) throw new Error(`The app shows an error: ${await error.textContent()}`);

    const probe = await readLoadProbe(page);
    const passes = progressPasses(probe.progress);
    const longest = Math.max(...passes.map((pass) => pass.length));
    expect(
      longest,
      `progress passes seen: ${JSON.stringify(passes.map((p) => p.length))}`,
    ).toBeGreaterThanOrEqual(3);
    for (const pass of passes) {
      for (const fraction of pass) expect(fraction).toBeGreaterThanOrEqual(0);
      for (const fraction of pass) expect(fraction).toBeLessThanOrEqual(1);
    }
    expect(probe.mainThreadReads, 'the file was read on the main thread').toEqual([]);

    expect(await page.getByTestId('summary-contexts').textContent()).toBe(String(plan.contexts));
    expect(await page.getByTestId('summary-perturbations').textContent()).toBe(String(plan.perturbations));
    expect(await page.getByTestId('summary-genes').textContent()).toBe(String(plan.genes));
    expect(await page.getByTestId('summary-pairs').textContent()).toMatch(
      new RegExp(`^${plan.uniqueRows}\\b`),
    );
    expect(log.errors, 'uncaught page errors').toEqual([]);
    expect(log.foreign, 'requests outside the app origin').toEqual([]);
  });
});
