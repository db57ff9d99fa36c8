/**
 * How many threads the wasm backend runs, and the fallback to one. Threads need SharedArrayBuffer, so the
 * page must be cross-origin isolated; the thread workers are files of the app (src/build/threaded-wasm.ts).
 */

/**
 * The threads tfjs's threaded wasm computes on (tfjs-backend-wasm 4.x, backend.cc): one per two logical cores
 * (it assumes two per physical core), at most 8 (the pthread workers its glue starts with the module).
 */
export const WASM_MAX_THREADS = 8;

/**
 * A threaded start waits for every pthread worker to load; one that cannot load leaves it pending forever
 * (Emscripten only logs the worker's error). Past this many milliseconds the single-threaded build is used.
 */
export const THREADED_START_DEADLINE_MS = 20_000;

/**
 * Threads the wasm backend would get here: 1 without cross-origin isolation (no SharedArrayBuffer), else
 * tfjs's own count. The threaded build is only worth its 8 idle workers when this is above 1.
 */
export function expectedWasmThreads(isolated: boolean, logicalCores: number | undefined): number {
  if (!isolated) return 1;
  return Math.max(1, Math.min(WASM_MAX_THREADS, Math.floor((logicalCores ?? 1) / 2)));
}

/** The operations on tfjs that a wasm start needs (the engine's tfjs in the worker; fakes in tests). */
export interface WasmStarter {
  /** Whether the next start uses the threaded build. */
  threaded(): Promise<boolean>;
  /** Starts the wasm backend: true once it runs (tf.setBackend). */
  start(): Promise<boolean>;
  /** Makes later starts use the single-threaded build. */
  disableThreads(): void;
  /** Drops a start that is still pending, so that a new one can begin. */
  forgetPendingStart(): void;
}

export interface WasmStartOutcome {
  started: boolean;
  /** Why the threaded build was given up for the single-threaded one; null when it was not. */
  threadsProblem: string | null;
}

/**
 * Starts wasm threaded when the starter says so, falling back to the single-threaded build when the threaded
 * one fails or is still pending after `deadlineMs`.
 */
export async function startWasm(
  starter: WasmStarter,
  deadlineMs = THREADED_START_DEADLINE_MS,
): Promise<WasmStartOutcome> {
  if (!(await starter.threaded())) return { started: await starter.start(), threadsProblem: null };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), deadlineMs);
  });
  const threaded = await Promise.race([starter.start(), deadline]).catch(() => false as const);
  clearTimeout(timer);
  if (threaded === true) return { started: true, threadsProblem: null };
  if (threaded === 'late') starter.forgetPendingStart();
  starter.disableThreads();
  const threadsProblem =
    threaded === 'late'
      ? `threaded wasm did not start within ${deadlineMs / 1000} s`
      : 'threaded wasm failed to start';
  return { started: await starter.start(), threadsProblem };
}
