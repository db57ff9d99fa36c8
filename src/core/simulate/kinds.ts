import type { SimulatorOptions } from './simulator';

/**
 * Named simulated screens, addressed by `sim:<kind>` tokens wherever a dataset is named (CLI benchmark).
 * Each kind is a preset of the simulator's options; the size and seed stay free.
 */
export const SIM_KINDS = ['default', 'no-modulation'] as const;
export type SimKind = (typeof SIM_KINDS)[number];

const KIND_OPTIONS: Record<SimKind, SimulatorOptions> = {
  default: {},
  'no-modulation': { modulation: false },
};

/** The simulator options of a `sim:<kind>` token, or undefined when the text is not such a token. */
export function simulatorOptionsForToken(token: string): SimulatorOptions | undefined {
  if (!token.startsWith('sim:')) return undefined;
  const kind = token.slice(4);
  return (SIM_KINDS as readonly string[]).includes(kind) ? { ...KIND_OPTIONS[kind as SimKind] } : undefined;
}
