/**
 * Offline: after one visit the service worker holds the whole app, so with the network cut (the browser
 * set offline and the server shut down) the app reloads, opens in a new tab, simulates the demo and trains.
 * It is also installable (Chromium reports no installability error).
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';

import { recordRequests, snap, waitForOfflineReady, appUnderTest } from './harness';

const TRAIN_TIMEOUT = 180_000;

const app = appUnderTest();

async function engineReady(page: Page): Promise<void> {
  await page
    .getByTestId('backend')
    .filter({ hasText: /webgpu|wasm|cpu/ })
    .waitFor();
}

describe('offline in headless Chromium', () => {
  it('reloads, loads the demo and trains to results with the network cut', async () => {
    const page = await app.browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${app.server.origin}/`);
    await engineReady(page);
    await waitForOfflineReady(page);
    // Installable as an app: Chromium finds no problem with the manifest, icons or service worker.
    const cdp = await app.browser.context.newCDPSession(page);
    expect(await cdp.send('Page.getInstallabilityErrors')).toEqual({ installabilityErrors: [] });
    await cdp.detach();

    // Cut the network twice over: the browser goes offline and the server is gone.
    await app.browser.context.setOffline(true);
    await app.server.close();
    const log = recordRequests(app.browser.context);

    await page.reload();
    await engineReady(page);
    await page.locator('[data-testid=offline-status][data-status=ready]').waitFor();
    await page.getByTestId('demo-button').click();
    await page.getByTestId('dataset-summary').waitFor();
    expect(await page.getByTestId('summary-contexts').textContent()).toBe('6');
    await page.locator('[data-testid=coverage-heatmap] svg.main-svg').first().waitFor();
    // A few epochs are enough to show training works; the full run is covered by app.test.ts.
    await page.locator('details.advanced summary').click();
    await page.getByTestId('max-epochs-input').fill('3');
    await page.getByTestId('train-button').click();
    await page.getByTestId('metrics-table').waitFor({ timeout: TRAIN_TIMEOUT });
    await page.locator('[data-testid=scatter-plot] svg.main-svg').first().waitFor();
    expect(await page.getByTestId('metrics-table').locator('tbody tr').count()).toBeGreaterThan(1);
    await snap(page, '30-offline-results');

    // A new tab opens offline too.
    const second = await app.browser.context.newPage();
    await second.goto(`${app.server.origin}/`);
    await engineReady(second);
    await second.close();
    log.stop();

    // Everything came from the service worker's cache; nothing tried the network and failed.
    expect(log.requests.length).toBeGreaterThan(0);
    const missed = log.requests.filter((r) => r.failure !== null || !r.fromServiceWorker);
    expect(missed.map((r) => `${r.method} ${r.url}: ${r.failure ?? 'not from the service worker'}`)).toEqual(
      [],
    );
    expect(errors).toEqual([]);
    await page.close();
  });
});
