import * as tf from '@tensorflow/tfjs';
import { GATE_PARAMETER_NAMES, type C3tlParameters } from './c3tl-parameters';

/**
 * C3TL network (docs/DESIGN.md §2.1, §2.3) over scaled effects (each gene divided by its RMS over the training pairs, not
 * centred, so that 0 stays "no effect"). Shapes use C contexts, P perturbations, G genes, Gb the genes of one
 * gene block, k the gene-basis rank, d the embedding width, H the decoder width, Q query pairs and Ns support
 * pairs.
 *
 *   E(y)      = (y V) A + a                                        gene encoder G -> d through the basis V
 *   h_p(-c)   = rho_P(mean over c' != c of phi_P(E(y_c'p)))        perturbation set encoder
 *   z_c       = rho_C(mean over s in S_c of phi_C([E(y_cs), h_s(-c)]))   context set encoder
 *   x_p(-c)   = m - delta_g * m nu / (m^2 + nu),  m = pm_p(-c)        perturbation mean, denoised per gene
 *   y_hat_cp  = x_p + (1 - gamma_g) shift_c + (beta_c + gain(z_c)) * (x_p - xbar_c) + D([h, z, h*z]) U
 *
 * pm_p(-c) is the mean over the other contexts where p is a training pair, and nu = sigma_g^2 / n the
 * variance of that mean under measurement noise (sigma_g^2 pooled from the spread of each perturbation's
 * effects across contexts). This is what a set encoder over the other contexts can tell beyond their mean:
 * a gene that moves by less than its noise is probably not moved at all. shift_c and xbar_c are the
 * support's means of (y - x) and of x (shift_c is the additive baseline's context term); beta_c [G] is the
 * per-gene slope of the context's deviation (y_cs - x_s) on x_s across its support, shrunk toward 0. It
 * says how a context rescales known effects gene by gene (amplified, damped, silenced) and is estimated from
 * the context's own support, so it transfers to a context never seen in training; gain(z_c) = z_c W + b says
 * the same from the learnt context representation. V [G, k] is the top-k principal basis of the training
 * pairs (coordinates scaled to unit RMS); U [k, G], the decoder's output basis, starts at V^T and is trained.
 *
 * Every gate (delta, gamma, beta's gate, gain, D's last layer) starts at zero, so the untrained model is the
 * additive rule on the means it reads exactly (raw, or denoised where sparse-base.ts chose so; held genes
 * apart, held-genes.ts); training has to earn each departure on held-out pairs. Gates enter as
 * GATE_SCALE * parameter so that Adam moves them thirty times faster than the network's weights: they are
 * few, informed by every pair, and must be able to open within a short training.
 *
 * The learnt paths (E, h, z, gain(z), D) are switched off by default (C3tlSwitches.network). With the few
 * contexts of a typical screen (3 to 16 in our checks, simulated and PBMC) they learn each reference
 * context's own transform, which does not carry over to a new context: with them on, C3TL scored below the
 * same model without them on every target we tried, and early stopping could not tell in time. The terms
 * that remain are set encoders with a fixed form (mean, noise-aware shrinkage; support shift and slope) and
 * learnt per-gene gates, which transfer because nothing in them belongs to one context.
 *
 * Per-gene parameters are split into gene blocks (one set of variables per block, the four gates packed in
 * one, c3tl-parameters.ts) and every training step is scored on one block. The per-step inputs that do not depend on parameters are built on the host
 * (blockInputs in train-host.ts): the support enters as its means and central moments per context
 * (SupportMoments), so a step uploads and computes on (8 C + 3 Q) x Gb values whatever the support's size.
 * No large op broadcasts over a size-1 axis, slices columns or gathers: the tfjs cpu backend runs those about
 * fifty times slower than same-shape element-wise ops (a trailing-axis vector is fine), so a column [N, 1] is
 * spread by a product with a row of ones.
 */
export * from './c3tl-parameters';

/**
 * Parameter-free tensors that stay fixed while one target is trained, for the set encoders (built only when
 * the network is switched on). zBasis: [C*P, k]
 * basis coordinates of the scaled training effects (0 for other pairs); mask: [C*P, d] training-pair
 * indicator repeated over the embedding; invOther: [C*P, 1] 1 / (number of other contexts with a training
 * pair for p), 0 when there is none.
 */
export interface C3tlData {
  contexts: number;
  perturbations: number;
  zBasis: tf.Tensor2D;
  mask: tf.Tensor2D;
  invOther: tf.Tensor2D;
}

/**
 * The learnt network's view of one episode (only built when C3tlSwitches.network is on). Ns support pairs
 * over all contexts, Q query pairs. supportPairs: [Ns] int32 flat pair indices c*P + p; supportWeights:
 * [C, Ns] with 1/|S_c| where the pair belongs to c; supportPerturbationOneHot: [Ns, P]; queryPairs: [Q] int32;
 * queryPerturbationOneHot: [Q, P]. One-hot products select rows of parameter-dependent tensors, because
 * gather's gradient has no kernel on the wasm backend.
 */
export interface NetworkEpisode {
  supportPairs: tf.Tensor1D;
  supportWeights: tf.Tensor2D;
  supportPerturbationOneHot: tf.Tensor2D;
  queryPairs: tf.Tensor1D;
  queryPerturbationOneHot: tf.Tensor2D;
}

/** One episode's pairs: queryContextOneHot [Q, C] selects each query's context row; network as above. */
export interface EpisodeTensors {
  queryContextOneHot: tf.Tensor2D;
  network?: NetworkEpisode;
}

/**
 * Weighted moments of the support per context on one gene block, each [C, Gb] (scaled units), with o the
 * observed effect, m the perturbation mean pm_p(-c) and d the denoising direction -m nu / (m^2 + nu) of a
 * support pair, and 1/|S_c| the weight of each of context c's support pairs: `o`, `m`, `d` are the support
 * means and `om`, `od`, `mm`, `md`, `dd` the central (co)variances (row c of `om` is the support mean of
 * (o - mean o)(m - mean m)). The support statistics of the forward pass (means of y - x and of x, covariance
 * and variance, with x = m + delta d) are polynomials in the gate delta with these coefficients, so a step
 * uploads and reduces C x Gb values instead of Ns x Gb. Central moments (computed in float64 on the host)
 * keep a support of one pair at exactly zero variance, where raw ones would leave float32 rounding noise
 * for the slope to divide by.
 */
export interface SupportMoments {
  o: tf.Tensor2D;
  m: tf.Tensor2D;
  d: tf.Tensor2D;
  om: tf.Tensor2D;
  od: tf.Tensor2D;
  mm: tf.Tensor2D;
  md: tf.Tensor2D;
  dd: tf.Tensor2D;
}

export const SUPPORT_MOMENT_NAMES = ['o', 'm', 'd', 'om', 'od', 'mm', 'md', 'dd'] as const;
export type SupportMomentName = (typeof SUPPORT_MOMENT_NAMES)[number];

/**
 * The episode's parameter-free inputs on one gene block (scaled units), built on the host: the support's
 * moments per context; the queries' perturbation means pm_p(-c) and denoising directions, [Q, Gb] each; and
 * the loss weight of each gene, [Gb].
 */
export interface BlockInputs {
  support: SupportMoments;
  queryMean: tf.Tensor2D;
  queryDenoise: tf.Tensor2D;
  geneWeights: tf.Tensor1D;
}

/** Which parts of the model may depart from the additive baseline (train.ts: all but `network` by default). */
export interface C3tlSwitches {
  /** Denoise the perturbation mean gene by gene (delta). */
  denoise: boolean;
  /** Per-gene gate on the support's shift (gamma). */
  shift: boolean;
  /** The support slope beta. */
  slope: boolean;
  /** The learnt set-encoder paths: gain(z) and the decoder D. */
  network: boolean;
  /** The learnt transfer path on top of the fixed form (transfer.ts); off, C3TL is the `calibrated` form. */
  transfer: boolean;
  /** Transfer path: compare perturbations by their per-context deviation profiles (else by their mean only). */
  deviations: boolean;
  /** Transfer path: the context representation rescales the transfer gene by gene. */
  context: boolean;
  /** Transfer path: the target as a least-squares mix of its reference contexts, fitted on its support. */
  mix: boolean;
  /** Transfer path: average the attention with a ridge fit of each query on the support perturbations. */
  linear: boolean;
}

/** x w + b with b a vector (a trailing-axis broadcast, which the cpu backend runs on its fast path). */
function dense(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.add(tf.matMul(x, w as tf.Tensor2D), b);
}

/** Context representation z_c, [C, d], and the perturbation encoder for query pairs. */
function setEncoders(params: C3tlParameters, data: C3tlData, episode: NetworkEpisode) {
  const { contexts: C, perturbations: P } = data;
  const s = params.shared;
  const d = s.encoder_b.shape[0];
  const encode = (zBasis: tf.Tensor2D) => dense(zBasis, s.encoder_w, s.encoder_b);
  const phiP = (embedded: tf.Tensor2D) => tf.relu(dense(embedded, s.phi_p_w, s.phi_p_b));

  // Sum of phi_P over the training pairs of each perturbation, [P, d], as a product over the context axis.
  const phiAll = tf.mul(phiP(encode(data.zBasis)), data.mask);
  const sumOverContexts = tf.reshape(tf.matMul(tf.ones([1, C]), tf.reshape(phiAll, [C, P * d])), [
    P,
    d,
  ]) as tf.Tensor2D;
  /** h_p(-c) and E(y_cp) of the given pairs, leaving the pair's own context out of the mean. */
  const represent = (pairs: tf.Tensor1D, oneHot: tf.Tensor2D) => {
    const own = encode(tf.gather(data.zBasis, pairs) as tf.Tensor2D);
    const ownPhi = tf.mul(phiP(own), tf.gather(data.mask, pairs));
    const othersMean = tf.mul(
      tf.sub(tf.matMul(oneHot, sumOverContexts), ownPhi),
      tf.matMul(tf.gather(data.invOther, pairs) as tf.Tensor2D, tf.ones([1, d])),
    ) as tf.Tensor2D;
    return { own, h: tf.relu(dense(othersMean, s.rho_p_w, s.rho_p_b)) };
  };

  const support = represent(episode.supportPairs, episode.supportPerturbationOneHot);
  const phiC = tf.relu(dense(tf.concat([support.own, support.h], 1), s.phi_c_w, s.phi_c_b));
  const z = tf.relu(dense(tf.matMul(episode.supportWeights, phiC), s.rho_c_w, s.rho_c_b));
  return { z, query: () => represent(episode.queryPairs, episode.queryPerturbationOneHot).h };
}

/**
 * Scaled predictions for the query pairs on gene block b: [Q, Gb]. Call inside tf.tidy or a gradient
 * function.
 */
export function forward(
  params: C3tlParameters,
  data: C3tlData | undefined,
  episode: EpisodeTensors,
  inputs: BlockInputs,
  options: { block: number; switches: C3tlSwitches },
): tf.Tensor2D {
  const { switches } = options;
  const own = params.blocks[options.block];
  // The four gate rows scaled in one product and split in one op (one kernel each way, forward and back).
  const Gb = params.geneBlocks[options.block].size;
  const [denoiseGate, shiftGate, slopeGate, slopeShrink] = tf
    .split(tf.mul(own.gates, params.gateScale), GATE_PARAMETER_NAMES.length, 0)
    .map((row) => tf.reshape(row, [Gb]));

  // Denoised perturbation means of the queries, x = m + delta d.
  const delta = switches.denoise ? denoiseGate : undefined;
  const xq: tf.Tensor2D = delta
    ? tf.add(inputs.queryMean, tf.mul(inputs.queryDenoise, delta))
    : inputs.queryMean;

  // Support statistics per context, [C, Gb], from the moments: means of x and of (y - x), and for the slope
  // the covariance of (y - x) with x and the variance of x.
  const M = inputs.support;
  const xMean: tf.Tensor2D = delta ? tf.add(M.m, tf.mul(M.d, delta)) : M.m;
  const shift = tf.sub(M.o, xMean) as tf.Tensor2D;
  let shiftTerm: tf.Tensor2D = shift;
  if (switches.shift) shiftTerm = tf.mul(shift, tf.sub(1, shiftGate)) as tf.Tensor2D;
  let scale: tf.Tensor2D | undefined;
  if (switches.slope) {
    // Var(x) = Var(m) + 2 delta Cov(m, d) + delta^2 Var(d); Cov(y - x, x) = Cov(o, m) + delta Cov(o, d) - Var(x).
    const spread = delta ? tf.add(M.mm, tf.mul(delta, tf.add(tf.mul(M.md, 2), tf.mul(M.dd, delta)))) : M.mm;
    const withObserved = delta ? tf.add(M.om, tf.mul(M.od, delta)) : M.om;
    const covariance = tf.sub(withObserved, spread);
    const variance = tf.relu(spread) as tf.Tensor2D;
    // Shrinkage relative to the context's mean variance over genes, so it is free of the effects' scale.
    // [C, 1] times [Gb]: a broadcast over a size-1 axis, cheap on these small per-context tensors.
    const floor = tf.add(tf.mul(tf.mean(variance, 1, true), tf.softplus(slopeShrink)), 1e-6);
    scale = tf.mul(tf.div(covariance, tf.add(variance, floor)), slopeGate) as tf.Tensor2D;
  }
  const network = switches.network ? episode.network : undefined;
  if (switches.network && (!network || !data)) {
    throw new Error('The network switch is on but the episode or data lacks its tensors.');
  }
  const encoders = network && data ? setEncoders(params, data, network) : undefined;
  if (encoders) {
    const gain = dense(encoders.z, own.gain_w, own.gain_b);
    scale = scale ? (tf.add(scale, gain) as tf.Tensor2D) : gain;
  }

  const select = episode.queryContextOneHot;
  const terms: tf.Tensor2D[] = [xq, tf.matMul(select, shiftTerm)];
  if (scale) terms.push(tf.mul(tf.matMul(select, scale), tf.sub(xq, tf.matMul(select, xMean))));
  if (encoders) {
    const hq = encoders.query();
    const zq = tf.matMul(select, encoders.z);
    const decoderIn = tf.concat([hq, zq, tf.mul(hq, zq)], 1) as tf.Tensor2D;
    const s = params.shared;
    const hidden = tf.relu(dense(decoderIn, s.decoder1_w, s.decoder1_b));
    terms.push(tf.matMul(tf.matMul(hidden, s.decoder2_w as tf.Tensor2D), own.decoder_basis as tf.Tensor2D));
  }
  return tf.addN(terms) as tf.Tensor2D;
}

/**
 * Weighted mean squared error over the block's genes (weights inputs.geneWeights) and the query pairs
 * (weights [Q, 1] summing to 1).
 */
export function episodeLoss(
  params: C3tlParameters,
  data: C3tlData | undefined,
  episode: EpisodeTensors,
  inputs: BlockInputs,
  observed: tf.Tensor2D,
  weights: tf.Tensor2D,
  options: { block: number; switches: C3tlSwitches },
): tf.Scalar {
  const predicted = forward(params, data, episode, inputs, options);
  // The mean over genes as a product with a column of ones: its gradient then needs no [Q, 1] broadcast.
  const Gb = inputs.geneWeights.shape[0];
  const perPair = tf.matMul(
    tf.mul(tf.squaredDifference(predicted, observed), inputs.geneWeights),
    tf.fill([Gb, 1], 1 / Gb) as tf.Tensor2D,
  );
  return tf.sum(tf.mul(perPair, weights)) as tf.Scalar;
}
