import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random';

/**
 * C3TL network (DESIGN.md §2) over standardised effects. Shapes use C contexts, P perturbations, G genes,
 * k the gene-basis rank, d the embedding width, H the decoder width, Q the scored query pairs.
 *
 *   E(y)        = (y V) A + b                                   gene encoder G -> d through the basis V
 *   h_p(-c)     = rho_P(mean over c' != c of phi_P(E(y_c'p)))   perturbation set encoder
 *   z_c         = rho_C(mean over s in S_c of phi_C([E(y_cs), h_s(-c)]))   context set encoder
 *   y_hat_cp    = additive_cp + beta_c * (pm_p(-c) - mean_s pm_s(-c)) + D([h, z, h*z]) U
 *
 * V [G, k] is the top-k principal basis of the training pairs, computed once per target, so the encoder's
 * cost per step does not grow with G. U [k, G], the decoder's output basis, starts at V^T and is trained.
 * beta_c [G] is our addition, a second set encoder over the support: per gene, the shrunken slope of the
 * context's deviation (y_cs - pm_s) on the known effect pm_s across the support. It expresses how a context
 * rescales every known effect gene by gene (amplified, damped, silenced), which the additive baseline cannot,
 * and it is estimated from the context's own support rather than looked up from a context embedding, so it
 * transfers to a context never seen in training. Its gate and D's last layer start at zero, so the untrained
 * model is the additive baseline exactly.
 */
export interface C3tlArchitecture {
  genes: number;
  basisRank: number;
  embedDim: number;
  hidden: number;
}

export const PARAMETER_NAMES = [
  'encoder_w',
  'encoder_b',
  'phi_p_w',
  'phi_p_b',
  'rho_p_w',
  'rho_p_b',
  'phi_c_w',
  'phi_c_b',
  'rho_c_w',
  'rho_c_b',
  'decoder1_w',
  'decoder1_b',
  'decoder2_w',
  'decoder_basis',
  'slope_gate',
  'slope_shrink',
  'gain_w',
  'gain_b',
] as const;
export type ParameterName = (typeof PARAMETER_NAMES)[number];
export type C3tlParameters = Record<ParameterName, tf.Variable>;

/** Shapes of every parameter for an architecture. */
export function parameterShapes(arch: C3tlArchitecture): Record<ParameterName, number[]> {
  const { genes: G, basisRank: k, embedDim: d, hidden: H } = arch;
  return {
    encoder_w: [k, d],
    encoder_b: [d],
    phi_p_w: [d, d],
    phi_p_b: [d],
    rho_p_w: [d, d],
    rho_p_b: [d],
    phi_c_w: [2 * d, d],
    phi_c_b: [d],
    rho_c_w: [d, d],
    rho_c_b: [d],
    decoder1_w: [3 * d, H],
    decoder1_b: [H],
    decoder2_w: [H, k],
    decoder_basis: [k, G],
    slope_gate: [G],
    slope_shrink: [G],
    gain_w: [d, G],
    gain_b: [G],
  };
}

export function parameterCount(arch: C3tlArchitecture): number {
  return Object.values(parameterShapes(arch)).reduce(
    (sum, shape) => sum + shape.reduce((a, b) => a * b, 1),
    0,
  );
}

const ZERO_INIT: ReadonlySet<ParameterName> = new Set(['decoder2_w', 'slope_gate', 'gain_w']);

/**
 * Initial values, drawn from the seeded Rng on the CPU so every backend starts from identical numbers:
 * Glorot-uniform weights, zero biases, zero output layers, and the decoder basis set to basis^T.
 * basis: [G, k] row-major.
 */
export function initialParameterValues(
  arch: C3tlArchitecture,
  basis: Float32Array,
  rng: Rng,
): Record<ParameterName, Float32Array> {
  const shapes = parameterShapes(arch);
  const out = {} as Record<ParameterName, Float32Array>;
  for (const name of PARAMETER_NAMES) {
    const shape = shapes[name];
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (name === 'decoder_basis') {
      const { genes: G, basisRank: k } = arch;
      for (let g = 0; g < G; g++) for (let j = 0; j < k; j++) values[j * G + g] = basis[g * k + j];
    } else if (shape.length === 2 && !ZERO_INIT.has(name)) {
      const limit = Math.sqrt(6 / (shape[0] + shape[1]));
      for (let i = 0; i < size; i++) values[i] = (2 * rng.next() - 1) * limit;
    }
    out[name] = values;
  }
  return out;
}

export function createParameters(
  arch: C3tlArchitecture,
  values: Record<ParameterName, Float32Array>,
): C3tlParameters {
  const shapes = parameterShapes(arch);
  const params = {} as C3tlParameters;
  for (const name of PARAMETER_NAMES) {
    params[name] = tf.variable(tf.tensor(values[name], shapes[name], 'float32'), true, name);
  }
  return params;
}

/**
 * Tensors that stay fixed while one target is trained; effects are standardised per gene and 0 where a
 * pair is not a training pair. z: [C*P, G]; zBasis: z V, [C*P, k]; mask: [C*P, 1] training-pair indicator;
 * sumZ: [P, G] sum of z over each perturbation's training pairs; invOther: [C*P, 1] 1 / (number of other
 * contexts with a training pair for p), 0 when there is none.
 */
export interface C3tlData {
  contexts: number;
  perturbations: number;
  z: tf.Tensor2D;
  zBasis: tf.Tensor2D;
  mask: tf.Tensor2D;
  sumZ: tf.Tensor2D;
  invOther: tf.Tensor2D;
}

/**
 * One episode as tensors. Ns support pairs over all contexts, Q query pairs. supportPairs,
 * supportPerturbations: [Ns] int32; supportWeights: [C, Ns] with 1/|S_c| where the pair belongs to c;
 * supportPerturbationOneHot: [Ns, P]; queryPairs, queryPerturbations, queryContexts: [Q] int32;
 * queryPerturbationOneHot: [Q, P]; queryContextOneHot: [Q, C]. One-hot products select rows of parameter-
 * dependent tensors, because gather's gradient has no kernel on the wasm backend.
 */
export interface EpisodeTensors {
  supportPairs: tf.Tensor1D;
  supportPerturbations: tf.Tensor1D;
  supportWeights: tf.Tensor2D;
  supportPerturbationOneHot: tf.Tensor2D;
  queryPairs: tf.Tensor1D;
  queryPerturbations: tf.Tensor1D;
  queryContexts: tf.Tensor1D;
  queryPerturbationOneHot: tf.Tensor2D;
  queryContextOneHot: tf.Tensor2D;
}

function dense(x: tf.Tensor2D, w: tf.Variable, b: tf.Variable): tf.Tensor2D {
  return tf.add(tf.matMul(x, w as tf.Tensor2D), b);
}

/** pm_p(-c) for the given pairs: mean over other contexts' training pairs, [N, G]. Constants only. */
function otherContextsMean(data: C3tlData, pairs: tf.Tensor1D, perturbations: tf.Tensor1D): tf.Tensor2D {
  return tf.mul(
    tf.sub(
      tf.gather(data.sumZ, perturbations),
      tf.mul(tf.gather(data.z, pairs), tf.gather(data.mask, pairs)),
    ),
    tf.gather(data.invOther, pairs),
  );
}

/**
 * Per-context statistics of the support, [C, G] each (constants): shift = mean_s (y_s - pm_s), the additive
 * baseline's context term; pmMean = mean_s pm_s; and the per-gene covariance and variance of (y - pm) against
 * pm over the support, from which the model estimates how the context rescales known effects gene by gene.
 */
function supportStatistics(data: C3tlData, episode: EpisodeTensors) {
  const z = tf.gather(data.z, episode.supportPairs);
  const pm = otherContextsMean(data, episode.supportPairs, episode.supportPerturbations);
  const residual = tf.sub(z, pm);
  const w = episode.supportWeights;
  const shift = tf.matMul(w, residual);
  const pmMean = tf.matMul(w, pm);
  const covariance = tf.sub(tf.matMul(w, tf.mul(residual, pm)), tf.mul(shift, pmMean));
  const variance = tf.relu(tf.sub(tf.matMul(w, tf.square(pm)), tf.square(pmMean)));
  return { shift, pmMean, covariance, variance };
}

/** Standardised predictions for the query pairs: [Q, G]. Call inside tf.tidy or a gradient function. */
export function forward(params: C3tlParameters, data: C3tlData, episode: EpisodeTensors): tf.Tensor2D {
  const { contexts: C, perturbations: P } = data;
  const encode = (zBasis: tf.Tensor2D) => dense(zBasis, params.encoder_w, params.encoder_b);
  const phiP = (embedded: tf.Tensor2D, mask: tf.Tensor2D) =>
    tf.mul(tf.relu(dense(embedded, params.phi_p_w, params.phi_p_b)), mask) as tf.Tensor2D;

  // Sum of phi_P over the training pairs of each perturbation: [P, d].
  const embedded = encode(data.zBasis);
  const d = embedded.shape[1];
  const sumOverContexts = tf.sum(tf.reshape(phiP(embedded, data.mask), [C, P, d]), 0) as tf.Tensor2D;
  /** h_p(-c) and E(y_cp) of the given pairs, leaving the pair's own context out of the mean. */
  const represent = (pairs: tf.Tensor1D, oneHot: tf.Tensor2D) => {
    const own = encode(tf.gather(data.zBasis, pairs) as tf.Tensor2D);
    const othersMean = tf.mul(
      tf.sub(tf.matMul(oneHot, sumOverContexts), phiP(own, tf.gather(data.mask, pairs) as tf.Tensor2D)),
      tf.gather(data.invOther, pairs),
    ) as tf.Tensor2D;
    return { own, h: tf.relu(dense(othersMean, params.rho_p_w, params.rho_p_b)) };
  };

  const support = represent(episode.supportPairs, episode.supportPerturbationOneHot);
  const phiC = tf.relu(dense(tf.concat([support.own, support.h], 1), params.phi_c_w, params.phi_c_b));
  const z = tf.relu(dense(tf.matMul(episode.supportWeights, phiC), params.rho_c_w, params.rho_c_b));

  const stats = supportStatistics(data, episode);
  const pm = otherContextsMean(data, episode.queryPairs, episode.queryPerturbations);
  const additive = tf.add(pm, tf.gather(stats.shift, episode.queryContexts));
  // Shrunken per-gene slope of the context's deviation on the known effect, gated from zero.
  const slope = tf.mul(
    params.slope_gate,
    tf.div(stats.covariance, tf.add(stats.variance, tf.add(tf.softplus(params.slope_shrink), 1e-3))),
  );
  const transfer = tf.mul(
    tf.matMul(episode.queryContextOneHot, slope),
    tf.sub(pm, tf.gather(stats.pmMean, episode.queryContexts)),
  );

  const hq = represent(episode.queryPairs, episode.queryPerturbationOneHot).h;
  const zq = tf.matMul(episode.queryContextOneHot, z);
  const decoderIn = tf.concat([hq, zq, tf.mul(hq, zq)], 1) as tf.Tensor2D;
  const hidden = tf.relu(dense(decoderIn, params.decoder1_w, params.decoder1_b));
  const correction = tf.matMul(
    tf.matMul(hidden, params.decoder2_w as tf.Tensor2D),
    params.decoder_basis as tf.Tensor2D,
  );
  const gain = tf.matMul(episode.queryContextOneHot, dense(z, params.gain_w, params.gain_b));
  return tf.add(tf.add(tf.add(additive, transfer), tf.mul(gain, pm)), correction) as tf.Tensor2D;
}

/** Weighted mean squared error over genes and query pairs; weights: [Q] summing to 1. Scalar. */
export function episodeLoss(
  params: C3tlParameters,
  data: C3tlData,
  episode: EpisodeTensors,
  target: tf.Tensor2D,
  weights: tf.Tensor1D,
): tf.Scalar {
  const predicted = forward(params, data, episode);
  const perPair = tf.mean(tf.squaredDifference(predicted, target), 1);
  return tf.sum(tf.mul(perPair, weights)) as tf.Scalar;
}
