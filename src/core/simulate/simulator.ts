import type { EffectTensor } from '../data/tensor';
import type { Rng } from '../random';
import { createRng, shuffled } from '../random';
import type { ContextModel, ContextModelOptions } from './contexts';
import { buildContexts } from './contexts';
import type { NetworkOptions, RegulatoryNetwork } from './network';
import { buildNetwork, descendantsOf, propagate } from './network';
import { sampleNegativeBinomial, withPolarNormal } from './sampling';

export interface SimulatorOptions {
  /** Number of contexts, default 6. */
  contexts?: number;
  /** Number of perturbations (knockdowns then drugs), default 300. */
  perturbations?: number;
  /** Number of genes, default 1000. */
  genes?: number;
  /** Seed of every random draw, default 1. */
  seed?: number;
  /**
   * Default true. false: all contexts share one network (same weights, no edges switched off, no silent
   * genes, no per-gene gains) and differ only in basal expression.
   */
  modulation?: boolean;
  /** Treated replicates per pair and control replicates per context, default 3. */
  replicates?: number;
  /** Mean total counts per sample, default 2e7 (bulk RNA-seq); each sample varies uniformly by +-20%. */
  librarySize?: number;
  /** Negative-binomial dispersion phi (variance = mean + phi * mean^2), default 0.05. */
  dispersion?: number;
  /** Share of perturbations that are multi-target drugs, default 0.2. */
  drugFraction?: number;
  /** Share of (context, perturbation) pairs measured, default 1; exactly round(share * C * P) pairs. */
  observedFraction?: number;
  /** Keep the counts matrix, default true; false saves its memory (G x samples) at benchmark sizes. */
  counts?: boolean;
}

/** Raw counts, genes x samples. */
export interface SimulatedCounts {
  genes: string[];
  samples: string[];
  /** Length G*S, row-major by gene: the count of gene g in sample s sits at g*S + s. */
  values: Uint32Array;
}

export interface SampleSheetRow {
  sample: string;
  context: string;
  /** `control` for control samples. */
  perturbation: string;
  isControl: boolean;
}

export interface SimulatedData {
  /**
   * Measured effects: per observed pair, mean log2(CPM+1) of the treated replicates minus that of the
   * context's control replicates; basal (C*G) is the mean control log2(CPM+1).
   */
  tensor: EffectTensor;
  /** Same layout as tensor.values: noise-free effects from the expected CPM; 0 where unobserved. */
  truth: Float32Array;
  /** Absent when options.counts is false. */
  counts?: SimulatedCounts;
  /** One row per sample, in the column order of the counts: per context its controls, then each pair. */
  sampleSheet: SampleSheetRow[];
  /** Per perturbation, the indices of the genes it knocks down. */
  targets: number[][];
}

/**
 * Fixed parameters of the world; the public options cover what users and tests need to vary.
 * - Network: 10% regulators early in a random topological order, hubs with heavy-tailed out-degree; each
 *   gene has one dominant parent (coherent modules) and a few minor ones; effects per unit shift are capped
 *   (capAmplification) so a knockdown of -1..-3 log2 moves nothing by more than its own size before gains.
 * - Contexts: each is a point alpha_c in a 3-dimensional programme space; basal shifts, per-gene gains and
 *   the rank-3 edge modulation W_c = W (1 + m U diag(alpha_c) V^T) all load on shared gene programmes, so
 *   a context is transformed the same way for every perturbation and that transform can be inferred from a
 *   few of its perturbations (and from its basal expression). Silent genes and switched-off edges are the
 *   idiosyncratic, unlearnable part; they are kept small (5%).
 */
interface World extends Omit<NetworkOptions, 'genes'>, Omit<ContextModelOptions, 'contexts' | 'modulation'> {
  knockdownRegulatorShare: number;
  knockdownShift: readonly [number, number];
  drugTargets: readonly [number, number];
  drugShift: readonly [number, number];
}

const WORLD: World = {
  regulatorFraction: 0.1,
  regulatorInDegree: [0, 0.6, 0.4],
  targetInDegree: [0.05, 0.25, 0.35, 0.25, 0.1],
  regulatorParentShare: 0.9,
  hubnessSd: 1.5,
  dominantWeight: [0.6, 1],
  minorWeight: [0.1, 0.5],
  activationShare: 0.6,
  regulatorCap: 0.9,
  targetCap: 1,
  abundanceSd: 2,
  contextAbundanceSd: 0.8,
  silentFraction: 0.05,
  edgeOffFraction: 0.05,
  programs: 3,
  // Edge modulation moderate (factors about 1 +- 0.4), response gains strong (log-SD 1.2, clipped to 1/3..3):
  // contexts then rescale most genes' responses the same way for every perturbation (the transform the
  // model can learn from a support), while edge changes add a perturbation-specific part. At 0.8 the edge
  // part dominates and per-gene gains no longer capture most of a context's transform.
  modulationSd: 0.4,
  gainSd: 1.2,
  gainNoiseSd: 0.15,
  /** Share of knockdowns aimed at regulators while any are left (screens favour transcription factors). */
  knockdownRegulatorShare: 0.7,
  knockdownShift: [1, 3],
  drugTargets: [2, 5],
  drugShift: [0.5, 2],
};

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

interface Perturbation {
  name: string;
  targets: number[];
  /** Shift of each target in log2 units (negative). */
  shifts: number[];
}

/**
 * Simulates a bulk RNA-seq perturbation screen from a causal model (DESIGN.md section 7): a shared sparse
 * gene-regulatory DAG, contexts that modulate it, knockdowns and drugs propagated to steady state, and
 * negative-binomial counts turned into log2 fold changes. Deterministic for given options.
 * Tensor axes: contexts `ctx01..`, perturbations `KD_<gene>` then `DRUG_001..`, genes `G0001..`.
 */
export function simulate(options: SimulatorOptions = {}): SimulatedData {
  const C = options.contexts ?? 6;
  const P = options.perturbations ?? 300;
  const G = options.genes ?? 1000;
  const R = options.replicates ?? 3;
  const librarySize = options.librarySize ?? 2e7;
  const dispersion = options.dispersion ?? 0.05;
  const drugFraction = options.drugFraction ?? 0.2;
  const observedFraction = options.observedFraction ?? 1;
  const keepCounts = options.counts ?? true;
  const modulation = options.modulation ?? true;
  checkOptions({ C, P, G, R, librarySize, dispersion, drugFraction, observedFraction });

  // Independent streams per stage, so e.g. a different mask leaves the network and contexts unchanged.
  const master = createRng(options.seed ?? 1);
  const networkRng = master.fork();
  const contextRng = master.fork();
  const perturbationRng = master.fork();
  const maskRng = master.fork();
  const noiseRng = withPolarNormal(master.fork());

  const network = buildNetwork(networkRng, { genes: G, ...WORLD });
  const models = buildContexts(contextRng, network, { contexts: C, modulation, ...WORLD });
  const geneNames = Array.from({ length: G }, (_, g) => `G${pad(g + 1, Math.max(4, String(G).length))}`);
  const perturbations = drawPerturbations(perturbationRng, network, { P, drugFraction, geneNames });
  const contextNames = Array.from({ length: C }, (_, c) => `ctx${pad(c + 1, Math.max(2, String(C).length))}`);

  const observed = new Uint8Array(C * P);
  const pairCount = Math.round(observedFraction * C * P);
  if (pairCount === C * P) observed.fill(1);
  else {
    const picked = shuffled(
      Array.from({ length: C * P }, (_, i) => i),
      maskRng,
    ).slice(0, pairCount);
    for (const i of picked) observed[i] = 1;
  }

  const sampleCount = C * R + pairCount * R;
  const values = new Float32Array(C * P * G);
  const truth = new Float32Array(C * P * G);
  const basal = new Float32Array(C * G);
  const replicates = new Uint16Array(C * P);
  const countValues = keepCounts ? new Uint32Array(G * sampleCount) : undefined;
  const sampleSheet: SampleSheetRow[] = [];

  const sampler = new ReplicateSampler({ genes: G, librarySize, dispersion, rng: noiseRng });
  const share = new Float64Array(G);
  const delta = new Float64Array(G);
  const effect = new Float64Array(G);
  const controlLog = new Float64Array(G);
  const controlMean = new Float64Array(G);
  const treatedMean = new Float64Array(G);

  let sample = 0;
  const drawReplicates = (
    context: string,
    perturbation: string,
    isControl: boolean,
    mean: Float64Array,
  ): void => {
    mean.fill(0);
    for (let r = 1; r <= R; r++) {
      const column = sampler.draw(share, mean, 1 / R);
      if (countValues) for (let g = 0; g < G; g++) countValues[g * sampleCount + sample] = column[g];
      sampleSheet.push({ sample: `${context}_${perturbation}_r${r}`, context, perturbation, isControl });
      sample++;
    }
  };

  for (let c = 0; c < C; c++) {
    const model = models[c];
    const context = contextNames[c];
    const composition = basalComposition(model.logAbundance);
    expectedShare(composition, undefined, share);
    for (let g = 0; g < G; g++) controlLog[g] = Math.log2(share[g] * 1e6 + 1);
    drawReplicates(context, 'control', true, controlMean);
    for (let g = 0; g < G; g++) basal[c * G + g] = controlMean[g];

    for (let p = 0; p < P; p++) {
      if (!observed[c * P + p]) continue;
      const pert = perturbations[p];
      steadyStateEffect(network, model, pert, delta, effect);
      expectedShare(composition, effect, share);
      const offset = (c * P + p) * G;
      for (let g = 0; g < G; g++) truth[offset + g] = Math.log2(share[g] * 1e6 + 1) - controlLog[g];
      drawReplicates(context, pert.name, false, treatedMean);
      for (let g = 0; g < G; g++) values[offset + g] = treatedMean[g] - controlMean[g];
      replicates[c * P + p] = R;
    }
  }

  const tensor: EffectTensor = {
    contexts: contextNames,
    perturbations: perturbations.map((p) => p.name),
    genes: geneNames,
    values,
    observed,
    replicates,
    basal,
  };
  return {
    tensor,
    truth,
    counts: countValues
      ? { genes: geneNames, samples: sampleSheet.map((s) => s.sample), values: countValues }
      : undefined,
    sampleSheet,
    targets: perturbations.map((p) => p.targets.slice()),
  };
}

function checkOptions(o: Record<string, number>): void {
  const positiveInt = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`simulate: ${name} must be a positive integer, got ${v}`);
  };
  positiveInt('contexts', o.C);
  positiveInt('perturbations', o.P);
  positiveInt('genes', o.G);
  positiveInt('replicates', o.R);
  if (o.R > 65535) throw new RangeError(`simulate: replicates must be <= 65535, got ${o.R}`);
  if (!(o.librarySize > 0)) throw new RangeError(`simulate: librarySize must be > 0, got ${o.librarySize}`);
  if (!(o.dispersion >= 0)) throw new RangeError(`simulate: dispersion must be >= 0, got ${o.dispersion}`);
  for (const [name, v] of [
    ['drugFraction', o.drugFraction],
    ['observedFraction', o.observedFraction],
  ] as const) {
    if (!(v >= 0 && v <= 1)) throw new RangeError(`simulate: ${name} must be in [0, 1], got ${v}`);
  }
  const knockdowns = o.P - Math.round(o.drugFraction * o.P);
  if (knockdowns > o.G) {
    throw new RangeError(
      `simulate: ${knockdowns} knockdowns need as many distinct genes, but genes is ${o.G}`,
    );
  }
}

const uniform = (rng: Rng, [lo, hi]: readonly [number, number]): number => lo + (hi - lo) * rng.next();

/** Knockdowns of distinct genes (half aimed at regulators while any are left), then multi-target drugs. */
function drawPerturbations(
  rng: Rng,
  network: RegulatoryNetwork,
  { P, drugFraction, geneNames }: { P: number; drugFraction: number; geneNames: readonly string[] },
): Perturbation[] {
  const G = network.genes;
  const drugs = Math.round(drugFraction * P);
  const knockdowns = P - drugs;
  const all = Array.from({ length: G }, (_, g) => g);
  const regulators = shuffled(
    all.filter((g) => network.isRegulator[g]),
    rng,
  );
  const others = shuffled(
    all.filter((g) => !network.isRegulator[g]),
    rng,
  );
  const kdTargets: number[] = [];
  while (kdTargets.length < knockdowns) {
    const fromRegulators =
      regulators.length > 0 && (others.length === 0 || rng.next() < WORLD.knockdownRegulatorShare);
    kdTargets.push((fromRegulators ? regulators : others).pop() as number);
  }
  kdTargets.sort((a, b) => a - b);
  const out: Perturbation[] = kdTargets.map((g) => ({
    name: `KD_${geneNames[g]}`,
    targets: [g],
    shifts: [-uniform(rng, WORLD.knockdownShift)],
  }));

  const regulatorList = all.filter((g) => network.isRegulator[g]);
  for (let d = 0; d < drugs; d++) {
    const [lo, hi] = WORLD.drugTargets;
    const wanted = Math.min(G, lo + rng.int(hi - lo + 1));
    const targets: number[] = [];
    const reach: Uint8Array[] = [];
    // Targets are never ancestors of one another, so each target's own shift is what shows on it.
    for (let attempt = 0; targets.length < wanted && attempt < 100; attempt++) {
      const g =
        regulatorList.length > 0 && rng.next() < WORLD.knockdownRegulatorShare
          ? regulatorList[rng.int(regulatorList.length)]
          : rng.int(G);
      if (reach.some((r) => r[g])) continue;
      const mine = descendantsOf(network, g);
      if (targets.some((t) => mine[t])) continue;
      targets.push(g);
      reach.push(mine);
    }
    targets.sort((a, b) => a - b);
    out.push({
      name: `DRUG_${pad(d + 1, Math.max(3, String(drugs).length))}`,
      targets,
      shifts: targets.map(() => -uniform(rng, WORLD.drugShift)),
    });
  }
  return out;
}

/**
 * Effect (log2 units, length G) of a perturbation in one context: shift the expressed targets, propagate
 * through the context's weights, then apply the per-gene gain. delta is scratch space, left all zero.
 */
function steadyStateEffect(
  network: RegulatoryNetwork,
  model: ContextModel,
  pert: Perturbation,
  delta: Float64Array,
  out: Float64Array,
): void {
  pert.targets.forEach((t, i) => {
    if (!model.silent[t]) delta[t] = pert.shifts[i];
  });
  propagate(network, model.edgeWeight, delta, out);
  for (const t of pert.targets) delta[t] = 0;
  for (let g = 0; g < out.length; g++) out[g] *= model.gain[g];
}

/**
 * Expected composition of a sample: share[g] = 2^(a_g + e_g) / sum over genes, from basal = 2^(a - max a)
 * (0 for silent genes) and the effect e in log2 units (omitted: the control); only genes with e != 0 cost
 * an exponential, since most of a knockdown's effects are exactly zero.
 */
function expectedShare(basal: Float64Array, effect: Float64Array | undefined, share: Float64Array): void {
  let total = 0;
  for (let g = 0; g < share.length; g++) {
    const e = effect ? effect[g] : 0;
    const x = e === 0 ? basal[g] : basal[g] * Math.exp(e * Math.LN2);
    share[g] = x;
    total += x;
  }
  if (total === 0) return;
  for (let g = 0; g < share.length; g++) share[g] /= total;
}

/** 2^(a - max a) per gene (0 for silent genes, a = -Infinity): the unnormalised basal composition. */
function basalComposition(logAbundance: Float64Array): Float64Array {
  let max = -Infinity;
  for (const a of logAbundance) max = Math.max(max, a);
  return Float64Array.from(logAbundance, (a) => (max === -Infinity ? 0 : Math.pow(2, a - max)));
}

/** Draws one sample's counts at a time and accumulates weight * log2(CPM+1) into a running mean. */
class ReplicateSampler {
  private readonly column: Uint32Array;
  constructor(private readonly o: { genes: number; librarySize: number; dispersion: number; rng: Rng }) {
    this.column = new Uint32Array(o.genes);
  }

  /** Returns the sample's counts (reused buffer, valid until the next call). */
  draw(share: Float64Array, mean: Float64Array, weight: number): Uint32Array {
    const { rng, dispersion } = this.o;
    const library = this.o.librarySize * (0.8 + 0.4 * rng.next());
    let total = 0;
    for (let g = 0; g < share.length; g++) {
      const n = sampleNegativeBinomial(rng, library * share[g], dispersion);
      this.column[g] = n;
      total += n;
    }
    const scale = total > 0 ? 1e6 / total : 0;
    for (let g = 0; g < share.length; g++) mean[g] += weight * Math.log2(this.column[g] * scale + 1);
    return this.column;
  }
}
