/**
 * What the browser benchmark's runner watches from outside the page: the worker's JS heap and ArrayBuffers
 * (CDP, polled) and the RSS of Chromium's renderer and GPU processes (/proc, polled).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { CDPSession } from 'playwright-core';

/** How often the sampler reads, ms. */
export const SAMPLE_MS = 250;

/** Resident set size of a process, bytes (0 when it is gone). */
function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Chromium's processes under this Node process, by their --type (the browser process has none). */
function chromiumProcesses(): { pid: number; type: string }[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // The process ended while the table was read.
    }
  }
  const found: { pid: number; type: string }[] = [];
  const stack = [process.pid];
  while (stack.length > 0) {
    for (const pid of children.get(stack.pop() as number) ?? []) {
      stack.push(pid);
      let args: string[];
      try {
        // Chromium rewrites its command line as one space-separated string (its process title).
        args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
      } catch {
        continue;
      }
      // Chromium's own WebUI renderers (omnibox popups) are not the benchmark's tab.
      if (args.includes('--top-chrome-webui')) continue;
      const type = args.find((a) => a.startsWith('--type='))?.slice('--type='.length) ?? 'browser';
      found.push({ pid, type });
    }
  }
  return found;
}

/** Runtime.getHeapUsage's reply: V8 heap in use, and ArrayBuffer backing stores (outside it), bytes. */
interface HeapUsage {
  usedSize?: number;
  backingStorageSize?: number;
}

/**
 * Polls the worker's JS heap (CDP, non-flat session on every worker target) and the renderer and GPU
 * process RSS every SAMPLE_MS; peaks since the last reset. The largest renderer is the benchmark tab (the
 * worker runs in its process); spare renderers stay far smaller.
 */
export class Sampler {
  peakHeap = 0;
  peakBacking = 0;
  peakRenderer = 0;
  peakGpuProcess = 0;
  private sessions = new Map<string, string>();
  private pending = new Map<number, (result: HeapUsage) => void>();
  private nextId = 1;
  private timers: ReturnType<typeof setInterval>[] = [];
  private busy = false;

  constructor(private cdp: CDPSession) {
    cdp.on('Target.receivedMessageFromTarget', (event) => {
      const message = JSON.parse(event.message) as { id?: number; result?: HeapUsage };
      if (message.id === undefined) return;
      this.pending.get(message.id)?.(message.result ?? {});
      this.pending.delete(message.id);
    });
    cdp.on('Target.detachedFromTarget', (event) => {
      for (const [target, session] of this.sessions)
        if (session === event.sessionId) this.sessions.delete(target);
    });
  }

  reset(): void {
    this.peakHeap = 0;
    this.peakBacking = 0;
    this.peakRenderer = 0;
    this.peakGpuProcess = 0;
  }

  start(): void {
    // Two loops: /proc is read synchronously and never waits on the browser; a CDP reply may come late.
    this.timers.push(setInterval(() => this.sampleProcesses(), SAMPLE_MS));
    this.timers.push(
      setInterval(() => {
        if (this.busy) return;
        this.busy = true;
        this.sampleWorkers().finally(() => (this.busy = false));
      }, SAMPLE_MS),
    );
  }

  stop(): void {
    this.timers.forEach((timer) => clearInterval(timer));
    this.timers = [];
  }

  private sampleProcesses(): void {
    for (const { pid, type } of chromiumProcesses()) {
      if (type === 'renderer') this.peakRenderer = Math.max(this.peakRenderer, rssOf(pid));
      if (type === 'gpu-process') this.peakGpuProcess = Math.max(this.peakGpuProcess, rssOf(pid));
    }
  }

  private async sampleWorkers(): Promise<void> {
    try {
      const { targetInfos } = await this.cdp.send('Target.getTargets');
      const workers = targetInfos.filter((t) => t.type === 'worker' && t.url.endsWith('/worker.js'));
      await Promise.all(workers.map((w) => this.workerHeap(w.targetId)));
    } catch {
      // The worker went away between listing and asking: the next sample sees the next one.
    }
  }

  private async workerHeap(targetId: string): Promise<void> {
    let session = this.sessions.get(targetId);
    if (!session) {
      // Non-flat: playwright's CDPSession cannot address flat child sessions.
      session = (await this.cdp.send('Target.attachToTarget', { targetId, flatten: false })).sessionId;
      this.sessions.set(targetId, session);
    }
    const id = this.nextId++;
    const reply = new Promise<HeapUsage>((resolve) => {
      this.pending.set(id, resolve);
      // A worker busy in a long kernel answers late; do not wait for it forever.
      setTimeout(() => {
        this.pending.delete(id);
        resolve({});
      }, 10_000);
    });
    await this.cdp.send('Target.sendMessageToTarget', {
      sessionId: session,
      message: JSON.stringify({ id, method: 'Runtime.getHeapUsage' }),
    });
    const { usedSize, backingStorageSize } = await reply;
    if (usedSize !== undefined) this.peakHeap = Math.max(this.peakHeap, usedSize);
    if (backingStorageSize !== undefined) this.peakBacking = Math.max(this.peakBacking, backingStorageSize);
  }
}
