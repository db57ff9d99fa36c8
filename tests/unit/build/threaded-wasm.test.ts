import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { rewriteWasmBackend, threadedWasmSources } from '../../../src/build/threaded-wasm';

const backendSource = readFileSync(
  createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/backend_wasm.js'),
  'utf8',
);

describe('threaded wasm as app files', () => {
  it("rewrites tfjs's two Blobs (worker script, glue) to the served files' URLs", () => {
    expect(backendSource).toContain('URL.createObjectURL(blob)');
    const rewritten = rewriteWasmBackend(backendSource);
    expect(rewritten.startsWith("import { threadWorkerUrl, threadGlueUrl } from 'virtual:")).toBe(true);
    expect(rewritten).toMatch(
      /if \(path\.endsWith\('\.worker\.js'\)\) \{\s*(\/\/.*\s*)*return threadWorkerUrl;/,
    );
    expect(rewritten).toContain('factoryConfig.mainScriptUrlOrBlob = threadGlueUrl;');
    expect(rewritten).not.toContain('wasmFactoryThreadedSimd.toString()');
  });

  it('fails the build, naming the file, when tfjs changed the code it rewrites', () => {
    const changed = backendSource.replace('wasmFactoryThreadedSimd.toString()', 'factorySource()');
    expect(() => rewriteWasmBackend(changed)).toThrow(
      /backend_wasm\.js changed.*src\/build\/threaded-wasm\.ts/,
    );
  });

  it('serves the worker script and the unminified glue that defines the factory it calls', () => {
    const { worker, glue } = threadedWasmSources();
    expect(() => new Function(worker)).not.toThrow();
    expect(worker).toContain('importScripts(e.data.urlOrBlob)');
    expect(worker).toContain('WasmBackendModuleThreadedSimd(Module)');
    expect(glue).toMatch(/^\s*var WasmBackendModuleThreadedSimd = \(\(\) => \{/);
  });
});
