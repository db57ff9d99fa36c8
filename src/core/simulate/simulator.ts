import type { EffectTensor } from '../data/tensor';
import { createRng, shuffled } from '../random';
import { buildContexts } from './contexts';
import type { ContextQuality } from './measurement';
import { basalComposition, contextQualities, expectedShare, ReplicateSampler } from './measurement';
import { buildNetwork } from './network';
import { addContextModules } from './pathways';
import { drawPerturbations, steadyStateEffect } from './perturbations';
import { withPolarNormal } from './sampling';
import { WORLD } from './world';

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
   * genes, no modules, no per-gene gains) and differ only in basal expression; overrides the knobs below
   * that change the network.
   */
  modulation?: boolean;
  /**
   * SD m of the low-rank edge factor 1 + m * z (z ~ N(0, 1) from the context's programmes, clipped to
   * [0, 2.5]), default 3: contexts rewire the network, siblings alike. At the defaults about 45% of the
   * edges are 0 in a context (with edges off and silent parents) and a quarter end above 1.5x.
   */
  modulationStrength?: number;
  /** Probability that an edge is switched off in a context (partly shared by siblings), default 0.1. */
  edgeOffFraction?: number;
  /**
   * Log-scale SD of a per-gene response gain applied after propagation (programme-driven, clipped to
   * 1/3..3), default 0. It rescales every perturbation of a context alike (kind `gains`), which is not §7.
   */
  responseGain?: number;
  /**
   * Number of context-specific modules, default 0: a regulator's extra targets (10 to 40 edges), active in
   * about 40% of contexts, siblings alike (kind `pathways`).
   */
  contextPathways?: number;
  /**
   * Spread of measurement quality across contexts, default 0 (all alike). At 1 the worst context has a
   * quarter of the depth, 3x the dispersion and one replicate less, the best the reverse (kind `noise`).
   */
  contextNoise?: number;
  /** Treated replicates per pair and control replicates per context, default 3 (before contextNoise). */
  replicates?: number;
  /** Mean total counts per sample, default 2e7 (bulk RNA-seq; before contextNoise); each varies by +-20%. */
  librarySize?: number;
  /** Negative-binomial dispersion phi (variance = mean + phi * mean^2), default 0.05 (before contextNoise). */
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
  /** The causal network: E edges parent -> child (gene indices), and each context's weights (C*E, by context). */
  network: { edgeParent: Int32Array; edgeChild: Int32Array; edgeWeight: Float32Array };
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/**
 * Simulates a bulk RNA-seq perturbation screen from a causal model (docs/DESIGN.md §7): a shared sparse
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
  const modulationSd = options.modulationStrength ?? WORLD.modulationSd;
  const edgeOffFraction = options.edgeOffFraction ?? WORLD.edgeOffFraction;
  const gainSd = options.responseGain ?? 0;
  const modules = options.contextPathways ?? 0;
  const contextNoise = options.contextNoise ?? 0;
  checkOptions({ C, P, G, R, librarySize, dispersion, drugFraction, observedFraction });
  checkKnobs({ modulationSd, edgeOffFraction, gainSd, modules, contextNoise });

  // Independent streams per stage, so e.g. a different mask leaves the network and contexts unchanged.
  const master = createRng(options.seed ?? 1);
  const networkRng = master.fork();
  const contextRng = master.fork();
  const perturbationRng = master.fork();
  const maskRng = master.fork();
  const noiseRng = withPolarNormal(master.fork());
  // Streams of the kinds' extras come last, so that the default world is the same whatever they are.
  const pathwayRng = master.fork();
  const qualityRng = master.fork();

  const network = buildNetwork(networkRng, { genes: G, ...WORLD });
  const contextual = addContextModules(pathwayRng.fork(), network, { ...WORLD, modules });
  const models = buildContexts({ contexts: contextRng, pathways: pathwayRng }, contextual, {
    ...WORLD,
    contexts: C,
    modulation,
    modulationSd,
    edgeOffFraction,
    gainSd,
  });
  const qualities = contextQualities(
    qualityRng,
    { librarySize, dispersion, replicates: R },
    { ...WORLD, contexts: C, spread: contextNoise },
  );
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

  let sampleCount = 0;
  for (let c = 0; c < C; c++) {
    let pairs = 0;
    for (let p = 0; p < P; p++) pairs += observed[c * P + p];
    sampleCount += (1 + pairs) * qualities[c].replicates;
  }
  const values = new Float32Array(C * P * G);
  const truth = new Float32Array(C * P * G);
  const basal = new Float32Array(C * G);
  const replicates = new Uint16Array(C * P);
  const countValues = keepCounts ? new Uint32Array(G * sampleCount) : undefined;
  const sampleSheet: SampleSheetRow[] = [];

  const sampler = new ReplicateSampler({ genes: G, rng: noiseRng });
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
    quality: ContextQuality,
  ): void => {
    mean.fill(0);
    const n = quality.replicates;
    for (let r = 1; r <= n; r++) {
      const column = sampler.draw(share, mean, 1 / n, quality);
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
    drawReplicates(context, 'control', true, controlMean, qualities[c]);
    for (let g = 0; g < G; g++) basal[c * G + g] = controlMean[g];

    for (let p = 0; p < P; p++) {
      if (!observed[c * P + p]) continue;
      const pert = perturbations[p];
      steadyStateEffect(contextual.network, model, pert, delta, effect);
      expectedShare(composition, effect, share);
      const offset = (c * P + p) * G;
      for (let g = 0; g < G; g++) truth[offset + g] = Math.log2(share[g] * 1e6 + 1) - controlLog[g];
      drawReplicates(context, pert.name, false, treatedMean, qualities[c]);
      for (let g = 0; g < G; g++) values[offset + g] = treatedMean[g] - controlMean[g];
      replicates[c * P + p] = qualities[c].replicates;
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
    network: {
      edgeParent: contextual.network.edgeParent.slice(),
      edgeChild: contextual.network.edgeChild.slice(),
      edgeWeight: Float32Array.from(models.flatMap((m) => Array.from(m.edgeWeight))),
    },
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

function checkKnobs(o: Record<string, number>): void {
  for (const name of ['modulationSd', 'gainSd', 'contextNoise'] as const) {
    if (!(o[name] >= 0 && Number.isFinite(o[name])))
      throw new RangeError(`simulate: ${knobName[name]} must be a finite number >= 0, got ${o[name]}`);
  }
  if (!(o.edgeOffFraction >= 0 && o.edgeOffFraction < 1))
    throw new RangeError(`simulate: edgeOffFraction must be in [0, 1), got ${o.edgeOffFraction}`);
  if (!Number.isInteger(o.modules) || o.modules < 0)
    throw new RangeError(`simulate: contextPathways must be an integer >= 0, got ${o.modules}`);
}

const knobName = { modulationSd: 'modulationStrength', gainSd: 'responseGain', contextNoise: 'contextNoise' };
