/**
 * A throw-away worker for one calibration (calibrate-host.ts): it takes the problem, activates each
 * backend in turn and runs its phases. Ending this worker is how a deadline stops a phase that tfjs cannot
 * interrupt (a GPU compiling its shaders) without touching the engine's own backend.
 */
import * as Comlink from 'comlink';
import { activateBackend } from './backend';
import type { CalibrationPhases, CalibrationProblem } from './calibrate';
import { calibrationPhases } from './calibrate';
import type { CalibrationLimits } from './calibrate-rules';

let phases: CalibrationPhases | null = null;

function prepared(): CalibrationPhases {
  if (phases === null) throw new Error('The calibration problem was not prepared.');
  return phases;
}

const api = {
  /** Takes the calibration problem (built once by the host, copied to each worker). */
  prepare(problem: CalibrationProblem, limits: CalibrationLimits): void {
    phases = calibrationPhases(problem, limits);
  },
  activate: activateBackend,
  warmUp: (): Promise<number> => prepared().warmUp(),
  time: () => prepared().time(),
};

export type CalibrationWorkerApi = typeof api;

Comlink.expose(api);
