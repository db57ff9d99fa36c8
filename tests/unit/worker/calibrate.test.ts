import { describe, expect, it } from 'vitest';
import type { BackendName, CalibrationFigure, CalibrationInfo } from '../../../src/worker/api-types';
import type { AdapterProbe } from '../../../src/worker/backend-plan';
import type { CalibrationLimits, CalibrationRecord } from '../../../src/worker/calibrate-rules';
import {
  CALIBRATION_VERSION,
  calibratedPlan,
  describeFigure,
  describeFigures,
  deviceFingerprint,
  fastestBackend,
  reusableRecord,
  stopTimedRun,
  timedFigure,
  worthStoring,
} from '../../../src/worker/calibrate-rules';

const LIMITS: CalibrationLimits = { warmUpMs: 1000, timedMs: 300, maxSteps: 8, stepsPerEpoch: 2 };

const measured = (backend: BackendName, msPerStep: number): CalibrationFigure => ({
  backend,
  status: 'measured',
  msPerStep,
  steps: 8,
});
const missedTimed = (backend: BackendName): CalibrationFigure => ({
  backend,
  status: 'missed',
  phase: 'timed',
  limitMs: 300,
});
const missedWarmUp = (backend: BackendName): CalibrationFigure => ({
  backend,
  status: 'missed',
  phase: 'warm-up',
  limitMs: 1000,
});
const failed = (backend: BackendName, message = 'webgpu failed to start'): CalibrationFigure => ({
  backend,
  status: 'failed',
  message,
});

describe('stopTimedRun', () => {
  it.each([
    ['before the first epoch', { start: 0, ends: [] }, false],
    ['room for another epoch of the same length', { start: 0, ends: [40, 80] }, false],
    ['the next epoch would end past the limit', { start: 0, ends: [100, 210] }, true],
    ['the first epoch alone is past the limit', { start: 0, ends: [350] }, true],
    ['the last epoch, not the first, predicts the next', { start: 0, ends: [200, 230] }, false],
    ['maxSteps done', { start: 0, ends: [10, 20, 30, 40] }, true],
    ['one epoch short of maxSteps', { start: 0, ends: [10, 20, 30] }, false],
  ] as const)('%s', (_name, marks, stop) => {
    expect(stopTimedRun(marks, LIMITS)).toBe(stop);
  });
});

describe('timedFigure', () => {
  it.each([
    ['all steps within the limit', { start: 100, ends: [120, 140, 160, 180] }, measured('wasm', 10)],
    ['stopped early: only the epochs finished count', { start: 0, ends: [150, 280] }, measured('wasm', 70)],
    ['the first epoch ends past the limit', { start: 0, ends: [301] }, missedTimed('wasm')],
    ['no epoch finished', { start: 0, ends: [] }, missedTimed('wasm')],
  ] as const)('%s', (_name, marks, figure) => {
    const got = timedFigure('wasm', marks, LIMITS);
    if (figure.status === 'measured' && got.status === 'measured') {
      expect(got.msPerStep).toBeCloseTo(figure.msPerStep, 9);
      expect(got.steps).toBe(marks.ends.length * LIMITS.stepsPerEpoch);
    } else {
      expect(got).toEqual(figure);
    }
  });
});

describe('fastestBackend and worthStoring', () => {
  const all: BackendName[] = ['webgpu', 'wasm', 'cpu'];
  it.each([
    [
      'the shortest step wins',
      [measured('webgpu', 30), measured('wasm', 12), measured('cpu', 80)],
      all,
      'wasm',
    ],
    ['a miss loses to any measured one', [missedTimed('webgpu'), measured('cpu', 800)], all, 'cpu'],
    [
      'failures and warm-up misses are skipped',
      [failed('webgpu'), missedWarmUp('wasm'), measured('cpu', 9)],
      all,
      'cpu',
    ],
    [
      'a backend no longer available is skipped',
      [measured('webgpu', 1), measured('wasm', 12)],
      ['wasm', 'cpu'],
      'wasm',
    ],
    ['nothing measured', [missedTimed('webgpu'), failed('wasm', 'no wasm')], all, null],
    ['no figures', [], all, null],
  ] as const)('%s', (_name, figures, available, winner) => {
    expect(fastestBackend(figures, available)?.backend ?? null).toBe(winner);
    expect(worthStoring(figures, { isFallbackAdapter: true })).toBe(
      figures.some((f) => f.status === 'measured'),
    );
  });
  it.each([
    ['a real GPU that missed its warm-up is measured again next time', false, false],
    ['a fallback adapter that missed its warm-up is remembered as slow', true, true],
  ])('%s', (_name, isFallbackAdapter, stored) => {
    const figures = [missedWarmUp('webgpu'), measured('wasm', 12), measured('cpu', 80)];
    expect(worthStoring(figures, { isFallbackAdapter })).toBe(stored);
  });
});

describe('deviceFingerprint and reusableRecord', () => {
  const device = {
    userAgent: 'Mozilla/5.0 Chrome/131',
    hardwareConcurrency: 2,
    adapter: 'google swiftshader',
    isFallbackAdapter: true,
  };
  const key = deviceFingerprint(device);
  const record: CalibrationRecord = {
    fingerprint: key,
    version: CALIBRATION_VERSION,
    figures: [measured('wasm', 12)],
    measuredAt: 1,
    totalMs: 900,
  };

  it.each([
    ['another browser version', { userAgent: 'Mozilla/5.0 Chrome/132' }],
    ['another core count', { hardwareConcurrency: 8 }],
    ['another adapter', { adapter: 'nvidia hopper' }],
    ['no adapter any more', { adapter: null }],
    ['the same adapter no longer a fallback', { isFallbackAdapter: false }],
  ] as const)('changes with %s', (_name, change) => {
    expect(deviceFingerprint({ ...device, ...change })).not.toBe(key);
  });

  it('is the same for the same device', () => {
    expect(deviceFingerprint({ ...device })).toBe(key);
  });

  it.each([
    ['the same device and version: reused', record, key, CALIBRATION_VERSION, true],
    ['nothing stored', null, key, CALIBRATION_VERSION, false],
    [
      'another device',
      record,
      deviceFingerprint({ ...device, hardwareConcurrency: 4 }),
      CALIBRATION_VERSION,
      false,
    ],
    ['an older step version', record, key, CALIBRATION_VERSION + 1, false],
    [
      'a record without figures',
      { ...record, figures: [] as CalibrationFigure[] },
      key,
      CALIBRATION_VERSION,
      false,
    ],
  ] as const)('%s', (_name, stored, fingerprint, version, reused) => {
    expect(reusableRecord(stored, fingerprint, version)).toBe(reused ? stored : null);
  });
});

describe('describeFigure', () => {
  it.each([
    [measured('wasm', 12.4), false, 'wasm 12 ms/step'],
    [measured('cpu', 4.25), false, 'cpu 4.3 ms/step'],
    [missedTimed('webgpu'), true, 'webgpu (fallback) > 300 ms'],
    [missedWarmUp('webgpu'), false, 'webgpu > 1000 ms warm-up'],
    [failed('webgpu'), false, 'webgpu failed (webgpu failed to start)'],
  ] as const)('%j (fallback adapter %s)', (figure, fallback, text) => {
    expect(describeFigure(figure, fallback)).toBe(text);
  });

  it('joins the figures in their order', () => {
    expect(describeFigures([measured('wasm', 12), missedTimed('webgpu'), measured('cpu', 80)], true)).toBe(
      'wasm 12 ms/step · webgpu (fallback) > 300 ms · cpu 80 ms/step',
    );
  });
});

describe('calibratedPlan', () => {
  const fallback: AdapterProbe = { adapter: 'google swiftshader', isFallbackAdapter: true };
  const gpu: AdapterProbe = { adapter: 'nvidia hopper', isFallbackAdapter: false };
  const all: BackendName[] = ['webgpu', 'wasm', 'cpu'];
  const info = (figures: CalibrationFigure[], fromStore = false): CalibrationInfo => ({
    figures,
    measuredAt: 1,
    totalMs: 800,
    fromStore,
    stored: true,
  });

  it.each([
    [
      'measured: the fallback webgpu is slower than wasm',
      'auto',
      fallback,
      { ok: true, info: info([measured('webgpu', 400), measured('wasm', 15), measured('cpu', 90)]) },
      ['wasm', 'cpu', 'webgpu'],
      /^Fastest measured here: wasm 15 ms\/step, ahead of webgpu \(fallback\) and cpu \(/,
    ],
    [
      'measured: a real GPU is faster',
      'auto',
      gpu,
      { ok: true, info: info([measured('webgpu', 2), measured('wasm', 15), missedTimed('cpu')]) },
      ['webgpu', 'wasm', 'cpu'],
      /^Fastest measured here: webgpu 2\.0 ms\/step, ahead of wasm and cpu \(/,
    ],
    [
      'by measurement even where the rule says otherwise',
      'auto',
      fallback,
      { ok: true, info: info([measured('webgpu', 5), measured('wasm', 15)]) },
      ['webgpu', 'wasm', 'cpu'],
      /^Fastest measured here: webgpu \(fallback\) 5\.0 ms\/step, ahead of wasm \(/,
    ],
    [
      'figures from the store say so',
      'auto',
      gpu,
      { ok: true, info: info([measured('wasm', 15)], true) },
      ['wasm', 'webgpu', 'cpu'],
      /the only backend here \(one C3TL training step, figures stored on this device\)$/,
    ],
    [
      'nothing timed: the rule, and why',
      'auto',
      fallback,
      { ok: true, info: info([missedWarmUp('webgpu'), failed('wasm', 'no wasm'), missedTimed('cpu')]) },
      ['wasm', 'cpu'],
      /^No backend was timed \(webgpu \(fallback\) > 1000 ms warm-up · wasm failed \(no wasm\) · cpu > 300 ms\); by rule: WebGPU adapter is a CPU fallback/,
    ],
    [
      'calibration failed: the rule, and why',
      'auto',
      gpu,
      { ok: false, problem: 'out of memory' },
      ['webgpu', 'wasm', 'cpu'],
      /^Calibration failed \(out of memory\); by rule: WebGPU on nvidia hopper$/,
    ],
    ['no calibration: the rule', 'auto', gpu, null, ['webgpu', 'wasm', 'cpu'], /^WebGPU on nvidia hopper$/],
    [
      "the user's choice ignores the figures",
      'webgpu',
      fallback,
      { ok: true, info: info([measured('webgpu', 400), measured('wasm', 15)]) },
      ['webgpu', 'wasm', 'cpu'],
      /chosen by you/,
    ],
    [
      "the user's cpu ignores the figures",
      'cpu',
      gpu,
      { ok: true, info: info([measured('webgpu', 1)]) },
      ['cpu'],
      /chosen by you/,
    ],
  ] as const)('%s', (_name, preference, probe, calibration, order, reason) => {
    const plan = calibratedPlan(preference, probe, all, calibration);
    expect(plan.order).toEqual(order);
    expect(plan.reason).toMatch(reason);
  });
});
