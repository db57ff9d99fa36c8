/**
 * The portable model file in real headless Chromium: a model trained and exported in one page is applied
 * in a fresh page (a new engine worker, nothing kept) to the same data and gives the same numbers without
 * training; a dataset with another gene set is refused with the reason.
 */
import Papa from 'papaparse';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { formatWideTable } from '../../src/core/data/write';
import type { Metric } from '../../src/core/eval/metric-info';
import { METHODS } from '../../src/core/eval/methods';
import { decodeModelFile } from '../../src/core/model/model-file-decode';
import { simulate } from '../../src/core/simulate/simulator';

import { openApp, snap, appUnderTest } from './harness';
import { TRAIN_TIMEOUT, download, readMetrics, waitOrError } from './driver';

const app = appUnderTest();

async function openDemo(): Promise<{ page: Page; errors: string[] }> {
  const { page, log } = await openApp(app.browser, app.server.origin);
  await page
    .getByTestId('backend')
    .filter({ hasText: /webgpu|wasm|cpu/ })
    .waitFor();
  await page.getByTestId('demo-button').click();
  await page.getByTestId('dataset-summary').filter({ hasText: 'Built-in demo' }).waitFor();
  return { page, errors: log.errors };
}

function table(bytes: Buffer): string[][] {
  const parsed = Papa.parse<string[]>(bytes.toString('utf8').trimEnd(), { delimiter: ',' });
  expect(parsed.errors).toEqual([]);
  return parsed.data;
}

describe('model file in headless Chromium', () => {
  it('exports a trained model; a fresh page applies it to the same data and gets the same numbers without training', async () => {
    const first = await openDemo();
    const advanced = first.page.locator('details.advanced summary');
    if (!(await first.page.getByTestId('max-epochs-input').isVisible())) await advanced.click();
    await first.page.getByTestId('max-epochs-input').fill('2');
    await first.page.getByTestId('train-button').click();
    await waitOrError(first.page, first.page.getByTestId('metrics-table'));
    const metrics = await readMetrics(first.page);
    const predictions = table(
      (await download(first.page, first.page.getByTestId('export-predictions-csv'))).bytes,
    );
    const model = await download(first.page, first.page.getByTestId('export-model'));
    expect(model.name).toBe('c3tl-model_ctx01.c3tl.json');
    // The browser's file is the CLI's format: core decodes it.
    const decoded = decodeModelFile(model.bytes);
    expect(decoded.ok && decoded.data).toMatchObject({
      format: 'c3tl-model',
      target: 'ctx01',
      mode: 'evaluate',
    });
    // The results say that C3TL sits on the fixed form without its slope exactly when the model does.
    const withoutSlope = decoded.ok && decoded.data.transfer?.withoutSlope;
    expect(await first.page.getByTestId('slope-free').count()).toBe(withoutSlope ? 1 : 0);
    expect(first.errors).toEqual([]);
    await first.page.close();

    const second = await openDemo();
    await second.page
      .getByTestId('model-input')
      .setInputFiles({ name: model.name, mimeType: 'application/json', buffer: model.bytes });
    await waitOrError(second.page, second.page.getByTestId('metrics-table'));
    await second.page.getByTestId('status').filter({ hasText: 'without training' }).waitFor();
    const restored = await readMetrics(second.page);
    for (const method of METHODS)
      for (const [metric, value] of Object.entries(metrics[method]))
        expect(Math.abs(restored[method][metric as Metric] - value), `${method} ${metric}`).toBeLessThan(
          1e-5,
        );
    const again = table(
      (await download(second.page, second.page.getByTestId('export-predictions-csv'))).bytes,
    );
    expect(again[0]).toEqual(predictions[0]);
    expect(again.map((row) => row[1])).toEqual(predictions.map((row) => row[1]));
    let max = 0;
    for (let i = 1; i < predictions.length; i++)
      for (let j = 2; j < predictions[i].length; j++)
        max = Math.max(max, Math.abs(Number(again[i][j]) - Number(predictions[i][j])));
    expect(max).toBeLessThan(1e-5);
    expect(await second.page.getByTestId('slope-free').count()).toBe(withoutSlope ? 1 : 0);
    await snap(second.page, '40-model-applied');

    // Another gene set: the model is refused with the reason, in the error banner.
    const { tensor } = simulate({ contexts: 3, perturbations: 40, genes: 60, seed: 7, counts: false });
    await second.page.getByTestId('file-input').setInputFiles({
      name: 'other-genes.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(formatWideTable({ ...tensor, genes: tensor.genes.map((g) => `${g}_other`) })),
    });
    await second.page.getByTestId('dataset-summary').filter({ hasText: 'other-genes.csv' }).waitFor();
    await second.page
      .getByTestId('model-input')
      .setInputFiles({ name: model.name, mimeType: 'application/json', buffer: model.bytes });
    const error = second.page.getByTestId('error');
    await error.waitFor({ timeout: TRAIN_TIMEOUT });
    expect(await error.textContent()).toMatch(
      /c3tl-model_ctx01\.c3tl\.json: expected a dataset with the model's genes \(the model was trained on 1000 genes\), found a dataset that lacks 1000 of them/,
    );
    expect(second.errors).toEqual([]);
    await second.page.close();
  });
});
