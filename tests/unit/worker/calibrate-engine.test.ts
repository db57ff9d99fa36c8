/**
 * The engine's calibration on Node's backends (cpu, and wasm where it starts): real C3TL steps timed,
 * the fastest chosen for 'auto', figures remembered per device in a store, measured again on request.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CalibrationFigure } from '../../../src/worker/api-types';
import { calibrateBackends } from '../../../src/worker/calibrate';
import type { CalibrationLimits } from '../../../src/worker/calibrate-rules';
import { CALIBRATION_VERSION, deviceFingerprint, fastestBackend } from '../../../src/worker/calibrate-rules';
import type { CalibrationStore } from '../../../src/worker/calibrate-store';
import { memoryCalibrationStore } from '../../../src/worker/calibrate-store';
import { createEngine } from '../../../src/worker/engine';

/** Limits no loaded test machine misses, and few steps: these tests check behaviour, not speed. */
const GENEROUS: Partial<CalibrationLimits> = { warmUpMs: 60_000, timedMs: 60_000, maxSteps: 2 };
const DEVICE = { userAgent: 'vitest', hardwareConcurrency: 2 };

beforeAll(() => {
  // backend.ts points wasm at the URLs Vite serves; in Node the binaries are read from the package itself.
  const dist = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  setWasmPaths({
    'tfjs-backend-wasm.wasm': `${dist}/tfjs-backend-wasm.wasm`,
    'tfjs-backend-wasm-simd.wasm': `${dist}/tfjs-backend-wasm-simd.wasm`,
    'tfjs-backend-wasm-threaded-simd.wasm': `${dist}/tfjs-backend-wasm-threaded-simd.wasm`,
  });
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

function engineWith(store: CalibrationStore, device = DEVICE, limits = GENEROUS) {
  let clock = 1000;
  return createEngine({
    calibration: store,
    device: () => device,
    calibrationLimits: limits,
    now: () => clock++,
  });
}

const measuredNames = (figures: CalibrationFigure[]) =>
  figures.filter((f) => f.status === 'measured').map((f) => f.backend);

describe('calibrateBackends', () => {
  it('times a real training step on each backend, leaves no tensors and reports one that does not start', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const run = await calibrateBackends({
      backends: ['webgpu', 'cpu'],
      activate: async (name) =>
        name === 'webgpu' ? 'webgpu failed to start' : (await tf.setBackend(name)) ? null : 'no',
      limits: GENEROUS,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(run.figures[0]).toEqual({
      backend: 'webgpu',
      status: 'failed',
      message: 'webgpu failed to start',
    });
    const cpu = run.figures[1];
    expect(cpu.status).toBe('measured');
    if (cpu.status === 'measured') {
      expect(cpu.steps).toBe(2);
      expect(cpu.msPerStep).toBeGreaterThan(0);
      expect(cpu.msPerStep * cpu.steps).toBeLessThan(run.totalMs);
    }
  });

  it('reports a backend past its limits as a miss, and still leaves no tensors', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const activate = async () => ((await tf.setBackend('cpu')) ? null : 'no');
    const warm = await calibrateBackends({ backends: ['cpu'], activate, limits: { warmUpMs: 0 } });
    expect(warm.figures).toEqual([{ backend: 'cpu', status: 'missed', phase: 'warm-up', limitMs: 0 }]);
    const timed = await calibrateBackends({ backends: ['cpu'], activate, limits: { timedMs: 0 } });
    expect(timed.figures).toEqual([{ backend: 'cpu', status: 'missed', phase: 'timed', limitMs: 0 }]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops when asked, between epochs, without leaking', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    let checks = 0;
    const run = calibrateBackends({
      backends: ['cpu', 'cpu'],
      activate: async () => ((await tf.setBackend('cpu')) ? null : 'no'),
      shouldStop: () => ++checks > 3,
      limits: GENEROUS,
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('engine calibration', () => {
  it("'auto' measures every available backend, picks the fastest and stores the figures for this device", async () => {
    const store = memoryCalibrationStore();
    const engine = engineWith(store);
    const info = await engine.initBackend('auto');
    const calibration = info.calibration!;
    expect(calibration.figures.map((f) => f.backend)).toEqual(info.available);
    expect(info.available).toEqual(['wasm', 'cpu']);
    expect(measuredNames(calibration.figures)).toEqual(['wasm', 'cpu']);
    expect(info.name).toBe(fastestBackend(calibration.figures, info.available)?.backend);
    expect(info.reason).toMatch(new RegExp(`^Fastest measured here: ${info.name} [\\d.]+ ms/step`));
    expect(calibration).toMatchObject({ fromStore: false, stored: true, measuredAt: 1000 });
    expect(calibration.totalMs).toBeGreaterThan(0);
    const fingerprint = deviceFingerprint({ ...DEVICE, adapter: null, isFallbackAdapter: false });
    expect([...store.records.values()]).toEqual([
      {
        fingerprint,
        version: CALIBRATION_VERSION,
        figures: calibration.figures,
        measuredAt: 1000,
        totalMs: calibration.totalMs,
      },
    ]);

    // The next visit on the same device reuses them; another device measures its own.
    const again = await engineWith(store).initBackend('auto');
    expect(again.calibration).toEqual({ ...calibration, fromStore: true });
    expect(again.name).toBe(info.name);
    expect(again.reason).toMatch(/figures stored on this device/);
    const other = await engineWith(store, { ...DEVICE, hardwareConcurrency: 64 }).initBackend('auto');
    expect(other.calibration?.fromStore).toBe(false);
    expect(store.records.size).toBe(2);
  });

  it('measures again on request, replacing the stored figures, and keeps a chosen backend', async () => {
    const store = memoryCalibrationStore();
    const engine = engineWith(store);
    const first = await engine.initBackend('auto');
    const chosen = await engine.initBackend('cpu');
    expect(chosen.name).toBe('cpu');
    expect(chosen.reason).toMatch(/chosen by you/);
    expect(chosen.calibration).toEqual(first.calibration);
    const again = await engine.recalibrate();
    expect(again.name).toBe('cpu');
    expect(again.calibration?.fromStore).toBe(false);
    expect(again.calibration?.measuredAt).toBeGreaterThan(first.calibration!.measuredAt);
    expect(store.records.size).toBe(1);
    expect([...store.records.values()][0].measuredAt).toBe(again.calibration?.measuredAt);
  });

  it('stores nothing when told not to remember, nor when no backend was timed', async () => {
    const store = memoryCalibrationStore();
    const info = await engineWith(store).initBackend('auto', { remember: false });
    expect(info.calibration).toMatchObject({ fromStore: false, stored: false });
    expect(store.records.size).toBe(0);

    const missed = await engineWith(store, DEVICE, { warmUpMs: 0 }).initBackend('auto');
    expect(measuredNames(missed.calibration!.figures)).toEqual([]);
    expect(missed.reason).toMatch(
      /^No backend was timed \(wasm > 0 ms warm-up · cpu > 0 ms warm-up\); by rule: WebGPU unavailable/,
    );
    expect(missed.calibration?.stored).toBe(false);
    expect(store.records.size).toBe(0);
  });

  it('a store that fails only means measuring again', async () => {
    const broken: CalibrationStore = {
      get: () => Promise.reject(new Error('no IndexedDB')),
      put: () => Promise.reject(new Error('quota')),
    };
    const info = await engineWith(broken).initBackend('auto');
    expect(info.calibration).toMatchObject({ fromStore: false, stored: false });
    expect(info.reason).toMatch(/^Fastest measured here/);
  });
});
