/**
 * In-page instruments for watching a file load, shared by the large-file e2e test and the browser parse
 * benchmark. Installed as an init script, so they run before the app's own scripts on every page.
 */
import type { BrowserContext, Page } from 'playwright-core';

/** One value of the load progress bar as the DOM showed it. */
export interface ProgressSample {
  /** The <progress> value attribute, 0..1. */
  fraction: number;
  /** The label text next to the bar ("Reading x.csv: 12 MB of 200 MB"). */
  message: string;
  /** performance.now() of the page, ms. */
  at: number;
}

/** A main-thread task longer than 50 ms (PerformanceObserver 'longtask'). */
export interface LongTask {
  start: number;
  duration: number;
}

/** A read of a file's bytes that happened on the page's main thread. */
export interface MainThreadRead {
  method: string;
  bytes: number;
}

/** A change of the load message with its numbers masked ("Reading x.csv: # of #", sizes masked), i.e. a new stage. */
export interface PhaseMark {
  phase: string;
  at: number;
}

export interface LoadProbe {
  progress: ProgressSample[];
  phases: PhaseMark[];
  longTasks: LongTask[];
  mainThreadReads: MainThreadRead[];
  /** performance.now() when a file input last fired 'change' (a file was chosen), or null. */
  chosenAt: number | null;
  /** performance.now() when the dataset summary first appeared after that, or null. */
  shownAt: number | null;
}

type ProbeWindow = { __loadProbe?: LoadProbe };

/**
 * Reads of at least this many bytes count: the test files are hundreds of MB, the app's own small reads
 * (an imported model file, a session) stay below.
 */
const LARGE_READ_BYTES = 8 * 1024 * 1024;

/**
 * Records, from the first script of every page on: each distinct value of the load progress bar (a
 * MutationObserver, so nothing is missed between polls), long main-thread tasks, and every read of a
 * large Blob/File on the main thread (Blob.stream/arrayBuffer/text/bytes/slice, FileReader),
 * which would mean the parse is not running in the worker.
 */
export async function installLoadProbe(context: BrowserContext): Promise<void> {
  // tsx (the CLI benchmark) compiles with esbuild's keepNames, which wraps named functions in __name(...)
  // calls; the serialized init script needs that helper in the page too.
  await context.addInitScript({ content: 'globalThis.__name ??= (target) => target;' });
  await context.addInitScript(
    ({ largeBytes }) => {
      const probe: LoadProbe = {
        progress: [],
        phases: [],
        longTasks: [],
        mainThreadReads: [],
        chosenAt: null,
        shownAt: null,
      };
      (window as ProbeWindow).__loadProbe = probe;
      document.addEventListener(
        'change',
        (event) => {
          if (event.target instanceof HTMLInputElement && event.target.type === 'file') {
            probe.chosenAt = performance.now();
            probe.shownAt = null;
          }
        },
        true,
      );

      const sample = (): void => {
        if (
          probe.chosenAt !== null &&
          probe.shownAt === null &&
          document.querySelector('[data-testid=dataset-summary]') !== null
        ) {
          probe.shownAt = performance.now();
        }
        const label = document.querySelector('[data-testid=load-progress] label');
        const phase = label?.textContent?.replace(/\d[\d.,]*\s*[kMG]?B\b/g, '#').trim();
        if (phase && probe.phases[probe.phases.length - 1]?.phase !== phase) {
          probe.phases.push({ phase, at: performance.now() });
        }
        const bar = document.querySelector('[data-testid=load-progress] progress');
        const raw = bar?.getAttribute('value');
        if (bar == null || raw == null) return;
        const fraction = Number(raw);
        const last = probe.progress[probe.progress.length - 1];
        if (last?.fraction === fraction) return;
        const message = bar.closest('label')?.textContent?.trim() ?? '';
        probe.progress.push({ fraction, message, at: performance.now() });
      };
      new MutationObserver(sample).observe(document, {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
        attributeFilter: ['value'],
      });

      try {
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) {
            probe.longTasks.push({ start: entry.startTime, duration: entry.duration });
          }
        }).observe({ type: 'longtask', buffered: true });
      } catch {
        // No longtask support: the list stays empty and the benchmark says so.
      }

      const spy = <T extends object>(
        proto: T,
        methods: string[],
        sizeOf: (self: T, args: unknown[]) => number,
      ) => {
        for (const method of methods) {
          const original = (proto as Record<string, unknown>)[method];
          if (typeof original !== 'function') continue;
          (proto as Record<string, unknown>)[method] = function (this: T, ...args: unknown[]) {
            const bytes = sizeOf(this, args);
            if (bytes >= largeBytes) probe.mainThreadReads.push({ method, bytes });
            return (original as (...a: unknown[]) => unknown).apply(this, args);
          };
        }
      };
      spy(Blob.prototype, ['stream', 'arrayBuffer', 'text', 'bytes', 'slice'], (blob) => blob.size);
      spy(
        FileReader.prototype,
        ['readAsArrayBuffer', 'readAsText', 'readAsBinaryString', 'readAsDataURL'],
        (_reader, args) => (args[0] instanceof Blob ? args[0].size : 0),
      );
    },
    { largeBytes: LARGE_READ_BYTES },
  );
}

/** What the probe has recorded on the page so far (a copy). */
export function readLoadProbe(page: Page): Promise<LoadProbe> {
  return page.evaluate(() => {
    const probe = (window as ProbeWindow).__loadProbe;
    if (!probe) throw new Error('The load probe is not installed (call installLoadProbe before opening).');
    return structuredClone(probe);
  });
}

/**
 * Splits the progress values into passes (a wide table is read twice: labels, then values), a new pass
 * starting wherever the bar goes back, and returns the distinct fractions of each pass in order.
 */
export function progressPasses(samples: readonly ProgressSample[]): number[][] {
  const passes: number[][] = [];
  let current: number[] = [];
  for (const { fraction } of samples) {
    const last = current[current.length - 1];
    if (last !== undefined && fraction < last) {
      passes.push(current);
      current = [];
    }
    if (last !== fraction) current.push(fraction);
  }
  if (current.length > 0) passes.push(current);
  return passes;
}
