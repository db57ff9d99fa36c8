/**
 * Memory of a browser benchmark run, watched from outside the page: summed VmRSS of the Chromium processes
 * (/proc, every 100 ms), the V8 heap of the page and of the engine worker and the worker's off-heap backing
 * store (CDP, every 250 ms), and the renderers' kernel-recorded peak RSS at the end.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { CDPSession } from 'playwright-core';

/** Sampling periods: /proc is cheap to read; a CDP heap query is a round trip to a busy renderer. */
const RSS_PERIOD_MS = 100;
const HEAP_PERIOD_MS = 250;

interface ChromiumProcess {
  pid: number;
  /** --type= of the command line ('renderer', 'gpu-process', 'utility', ...), 'browser' without one. */
  type: string;
  rssBytes: number;
  /** VmHWM: the peak RSS of this process over its whole life. */
  hwmBytes: number;
}

function statusBytes(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** The Chromium processes descended from this Node process, with their RSS from /proc/<pid>/status. */
function chromiumProcesses(): ChromiumProcess[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) follows the command name in parentheses, which may itself contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // The process ended while being listed.
    }
  }
  const isOurs = (pid: number): boolean => {
    for (let p = parentOf.get(pid); p !== undefined && p > 1; p = parentOf.get(p)) {
      if (p === process.pid) return true;
    }
    return false;
  };
  const out: ChromiumProcess[] = [];
  for (const pid of parentOf.keys()) {
    if (!isOurs(pid)) continue;
    try {
      // Chromium rewrites the command line of its children into one space-separated string.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (!/^\S*chrom/.test(cmdline)) continue;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const type = /--type=(\S+)/.exec(cmdline)?.[1] ?? 'browser';
      out.push({ pid, type, rssBytes: statusBytes(status, 'VmRSS'), hwmBytes: statusBytes(status, 'VmHWM') });
    } catch {
      // The process ended while being read.
    }
  }
  return out;
}

interface RssPeaks {
  /** Sum of VmRSS over every Chromium process, sampled. */
  allBytes: number;
  /** Sum of VmRSS over the renderer processes (the page and its workers live in one of them), sampled. */
  rendererBytes: number;
}

function rssNow(): RssPeaks {
  const list = chromiumProcesses();
  const sum = (l: ChromiumProcess[]) => l.reduce((a, p) => a + p.rssBytes, 0);
  return { allBytes: sum(list), rendererBytes: sum(list.filter((p) => p.type === 'renderer')) };
}

interface HeapUsage {
  usedSize: number;
  totalSize: number;
  /** Blink (DOM) objects' memory that V8 tracks. */
  embedderHeapUsedSize?: number;
  /** ArrayBuffer backing stores and other off-heap storage of the isolate. */
  backingStorageSize?: number;
}

/**
 * Runtime.getHeapUsage of the engine worker through the page's CDP session: Playwright keeps the flat
 * sessions to itself, so this attaches to the worker target in the (older) nested mode and exchanges
 * messages through Target.sendMessageToTarget / receivedMessageFromTarget.
 */
async function workerHeapProbe(cdp: CDPSession): Promise<() => Promise<HeapUsage | null>> {
  const { targetInfos } = await cdp.send('Target.getTargets');
  const worker = targetInfos.find((t) => t.type === 'worker' && t.url.includes('engine'));
  if (!worker) return async () => null;
  const { sessionId } = await cdp.send('Target.attachToTarget', {
    targetId: worker.targetId,
    flatten: false,
  });
  let nextId = 1;
  const waiting = new Map<number, (usage: HeapUsage | null) => void>();
  cdp.on('Target.receivedMessageFromTarget', (event) => {
    if (event.sessionId !== sessionId) return;
    const message = JSON.parse(event.message) as { id?: number; result?: HeapUsage };
    if (message.id === undefined) return;
    waiting.get(message.id)?.(message.result ?? null);
    waiting.delete(message.id);
  });
  return () =>
    new Promise<HeapUsage | null>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      cdp
        .send('Target.sendMessageToTarget', {
          sessionId,
          message: JSON.stringify({ id, method: 'Runtime.getHeapUsage' }),
        })
        .catch(() => {
          waiting.delete(id);
          resolve(null);
        });
    });
}

/** Runs `sample` every `periodMs` (never two at once) until the returned stop function is called. */
function every(periodMs: number, sample: () => Promise<void> | void): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      await sample();
      await new Promise((ok) => setTimeout(ok, Math.max(0, periodMs - (performance.now() - started))));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

/**
 * Starts sampling; `before` is what was in use at the start, `peak` grows as samples come, and `stop()`
 * ends the sampling and gives the renderers (with their VmHWM) and the number of worker heap samples.
 */
export async function startMemorySampler(cdp: CDPSession) {
  const workerHeap = await workerHeapProbe(cdp);
  const before = {
    rss: rssNow(),
    page: await cdp.send('Runtime.getHeapUsage'),
    worker: await workerHeap(),
  };
  const peak = {
    rss: { ...before.rss },
    pageHeap: before.page.usedSize,
    workerHeap: before.worker?.usedSize ?? 0,
    workerBacking: before.worker?.backingStorageSize ?? 0,
  };
  let workerSamples = 0;
  const stopRss = every(RSS_PERIOD_MS, () => {
    const now = rssNow();
    peak.rss.allBytes = Math.max(peak.rss.allBytes, now.allBytes);
    peak.rss.rendererBytes = Math.max(peak.rss.rendererBytes, now.rendererBytes);
  });
  const stopHeap = every(HEAP_PERIOD_MS, async () => {
    const [pageHeap, worker] = await Promise.all([
      cdp.send('Runtime.getHeapUsage').catch(() => null),
      workerHeap(),
    ]);
    if (pageHeap) peak.pageHeap = Math.max(peak.pageHeap, pageHeap.usedSize);
    if (worker) {
      workerSamples++;
      peak.workerHeap = Math.max(peak.workerHeap, worker.usedSize);
      peak.workerBacking = Math.max(peak.workerBacking, worker.backingStorageSize ?? 0);
    }
  });
  return {
    before,
    peak,
    async stop() {
      await Promise.all([stopRss(), stopHeap()]);
      return { renderers: chromiumProcesses().filter((p) => p.type === 'renderer'), workerSamples };
    },
  };
}
