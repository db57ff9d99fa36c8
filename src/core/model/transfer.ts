import * as tf from '@tensorflow/tfjs';
import type { TransferEpisode } from './transfer-data';

/**
 * The learnt transfer path of C3TL: attention from each query perturbation to the target's support.
 *
 *   u_p     = dev_p * w_dev                 perturbation representation: its deviation profiles in the
 *                                           reference contexts (a set over contexts, [K, F]) with learnt
 *                                           per-gene weights; compared by a sum over contexts
 *   v_p     = centre(mean_p) * w_mean       its mean profile over the references, weighted the same way
 *   a_ps    = softmax_s over S and a sink ( beta_dev cos(u_p, u_s) + beta_mean cos(v_p, v_s) ; sink )
 *   m_p     = sum_k w_k dev_pk over every gene, w [K] fitted by least squares of the support's deviations on
 *             the references' deviations of the same perturbations (transfer-data.ts withReferenceMix):
 *             the target as a mix of its references; r_s below is what the mix leaves of the support's
 *             deviations (with the mix off, m_p = 0 and r_s is the deviation itself)
 *   rho_t   = per gene, the correlation over the support of r_s with its leave-one-out transfer
 *             sum_{s' != s} a_ss' r_s'      context representation: from the target's support (a set of
 *                                           perturbations, each with its reference effects and the target's
 *                                           deviation r_s from the base prediction), how well transfer works
 *                                           gene by gene in this context
 *   r_hat_p = gain * exp(kappa rho_t) * (m_p + sum_s a_ps r_s)     the decoder
 *
 * The path starts as a fixed rule (TRANSFER_INITIAL_LOGITS, unit gains); training changes it only where
 * held-out episodes say so (the best epoch is kept, epoch 0 is the rule). Nothing belongs to one context
 * (weights act on genes, shared by every context), so the path applies to a context never seen in training. The sink lets a query with no similar support perturbation take
 * nothing. Shapes: F feature genes, G genes, K references, S support, Q queries.
 */
export interface TransferWeights {
  devWeight: tf.Tensor1D; // [F]
  meanWeight: tf.Tensor1D; // [F]
  gain: tf.Tensor1D; // [G]
  /** [3]: log beta_dev, log beta_mean, sink logit. */
  logits: tf.Tensor1D;
  /** [1]: kappa, how much the context representation rescales the transfer (0 at the start). */
  context: tf.Tensor1D;
}

/**
 * The path's weights in one variable, [2F + G + 4], laid out in TRANSFER_PARAMETER_NAMES order, so that
 * Adam updates them in one pass of its kernels; transferWeights splits it (one kernel each way).
 */
export interface TransferParameters {
  packed: tf.Variable;
  features: number;
  genes: number;
}

/** Which parts of the transfer path are on (ablations switch them off). */
export interface TransferSwitches {
  /** Compare perturbations by their per-context deviation profiles (else by their mean profile only). */
  deviations: boolean;
  /** Rescale the transfer gene by gene with the context representation rho_t. */
  context: boolean;
  /** Add the target's reference mix m_p, fitted on its support, and attend over what it leaves. */
  mix: boolean;
  /** Average the attention with the linear transfer l_ps (a ridge fit of each query on the support). */
  linear: boolean;
}

/**
 * [log beta_dev, log beta_mean, sink logit] at the start: the similarity-weighted residual rule of the
 * knn_residual baseline (temperature 5 over mean profiles), with deviation profiles counted as much again
 * (temperature 10 over a cosine that averages the contexts, as the science sketch's knn_dev) and the sink
 * nearly shut. Training moves all three; with fewer than two reference contexts nothing can judge training,
 * and this rule is what the path applies.
 */
export const TRANSFER_INITIAL_LOGITS = [Math.log(10), Math.log(5), -5] as const;

export const TRANSFER_PARAMETER_NAMES = ['devWeight', 'meanWeight', 'gain', 'logits', 'context'] as const;
export type TransferParameterName = (typeof TRANSFER_PARAMETER_NAMES)[number];

export function transferParameterCount(features: number, genes: number): number {
  return 2 * features + genes + 4;
}

/** Length of each weight in the packed variable, TRANSFER_PARAMETER_NAMES order. */
function transferSizes(features: number, genes: number): number[] {
  return [features, features, genes, 3, 1];
}

export function createTransferParameters(
  features: number,
  genes: number,
  values?: Record<TransferParameterName, Float32Array>,
): TransferParameters {
  const initial: Record<TransferParameterName, Float32Array> = values ?? {
    devWeight: new Float32Array(features).fill(1),
    meanWeight: new Float32Array(features).fill(1),
    gain: new Float32Array(genes).fill(1),
    logits: Float32Array.from(TRANSFER_INITIAL_LOGITS),
    context: new Float32Array(1),
  };
  const packed = new Float32Array(transferParameterCount(features, genes));
  let at = 0;
  for (const name of TRANSFER_PARAMETER_NAMES) {
    packed.set(initial[name], at);
    at += initial[name].length;
  }
  return { packed: tf.tidy(() => tf.variable(tf.tensor1d(packed))), features, genes };
}

/** The weights as tensors (slices of the packed variable); call inside tf.tidy or a gradient function. */
export function transferWeights(params: TransferParameters): TransferWeights {
  const [devWeight, meanWeight, gain, logits, context] = tf.split(
    params.packed,
    transferSizes(params.features, params.genes),
  ) as tf.Tensor1D[];
  return { devWeight, meanWeight, gain, logits, context };
}

/** The weights' current values, keyed by name (read asynchronously). */
export async function transferWeightValues(
  params: TransferParameters,
): Promise<Record<TransferParameterName, Float32Array>> {
  const packed = (await params.packed.data()) as Float32Array;
  const out = {} as Record<TransferParameterName, Float32Array>;
  let at = 0;
  transferSizes(params.features, params.genes).forEach((size, i) => {
    out[TRANSFER_PARAMETER_NAMES[i]] = packed.slice(at, at + size);
    at += size;
  });
  return out;
}

/** Multiplies the gain by `multiple` in place (the other weights unchanged). */
export function scaleTransferGain(params: TransferParameters, multiple: number): void {
  const { features: F, genes: G } = params;
  const factors = new Float32Array(transferParameterCount(F, G)).fill(1);
  factors.fill(multiple, 2 * F, 2 * F + G);
  // assign() shares the product's data but leaves the product itself to be disposed.
  const product = tf.tidy(() => tf.mul(params.packed, tf.tensor1d(factors)));
  params.packed.assign(product);
  product.dispose();
}

/** Rows scaled to unit length, [N, D] (a zero row stays zero). */
function unitRows(x: tf.Tensor2D): tf.Tensor2D {
  const D = x.shape[1];
  const norm = tf.sqrt(tf.add(tf.matMul(tf.square(x), tf.ones([D, 1])), 1e-12));
  return tf.div(x, norm);
}

function centreRows(x: tf.Tensor2D): tf.Tensor2D {
  const D = x.shape[1];
  return tf.sub(x, tf.matMul(x, tf.fill([D, 1], 1 / D) as tf.Tensor2D));
}

/** The episode's tensors (upload once; dispose with disposeTransferInputs). */
export interface TransferInputs {
  devQuery: tf.Tensor3D;
  devSupport: tf.Tensor3D;
  meanQuery: tf.Tensor2D;
  meanSupport: tf.Tensor2D;
  residual: tf.Tensor2D;
  /** [Q, G] the reference mix's prediction (transfer-data.ts withReferenceMix), when the episode has one. */
  mix?: tf.Tensor2D;
  /** [S, S] the linear transfer's inverse (transfer-support.ts), when the episode has one. */
  supportInverse?: tf.Tensor2D;
}

export function transferInputs(e: TransferEpisode, features: number): TransferInputs {
  const S = e.support.length;
  const Q = e.queries.length;
  const G = e.residual.length / Math.max(S, 1);
  const K = e.references;
  return {
    devQuery: tf.tensor3d(e.devQuery, [Q, K, features]),
    devSupport: tf.tensor3d(e.devSupport, [S, K, features]),
    meanQuery: tf.tensor2d(e.meanQuery, [Q, features]),
    meanSupport: tf.tensor2d(e.meanSupport, [S, features]),
    residual: tf.tensor2d(e.residual, [S, G]),
    ...(e.mix && { mix: tf.tensor2d(e.mix, [Q, G]) }),
    ...(e.supportInverse && { supportInverse: tf.tensor2d(e.supportInverse, [S, S]) }),
  };
}

export function disposeTransferInputs(inputs: TransferInputs): void {
  tf.dispose(Object.values(inputs) as tf.Tensor[]);
}

/** Softmax over the support and a sink for each row of logits [N, S]; the sink's share is dropped: [N, S]. */
function attend(logits: tf.Tensor2D, sink: tf.Tensor): tf.Tensor2D {
  const [N, S] = logits.shape;
  const withSink = tf.concat([logits, tf.mul(tf.ones([N, 1]), sink)], 1);
  return tf.slice(tf.softmax(withSink), [0, 0], [N, S]) as tf.Tensor2D;
}

/** Similarity logits of rows (a) to rows (b), [Na, Nb]: beta_dev cos of deviations + beta_mean cos of means. */
function similarity(
  params: TransferWeights,
  switches: TransferSwitches,
  a: { dev: tf.Tensor3D; mean: tf.Tensor2D },
  b: { dev: tf.Tensor3D; mean: tf.Tensor2D },
): tf.Tensor2D {
  const [logBetaDev, logBetaMean] = tf.unstack(params.logits);
  const mean = (x: tf.Tensor2D) => unitRows(tf.mul(centreRows(x), params.meanWeight));
  let logits = tf.mul(tf.matMul(mean(a.mean), mean(b.mean), false, true), tf.exp(logBetaMean));
  if (switches.deviations) {
    const dev = (x: tf.Tensor3D) => {
      const [N, K, F] = x.shape;
      return unitRows(tf.reshape(tf.mul(x, params.devWeight), [N, K * F]));
    };
    logits = tf.add(logits, tf.mul(tf.matMul(dev(a.dev), dev(b.dev), false, true), tf.exp(logBetaDev)));
  }
  return logits as tf.Tensor2D;
}

/** Per gene, the correlation over the support of r_s with its leave-one-out transfer from the others: [G]. */
function contextRepresentation(
  params: TransferWeights,
  switches: TransferSwitches,
  inputs: TransferInputs,
): tf.Tensor1D {
  const S = inputs.devSupport.shape[0];
  const support = { dev: inputs.devSupport, mean: inputs.meanSupport };
  // A support pair never attends to itself: its logit is pushed far below the others.
  const self = tf.mul(tf.eye(S), -1e4);
  const sink = tf.unstack(params.logits)[2];
  const loo = tf.matMul(
    attend(tf.add(similarity(params, switches, support, support), self) as tf.Tensor2D, sink),
    inputs.residual,
  );
  const columnSum = (x: tf.Tensor2D) => tf.matMul(tf.ones([1, S]), x);
  const r = inputs.residual;
  const covariance = columnSum(tf.mul(loo, r) as tf.Tensor2D);
  const norms = tf.sqrt(
    tf.add(tf.mul(columnSum(tf.square(loo) as tf.Tensor2D), columnSum(tf.square(r) as tf.Tensor2D)), 1e-12),
  );
  return tf.reshape(tf.div(covariance, norms), [-1]);
}

/** Attention of the queries over the support, [Q, S] (rows sum to at most 1; the rest goes to the sink). */
export function transferAttention(
  params: TransferWeights,
  switches: TransferSwitches,
  inputs: TransferInputs,
): tf.Tensor2D {
  const logits = similarity(
    params,
    switches,
    { dev: inputs.devQuery, mean: inputs.meanQuery },
    { dev: inputs.devSupport, mean: inputs.meanSupport },
  );
  return attend(logits, tf.unstack(params.logits)[2]);
}

/**
 * The linear transfer's coefficients l [Q, S] = D_q D_s^T (D_s D_s^T + ridge I)^-1: each query's deviation
 * profiles as a ridge combination of the support's (unweighted, over the feature genes).
 */
function linearTransfer(inputs: TransferInputs, supportInverse: tf.Tensor2D): tf.Tensor2D {
  const [Q, K, F] = inputs.devQuery.shape;
  const S = inputs.devSupport.shape[0];
  const cross = tf.matMul(
    tf.reshape(inputs.devQuery, [Q, K * F]) as tf.Tensor2D,
    tf.reshape(inputs.devSupport, [S, K * F]) as tf.Tensor2D,
    false,
    true,
  );
  return tf.matMul(cross, supportInverse);
}

/** The transferred deviation of each query, [Q, G] (scaled units). */
export function transferForward(
  packed: TransferParameters,
  switches: TransferSwitches,
  inputs: TransferInputs,
): tf.Tensor2D {
  const params = transferWeights(packed);
  const attention = transferAttention(params, switches, inputs);
  const weights = inputs.supportInverse
    ? tf.mul(tf.add(attention, linearTransfer(inputs, inputs.supportInverse)), 0.5)
    : attention;
  const attended = tf.matMul(weights, inputs.residual);
  const transferred = inputs.mix ? tf.add(attended, inputs.mix) : attended;
  let gain: tf.Tensor = params.gain;
  if (switches.context && inputs.devSupport.shape[0] >= 2) {
    gain = tf.mul(gain, tf.exp(tf.mul(contextRepresentation(params, switches, inputs), params.context)));
  }
  return tf.mul(transferred, gain);
}

/**
 * Mean squared error of predicted [Q, G] against a constant target: the same value and gradient, operation
 * for operation, as tf.mean(tf.squaredDifference(predicted, target)), whose gradient would upload a [Q, G]
 * array of ones every step.
 */
export function meanSquaredError(predicted: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([x]);
    return {
      value: tf.mean(tf.squaredDifference(x, target)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.mul(tf.div(dy, x.size), tf.mul(tf.sub(saved[0], target), 2)),
    };
  });
  return loss(predicted) as tf.Scalar;
}
