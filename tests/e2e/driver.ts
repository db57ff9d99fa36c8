/** Steps the end-to-end tests share: driving the setup, waiting for results, reading tables and downloads. */
import { readFileSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Method } from '../../src/core/eval/methods';
import type { Metric } from '../../src/core/eval/metric-info';
import { METHODS } from '../../src/core/eval/methods';

/** Training waits: the demo trains in seconds on wasm, the WebGPU fallback adapter is much slower. */
export const TRAIN_TIMEOUT = 180_000;

export type Metrics = Record<Method, Record<Metric, number>>;

/** Opens the "Advanced" setup section if needed and sets the epoch cap (keeps e2e training short). */
export async function setMaxEpochs(page: Page, epochs: number): Promise<void> {
  const input = page.getByTestId('max-epochs-input');
  if (!(await input.isVisible())) await page.locator('details.advanced summary').click();
  await input.fill(String(epochs));
}

/** Waits for the locator, or fails at once with the app's error message when the error banner shows. */
export async function waitOrError(page: Page, target: Locator): Promise<void> {
  const error = page.getByTestId('error');
  await target.or(error).first().waitFor({ timeout: TRAIN_TIMEOUT });
  if (await error.isVisible()) throw new Error(`The app shows an error: ${await error.textContent()}`);
}

/** Presses Train and waits for the metrics table. */
export async function trainToResults(page: Page): Promise<void> {
  await page.getByTestId('train-button').click();
  await waitOrError(page, page.getByTestId('metrics-table'));
}

/**
 * Full-precision metrics from the table's data-value attributes; every method must have a row. The noise
 * ceiling of simulated screens is not a method and is left out.
 */
export async function readMetrics(page: Page): Promise<Metrics> {
  const cells = await page
    .getByTestId('metrics-table')
    .locator('tbody tr:not([data-method=noise_ceiling]) td')
    .evaluateAll((tds) =>
      tds.map((td) => ({
        method: td.closest('tr')?.getAttribute('data-method') ?? '',
        metric: td.getAttribute('data-metric') ?? '',
        value: Number(td.getAttribute('data-value')),
      })),
    );
  const out = {} as Metrics;
  for (const { method, metric, value } of cells) {
    out[method as Method] ??= {} as Record<Metric, number>;
    out[method as Method][metric as Metric] = value;
  }
  expect(Object.keys(out).sort()).toEqual([...METHODS].sort());
  return out;
}

export interface Downloaded {
  name: string;
  bytes: Buffer;
}

/** Clicks the button and returns the non-empty file the browser saved. */
export async function download(page: Page, button: Locator): Promise<Downloaded> {
  const [file] = await Promise.all([page.waitForEvent('download'), button.click()]);
  const bytes = readFileSync(await file.path());
  expect(bytes.length, file.suggestedFilename()).toBeGreaterThan(0);
  return { name: file.suggestedFilename(), bytes };
}
