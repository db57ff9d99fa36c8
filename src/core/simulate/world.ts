import type { ContextModelOptions } from './contexts';
import type { NetworkOptions } from './network';
import type { ModuleOptions } from './pathways';

/**
 * Fixed parameters of the simulated world; SimulatorOptions covers what users, kinds and tests vary.
 * - Network: 10% regulators early in a random topological order, hubs with heavy-tailed out-degree; each
 *   gene has one dominant parent (coherent modules) and a few minor ones; effects per unit shift are capped
 *   (capAmplification) so a knockdown of -1..-3 log2 moves no regulator by more than its own size and no
 *   other gene by more than 1.5 times it.
 * - Contexts (docs/DESIGN.md §7): each is a point alpha_c in a 4-dimensional programme space, contexts in pairs
 *   of siblings (lineages) that share 85% of it. Basal shifts and the rank-4 edge modulation, per edge
 *   W_c = W * clip(1 + m U diag(alpha_c) V^T / sqrt(K)), load on shared gene programmes; silenced genes and
 *   switched-off edges are partly shared by siblings. Because the modulation acts on edges, how a context changes a
 *   perturbation depends on the path the perturbation takes: it is learnable from the same perturbation in
 *   similar contexts and from the target's support, not from a per-gene rescaling.
 */
export interface World
  extends
    Omit<NetworkOptions, 'genes'>,
    Omit<ContextModelOptions, 'contexts' | 'modulation' | 'modulationSd' | 'edgeOffFraction' | 'gainSd'>,
    Omit<ModuleOptions, 'modules'> {
  /** Defaults of the knobs SimulatorOptions exposes. */
  modulationSd: number;
  edgeOffFraction: number;
  knockdownRegulatorShare: number;
  knockdownShift: readonly [number, number];
  drugTargets: readonly [number, number];
  drugShift: readonly [number, number];
  /**
   * Spread of measurement quality at contextNoise = 1: the worst context has depth / depthRange, dispersion
   * x dispersionRange and one replicate less than asked, the best the reverse; others evenly in between.
   */
  depthRange: number;
  dispersionRange: number;
}

export const WORLD: World = {
  regulatorFraction: 0.1,
  regulatorInDegree: [0, 0.6, 0.4],
  targetInDegree: [0.05, 0.25, 0.35, 0.25, 0.1],
  regulatorParentShare: 0.9,
  hubnessSd: 1.5,
  dominantWeight: [0.6, 1],
  minorWeight: [0.1, 0.5],
  activationShare: 0.6,
  regulatorCap: 0.9,
  targetCap: 1.5,
  abundanceSd: 2,
  contextAbundanceSd: 0.8,
  programs: 4,
  contextsPerLineage: 2,
  lineageShare: 0.85,
  silentFraction: 0.05,
  edgeOffFraction: 0.1,
  modulationSd: 3,
  moduleActiveShare: 0.4,
  moduleTargets: [10, 40],
  moduleWeight: [0.4, 0.9],
  /** Share of knockdowns aimed at regulators while any are left (screens favour transcription factors). */
  knockdownRegulatorShare: 0.7,
  knockdownShift: [1, 3],
  drugTargets: [2, 5],
  drugShift: [0.5, 2],
  depthRange: 4,
  dispersionRange: 3,
};
