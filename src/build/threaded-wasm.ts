/**
 * Multi-threaded WebAssembly for tfjs under `worker-src 'self'`, for the app's Vite build and the browser
 * benchmark's esbuild bundle.
 *
 * tfjs-backend-wasm (4.x) starts its pthread workers from a Blob of the worker script, and gives them the
 * Emscripten glue as a Blob of the factory's source text (Function.toString of the bundled copy). The app's
 * policy allows no blob: workers, and the minified source text no longer runs on its own (a renamed variable:
 * "ReferenceError: e is not defined"). Here both become files of the app: the worker script as tfjs ships
 * it, and the unminified glue from wasm-out/; the two places in tfjs's backend that make the Blobs are
 * rewritten to use those files' URLs, so threads run from the app's own origin.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin as EsbuildPlugin } from 'esbuild';
import type { Plugin } from 'vite';

/** The pthread worker script and the glue it imports, named as tfjs names them. */
export const THREAD_WORKER_FILE = 'tfjs-backend-wasm-threaded-simd.worker.js';
export const THREAD_GLUE_FILE = 'tfjs-backend-wasm-threaded-simd.js';

/** The module the rewritten backend imports the two URLs from (resolved by the plugins below). */
const URLS_MODULE = 'virtual:c3tl-threaded-wasm-urls';
const RESOLVED_URLS_MODULE = `\0${URLS_MODULE}`;
/** tfjs's backend module, the one that makes the Blobs. */
const BACKEND_MODULE = /[\\/]@tensorflow[\\/]tfjs-backend-wasm[\\/]dist[\\/]backend_wasm\.js$/;

const WASM_OUT = dirname(
  createRequire(import.meta.url).resolve(`@tensorflow/tfjs-backend-wasm/wasm-out/${THREAD_GLUE_FILE}`),
);

/** The two files' text: the worker script (shipped as a template literal) and the glue as it is. */
export function threadedWasmSources(): { worker: string; glue: string } {
  const wrapped = readFileSync(join(WASM_OUT, THREAD_WORKER_FILE), 'utf8');
  const start = wrapped.indexOf('`');
  const end = wrapped.lastIndexOf('`');
  const worker = wrapped.slice(start + 1, end);
  // The raw template text is the script only when the literal has no interpolation or escaped backtick.
  if (start < 0 || end <= start || worker.includes('${') || worker.includes('\\`')) {
    throw new Error(`${THREAD_WORKER_FILE}: expected one plain template literal holding the worker script.`);
  }
  return { worker, glue: readFileSync(join(WASM_OUT, THREAD_GLUE_FILE), 'utf8') };
}

/** Replaces `from` (which must occur exactly once) in tfjs's backend source. */
function replaceOnce(code: string, from: string, to: string): string {
  const at = code.indexOf(from);
  if (at < 0 || code.indexOf(from, at + 1) >= 0) {
    throw new Error(
      `tfjs-backend-wasm's backend_wasm.js changed: "${from.slice(0, 60)}…" is not there exactly once, ` +
        'so its blob: thread workers cannot be replaced by the app files (src/build/threaded-wasm.ts).',
    );
  }
  return code.slice(0, at) + to + code.slice(at + from.length);
}

/** tfjs's backend source with the worker Blob URL and the glue Blob replaced by the served files' URLs. */
export function rewriteWasmBackend(code: string): string {
  let out = replaceOnce(
    code,
    "const response = wasmWorkerContents.replace(/\\n/g, '\\\\n');",
    'return threadWorkerUrl;',
  );
  out = replaceOnce(
    out,
    'factoryConfig.mainScriptUrlOrBlob = new Blob([`var WasmBackendModuleThreadedSimd = ` +\n' +
      "                    wasmFactoryThreadedSimd.toString()], { type: 'text/javascript' });",
    'factoryConfig.mainScriptUrlOrBlob = threadGlueUrl;',
  );
  return `import { threadWorkerUrl, threadGlueUrl } from '${URLS_MODULE}';\n${out}`;
}

/**
 * Vite (build only; the dev server has no CSP and does not minify, so tfjs's own Blobs work there): emits the
 * two files as assets (the service worker precaches them with every other .js) and rewrites the backend.
 */
export function viteThreadedWasm(): Plugin {
  return {
    name: 'c3tl-threaded-wasm',
    apply: 'build',
    resolveId(id) {
      return id === URLS_MODULE ? RESOLVED_URLS_MODULE : null;
    },
    load(id) {
      if (id !== RESOLVED_URLS_MODULE) return null;
      const { worker, glue } = threadedWasmSources();
      const workerRef = this.emitFile({ type: 'asset', name: THREAD_WORKER_FILE, source: worker });
      const glueRef = this.emitFile({ type: 'asset', name: THREAD_GLUE_FILE, source: glue });
      return (
        `export const threadWorkerUrl = import.meta.ROLLUP_FILE_URL_${workerRef};\n` +
        `export const threadGlueUrl = import.meta.ROLLUP_FILE_URL_${glueRef};\n`
      );
    },
    transform(code, id) {
      return BACKEND_MODULE.test(id) ? { code: rewriteWasmBackend(code), map: null } : null;
    },
  };
}

/**
 * esbuild (the browser benchmark): the same rewrite; the two files are expected beside the bundle (the
 * caller writes `threadedWasmSources()` there), found relative to the bundle's own URL.
 */
export function esbuildThreadedWasm(): EsbuildPlugin {
  return {
    name: 'c3tl-threaded-wasm',
    setup(build) {
      build.onResolve({ filter: new RegExp(`^${URLS_MODULE}$`) }, () => ({
        path: URLS_MODULE,
        namespace: 'c3tl-threaded-wasm',
      }));
      build.onLoad({ filter: /.*/, namespace: 'c3tl-threaded-wasm' }, () => ({
        contents:
          `export const threadWorkerUrl = new URL('./${THREAD_WORKER_FILE}', import.meta.url).href;\n` +
          `export const threadGlueUrl = new URL('./${THREAD_GLUE_FILE}', import.meta.url).href;\n`,
        loader: 'js',
      }));
      build.onLoad({ filter: BACKEND_MODULE }, (args) => ({
        contents: rewriteWasmBackend(readFileSync(args.path, 'utf8')),
        loader: 'js',
        resolveDir: dirname(args.path),
      }));
    },
  };
}
