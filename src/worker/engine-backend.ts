/**
 * The engine's backend policy: which tfjs backend runs, chosen by measurement ('auto': the fastest one
 * calibrated on this device, figures remembered per device) or by the user's preference.
 */
import type { BackendInfo, BackendPreference, CalibrationInfo } from './api-types';
import { activateBackend, availableBackends, probeWebGpu, selectBackend } from './backend';
import type { AdapterProbe } from './backend-plan';
import type { Calibrator } from './calibrate';
import { calibrateBackends } from './calibrate';
import { workerCalibrator } from './calibrate-host';
import type {
  CalibrationLimits,
  CalibrationOutcome,
  CalibrationRecord,
  DeviceTraits,
} from './calibrate-rules';
import { CALIBRATION_VERSION, deviceFingerprint, reusableRecord, worthStoring } from './calibrate-rules';
import type { CalibrationStore } from './calibrate-store';
import { indexedDbCalibrationStore } from './calibrate-store';
import type { StopToken } from './run-gate';

export interface BackendPolicyOptions {
  /** Milliseconds since 1970 for the saved-at and measured-at times; Date.now by default. */
  now?: () => number;
  /** Where calibration figures are remembered per device; IndexedDB by default. */
  calibration?: CalibrationStore;
  /** This browser and its cores, for the figures' key; read from navigator by default. */
  device?: () => Pick<DeviceTraits, 'userAgent' | 'hardwareConcurrency'>;
  /** Time limits of the calibration; calibrate-rules' defaults otherwise. */
  calibrationLimits?: Partial<CalibrationLimits>;
  /**
   * How the calibration runs: by default in a throw-away worker where workers exist (deadlines are then
   * kept by ending it), else in this thread on the engine's tfjs (Node).
   */
  calibrator?: Calibrator;
}

function defaultCalibrator(): Calibrator {
  if (typeof Worker === 'function') return workerCalibrator();
  return (request) => calibrateBackends({ ...request, activate: activateBackend });
}

function navigatorTraits(): Pick<DeviceTraits, 'userAgent' | 'hardwareConcurrency'> {
  const nav = globalThis.navigator as { userAgent?: string; hardwareConcurrency?: number } | undefined;
  return { userAgent: nav?.userAgent ?? 'unknown', hardwareConcurrency: nav?.hardwareConcurrency ?? 0 };
}

export interface BackendPolicy {
  /** Activates the backend for the preference; 'auto' calibrates first unless this page already did. */
  activate(wanted: BackendPreference, token: StopToken): Promise<BackendInfo>;
  /** Measures every backend again (ignoring stored figures) and re-applies the last preference. */
  recalibrate(token: StopToken): Promise<BackendInfo>;
  /** The active backend, activating 'auto' when none is. */
  ensure(token: StopToken): Promise<BackendInfo>;
  /** Stores no new figures from now on (the page that follows "Forget everything"). */
  forgetFigures(): void;
}

export function createBackendPolicy(options: BackendPolicyOptions = {}): BackendPolicy {
  let backend: BackendInfo | null = null;
  let preference: BackendPreference = 'auto';
  /** This page's calibration figures, once measured or read back (a failed calibration is tried again). */
  let calibration: CalibrationInfo | null = null;
  /** Whether new figures may be stored. */
  let remember = true;
  const calibrationStore = options.calibration ?? indexedDbCalibrationStore();
  const clock = options.now ?? (() => Date.now());
  const calibrator = options.calibrator ?? defaultCalibrator();

  /**
   * This device's figures: read back from the store when they were measured here by this version of the
   * step (unless forced), else measured now on every available backend and stored. A calibration that
   * throws or is cancelled gives its reason instead, and 'auto' falls back to the rule.
   */
  const calibrate = async (
    probe: AdapterProbe,
    force: boolean,
    token: StopToken,
  ): Promise<CalibrationOutcome> => {
    const device = (options.device ?? navigatorTraits)();
    const fingerprint = deviceFingerprint({
      ...device,
      adapter: probe.adapter,
      isFallbackAdapter: probe.isFallbackAdapter,
    });
    if (!force) {
      // An unreadable store (no IndexedDB, private mode) only means measuring again.
      const stored = reusableRecord(await calibrationStore.get(fingerprint).catch(() => null), fingerprint);
      if (stored) {
        const { figures, measuredAt, totalMs } = stored;
        return { ok: true, info: { figures, measuredAt, totalMs, fromStore: true, stored: true } };
      }
    }
    try {
      const run = await calibrator({
        backends: availableBackends(probe),
        shouldStop: () => token.stopped,
        ...(options.calibrationLimits && { limits: options.calibrationLimits }),
      });
      const record: CalibrationRecord = {
        fingerprint,
        version: CALIBRATION_VERSION,
        figures: run.figures,
        measuredAt: clock(),
        totalMs: run.totalMs,
      };
      const stored =
        remember && worthStoring(run.figures, probe)
          ? await calibrationStore.put(record).then(
              () => true,
              () => false,
            )
          : false;
      const { figures, measuredAt, totalMs } = record;
      return { ok: true, info: { figures, measuredAt, totalMs, fromStore: false, stored } };
    } catch (error) {
      const why = token.stopped ? 'cancelled' : error instanceof Error ? error.message : String(error);
      return { ok: false, problem: why };
    }
  };

  /** Activates the backend for the preference; 'auto' calibrates first unless this page already did. */
  const activate = async (wanted: BackendPreference, token: StopToken, force = false) => {
    const probe = await probeWebGpu();
    let outcome: CalibrationOutcome | null = calibration && { ok: true, info: calibration };
    if (force || (wanted === 'auto' && calibration === null)) {
      outcome = await calibrate(probe, force, token);
      if (outcome.ok) calibration = outcome.info;
    }
    preference = wanted;
    backend = await selectBackend(wanted, { probe, calibration: outcome });
    return backend;
  };

  const ensureBackend = async (token: StopToken): Promise<BackendInfo> => {
    return backend ?? (await activate('auto', token));
  };

  return {
    activate: (wanted, token) => activate(wanted, token),
    recalibrate: (token) => activate(preference, token, true),
    ensure: (token) => ensureBackend(token),
    forgetFigures: () => {
      remember = false;
    },
  };
}
