/**
 * Multi-threaded WebAssembly in the built app: under cross-origin isolation and the app's CSP (worker-src
 * 'self', no blob:), the wasm backend starts its thread workers from the app's own files, reports more than
 * one thread, and trains the demo to results without a CSP violation. tfjs computes on one thread per two
 * logical cores, so the page and its workers are made to report 4 (this machine may have 2).
 */
import { describe, expect, it } from 'vitest';
import { THREAD_GLUE_FILE, THREAD_WORKER_FILE } from '../../src/build/threaded-wasm';
import { emulateLogicalCores } from '../../src/cli/emulate-cores';
import { TRAIN_TIMEOUT, setMaxEpochs, trainToResults } from './driver';
import {
  appUnderTest,
  cspViolations,
  recordRequests,
  waitForOfflineReady,
  watchCspViolations,
} from './harness';

const app = appUnderTest({ prepare: (browser) => watchCspViolations(browser.context) });
const EMULATED_CORES = 4;

/** A served file's name as the build hashes it: "name-HASH.js" for "name.js". */
const hashed = (file: string) => new RegExp(`/assets/${file.replace(/\.js$/, '')}-[\\w-]+\\.js$`);

describe('threaded wasm in headless Chromium', () => {
  it('runs wasm on more than one thread from app files and trains', async () => {
    const log = recordRequests(app.browser.context);
    const page = await app.browser.context.newPage();
    await emulateLogicalCores(app.browser.context, page, EMULATED_CORES);
    await page.goto(`${app.server.origin}/`);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await page
      .getByTestId('backend')
      .filter({ hasText: /webgpu|wasm|cpu/ })
      .waitFor();
    await page.getByTestId('backend-select').selectOption('wasm');
    await page.locator('[data-testid=backend] .backend-name', { hasText: 'wasm' }).waitFor();

    const threads = Number(await page.getByTestId('backend-threads').getAttribute('data-threads'));
    expect(await page.evaluate(() => navigator.hardwareConcurrency)).toBe(EMULATED_CORES);
    expect(threads).toBe(EMULATED_CORES / 2);
    expect(await page.getByTestId('backend-reason').textContent()).toMatch(/SIMD, \d+ threads\)/);

    // The thread workers and the glue they import came from the app's own files.
    const urls = log.requests.filter((r) => !r.byServiceWorker).map((r) => r.url);
    expect(urls.some((url) => hashed(THREAD_WORKER_FILE).test(url))).toBe(true);
    expect(urls.some((url) => hashed(THREAD_GLUE_FILE).test(url))).toBe(true);
    expect(urls.filter((url) => url.startsWith('blob:'))).toEqual([]);
    // Both are in the offline copy: threads start offline too, and a data file never waits on them.
    await waitForOfflineReady(page);
    const cached = await page.evaluate(async () => {
      const names = await caches.keys();
      const lists = await Promise.all(names.map(async (name) => (await caches.open(name)).keys()));
      return lists.flat().map((request) => new URL(request.url).pathname);
    });
    expect(cached.some((path) => hashed(THREAD_WORKER_FILE).test(path))).toBe(true);
    expect(cached.some((path) => hashed(THREAD_GLUE_FILE).test(path))).toBe(true);

    await page.getByTestId('demo-button').click();
    await page.getByTestId('dataset-summary').waitFor();
    await setMaxEpochs(page, 3);
    await trainToResults(page);
    await page.getByTestId('metrics-table').waitFor({ timeout: TRAIN_TIMEOUT });
    expect(await page.locator('[data-testid=backend] .backend-name').textContent()).toBe('wasm');
    expect(await cspViolations(page)).toEqual([]);
    await page.close();
  });
});
