import type { Plugin } from 'vite';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { viteThreadedWasm } from './src/build/threaded-wasm';
import { CSP_HEADER, CSP_META } from './src/ui/privacy/csp';

// Cross-origin isolation gives SharedArrayBuffer, which the threaded wasm build needs (src/worker/backend.ts).
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Writes the CSP meta tag into the built index.html only: the dev server needs an inline script (React
 * refresh) and HMR, so `npm run dev` runs without it while the built app (preview, any static server) has it.
 */
function contentSecurityPolicy(): Plugin {
  const charset = '<meta charset="UTF-8" />';
  return {
    name: 'c3tl-content-security-policy',
    apply: 'build',
    transformIndexHtml(html) {
      if (!html.includes(charset))
        throw new Error(`index.html lost its ${charset}: the CSP goes right after it.`);
      return html.replace(
        charset,
        `${charset}\n    <meta http-equiv="Content-Security-Policy" content="${CSP_META}" />`,
      );
    },
  };
}

/**
 * Adds <link rel="modulepreload"> for the lazily imported chunks (Plotly). They still do not block the first
 * paint (preloading fetches and compiles, it does not run them), but they are fetched while the page loads,
 * so once it has loaded the app makes no request at all: using a dataset never touches the network.
 */
function preloadLazyChunks(): Plugin {
  let base = './';
  return {
    name: 'c3tl-preload-lazy-chunks',
    apply: 'build',
    configResolved(config) {
      base = config.base;
    },
    transformIndexHtml: {
      order: 'post',
      handler(_html, context) {
        const chunks = Object.values(context.bundle ?? {}).filter(
          (output) => output.type === 'chunk' && output.isDynamicEntry && !output.isEntry,
        );
        return chunks.map((chunk) => ({
          tag: 'link',
          attrs: { rel: 'modulepreload', crossorigin: true, href: `${base}${chunk.fileName}` },
          injectTo: 'head' as const,
        }));
      },
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [
    react(),
    contentSecurityPolicy(),
    preloadLazyChunks(),
    VitePWA({
      strategies: 'generateSW',
      // An external registerSW.js (an inline register script would need script-src 'unsafe-inline').
      injectRegister: 'script',
      // A new version waits until every tab of the old one is closed, so a running tab never mixes versions.
      registerType: 'prompt',
      // With the manifest (added by the plugin) and its icons, the rest of public/ goes into the precache.
      includeAssets: ['favicon.svg', 'apple-touch-icon-180x180.png'],
      manifest: {
        name: 'C3TL Studio',
        short_name: 'C3TL',
        description:
          'Predict perturbation effects in a new cellular context, in your browser. No data leaves your machine.',
        lang: 'en',
        start_url: './',
        scope: './',
        display: 'standalone',
        theme_color: '#0b5cad',
        background_color: '#ffffff',
        icons: [
          { src: 'pwa-192x192.png', sizes: '192x192', type: 'image/png' },
          { src: 'pwa-512x512.png', sizes: '512x512', type: 'image/png' },
          { src: 'maskable-icon-512x512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        // The whole app works offline after one visit: shell, lazy chunks (Plotly), the engine worker and
        // the wasm binaries. The demo is simulated by the worker, so its code is all it needs.
        globPatterns: ['**/*.{html,js,css,wasm}'],
        // The engine worker bundles tfjs (about 2.4 MB) and Plotly is 1.4 MB: above Workbox's 2 MiB default.
        maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
        // The first visit's page is controlled at once, so it is offline-ready without a reload.
        clientsClaim: true,
        cleanupOutdatedCaches: true,
        navigateFallback: 'index.html',
        // No runtime caching: nothing outside the precache (the app's own files) is ever stored.
        runtimeCaching: [],
      },
    }),
  ],
  // The engine worker is bundled on its own: its tfjs gets thread workers served as app files, not blob: URLs.
  worker: { format: 'es', plugins: () => [viteThreadedWasm()] },
  // HDF5 filter plugins (h5wasm-plugins' .so side modules) are inlined into the worker: no request, offline.
  assetsInclude: ['**/*.so'],
  server: { headers: isolationHeaders },
  preview: { headers: { ...isolationHeaders, 'Content-Security-Policy': CSP_HEADER } },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
