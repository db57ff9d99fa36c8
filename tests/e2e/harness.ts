/**
 * End-to-end harness: serves the built dist/ with the cross-origin isolation headers on a free localhost
 * port and drives the real Chromium of the machine through playwright-core (no browser download).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../src/cli/chromium';
import type { StaticServer } from '../../src/cli/static-server';
import { ISOLATION_HEADERS, serveStatic } from '../../src/cli/static-server';
import { CSP_HEADER } from '../../src/ui/privacy/csp';

export const DIST = fileURLToPath(new URL('../../dist', import.meta.url));
export const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots', import.meta.url));

/**
 * Same headers as `vite preview` (vite.config.ts): cross-origin isolation lets the wasm backend use threads,
 * and the app's Content-Security-Policy (also in the built index.html) applies to every response, the
 * engine worker's and the service worker's scripts included (workers take their policy from their own
 * script's headers, not from the page).
 */
export const HEADERS = {
  ...ISOLATION_HEADERS,
  'Content-Security-Policy': CSP_HEADER,
  'Cache-Control': 'no-store',
};

export type { StaticServer };

/** A tiny static file server for dist/ on 127.0.0.1 and a free port. */
export async function serveDist(root = DIST): Promise<StaticServer> {
  if (!existsSync(join(root, 'index.html'))) {
    throw new Error(`${root}/index.html is missing: run "vite build" first (npm run test:e2e does).`);
  }
  return serveStatic(root, HEADERS);
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile; WebGPU exposed (a SwiftShader fallback adapter on CPU machines). */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'c3tl-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: CHROMIUM_ARGS,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

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

export interface PageLog {
  /** Requests that left the app's origin (must stay empty: no CDN, no fonts, no telemetry). */
  foreign: string[];
  /** Uncaught errors of the page. */
  errors: string[];
}

/** Opens the app in a new tab and records foreign requests and uncaught errors. */
export async function openApp(
  browser: Browser,
  origin: string,
  path = '/',
): Promise<{ page: Page; log: PageLog }> {
  const page = await browser.context.newPage();
  const log: PageLog = { foreign: [], errors: [] };
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(origin) && !url.startsWith('blob:') && !url.startsWith('data:'))
      log.foreign.push(url);
  });
  page.on('pageerror', (error) => log.errors.push(error.message));
  await page.goto(`${origin}${path}`);
  return { page, log };
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
