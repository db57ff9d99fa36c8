/**
 * The browser benchmark's page (not part of the app): exposes `window.c3tlBench` for the runner
 * (src/cli/bench-browser.ts) and starts a fresh dedicated worker for every run, so that one size's memory
 * never counts towards the next.
 */
import type {
  BackendOffer,
  BenchPageApi,
  PageToWorker,
  RunOutcome,
  RunRequest,
  StopResult,
  WorkerToPage,
} from './protocol';

interface BenchWindow {
  c3tlBench?: BenchPageApi;
  /** Exposed by the runner (page.exposeFunction) to print progress lines; optional. */
  c3tlBenchProgress?: (text: string) => void;
}

const benchWindow = window as unknown as BenchWindow;
const log = document.getElementById('log');

function progress(text: string): void {
  if (log) log.textContent = `${text}\n${log.textContent ?? ''}`.slice(0, 10_000);
  benchWindow.c3tlBenchProgress?.(text);
}

function startWorker(): Worker {
  return new Worker(new URL('./worker.js', window.location.href), { type: 'module' });
}

function send(worker: Worker, message: PageToWorker): void {
  worker.postMessage(message);
}

/** The next message of the worker that satisfies accept (or its error), as a promise. */
function next<K extends WorkerToPage['kind']>(
  worker: Worker,
  kinds: readonly K[],
): Promise<Extract<WorkerToPage, { kind: K }> | Extract<WorkerToPage, { kind: 'error' }>> {
  return new Promise((resolve) => {
    const listener = (event: MessageEvent<WorkerToPage>) => {
      const message = event.data;
      if (message.kind === 'error' || (kinds as readonly string[]).includes(message.kind)) {
        worker.removeEventListener('message', listener);
        resolve(message as Extract<WorkerToPage, { kind: K }> | Extract<WorkerToPage, { kind: 'error' }>);
      }
    };
    worker.addEventListener('message', listener);
    worker.addEventListener('error', (event) => resolve({ kind: 'error', message: event.message }), {
      once: true,
    });
  });
}

let running: Worker | null = null;
let epochs = 0;

const api: BenchPageApi = {
  async probe(): Promise<BackendOffer> {
    const worker = startWorker();
    try {
      send(worker, { kind: 'probe' });
      const reply = await next(worker, ['offer']);
      if (reply.kind === 'error') throw new Error(reply.message);
      return reply.offer;
    } finally {
      worker.terminate();
    }
  },

  async run(request): Promise<RunOutcome> {
    if (running) throw new Error('A run is already in progress.');
    const input = document.getElementById('file') as HTMLInputElement | null;
    const file = input?.files?.[0];
    const full: RunRequest = { ...request, ...(request.size === 'pbmc' && file && { file }) };
    const worker = startWorker();
    running = worker;
    epochs = 0;
    worker.addEventListener('message', (event: MessageEvent<WorkerToPage>) => {
      if (event.data.kind === 'progress') {
        epochs = event.data.epoch;
        progress(event.data.text);
      }
    });
    try {
      const finished = next(worker, ['done', 'stopped']);
      send(worker, { kind: 'run', request: full });
      const reply = await finished;
      if (reply.kind !== 'stopped') return reply;
      // A stopped run must leave a live worker: it answers the next message.
      const pong = next(worker, ['pong']);
      send(worker, { kind: 'ping' });
      const answer = await Promise.race([
        pong,
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 5000)),
      ]);
      const stop: StopResult = {
        ...reply.stop,
        workerAlive: answer !== null && answer.kind === 'pong',
      };
      return { kind: 'stopped', stop };
    } finally {
      worker.terminate();
      running = null;
      epochs = 0;
    }
  },

  stop(): void {
    if (running) send(running, { kind: 'stop', askedAt: performance.timeOrigin + performance.now() });
  },

  epochs: () => epochs,
};

benchWindow.c3tlBench = api;
progress('ready');
