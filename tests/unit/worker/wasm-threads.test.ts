import { describe, expect, it } from 'vitest';
import type { WasmStarter } from '../../../src/worker/wasm-threads';
import { expectedWasmThreads, startWasm } from '../../../src/worker/wasm-threads';

/** A tfjs stand-in: the threaded start answers as told (or never), the single-threaded one succeeds. */
function fakeTfjs(threadedStart: 'ok' | 'fails' | 'throws' | 'hangs', threadsOn = true) {
  const calls: string[] = [];
  let threaded = threadsOn;
  const starter: WasmStarter = {
    threaded: () => Promise.resolve(threaded),
    start: () => {
      calls.push(threaded ? 'start threaded' : 'start single');
      if (!threaded || threadedStart === 'ok') return Promise.resolve(true);
      if (threadedStart === 'fails') return Promise.resolve(false);
      if (threadedStart === 'throws') return Promise.reject(new Error('worker blocked'));
      return new Promise<boolean>(() => undefined);
    },
    disableThreads: () => {
      calls.push('threads off');
      threaded = false;
    },
    forgetPendingStart: () => calls.push('forget pending'),
  };
  return { starter, calls };
}

describe('expectedWasmThreads', () => {
  it('is 1 without isolation, else one per two logical cores between 1 and 8', () => {
    expect(expectedWasmThreads(false, 16)).toBe(1);
    expect(expectedWasmThreads(true, 2)).toBe(1);
    expect(expectedWasmThreads(true, 4)).toBe(2);
    expect(expectedWasmThreads(true, 9)).toBe(4);
    expect(expectedWasmThreads(true, 64)).toBe(8);
    expect(expectedWasmThreads(true, undefined)).toBe(1);
  });
});

describe('startWasm', () => {
  it('keeps the threaded build when it starts', async () => {
    const { starter, calls } = fakeTfjs('ok');
    expect(await startWasm(starter, 50)).toEqual({ started: true, threadsProblem: null });
    expect(calls).toEqual(['start threaded']);
  });

  it('starts single-threaded at once when threads are off', async () => {
    const { starter, calls } = fakeTfjs('hangs', false);
    expect(await startWasm(starter, 50)).toEqual({ started: true, threadsProblem: null });
    expect(calls).toEqual(['start single']);
  });

  it.each(['fails', 'throws'] as const)(
    'falls back to one thread when the threaded start %s',
    async (how) => {
      const { starter, calls } = fakeTfjs(how);
      expect(await startWasm(starter, 50)).toEqual({
        started: true,
        threadsProblem: 'threaded wasm failed to start',
      });
      expect(calls).toEqual(['start threaded', 'threads off', 'start single']);
    },
  );

  it('drops a threaded start still pending at the deadline and starts single-threaded', async () => {
    const { starter, calls } = fakeTfjs('hangs');
    expect(await startWasm(starter, 30)).toEqual({
      started: true,
      threadsProblem: 'threaded wasm did not start within 0.03 s',
    });
    expect(calls).toEqual(['start threaded', 'forget pending', 'threads off', 'start single']);
  });
});
