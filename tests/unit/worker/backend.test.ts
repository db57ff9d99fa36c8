import { describe, expect, it } from 'vitest';
import { backendPlan, describeAdapter } from '../../../src/worker/backend-plan';
import { createRunGate } from '../../../src/worker/run-gate';

describe('backendPlan', () => {
  const gpu = { adapter: 'nvidia ampere', isFallbackAdapter: false };
  const fallback = { adapter: 'google swiftshader', isFallbackAdapter: true };
  const none = { adapter: null, isFallbackAdapter: false, problem: 'this browser has no WebGPU' };
  it.each([
    ['auto', gpu, ['webgpu', 'wasm', 'cpu'], /WebGPU on nvidia ampere/],
    ['auto', fallback, ['wasm', 'cpu'], /CPU fallback \(google swiftshader\): wasm is faster here/],
    ['auto', none, ['wasm', 'cpu'], /this browser has no WebGPU/],
    ['webgpu', fallback, ['webgpu', 'wasm', 'cpu'], /slower than wasm/],
    ['webgpu', gpu, ['webgpu', 'wasm', 'cpu'], /chosen by you/],
    ['wasm', gpu, ['wasm', 'cpu'], /chosen by you/],
    ['cpu', gpu, ['cpu'], /chosen by you/],
  ] as const)('%s with %j', (preference, probe, order, reason) => {
    const plan = backendPlan(preference, probe);
    expect(plan.order).toEqual(order);
    expect(plan.reason).toMatch(reason);
  });
});

describe('describeAdapter', () => {
  it('joins the non-empty, distinct fields', () => {
    expect(describeAdapter({ vendor: 'google', architecture: 'swiftshader', description: '' })).toBe(
      'google swiftshader',
    );
    expect(describeAdapter({ vendor: 'nvidia', architecture: 'nvidia', device: 'H100' })).toBe('nvidia H100');
    expect(describeAdapter(undefined)).toBe('unnamed adapter');
  });
});

describe('createRunGate', () => {
  it('runs tasks one at a time, in order', async () => {
    const gate = createRunGate();
    const events: string[] = [];
    const task = (name: string) => async () => {
      events.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 5));
      events.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([gate.run(task('a')), gate.run(task('b'))]);
    expect(results).toEqual(['a', 'b']);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('cancel stops only the running task; the next one starts fresh', async () => {
    const gate = createRunGate();
    let release!: () => void;
    const first = gate.run(async (token) => {
      await new Promise<void>((r) => (release = r));
      return token.stopped;
    });
    const second = gate.run(async (token) => token.stopped);
    await new Promise((r) => setTimeout(r, 0));
    expect(gate.cancel()).toBe(true);
    release();
    expect(await first).toBe(true);
    expect(await second).toBe(false);
    expect(gate.cancel()).toBe(false);
  });

  it('a failed task does not block the queue', async () => {
    const gate = createRunGate();
    const failed = gate.run(async () => {
      throw new Error('boom');
    });
    await expect(failed).rejects.toThrow('boom');
    await expect(gate.run(async () => 42)).resolves.toBe(42);
  });
});
