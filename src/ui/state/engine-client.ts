import * as Comlink from 'comlink';
import type { EngineApi } from '../../worker/engine.worker';

export type Engine = Comlink.Remote<EngineApi>;

export interface EngineClient {
  api: Engine;
  /** The worker itself, for its error events. */
  worker: Worker;
}

/** Starts the dedicated module worker that runs the engine; one per page, made by main.tsx. */
export function startEngine(): EngineClient {
  const worker = new Worker(new URL('../../worker/engine.worker.ts', import.meta.url), {
    type: 'module',
    name: 'c3tl-engine',
  });
  return { api: Comlink.wrap<EngineApi>(worker), worker };
}
