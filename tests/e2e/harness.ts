/**
 * End-to-end harness: serves the built dist/ with the cross-origin isolation headers on a free localhost
 * port and drives the real Chromium of the machine through playwright-core (no browser download).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { Browser, StaticServer } from '../../src/cli/app-browser';
import { launchBrowser, serveDist } from '../../src/cli/app-browser';

// Serving and launching live in src/cli/app-browser.ts (the browser parse benchmark uses them too).
export { DIST, HEADERS, launchBrowser, openApp, serveDist } from '../../src/cli/app-browser';
export type { Browser, PageLog, StaticServer } from '../../src/cli/app-browser';

export const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots', import.meta.url));

/**
 * The served app and a browser for one test file: started before its tests (then `prepare`, e.g. a probe
 * installed in the context) and closed after them. Read `server` and `browser` inside tests, not at load.
 */
export function appUnderTest(
  options: { prepare?: (browser: Browser) => Promise<void>; timeout?: number } = {},
): { readonly server: StaticServer; readonly browser: Browser } {
  let server: StaticServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = await serveDist();
    browser = await launchBrowser();
    await options.prepare?.(browser);
  }, options.timeout);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('The app is not started: use it inside a test.');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get browser() {
      return started(browser);
    },
  };
}

/** Saves a screenshot into test-results/screenshots/<name>.png. */
export async function snap(target: Page | ReturnType<Page['locator']>, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  if ('goto' in target) await target.screenshot({ path, fullPage: true });
  else await target.screenshot({ path });
}

/** One network request as the browser made it (page, dedicated worker or service worker). */
export interface RecordedRequest {
  url: string;
  method: string;
  resourceType: string;
  /** Body bytes sent with the request (0 for a GET). */
  bodyBytes: number;
  /** Made by the service worker itself (precaching), not by the page or its worker. */
  byServiceWorker: boolean;
  /** Answered from the service worker's cache rather than the network (known once the response came). */
  fromServiceWorker: boolean;
  /** Why it failed (net::ERR_..., blocked), null while pending or once answered. */
  failure: string | null;
  /** performance.now() of the test process when the request started, ms. */
  at: number;
}

export interface RequestLog {
  requests: RecordedRequest[];
  /** Requests started and not yet finished or failed. */
  inFlight(): number;
  /** Resolves once no request has been in flight for quietMs (or rejects after timeoutMs). */
  quiet(quietMs?: number, timeoutMs?: number): Promise<void>;
  stop(): void;
}

/**
 * Records every request of the browser context: context.on('request') sees the pages, their dedicated
 * workers and the service worker, so nothing the app does on the network escapes it.
 */
export function recordRequests(context: BrowserContext): RequestLog {
  const requests: RecordedRequest[] = [];
  const byRequest = new Map<Request, RecordedRequest>();
  const pending = new Set<Request>();
  let lastChange = performance.now();
  const onRequest = (request: Request) => {
    const entry: RecordedRequest = {
      url: request.url(),
      method: request.method(),
      resourceType: request.resourceType(),
      bodyBytes: request.postDataBuffer()?.byteLength ?? 0,
      byServiceWorker: request.serviceWorker() !== null,
      fromServiceWorker: false,
      failure: null,
      at: performance.now(),
    };
    requests.push(entry);
    byRequest.set(request, entry);
    pending.add(request);
    lastChange = performance.now();
  };
  const onDone = (request: Request) => {
    pending.delete(request);
    lastChange = performance.now();
  };
  const onFailed = (request: Request) => {
    const entry = byRequest.get(request);
    if (entry) entry.failure = request.failure()?.errorText ?? 'failed';
    onDone(request);
  };
  const onResponse = (response: { request(): Request; fromServiceWorker(): boolean }) => {
    const entry = byRequest.get(response.request());
    if (entry) entry.fromServiceWorker = response.fromServiceWorker();
  };
  context.on('request', onRequest);
  context.on('response', onResponse);
  context.on('requestfinished', onDone);
  context.on('requestfailed', onFailed);
  return {
    requests,
    inFlight: () => pending.size,
    async quiet(quietMs = 1000, timeoutMs = 60_000) {
      const deadline = performance.now() + timeoutMs;
      while (pending.size > 0 || performance.now() - lastChange < quietMs) {
        if (performance.now() > deadline) {
          const open = [...pending].map((r) => r.url()).join(', ');
          throw new Error(
            `The network did not go quiet within ${timeoutMs} ms (in flight: ${open || 'none'}).`,
          );
        }
        await new Promise((ok) => setTimeout(ok, 100));
      }
    },
    stop() {
      context.off('request', onRequest);
      context.off('response', onResponse);
      context.off('requestfinished', onDone);
      context.off('requestfailed', onFailed);
    },
  };
}

type ViolationWindow = { __cspViolations?: string[] };

/**
 * Collects the Content-Security-Policy violations of every page opened afterwards in the context (an init
 * script, which the page's own policy does not apply to). Read them with cspViolations(page).
 */
export async function watchCspViolations(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const seen: string[] = [];
    (window as ViolationWindow).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) =>
      seen.push(`${event.violatedDirective} ${event.blockedURI} (${event.sourceFile}:${event.lineNumber})`),
    );
  });
}

/** The violations seen by the page since it (re)loaded: "directive blockedURI (source:line)". */
export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => [...((window as ViolationWindow).__cspViolations ?? [])]);
}

/**
 * Waits until the service worker controls the page, i.e. its precache (the whole app) is stored and the
 * app opens offline; the privacy panel says so too.
 */
export async function waitForOfflineReady(page: Page, timeout = 60_000): Promise<void> {
  try {
    await page.waitForFunction(() => navigator.serviceWorker?.controller != null, undefined, { timeout });
  } catch (error) {
    // Say why: an install fails when a precached file is missing (e.g. dist/ rebuilt during the test).
    const state = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker?.getRegistration();
      if (!registration) return 'no registration';
      const { installing, waiting, active } = registration;
      return `installing ${installing?.state ?? '-'}, waiting ${waiting?.state ?? '-'}, active ${active?.state ?? '-'}`;
    });
    throw new Error(`No service worker took control of the page (${state}).`, { cause: error });
  }
  await page.locator('[data-testid=offline-status][data-status=ready]').waitFor({ timeout });
}
