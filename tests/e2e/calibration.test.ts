/**
 * Backend choice by measurement in real headless Chromium: on first use the engine times a C3TL training
 * step on each backend (here WebGPU on SwiftShader's CPU fallback adapter, wasm and cpu), picks the
 * fastest, keeps the figures in IndexedDB for the next visit and measures again on request.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { BackendName, CalibrationFigure } from '../../src/worker/api-types';
import type { CalibrationRecord } from '../../src/worker/calibrate-rules';
import { CALIBRATION_DB } from '../../src/worker/calibrate-store';

import { openApp, snap, appUnderTest } from './harness';

const app = appUnderTest();

interface ShownFigure {
  backend: BackendName;
  status: CalibrationFigure['status'];
  /** ms per step, NaN unless measured. */
  ms: number;
  text: string;
}

interface ShownCalibration {
  figures: ShownFigure[];
  fromStore: boolean;
  measuredAt: number;
  totalMs: number;
}

/** The figures as the badge shows them (its data attributes and text). */
async function shownCalibration(page: Page): Promise<ShownCalibration> {
  const box = page.getByTestId('calibration');
  await box.waitFor();
  const figures = await box.locator('[data-backend]').evaluateAll((spans) =>
    spans.map((span) => ({
      backend: span.getAttribute('data-backend') as BackendName,
      status: span.getAttribute('data-status') as CalibrationFigure['status'],
      ms: Number(span.getAttribute('data-ms') ?? Number.NaN),
      text: span.textContent ?? '',
    })),
  );
  return {
    figures,
    fromStore: (await box.getAttribute('data-from-store')) === 'true',
    measuredAt: Number(await box.getAttribute('data-measured-at')),
    totalMs: Number(await box.getAttribute('data-total-ms')),
  };
}

async function activeBackend(page: Page): Promise<string> {
  return (await page.locator('[data-testid=backend] .backend-name').textContent()) ?? '';
}

/** The records of the calibration database, read in the page. */
async function storedRecords(page: Page): Promise<CalibrationRecord[]> {
  return page.evaluate(
    (name) =>
      new Promise<CalibrationRecord[]>((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const request = open.result.transaction('records').objectStore('records').getAll();
          request.onsuccess = () => {
            open.result.close();
            resolve(request.result as CalibrationRecord[]);
          };
          request.onerror = () => reject(request.error);
        };
      }),
    CALIBRATION_DB,
  );
}

function figureOf(calibration: ShownCalibration, backend: BackendName): ShownFigure {
  const figure = calibration.figures.find((f) => f.backend === backend);
  expect(figure, `a figure for ${backend}`).toBeDefined();
  return figure!;
}

describe('backend calibration in headless Chromium', () => {
  it('picks wasm over the fallback WebGPU by measurement, reuses the stored figures after a reload, and measures again on request', async () => {
    const { page, log } = await openApp(app.browser, app.server.origin);
    const first = await shownCalibration(page);
    console.log(
      `Calibration in Chromium: ${first.figures.map((f) => f.text).join(' · ')}; ` +
        `whole calibration ${first.totalMs} ms`,
    );
    expect(first.fromStore).toBe(false);
    expect(first.figures.map((f) => f.backend)).toEqual(['webgpu', 'wasm', 'cpu']);
    const webgpu = figureOf(first, 'webgpu');
    const wasm = figureOf(first, 'wasm');
    // Both were run: wasm timed, WebGPU timed slower or past its deadline (a measured lower bound).
    expect(wasm.status).toBe('measured');
    expect(wasm.ms).toBeGreaterThan(0);
    expect(['measured', 'missed']).toContain(webgpu.status);
    if (webgpu.status === 'measured') expect(webgpu.ms).toBeGreaterThan(wasm.ms);
    expect(webgpu.text).toMatch(/^webgpu \(fallback\) /);
    expect(await activeBackend(page)).toBe('wasm');
    expect(await page.getByTestId('backend-reason').textContent()).toMatch(
      /^Fastest measured here: wasm [\d.]+ ms\/step, ahead of webgpu \(fallback\)/,
    );
    const records = await storedRecords(page);
    expect(records).toHaveLength(1);
    expect(records[0].measuredAt).toBe(first.measuredAt);
    expect(records[0].figures.map((f) => f.status)).toEqual(first.figures.map((f) => f.status));
    await snap(page.locator('header'), '30-calibration');

    // A reload (a new engine worker) takes the stored figures instead of measuring.
    await page.reload();
    const reloaded = await shownCalibration(page);
    expect(reloaded.fromStore).toBe(true);
    expect(reloaded.measuredAt).toBe(first.measuredAt);
    expect(reloaded.figures).toEqual(first.figures);
    expect(await activeBackend(page)).toBe('wasm');
    expect(await page.getByTestId('backend-reason').textContent()).toMatch(/figures stored on this device/);

    // "Measure again" times every backend anew and stores the new figures.
    await page.getByTestId('recalibrate').click();
    await page.locator(`[data-testid=calibration][data-from-store=false]`).waitFor();
    const again = await shownCalibration(page);
    console.log(
      `Measured again: ${again.figures.map((f) => f.text).join(' · ')}; whole calibration ${again.totalMs} ms`,
    );
    expect(again.measuredAt).toBeGreaterThan(first.measuredAt);
    expect(again.figures.map((f) => f.backend)).toEqual(['webgpu', 'wasm', 'cpu']);
    expect(figureOf(again, 'wasm').status).toBe('measured');
    expect(await activeBackend(page)).toBe('wasm');
    const replaced = await storedRecords(page);
    expect(replaced).toHaveLength(1);
    expect(replaced[0].measuredAt).toBe(again.measuredAt);

    // A chosen backend keeps the figures on show and stays chosen when measuring again.
    await page.getByTestId('backend-select').selectOption('cpu');
    await page.locator('[data-testid=backend] .backend-name', { hasText: 'cpu' }).waitFor();
    expect((await shownCalibration(page)).measuredAt).toBe(again.measuredAt);
    await page.getByTestId('recalibrate').click();
    await page.locator(`[data-testid=calibration]:not([data-measured-at="${again.measuredAt}"])`).waitFor();
    expect(await activeBackend(page)).toBe('cpu');
    expect(log.errors).toEqual([]);
    expect(log.foreign).toEqual([]);
    await page.close();
  });
});
