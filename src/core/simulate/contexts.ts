import type { Rng } from '../random';
import type { RegulatoryNetwork } from './network';
import { capAmplification } from './network';

/** How one context transforms the shared network; every perturbation in the context sees the same transform. */
export interface ContextModel {
  /** Basal log2 abundance per gene (length G), before normalisation to CPM; -Infinity for silent genes. */
  logAbundance: Float64Array;
  /** 1 where the gene is not expressed in this context (length G). */
  silent: Uint8Array;
  /** Edge weights of this context (length E, aligned with the network's edge list). */
  edgeWeight: Float64Array;
  /** Per-gene multiplicative response gain applied to the propagated effect (length G). */
  gain: Float64Array;
}

/** Knobs of the context model; the values the simulator uses live in simulator.ts. */
export interface ContextModelOptions {
  contexts: number;
  /** false: every context uses the network as is (no silencing, no edge changes, unit gains). */
  modulation: boolean;
  /** SD (log2 units) of the shared gene abundance across genes. */
  abundanceSd: number;
  /** SD (log2 units) of each context's deviation from the shared abundance (half programs, half gene noise). */
  contextAbundanceSd: number;
  /**
   * Number of gene programs K. A context is a point alpha_c in R^K (its programme activities); genes load
   * on the programmes with loadings shared by all contexts, so contexts differ along a few shared axes.
   */
  programs: number;
  /** Probability that a gene is silent in a context. */
  silentFraction: number;
  /** Probability that an edge is switched off in a context (besides edges leaving silent genes). */
  edgeOffFraction: number;
  /** SD of the edge factor 1 + m * sum_k alpha_ck u_ik v_jk / sqrt(K) (a rank-K modulation of W). */
  modulationSd: number;
  /** Log-scale SD of the per-gene response gain carried by the programmes. */
  gainSd: number;
  /** Log-scale SD of the gene-and-context-specific part of the gain (not shared by any programme). */
  gainNoiseSd: number;
  /** Amplification caps re-applied after modulation, as in the network (see capAmplification). */
  regulatorCap: number;
  targetCap: number;
}

const MIN_GAIN = 1 / 3;
const MAX_GAIN = 3;
/** Edge factors are clipped here and at 0: modulation changes an edge's strength, never its sign. */
const MAX_EDGE_FACTOR = 2.5;

/**
 * Draws the basal expression and, with modulation, the network transform of every context. All draws are
 * made whatever options.modulation says, so both settings share the network and the basal programmes.
 */
export function buildContexts(
  rng: Rng,
  network: RegulatoryNetwork,
  options: ContextModelOptions,
): ContextModel[] {
  const G = network.genes;
  const E = network.edgeWeight.length;
  const K = options.programs;
  const shared = new Float64Array(G);
  for (let g = 0; g < G; g++) shared[g] = options.abundanceSd * rng.normal();
  // Gene loadings on the programmes: basal shift, response gain, edge source (u) and edge target (v).
  const loadings = (): Float64Array => {
    const out = new Float64Array(G * K);
    for (let i = 0; i < out.length; i++) out[i] = rng.normal();
    return out;
  };
  const basalLoad = loadings();
  const gainLoad = loadings();
  const sourceLoad = loadings();
  const targetLoad = loadings();
  const programSum = (load: Float64Array, gene: number, alpha: Float64Array): number => {
    let s = 0;
    for (let k = 0; k < K; k++) s += alpha[k] * load[gene * K + k];
    return s / Math.sqrt(K);
  };

  const models: ContextModel[] = [];
  for (let c = 0; c < options.contexts; c++) {
    const crng = rng.fork();
    const alpha = new Float64Array(K);
    for (let k = 0; k < K; k++) alpha[k] = crng.normal();
    const logAbundance = new Float64Array(G);
    const silent = new Uint8Array(G);
    const gain = new Float64Array(G);
    for (let g = 0; g < G; g++) {
      const deviation = Math.SQRT1_2 * (programSum(basalLoad, g, alpha) + crng.normal());
      logAbundance[g] = shared[g] + options.contextAbundanceSd * deviation;
      const logGain = options.gainSd * programSum(gainLoad, g, alpha) + options.gainNoiseSd * crng.normal();
      gain[g] = Math.min(MAX_GAIN, Math.max(MIN_GAIN, Math.exp(logGain)));
      silent[g] = crng.next() < options.silentFraction ? 1 : 0;
    }
    const edgeWeight = Float64Array.from(network.edgeWeight);
    const edgeOff = new Uint8Array(E);
    for (let e = 0; e < E; e++) edgeOff[e] = crng.next() < options.edgeOffFraction ? 1 : 0;
    if (!options.modulation) {
      models.push({ logAbundance, silent: new Uint8Array(G), edgeWeight, gain: gain.fill(1) });
      continue;
    }
    for (let g = 0; g < G; g++) if (silent[g]) logAbundance[g] = -Infinity;
    for (let e = 0; e < E; e++) {
      const parent = network.edgeParent[e];
      if (edgeOff[e] || silent[parent]) {
        edgeWeight[e] = 0;
        continue;
      }
      const child = network.edgeChild[e];
      let dot = 0;
      for (let k = 0; k < K; k++) dot += alpha[k] * sourceLoad[parent * K + k] * targetLoad[child * K + k];
      const factor = 1 + (options.modulationSd * dot) / Math.sqrt(K);
      edgeWeight[e] *= Math.min(MAX_EDGE_FACTOR, Math.max(0, factor));
    }
    capAmplification(network, edgeWeight, options);
    models.push({ logAbundance, silent, edgeWeight, gain });
  }
  return models;
}
