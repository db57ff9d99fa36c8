/**
 * Backend calibration: times real C3TL training steps (core's trainC3tl on a small fixed simulated
 * screen) on each available tfjs backend, so that 'auto' can pick the fastest by measurement.
 */
import type { EffectTensor } from '../core/data/tensor';
import type { TargetSplit } from '../core/eval/types';
import type { TrainOptions } from '../core/model/train';
import { AbortError, DEFAULT_TRAIN_OPTIONS, trainC3tl } from '../core/model/train';
import { simulate } from '../core/simulate/simulator';
import type { BackendName, CalibrationFigure } from './api-types';
import type { CalibrationLimits, EpochMarks } from './calibrate-rules';
import { DEFAULT_CALIBRATION_LIMITS, missed, stopTimedRun, timedFigure } from './calibrate-rules';

/** The calibration screen: contexts x perturbations x genes of the simulator, and its seed. */
const PROBLEM = { contexts: 4, perturbations: 128, genes: 512, seed: 7, supportPairs: 8 };

/** The calibration screen, its target split and the training options of a step (structured-cloneable). */
export interface CalibrationProblem {
  tensor: EffectTensor;
  split: TargetSplit;
  options: TrainOptions;
}

/**
 * One step has the shape of a real one: the default query batch (maxQueryPairs, 256) over one default
 * gene block (genesPerStep, 512 genes), so a GPU is judged on the work it will do, not on launch
 * overheads. A fixed support fraction and more reference queries than the batch takes make every step
 * the same size, so the warm-up compiles every shader the timed steps use and their times vary little.
 * No pseudo-target and no validation pairs: nothing but training steps runs between the time marks.
 */
export function calibrationProblem(limits: CalibrationLimits): CalibrationProblem {
  const { contexts, perturbations, genes, seed, supportPairs } = PROBLEM;
  // One replicate: the values do not change a step's cost, and the simulation is 3 times quicker.
  const { tensor } = simulate({ contexts, perturbations, genes, seed, replicates: 1, counts: false });
  const split: TargetSplit = {
    target: 0,
    supportTrain: Array.from({ length: supportPairs }, (_, p) => p),
    supportVal: [],
    query: Array.from({ length: perturbations - supportPairs }, (_, p) => p + supportPairs),
  };
  const options: TrainOptions = {
    ...DEFAULT_TRAIN_OPTIONS,
    preset: 'small',
    seed,
    // Runs end through shouldStop; this only bounds a run whose stop rule never fires.
    maxEpochs: Math.ceil(limits.maxSteps / limits.stepsPerEpoch) + 1,
    stepsPerEpoch: limits.stepsPerEpoch,
    patience: Number.MAX_SAFE_INTEGER,
    genesPerStep: genes,
    pseudoTargetPairs: 0,
    episodes: { ...DEFAULT_TRAIN_OPTIONS.episodes, supportFractionRange: [0.25, 0.25] },
    // The timed step is the fixed form's unfused one (about 130 kernels), not the fused one (about 4),
    // which only the fixed form's stage reaches here: timed fused, SwiftShader's WebGPU won the calibration
    // on a CPU-only machine (CI, 2026-12-01), yet a run's time goes mostly to the transfer path, whose fused
    // step still runs its products over the deviation profiles in WGSL on the CPU there (demo, 2 epochs:
    // 149 s on SwiftShader against about 33 s for a whole 26-epoch wasm run, reports/BENCHMARKS.md).
    fusedStep: false,
  };
  return { tensor, split, options };
}

/**
 * Trains on the problem until `stop` says so between two epochs, and returns the epoch time marks.
 *
 * A run is never abandoned while it is in flight: tfjs has one global engine, so a run left running after
 * tf.setBackend switched to the next backend would carry on there and mix tensors of two backends. It is
 * asked to stop instead: trainC3tl polls shouldStop before each epoch and ends each epoch with an awaited
 * read of its loss, so when the promise settles (AbortError) the backend has no queued work and the run
 * has disposed all its tensors. The price of a deadline is therefore at most one epoch (stepsPerEpoch
 * steps) past it, which is what the timing rule (stopTimedRun) and the warm-up bound account for.
 */
async function runEpochs(
  problem: CalibrationProblem,
  stop: (marks: EpochMarks) => boolean,
  now: () => number,
): Promise<EpochMarks> {
  let start = Number.NaN;
  const ends: number[] = [];
  try {
    const model = await trainC3tl(problem.tensor, problem.split, problem.options, {
      shouldStop: () => {
        if (Number.isNaN(start)) start = now();
        return stop({ start, ends });
      },
      onEpoch: () => ends.push(now()),
    });
    model.dispose();
  } catch (error) {
    if (!(error instanceof AbortError)) throw error;
  }
  return { start, ends };
}

/** The phases of one backend's calibration on the active backend; the problem is built once. */
export interface CalibrationPhases {
  /** One untimed epoch (upload, shader compilation or wasm start-up); resolves to its wall time, ms. */
  warmUp(): Promise<number>;
  /** Steps timed until stopTimedRun says so (or maxSteps); the epoch marks. */
  time(): Promise<EpochMarks>;
}

/** The phases that run the problem on whatever backend is active. */
export function calibrationPhases(
  problem: CalibrationProblem,
  limits: CalibrationLimits,
  shouldStop: () => boolean = () => false,
  now: () => number = () => performance.now(),
): CalibrationPhases {
  return {
    async warmUp() {
      const began = now();
      await runEpochs(problem, (marks) => shouldStop() || marks.ends.length >= 1, now);
      return now() - began;
    },
    time: () => runEpochs(problem, (marks) => shouldStop() || stopTimedRun(marks, limits), now),
  };
}

/** What a calibration is asked: the backends (in the order to show them), limits and a stop check. */
export interface CalibrationRequest {
  backends: readonly BackendName[];
  limits?: Partial<CalibrationLimits>;
  /** Checked between phases (and epochs in process): true ends the calibration with an AbortError. */
  shouldStop?: () => boolean;
}

export interface CalibrationRun {
  /** One per backend, in the order given. */
  figures: CalibrationFigure[];
  /** Wall time of the whole calibration, problem set-up included, milliseconds. */
  totalMs: number;
}

/** Runs a calibration: in this thread (calibrateBackends) or in a throw-away worker (calibrate-host.ts). */
export type Calibrator = (request: CalibrationRequest) => Promise<CalibrationRun>;

export interface CalibrationOptions extends CalibrationRequest {
  /** Makes a backend the active tfjs backend: null once it runs, else why it could not start. */
  activate(name: BackendName): Promise<string | null>;
  /** Clock in milliseconds; performance.now by default. */
  now?: () => number;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Times one C3TL training step on each backend in this thread: a warm-up epoch (its time does not count),
 * then a timed run of up to maxSteps steps that stops before an epoch that would end past timedMs. A
 * warm-up ending past warmUpMs, or a first timed epoch ending past timedMs, is a miss; a backend that does
 * not start or throws has failed. Here deadlines can only be kept between epochs (see runEpochs), so one
 * slow epoch (a GPU compiling its shaders) runs to its end; calibrate-host.ts enforces them by ending a
 * worker instead. Leaves the last backend tried active; the caller activates the one it chooses.
 */
export async function calibrateBackends(options: CalibrationOptions): Promise<CalibrationRun> {
  const now = options.now ?? (() => performance.now());
  const limits: CalibrationLimits = { ...DEFAULT_CALIBRATION_LIMITS, ...options.limits };
  const stopped = () => options.shouldStop?.() === true;
  const began = now();
  const phases = calibrationPhases(calibrationProblem(limits), limits, stopped, now);
  const figures: CalibrationFigure[] = [];
  for (const backend of options.backends) {
    if (stopped()) throw new AbortError();
    const failure = await options.activate(backend);
    if (failure !== null) {
      figures.push({ backend, status: 'failed', message: failure });
      continue;
    }
    try {
      const warmUpMs = await phases.warmUp();
      if (stopped()) throw new AbortError();
      if (warmUpMs > limits.warmUpMs) {
        figures.push(missed(backend, 'warm-up', limits.warmUpMs));
        continue;
      }
      const marks = await phases.time();
      if (stopped()) throw new AbortError();
      figures.push(timedFigure(backend, marks, limits));
    } catch (error) {
      if (error instanceof AbortError) throw error;
      figures.push({ backend, status: 'failed', message: errorText(error) });
    }
  }
  return { figures, totalMs: now() - began };
}
