/*
 * The fixed form's training loss on one gene block and its gradient with respect to the packed gates, by
 * hand (c3tl.ts `forward` and `episodeLoss` with the network off), over plain typed arrays: the cpu and wasm
 * bodies of the fused kernel (fixed-form-kernel.ts). No imports, so that both backends share it as is; the
 * WebGPU program (fixed-form-webgpu.ts) is the same algorithm in WGSL.
 *
 * Per gene g (scaled gates: delta = s0 G0, gamma = s1 G1, beta = s2 G2, kappa = s3 G3), per context c:
 *   xMean = m + delta d,  shift = o - xMean,  shiftTerm = shift (1 - gamma)
 *   spread = mm + delta (2 md + delta dd),  cov = om + delta od - spread,  var = relu(spread)
 *   scale = beta cov / (var + meanVar_c softplus(kappa) + 1e-6),  meanVar_c = mean over the block of var
 * per query q of context c: x = qm + delta qd,  pred = x + shiftTerm + scale (x - xMean),
 *   loss = sum_q w_q mean_g gw_g (pred - y)^2.
 * A switch that is off removes its term (delta = 0, gamma = 0, scale = 0) and zeroes its gate rows' gradient.
 * meanVar couples the genes of a block, hence three passes: the mean variances, the per-gene gradient, and
 * the gradient that flows back into delta through the mean variances.
 */

/** Which terms of the fixed form are on (C3tlSwitches.denoise, shift, slope). */
export interface FixedFormFlags {
  denoise: boolean;
  shift: boolean;
  slope: boolean;
}

/**
 * A step's inputs on one gene block of Gb genes, row-major: gates [4, Gb] (rows denoise, shift, slope,
 * shrink); gateScale [4]; moments [8, C, Gb] (SUPPORT_MOMENT_NAMES order o, m, d, om, od, mm, md, dd);
 * rows [3, Q, Gb] (the queries' observed effects, perturbation means, denoising directions); queryContexts
 * [Q] (each query's context); queryWeights [Q]; geneWeights [Gb].
 */
export interface FixedFormArrays {
  gates: Float32Array;
  gateScale: Float32Array;
  moments: Float32Array;
  rows: Float32Array;
  queryContexts: Int32Array;
  queryWeights: Float32Array;
  geneWeights: Float32Array;
}

/** FixedFormArrays' fields, in the order the WebGPU program binds them. */
export const FIXED_FORM_INPUT_NAMES = [
  'gates',
  'gateScale',
  'moments',
  'rows',
  'queryContexts',
  'queryWeights',
  'geneWeights',
] as const;

/** The moment rows of `moments` ([8, C, Gb]), in SUPPORT_MOMENT_NAMES order. */
const O = 0;
const M = 1;
const D = 2;
const OM = 3;
const OD = 4;
const MM = 5;
const MD = 6;
const DD = 7;

/** tfjs's softplus (its cpu kernel: exact at both tails in float32). */
export function softplus(x: number): number {
  const threshold = Math.log(1.1920928955078125e-7) + 2;
  if (x < threshold) return Math.exp(x);
  if (x > -threshold) return x;
  return Math.log(1 + Math.exp(x));
}

/** The per-context terms of one gene (see the header), C values each, reused from gene to gene. */
class GeneTerms {
  xMean: Float64Array;
  shift: Float64Array;
  shiftTerm: Float64Array;
  ratio: Float64Array;
  denom: Float64Array;
  scale: Float64Array;
  delta = 0;
  gamma = 0;
  beta = 0;
  kappa = 0;
  softplusKappa = 0;

  constructor(contexts: number) {
    [this.xMean, this.shift, this.shiftTerm, this.ratio, this.denom, this.scale] = Array.from(
      { length: 6 },
      () => new Float64Array(contexts),
    );
  }
}

/** Reads a step's arrays: sizes, moments and the scaled gates. */
class StepView {
  Gb: number;
  Q: number;
  C: number;
  scales: Float32Array;

  constructor(
    readonly a: FixedFormArrays,
    readonly flags: FixedFormFlags,
  ) {
    this.Gb = a.gates.length / 4;
    this.Q = a.queryContexts.length;
    this.C = a.moments.length / (8 * this.Gb);
    this.scales = a.gateScale;
  }

  at(k: number, c: number, g: number): number {
    return this.a.moments[(k * this.C + c) * this.Gb + g];
  }

  delta(g: number): number {
    return this.flags.denoise ? this.scales[0] * this.a.gates[g] : 0;
  }

  spread(c: number, g: number, dg: number): number {
    return this.at(MM, c, g) + dg * (2 * this.at(MD, c, g) + dg * this.at(DD, c, g));
  }

  /** Each context's mean over the block of var = relu(spread), [C] (zeros with the slope off). */
  meanVariances(): Float64Array {
    const meanVar = new Float64Array(this.C);
    if (!this.flags.slope) return meanVar;
    for (let c = 0; c < this.C; c++) {
      let sum = 0;
      for (let g = 0; g < this.Gb; g++) sum += Math.max(this.spread(c, g, this.delta(g)), 0);
      meanVar[c] = sum / this.Gb;
    }
    return meanVar;
  }

  /** Fills `t` with gene g's gates and per-context terms. */
  geneTerms(g: number, meanVar: Float64Array, t: GeneTerms): void {
    const { a, flags, Gb, scales } = this;
    t.delta = this.delta(g);
    t.gamma = flags.shift ? scales[1] * a.gates[Gb + g] : 0;
    t.beta = scales[2] * a.gates[2 * Gb + g];
    t.kappa = scales[3] * a.gates[3 * Gb + g];
    t.softplusKappa = softplus(t.kappa);
    for (let c = 0; c < this.C; c++) {
      t.xMean[c] = this.at(M, c, g) + t.delta * this.at(D, c, g);
      t.shift[c] = this.at(O, c, g) - t.xMean[c];
      t.shiftTerm[c] = t.shift[c] * (1 - t.gamma);
      t.scale[c] = 0;
      if (!flags.slope) continue;
      const spread = this.spread(c, g, t.delta);
      const cov = this.at(OM, c, g) + t.delta * this.at(OD, c, g) - spread;
      t.denom[c] = Math.max(spread, 0) + meanVar[c] * t.softplusKappa + 1e-6;
      t.ratio[c] = cov / t.denom[c];
      t.scale[c] = t.ratio[c] * t.beta;
    }
  }
}

/**
 * The fixed form's scaled predictions of the queries, written into `predicted` [Q, Gb] (c3tl.ts forward with
 * the network off). Uses gates, gateScale, moments, rows (its observed part unused) and queryContexts.
 */
export function fixedFormPredict(
  a: Omit<FixedFormArrays, 'queryWeights' | 'geneWeights'>,
  flags: FixedFormFlags,
  predicted: Float32Array,
): void {
  const view = new StepView(a as FixedFormArrays, flags);
  const { Gb, Q, C } = view;
  const meanVar = view.meanVariances();
  const t = new GeneTerms(C);
  for (let g = 0; g < Gb; g++) {
    view.geneTerms(g, meanVar, t);
    for (let q = 0; q < Q; q++) {
      const c = a.queryContexts[q];
      const x = a.rows[(Q + q) * Gb + g] + t.delta * a.rows[(2 * Q + q) * Gb + g];
      predicted[q * Gb + g] = x + t.shiftTerm[c] + t.scale[c] * (x - t.xMean[c]);
    }
  }
}

/**
 * The loss (the value episodeLoss returns) and, written into `gradient` [4, Gb], its gradient with respect
 * to the unscaled gates. Sizes come from the arrays: Gb = gates.length / 4, Q = queryContexts.length,
 * C = moments.length / (8 Gb).
 */
export function fixedFormLossAndGradient(
  a: FixedFormArrays,
  flags: FixedFormFlags,
  gradient: Float32Array,
): number {
  const view = new StepView(a, flags);
  const { Gb, Q, C } = view;
  const [s0, s1, s2, s3] = a.gateScale;
  const meanVar = view.meanVariances();
  const t = new GeneTerms(C);
  const sumE = new Float64Array(C);
  const sumS = new Float64Array(C);
  const dMeanVar = new Float64Array(C);
  let loss = 0;
  for (let g = 0; g < Gb; g++) {
    view.geneTerms(g, meanVar, t);
    const { delta: dg, gamma, beta, scale, ratio, denom } = t;
    sumE.fill(0);
    sumS.fill(0);
    // e = dLoss/dpred; E_c and S_c its sums over context c's queries, plain and times (x - xMean).
    const lossWeight = a.geneWeights[g] / Gb;
    let dDelta = 0;
    for (let q = 0; q < Q; q++) {
      const c = a.queryContexts[q];
      const qd = a.rows[(2 * Q + q) * Gb + g];
      const x = a.rows[(Q + q) * Gb + g] + dg * qd;
      const centred = x - t.xMean[c];
      const error = x + t.shiftTerm[c] + scale[c] * centred - a.rows[q * Gb + g];
      const weighted = a.queryWeights[q] * lossWeight;
      loss += weighted * error * error;
      const e = 2 * weighted * error;
      sumE[c] += e;
      sumS[c] += e * centred;
      dDelta += e * (1 + scale[c]) * qd;
    }
    let dGamma = 0;
    let dBeta = 0;
    let dKappa = 0;
    for (let c = 0; c < C; c++) {
      dGamma -= sumE[c] * t.shift[c];
      dDelta -= (scale[c] * sumE[c] + sumE[c] * (1 - gamma)) * view.at(D, c, g);
      if (!flags.slope) continue;
      dBeta += sumS[c] * ratio[c];
      const dRatio = sumS[c] * beta;
      const dCov = dRatio / denom[c];
      const dDenom = (-dRatio * ratio[c]) / denom[c];
      dKappa += dDenom * meanVar[c];
      dMeanVar[c] += dDenom * t.softplusKappa;
      const dSpread = (view.spread(c, g, dg) > 0 ? dDenom : 0) - dCov;
      dDelta += dCov * view.at(OD, c, g) + dSpread * 2 * (view.at(MD, c, g) + dg * view.at(DD, c, g));
    }
    const sigmoid = 1 / (1 + Math.exp(-t.kappa));
    gradient[g] = flags.denoise ? s0 * dDelta : 0;
    gradient[Gb + g] = flags.shift ? s1 * dGamma : 0;
    gradient[2 * Gb + g] = flags.slope ? s2 * dBeta : 0;
    gradient[3 * Gb + g] = flags.slope ? s3 * dKappa * sigmoid : 0;
  }
  // The mean variances' share of the gradient: var_cg enters meanVar_c with weight 1 / Gb.
  if (flags.slope && flags.denoise) {
    for (let g = 0; g < Gb; g++) {
      const dg = view.delta(g);
      let dDelta = 0;
      for (let c = 0; c < C; c++) {
        if (view.spread(c, g, dg) <= 0) continue;
        dDelta += (dMeanVar[c] / Gb) * 2 * (view.at(MD, c, g) + dg * view.at(DD, c, g));
      }
      gradient[g] += s0 * dDelta;
    }
  }
  return loss;
}
