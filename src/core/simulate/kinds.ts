import type { SimulatorOptions } from './simulator';

/**
 * Named simulated screens, addressed by `sim:<kind>` tokens wherever a dataset is named (CLI simulate
 * --kind, benchmark). Each kind is a preset of the simulator's options; the size and seed stay free.
 * - default: docs/DESIGN.md §7, contexts rewire the shared network (low-rank edge modulation from programmes
 *   shared by sibling contexts, silenced genes, switched-off edges); transfer is perturbation-specific.
 * - pathways: default plus context-specific modules (regulators with extra targets in some contexts).
 * - noise: default biology, contexts measured with very different depth, dispersion and replicates.
 * - gains: weak edge modulation plus per-gene response gains (the form a per-gene slope captures).
 * - no-modulation: negative control, one network for all contexts, only basal expression differs.
 */
export const SIM_KINDS = ['default', 'pathways', 'noise', 'gains', 'no-modulation'] as const;
export type SimKind = (typeof SIM_KINDS)[number];

const KIND_OPTIONS: Record<SimKind, SimulatorOptions> = {
  default: {},
  pathways: { contextPathways: 20 },
  noise: { contextNoise: 1 },
  gains: { modulationStrength: 0.4, edgeOffFraction: 0.05, responseGain: 1.2 },
  'no-modulation': { modulation: false },
};

/** One line per kind, for usage texts. */
export const SIM_KIND_SUMMARY: Record<SimKind, string> = {
  default: 'contexts rewire the network (low-rank edge modulation, silenced genes, edges off)',
  pathways: 'default plus context-specific regulator modules shared by similar contexts',
  noise: 'default biology, contexts differ in depth, dispersion and replicates',
  gains: 'weak edge modulation plus per-gene response gains',
  'no-modulation': 'one network for all contexts; only basal expression differs (negative control)',
};

/** The options of a kind name, or undefined for an unknown name. */
export function simulatorOptionsForKind(kind: string): SimulatorOptions | undefined {
  return (SIM_KINDS as readonly string[]).includes(kind) ? { ...KIND_OPTIONS[kind as SimKind] } : undefined;
}

/** The simulator options of a `sim:<kind>` token, or undefined when the text is not such a token. */
export function simulatorOptionsForToken(token: string): SimulatorOptions | undefined {
  if (!token.startsWith('sim:')) return undefined;
  return simulatorOptionsForKind(token.slice(4));
}
