/**
 * Calibration in a throw-away worker, so that every deadline is kept: tfjs cannot interrupt an epoch (on
 * SwiftShader's fallback adapter the first one, compiling shaders, took 25 s here), but a worker can be
 * ended at any moment, and with it the backend, its GPU device and any work in flight. The engine's own
 * tfjs backend is never touched by the calibration.
 */
import * as Comlink from 'comlink';
import { AbortError } from '../core/model/train';
import type { BackendName, CalibrationFigure } from './api-types';
import type { Calibrator } from './calibrate';
import { calibrationProblem, errorText } from './calibrate';
import type { CalibrationLimits } from './calibrate-rules';
import { DEFAULT_CALIBRATION_LIMITS, missed, timedFigure } from './calibrate-rules';
import type { CalibrationWorkerApi } from './calibrate.worker';

/** Starting a worker (loading tfjs) and handing it the problem, ms; past it the calibration fails. */
const PREPARE_MS = 15_000;

const TIMEOUT = Symbol('timeout');

/** The promise's value, or TIMEOUT once ms have passed (the work itself is not stopped). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A backend's figure, and whether its worker may still be busy (a phase ended by its deadline). */
interface Measurement {
  figure: CalibrationFigure;
  inFlight: boolean;
}

interface Running {
  worker: Worker;
  api: Comlink.Remote<CalibrationWorkerApi>;
}

function startWorker(): Worker {
  return new Worker(new URL('./calibrate.worker.ts', import.meta.url), {
    type: 'module',
    name: 'c3tl-calibration',
  });
}

/**
 * A Calibrator that measures in a worker made by `spawn`. Each phase has a hard deadline: activation and
 * warm-up warmUpMs each, the timed part twice timedMs (it normally stops itself before timedMs; the
 * margin lets a last epoch that ran a little long finish). A phase past its deadline ends the worker and
 * counts as a miss; the next backend gets a new worker. WebGPU, the backend most likely to be ended, is
 * measured last so that usually one worker serves them all.
 */
export function workerCalibrator(spawn: () => Worker = startWorker): Calibrator {
  return async (request) => {
    const began = performance.now();
    const limits: CalibrationLimits = { ...DEFAULT_CALIBRATION_LIMITS, ...request.limits };
    const stopped = () => request.shouldStop?.() === true;
    const order = [...request.backends].sort((a, b) => Number(a === 'webgpu') - Number(b === 'webgpu'));
    const figures = new Map<BackendName, CalibrationFigure>();
    // Simulated once here and copied to each worker, so a new worker after a miss only loads tfjs.
    const problem = calibrationProblem(limits);
    let running: Running | null = null;
    const end = () => {
      running?.worker.terminate();
      running = null;
    };

    const measure = async ({ api }: Running, backend: BackendName): Promise<Measurement> => {
      const warmUpMiss = missed(backend, 'warm-up', limits.warmUpMs);
      const failure = await within(api.activate(backend), limits.warmUpMs);
      if (failure === TIMEOUT) return { figure: warmUpMiss, inFlight: true };
      if (failure !== null)
        return { figure: { backend, status: 'failed', message: failure }, inFlight: false };
      const warm = await within(api.warmUp(), limits.warmUpMs);
      if (warm === TIMEOUT) return { figure: warmUpMiss, inFlight: true };
      if (warm > limits.warmUpMs) return { figure: warmUpMiss, inFlight: false };
      const marks = await within(api.time(), 2 * limits.timedMs);
      if (marks === TIMEOUT) return { figure: missed(backend, 'timed', limits.timedMs), inFlight: true };
      return { figure: timedFigure(backend, marks, limits), inFlight: false };
    };

    try {
      for (const backend of order) {
        if (stopped()) throw new AbortError();
        if (running === null) {
          const worker = spawn();
          const started: Running = { worker, api: Comlink.wrap<CalibrationWorkerApi>(worker) };
          running = started;
          if ((await within(started.api.prepare(problem, limits), PREPARE_MS)) === TIMEOUT) {
            throw new Error(`the calibration worker did not start within ${PREPARE_MS / 1000} s`);
          }
        }
        let outcome: Measurement;
        try {
          outcome = await measure(running, backend);
        } catch (error) {
          outcome = { figure: { backend, status: 'failed', message: errorText(error) }, inFlight: false };
        }
        const { figure } = outcome;
        // A phase past its deadline is still running, a failed backend may be broken: a new worker is clean.
        if (outcome.inFlight || figure.status === 'failed') end();
        figures.set(backend, figure);
      }
    } finally {
      end();
    }
    return {
      figures: request.backends.flatMap((b) => figures.get(b) ?? []),
      totalMs: performance.now() - began,
    };
  };
}
