/**
 * Smoke test of the browser benchmark runner (src/cli/bench-browser.ts): bundles the page and worker, serves
 * them, drives headless Chromium and returns one measured row for wasm on the demo size (two epochs).
 * No timing assertions: only that a row comes back with positive numbers.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

interface Report {
  chromium: string;
  offer: { backends: string[] };
  rows: Record<string, unknown>[];
}

describe('browser benchmark runner', () => {
  it('measures wasm on the demo size in headless Chromium', () => {
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/bench-browser.ts',
        '--json',
        '--backends',
        'wasm',
        '--sizes',
        'demo',
        '--max-epochs',
        '2',
      ],
      { encoding: 'utf8', timeout: 240_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.chromium).toMatch(/^\d+\./);
    expect(report.offer.backends).toContain('wasm');
    expect(report.rows).toHaveLength(1);
    const [row] = report.rows;
    expect(row).toMatchObject({ backend: 'wasm', size: 'demo', adapter: null, epochs: 2, genes: 1000 });
    for (const field of [
      'parameters',
      'trainSeconds',
      'epochsPerSecond',
      'pairGenesPerSecond',
      'predictSeconds',
      'peakHeapMiB',
      'peakRssMiB',
      'peakTensorMiB',
      'peakWorkerArrayBuffersMiB',
      'kernelsPerStep',
      'uploadBytesPerStep',
      'downloadBytesPerStep',
      'transferKernelsPerStep',
      'transferUploadBytesPerStep',
    ]) {
      expect(row[field], field).toBeGreaterThan(0);
    }
  });
});
