/**
 * Pure rules of backend calibration (no tfjs, so they run in any test): when a run stops, what its
 * timings say, which backend is fastest, when stored figures may be reused, and how they read.
 */
import type {
  BackendName,
  BackendPreference,
  CalibrationFigure,
  CalibrationInfo,
  CalibrationPhase,
} from './api-types';
import type { AdapterProbe } from './backend-plan';
import { backendPlan } from './backend-plan';

/**
 * Version of the timed step: bump it when the calibration problem, its options or the timing rule change,
 * so figures stored by an older version are measured again rather than compared with new ones. Version 3:
 * the timed step is the fixed form's unfused step (calibrate.ts says why), after version 2 timed the fused one.
 */
export const CALIBRATION_VERSION = 3;

/** Time limits of one backend's calibration, milliseconds, and the size of its timed part. */
export interface CalibrationLimits {
  /**
   * The warm-up (problem upload, shader compilation or wasm start-up, one epoch): a backend whose warm-up
   * ends later is not timed and loses.
   */
  warmUpMs: number;
  /** The timed part: it stops before an epoch that would end past this; a first epoch ending later misses. */
  timedMs: number;
  /** Steps timed at most. */
  maxSteps: number;
  /** Steps per epoch: the run can only stop (and its loss is read back) between epochs. */
  stepsPerEpoch: number;
}

export const DEFAULT_CALIBRATION_LIMITS: CalibrationLimits = {
  warmUpMs: 3000,
  timedMs: 500,
  maxSteps: 6,
  stepsPerEpoch: 1,
};

/** Times (milliseconds, one clock) of a run: when its first epoch began and when each epoch ended. */
export interface EpochMarks {
  start: number;
  ends: readonly number[];
}

/**
 * Whether the timed run should stop before its next epoch: once maxSteps are done, or when the next epoch,
 * expected to last as long as the last one, would end past timedMs.
 */
export function stopTimedRun(marks: EpochMarks, limits: CalibrationLimits): boolean {
  const epochs = marks.ends.length;
  if (epochs === 0) return false;
  if (epochs * limits.stepsPerEpoch >= limits.maxSteps) return true;
  const last = marks.ends[epochs - 1];
  const lastEpoch = last - (epochs > 1 ? marks.ends[epochs - 2] : marks.start);
  return last - marks.start + lastEpoch > limits.timedMs;
}

/**
 * A backend's figure from its timed run: the mean step time over the epochs it finished, or a miss when
 * its first epoch already ended past timedMs (or it finished none).
 */
export function timedFigure(
  backend: BackendName,
  marks: EpochMarks,
  limits: CalibrationLimits,
): CalibrationFigure {
  const epochs = marks.ends.length;
  const elapsed = epochs > 0 ? marks.ends[epochs - 1] - marks.start : Infinity;
  const first = epochs > 0 ? marks.ends[0] - marks.start : Infinity;
  if (!(first <= limits.timedMs)) return missed(backend, 'timed', limits.timedMs);
  const steps = epochs * limits.stepsPerEpoch;
  return { backend, status: 'measured', msPerStep: elapsed / steps, steps };
}

export function missed(backend: BackendName, phase: CalibrationPhase, limitMs: number): CalibrationFigure {
  return { backend, status: 'missed', phase, limitMs };
}

/** What identifies this device's figures: the browser, its core count and its WebGPU adapter. */
export interface DeviceTraits {
  userAgent: string;
  hardwareConcurrency: number;
  /** describeAdapter's text, null without an adapter. */
  adapter: string | null;
  isFallbackAdapter: boolean;
}

/** The key of a device's stored figures; any change of browser version, cores or adapter gives a new one. */
export function deviceFingerprint(traits: DeviceTraits): string {
  return JSON.stringify([
    traits.userAgent,
    traits.hardwareConcurrency,
    traits.adapter,
    traits.isFallbackAdapter,
  ]);
}

/** Figures as stored on the device (IndexedDB), keyed by fingerprint. */
export interface CalibrationRecord {
  fingerprint: string;
  /** CALIBRATION_VERSION of the step that was timed. */
  version: number;
  figures: CalibrationFigure[];
  /** Milliseconds since 1970-01-01 UTC. */
  measuredAt: number;
  totalMs: number;
}

/** The stored record when it is for this device and this version of the step; null otherwise. */
export function reusableRecord(
  record: CalibrationRecord | null | undefined,
  fingerprint: string,
  version = CALIBRATION_VERSION,
): CalibrationRecord | null {
  if (!record || record.fingerprint !== fingerprint || record.version !== version) return null;
  return Array.isArray(record.figures) && record.figures.length > 0 ? record : null;
}

/**
 * Only figures with at least one timed backend are kept: a calibration that timed none is tried again. Nor
 * is one where WebGPU on a real (not fallback) adapter missed its warm-up: a first visit may spend seconds
 * compiling shaders that the browser caches for the next, and the GPU must not be remembered as slow for it.
 */
export function worthStoring(
  figures: readonly CalibrationFigure[],
  adapter: { isFallbackAdapter: boolean },
): boolean {
  const gpuWarmUpMissed = figures.some(
    (f) => f.backend === 'webgpu' && f.status === 'missed' && f.phase === 'warm-up',
  );
  if (gpuWarmUpMissed && !adapter.isFallbackAdapter) return false;
  return figures.some((f) => f.status === 'measured');
}

type Measured = Extract<CalibrationFigure, { status: 'measured' }>;

/** The timed backend with the shortest step among those available; null when none was timed. */
export function fastestBackend(
  figures: readonly CalibrationFigure[],
  available: readonly BackendName[],
): Measured | null {
  let best: Measured | null = null;
  for (const f of figures) {
    if (f.status !== 'measured' || !available.includes(f.backend)) continue;
    if (best === null || f.msPerStep < best.msPerStep) best = f;
  }
  return best;
}

/** "webgpu (fallback)" for a CPU fallback adapter, else the backend's name. */
export function backendLabel(name: BackendName, isFallbackAdapter: boolean): string {
  return name === 'webgpu' && isFallbackAdapter ? 'webgpu (fallback)' : name;
}

function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(1) : String(Math.round(ms));
}

/** "wasm 12 ms/step", "webgpu (fallback) > 300 ms", "cpu > 1500 ms warm-up", "webgpu failed (why)". */
export function describeFigure(figure: CalibrationFigure, isFallbackAdapter: boolean): string {
  const label = backendLabel(figure.backend, isFallbackAdapter);
  switch (figure.status) {
    case 'measured':
      return `${label} ${formatMs(figure.msPerStep)} ms/step`;
    case 'missed':
      return `${label} > ${figure.limitMs} ms${figure.phase === 'warm-up' ? ' warm-up' : ''}`;
    case 'failed':
      return `${label} failed (${figure.message})`;
  }
}

/** Every figure, joined with " · ". */
export function describeFigures(figures: readonly CalibrationFigure[], isFallbackAdapter: boolean): string {
  return figures.map((f) => describeFigure(f, isFallbackAdapter)).join(' · ');
}

/** What the engine knows of the calibration when it chooses: its figures, or why there are none. */
export type CalibrationOutcome = { ok: true; info: CalibrationInfo } | { ok: false; problem: string };

/**
 * The order to try backends in and why, for a preference. 'auto' with figures: the fastest timed
 * backend, then the other timed ones by speed, then the rule's order for the rest; without a timed
 * backend (or without figures) the rule of backendPlan, and the reason says so.
 */
export function calibratedPlan(
  preference: BackendPreference,
  probe: AdapterProbe,
  available: readonly BackendName[],
  calibration: CalibrationOutcome | null,
): { order: BackendName[]; reason: string } {
  const rule = backendPlan(preference, probe);
  if (preference !== 'auto' || calibration === null) return rule;
  if (!calibration.ok) {
    return {
      order: rule.order,
      reason: `Calibration failed (${calibration.problem}); by rule: ${rule.reason}`,
    };
  }
  const { figures } = calibration.info;
  const fastest = fastestBackend(figures, available);
  if (fastest === null) {
    const shown = describeFigures(figures, probe.isFallbackAdapter);
    return { order: rule.order, reason: `No backend was timed (${shown}); by rule: ${rule.reason}` };
  }
  const timed = figures
    .filter((f): f is Measured => f.status === 'measured' && available.includes(f.backend))
    .sort((a, b) => a.msPerStep - b.msPerStep)
    .map((f) => f.backend);
  const order = [...timed, ...rule.order.filter((name) => !timed.includes(name))];
  const others = figures.filter((f) => f.backend !== fastest.backend);
  // The figures themselves are shown beside the reason; it names the others without repeating them.
  const names = others.map((f) => backendLabel(f.backend, probe.isFallbackAdapter));
  const compared =
    names.length > 0
      ? `, ahead of ${names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names[0]}`
      : '; the only backend here';
  const when = calibration.info.fromStore ? ', figures stored on this device' : '';
  return {
    order,
    reason:
      `Fastest measured here: ${describeFigure(fastest, probe.isFallbackAdapter)}${compared}` +
      ` (one C3TL training step${when})`,
  };
}
