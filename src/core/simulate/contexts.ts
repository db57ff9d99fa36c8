import type { Rng } from '../random';
import { capAmplification } from './network';
import type { ContextualNetwork } from './pathways';

/** How one context transforms the shared network; every perturbation in the context sees the same transform. */
export interface ContextModel {
  /** Basal log2 abundance per gene (length G), before normalisation to CPM; -Infinity for silent genes. */
  logAbundance: Float64Array;
  /** 1 where the gene is not expressed in this context (length G). */
  silent: Uint8Array;
  /** Edge weights of this context (length E, aligned with the contextual network's edge list). */
  edgeWeight: Float64Array;
  /** Per-gene multiplicative response gain on the propagated effect (length G); absent: no gains. */
  gain?: Float64Array;
}

/** Knobs of the context model; the values the simulator uses live in world.ts. */
export interface ContextModelOptions {
  contexts: number;
  /** false: every context uses the shared network as is (no silencing, no edge changes, no modules, no gains). */
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
  /**
   * Contexts c and c' belong to the same lineage when floor(c / contextsPerLineage) agree. A lineage has
   * its own point in programme space (and its own silenced genes, switched-off edges and active modules);
   * lineageShare of each context's variance comes from its lineage, so that siblings are similar.
   */
  contextsPerLineage: number;
  lineageShare: number;
  /** Probability that a gene is silent in a context. */
  silentFraction: number;
  /** Probability that an edge is switched off in a context (besides edges leaving silent genes). */
  edgeOffFraction: number;
  /**
   * SD m of the edge factor 1 + m * sum_k alpha_ck u_ik v_jk / sqrt(K) (a rank-K modulation of W, clipped
   * to [0, MAX_EDGE_FACTOR] so an edge changes strength, never sign).
   */
  modulationSd: number;
  /** Log-scale SD of a per-gene response gain carried by the programmes; 0: no gains (the §7 model). */
  gainSd: number;
  /** Probability that a context-specific module is active in a context. */
  moduleActiveShare: number;
  /** Amplification caps re-applied after modulation, as in the network (see capAmplification). */
  regulatorCap: number;
  targetCap: number;
}

const MIN_GAIN = 1 / 3;
const MAX_GAIN = 3;
const MAX_EDGE_FACTOR = 2.5;
/** Gene-and-context-specific part of a gain, relative to gainSd (not shared by any programme). */
const GAIN_NOISE_SHARE = 0.125;

/** Standard-normal quantile by bisection on normalCdf. */
function normalQuantile(p: number): number {
  let lo = -8;
  let hi = 8;
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** Chebyshev coefficients of Numerical Recipes' erfcc, lowest order first. */
const ERFC_COEFFICIENTS = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
  -0.82215223, 0.17087277,
];

/** Standard-normal CDF from Numerical Recipes' erfcc (fractional error < 1.2e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const poly = ERFC_COEFFICIENTS.reduceRight((acc, c) => c + t * acc, 0);
  const erfc = t * Math.exp(-z * z + poly);
  return x >= 0 ? 1 - 0.5 * erfc : 0.5 * erfc;
}

/**
 * Draws the basal expression and, with modulation, the network transform of every context: silenced genes,
 * switched-off edges and active modules are thresholded Gaussians mixing a lineage part and a context part,
 * edge strengths follow the rank-K programme modulation. All draws are made whatever the options say, and
 * draws for module edges come from streams.pathways, so every kind shares the network and basal programmes.
 */
export function buildContexts(
  streams: { contexts: Rng; pathways: Rng },
  contextual: ContextualNetwork,
  options: ContextModelOptions,
): ContextModel[] {
  const { network, edgeModule, modules: M } = contextual;
  const rng = streams.contexts;
  const G = network.genes;
  const E = network.edgeWeight.length;
  const K = options.programs;
  const C = options.contexts;
  const L = Math.ceil(C / Math.max(1, options.contextsPerLineage));
  const lineageOf = (c: number): number => Math.floor(c / Math.max(1, options.contextsPerLineage));
  const a = Math.sqrt(options.lineageShare);
  const b = Math.sqrt(1 - options.lineageShare);
  const silentAt = normalQuantile(options.silentFraction);
  const edgeOffAt = normalQuantile(options.edgeOffFraction);
  const activeAt = normalQuantile(1 - options.moduleActiveShare);

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
  // Lineage parts: programme point, and latent scores for silencing (per gene), edges off and modules.
  const lineages = Array.from({ length: L }, () => {
    const alpha = Float64Array.from({ length: K }, () => rng.normal());
    const silence = Float64Array.from({ length: G }, () => rng.normal());
    const edgeOff = new Float64Array(E);
    for (let e = 0; e < E; e++) if (edgeModule[e] < 0) edgeOff[e] = rng.normal();
    for (let e = 0; e < E; e++) if (edgeModule[e] >= 0) edgeOff[e] = streams.pathways.normal();
    const module = Float64Array.from({ length: M }, () => streams.pathways.normal());
    return { alpha, silence, edgeOff, module };
  });

  const models: ContextModel[] = [];
  for (let c = 0; c < C; c++) {
    const crng = rng.fork();
    const mrng = streams.pathways.fork();
    const lineage = lineages[lineageOf(c)];
    const alpha = Float64Array.from(lineage.alpha, (x) => a * x + b * crng.normal());
    const logAbundance = new Float64Array(G);
    const silent = new Uint8Array(G);
    const gain = new Float64Array(G);
    for (let g = 0; g < G; g++) {
      const deviation = Math.SQRT1_2 * (programSum(basalLoad, g, alpha) + crng.normal());
      logAbundance[g] = shared[g] + options.contextAbundanceSd * deviation;
      const logGain = options.gainSd * (programSum(gainLoad, g, alpha) + GAIN_NOISE_SHARE * crng.normal());
      gain[g] = Math.min(MAX_GAIN, Math.max(MIN_GAIN, Math.exp(logGain)));
      silent[g] = a * lineage.silence[g] + b * crng.normal() < silentAt ? 1 : 0;
    }
    const edgeOff = new Uint8Array(E);
    for (let e = 0; e < E; e++) {
      const own = edgeModule[e] < 0 ? crng.normal() : mrng.normal();
      edgeOff[e] = a * lineage.edgeOff[e] + b * own < edgeOffAt ? 1 : 0;
    }
    const active = Uint8Array.from(lineage.module, (x) => (a * x + b * mrng.normal() > activeAt ? 1 : 0));
    const edgeWeight = Float64Array.from(network.edgeWeight);
    if (!options.modulation) {
      for (let e = 0; e < E; e++) if (edgeModule[e] >= 0) edgeWeight[e] = 0;
      models.push({ logAbundance, silent: new Uint8Array(G), edgeWeight });
      continue;
    }
    for (let g = 0; g < G; g++) if (silent[g]) logAbundance[g] = -Infinity;
    for (let e = 0; e < E; e++) {
      const parent = network.edgeParent[e];
      const module = edgeModule[e];
      if (edgeOff[e] || silent[parent] || (module >= 0 && !active[module])) {
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
    models.push({ logAbundance, silent, edgeWeight, gain: options.gainSd > 0 ? gain : undefined });
  }
  return models;
}
