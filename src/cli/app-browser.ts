/**
 * The built app served as `vite preview` serves it (cross-origin isolated, under the app's CSP) and headless
 * Chromium driving it: shared by the e2e tests (tests/e2e/harness.ts) and the browser parse benchmark.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { CSP_HEADER } from '../ui/privacy/csp';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium';
import type { StaticServer } from './static-server';
import { ISOLATION_HEADERS, serveStatic } from './static-server';

export const DIST = fileURLToPath(new URL('../../dist', import.meta.url));

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
