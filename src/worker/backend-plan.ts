/** Pure rules of backend choice, kept apart from tfjs so they can be tested anywhere. */
import type { BackendName, BackendPreference } from './api-types';

export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

export interface AdapterProbe {
  /** Human description of the adapter, null when there is none. */
  adapter: string | null;
  isFallbackAdapter: boolean;
  /** Why there is no adapter, when there is none. */
  problem?: string;
}

/** Describes an adapter as "vendor architecture device description", skipping empty and repeated fields. */
export function describeAdapter(info: AdapterInfoLike | undefined): string {
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description]
    .map((s) => (s ?? '').trim())
    .filter((s, i, all) => s.length > 0 && all.indexOf(s) === i);
  return parts.length > 0 ? parts.join(' ') : 'unnamed adapter';
}

/** The order in which backends are tried for a preference, and why the first one is wanted. */
export function backendPlan(
  preference: BackendPreference,
  probe: AdapterProbe,
): { order: BackendName[]; reason: string } {
  switch (preference) {
    case 'webgpu':
      return {
        order: ['webgpu', 'wasm', 'cpu'],
        reason: probe.isFallbackAdapter
          ? `WebGPU chosen by you on ${probe.adapter}, a CPU fallback adapter: expect it to be slower than wasm`
          : 'WebGPU chosen by you',
      };
    case 'wasm':
      return { order: ['wasm', 'cpu'], reason: 'wasm chosen by you' };
    case 'cpu':
      return { order: ['cpu'], reason: 'plain JavaScript (cpu) chosen by you' };
    case 'auto':
      if (probe.adapter === null) {
        return {
          order: ['wasm', 'cpu'],
          reason: `WebGPU unavailable (${probe.problem ?? 'no adapter'}): using wasm`,
        };
      }
      if (probe.isFallbackAdapter) {
        return {
          order: ['wasm', 'cpu'],
          reason: `WebGPU adapter is a CPU fallback (${probe.adapter}): wasm is faster here`,
        };
      }
      return { order: ['webgpu', 'wasm', 'cpu'], reason: `WebGPU on ${probe.adapter}` };
  }
}
