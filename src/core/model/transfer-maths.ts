/*
 * The transfer path's forward pass, squared-error loss and gradient with respect to the packed weights, by
 * hand (transfer.ts `transferForward` and `meanSquaredError`), over plain typed arrays: the cpu and wasm
 * bodies of the fused transfer kernels (transfer-kernel.ts). No imports, so that both backends share it as is.
 * Intermediates are float64; the results agree with tfjs's float32 autodiff to its rounding.
 *
 * Shapes (row-major): Q queries, S support, K references, F feature genes, G genes. With Mx the unit rows of
 * centre(mean_x) * w_mean and Dx those of dev_x * w_dev ([N, K F]):
 *   L [Q, S] = beta_mean Mq Ms^T + beta_dev Dq Ds^T          (the dev term only with `deviations`)
 *   A = softmax over [L, sink] without the sink's column;  W = A, or (A + Lin) / 2 with the linear transfer
 *   T = W R + mix;  pred = T * gain * exp(kappa rho)      (the exp only with `context` and S >= 2)
 *   rho_g = sum_s loo_sg R_sg / sqrt(sum_s loo_sg^2 sum_s R_sg^2 + 1e-12),  loo = Ass R,
 *   Ass = softmax over [Lss - 1e4 I, sink] without the sink's column (Lss: L of the support with itself)
 *   loss = mean over Q G of (pred - target)^2.
 * The backward pass runs the same chain in reverse; the support's unit rows gather gradient from both
 * attentions before the unit-row and weight steps.
 */

/** The switches the kernels read (TransferSwitches.deviations and .context; mix and linear are inputs). */
export interface TransferFlags {
  deviations: boolean;
  context: boolean;
}

/** A step's arrays, row-major, shapes as in the header; mix, supportInverse and target are optional. */
export interface TransferArrays {
  /** [2F + G + 4]: devWeight [F], meanWeight [F], gain [G], logits [3], context [1]. */
  packed: Float32Array;
  devQuery: Float32Array;
  devSupport: Float32Array;
  meanQuery: Float32Array;
  meanSupport: Float32Array;
  residual: Float32Array;
  mix?: Float32Array;
  supportInverse?: Float32Array;
  target?: Float32Array;
}

/** TransferArrays' fields, in the order kernels take them. */
export const TRANSFER_INPUT_NAMES = [
  'packed',
  'devQuery',
  'devSupport',
  'meanQuery',
  'meanSupport',
  'residual',
  'mix',
  'supportInverse',
  'target',
] as const;

export interface TransferSizes {
  Q: number;
  S: number;
  K: number;
  F: number;
  G: number;
}

/** A self pair's logit shift in the context representation (transfer.ts contextRepresentation). */
const SELF_LOGIT = -1e4;

/** Rows of x [N, D] (centred first when asked) times w (period F), scaled to unit length. */
interface UnitRows {
  /** The rows before weighting (centred when asked), [N, D]. */
  base: Float64Array;
  unit: Float64Array;
  norm: Float64Array;
}

function unitRows(
  x: Float32Array,
  N: number,
  D: number,
  w: Float32Array,
  F: number,
  centre: boolean,
): UnitRows {
  const base = new Float64Array(N * D);
  const unit = new Float64Array(N * D);
  const norm = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let mean = 0;
    if (centre) {
      for (let j = 0; j < D; j++) mean += x[n * D + j];
      mean /= D;
    }
    let squares = 0;
    for (let j = 0; j < D; j++) {
      base[n * D + j] = x[n * D + j] - mean;
      const z = base[n * D + j] * w[j % F];
      unit[n * D + j] = z;
      squares += z * z;
    }
    norm[n] = Math.sqrt(squares + 1e-12);
    for (let j = 0; j < D; j++) unit[n * D + j] /= norm[n];
  }
  return { base, unit, norm };
}

/** Given the gradient dUnit [N, D] of a's unit rows, adds the weight's gradient into dw (period F). */
function unitRowsBackward(a: UnitRows, dUnit: Float64Array, D: number, dw: Float64Array, F: number): void {
  const N = a.norm.length;
  for (let n = 0; n < N; n++) {
    let along = 0;
    for (let j = 0; j < D; j++) along += a.unit[n * D + j] * dUnit[n * D + j];
    for (let j = 0; j < D; j++) {
      const dz = (dUnit[n * D + j] - a.unit[n * D + j] * along) / a.norm[n];
      dw[j % F] += dz * a.base[n * D + j];
    }
  }
}

/** Dot products of rows of a [Na, D] with rows of b [Nb, D]: [Na, Nb]. */
function cross(a: ArrayLike<number>, Na: number, b: ArrayLike<number>, Nb: number, D: number): Float64Array {
  const out = new Float64Array(Na * Nb);
  for (let i = 0; i < Na; i++)
    for (let k = 0; k < Nb; k++) {
      let sum = 0;
      for (let j = 0; j < D; j++) sum += a[i * D + j] * b[k * D + j];
      out[i * Nb + k] = sum;
    }
  return out;
}

/** Softmax of each row of logits [N, S] with a sink column: the shares [N, S] and the sink's [N]. */
function attend(logits: Float64Array, N: number, S: number, sink: number) {
  const shares = new Float64Array(N * S);
  const sinkShares = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let top = sink;
    for (let s = 0; s < S; s++) top = Math.max(top, logits[n * S + s]);
    let total = Math.exp(sink - top);
    for (let s = 0; s < S; s++) total += shares[n * S + s] = Math.exp(logits[n * S + s] - top);
    for (let s = 0; s < S; s++) shares[n * S + s] /= total;
    sinkShares[n] = Math.exp(sink - top) / total;
  }
  return { shares, sinkShares };
}

/** The logits' gradient [N, S] from the shares' (the sink's share has none) and the sink's, returned. */
function attendBackward(
  at: { shares: Float64Array; sinkShares: Float64Array },
  dShares: Float64Array,
  S: number,
  dLogits: Float64Array,
): number {
  let dSink = 0;
  for (let n = 0; n < at.sinkShares.length; n++) {
    let mean = 0;
    for (let s = 0; s < S; s++) mean += at.shares[n * S + s] * dShares[n * S + s];
    for (let s = 0; s < S; s++) dLogits[n * S + s] = at.shares[n * S + s] * (dShares[n * S + s] - mean);
    dSink -= at.sinkShares[n] * mean;
  }
  return dSink;
}

/** Row-major product a [N, J] times b [J, M]: [N, M]. */
function product(a: ArrayLike<number>, b: ArrayLike<number>, N: number, J: number, M: number): Float64Array {
  const out = new Float64Array(N * M);
  for (let n = 0; n < N; n++)
    for (let j = 0; j < J; j++) {
      const v = a[n * J + j];
      if (v === 0) continue;
      for (let m = 0; m < M; m++) out[n * M + m] += v * b[j * M + m];
    }
  return out;
}

/** The forward pass's values that the backward pass reads. */
function forwardPass(a: TransferArrays, z: TransferSizes, flags: TransferFlags) {
  const { Q, S, K, F, G } = z;
  const weight = (at: number, size: number) => a.packed.subarray(at, at + size);
  const devWeight = weight(0, F);
  const meanWeight = weight(F, F);
  const gain = weight(2 * F, G);
  const [logBetaDev, logBetaMean, sink] = weight(2 * F + G, 3);
  const kappa = a.packed[2 * F + G + 3];
  const betaDev = Math.exp(logBetaDev);
  const betaMean = Math.exp(logBetaMean);
  const KF = K * F;
  const mean = {
    q: unitRows(a.meanQuery, Q, F, meanWeight, F, true),
    s: unitRows(a.meanSupport, S, F, meanWeight, F, true),
  };
  const dev = flags.deviations
    ? {
        q: unitRows(a.devQuery, Q, KF, devWeight, F, false),
        s: unitRows(a.devSupport, S, KF, devWeight, F, false),
      }
    : undefined;
  /** Cosines of the mean and dev rows of x to the support's, and the similarity logits. */
  const similarity = (x: 'q' | 's', N: number) => {
    const cosMean = cross(mean[x].unit, N, mean.s.unit, S, F);
    const cosDev = dev ? cross(dev[x].unit, N, dev.s.unit, S, KF) : undefined;
    const logits = cosMean.map((c, i) => betaMean * c + (cosDev ? betaDev * cosDev[i] : 0));
    return { cosMean, cosDev, logits };
  };
  const query = similarity('q', Q);
  const attention = attend(query.logits, Q, S, sink);
  let weights = attention.shares;
  if (a.supportInverse) {
    const linear = product(cross(a.devQuery, Q, a.devSupport, S, KF), a.supportInverse, Q, S, S);
    weights = attention.shares.map((v, i) => 0.5 * (v + linear[i]));
  }
  const transferred = product(weights, a.residual, Q, S, G);
  if (a.mix) for (let i = 0; i < Q * G; i++) transferred[i] += a.mix[i];
  const context =
    flags.context && S >= 2 ? contextPass(a.residual, z, similarity('s', S), sink, kappa) : undefined;
  const scale = Float64Array.from(gain, (v, g) => v * (context ? context.factor[g] : 1));
  const predicted = new Float64Array(Q * G);
  for (let q = 0; q < Q; q++)
    for (let g = 0; g < G; g++) predicted[q * G + g] = transferred[q * G + g] * scale[g];
  return {
    ...{ gain, kappa, betaDev, betaMean, mean, dev, query, attention },
    ...{ transferred, context, scale, predicted },
  };
}

/** The context representation rho [G] and its factor exp(kappa rho), with what its gradient reads. */
function contextPass(
  residual: Float32Array,
  z: TransferSizes,
  self: { cosMean: Float64Array; cosDev: Float64Array | undefined; logits: Float64Array },
  sink: number,
  kappa: number,
) {
  const { S, G } = z;
  const logits = self.logits.map((v, i) => (i % (S + 1) === 0 ? v + SELF_LOGIT : v));
  const attention = attend(logits, S, S, sink);
  const loo = product(attention.shares, residual, S, S, G);
  const covariance = new Float64Array(G);
  const looSquares = new Float64Array(G);
  const squares = new Float64Array(G);
  for (let s = 0; s < S; s++)
    for (let g = 0; g < G; g++) {
      const l = loo[s * G + g];
      const r = residual[s * G + g];
      covariance[g] += l * r;
      looSquares[g] += l * l;
      squares[g] += r * r;
    }
  const norms = looSquares.map((v, g) => Math.sqrt(v * squares[g] + 1e-12));
  const rho = covariance.map((v, g) => v / norms[g]);
  const factor = rho.map((v) => Math.exp(kappa * v));
  return { self, attention, loo, covariance, squares, norms, rho, factor };
}

/** The transferred deviation of each query, written into `predicted` [Q, G] (transferForward). */
export function transferPredict(
  a: TransferArrays,
  sizes: TransferSizes,
  flags: TransferFlags,
  predicted: Float32Array,
): void {
  predicted.set(forwardPass(a, sizes, flags).predicted);
}

/**
 * The loss mean((pred - target)^2) over [Q, G] (meanSquaredError of transferForward) and, written into
 * `gradient` [2F + G + 4], its gradient with respect to the packed weights. Needs `target`.
 */
export function transferLossAndGradient(
  a: TransferArrays,
  sizes: TransferSizes,
  flags: TransferFlags,
  gradient: Float32Array,
): number {
  const { Q, S, K, F, G } = sizes;
  const KF = K * F;
  const f = forwardPass(a, sizes, flags);
  const target = a.target!;
  const dPredicted = new Float64Array(Q * G);
  let loss = 0;
  for (let i = 0; i < Q * G; i++) {
    const error = f.predicted[i] - target[i];
    loss += error * error;
    dPredicted[i] = (2 * error) / (Q * G);
  }
  const dScale = new Float64Array(G);
  const dTransferred = new Float64Array(Q * G);
  for (let q = 0; q < Q; q++)
    for (let g = 0; g < G; g++) {
      dScale[g] += dPredicted[q * G + g] * f.transferred[q * G + g];
      dTransferred[q * G + g] = dPredicted[q * G + g] * f.scale[g];
    }
  const grad = new Float64Array(2 * F + G + 4);
  const dDevWeight = grad.subarray(0, F);
  const dMeanWeight = grad.subarray(F, 2 * F);
  const LOGITS = 2 * F + G;
  for (let g = 0; g < G; g++) grad[2 * F + g] = dScale[g] * (f.context ? f.context.factor[g] : 1);

  // Gradients of the unit rows, filled by both attentions.
  const dMean = { q: new Float64Array(Q * F), s: new Float64Array(S * F) };
  const dDev = { q: new Float64Array(Q * KF), s: new Float64Array(S * KF) };
  /** Back through logits = beta_mean cosMean + beta_dev cosDev of rows x against the support's. */
  const similarityBackward = (
    dLogits: Float64Array,
    sim: { cosMean: Float64Array; cosDev: Float64Array | undefined },
    x: 'q' | 's',
    N: number,
  ) => {
    const rows = (
      D: number,
      own: Float64Array,
      support: Float64Array,
      dOwn: Float64Array,
      dSupport: Float64Array,
      beta: number,
    ) => {
      for (let n = 0; n < N; n++)
        for (let s = 0; s < S; s++) {
          const d = beta * dLogits[n * S + s];
          if (d === 0) continue;
          for (let j = 0; j < D; j++) {
            dOwn[n * D + j] += d * support[s * D + j];
            dSupport[s * D + j] += d * own[n * D + j];
          }
        }
    };
    let dCosMean = 0;
    let dCosDev = 0;
    for (let i = 0; i < N * S; i++) {
      dCosMean += dLogits[i] * sim.cosMean[i];
      if (sim.cosDev) dCosDev += dLogits[i] * sim.cosDev[i];
    }
    grad[LOGITS + 1] += f.betaMean * dCosMean;
    rows(F, f.mean[x].unit, f.mean.s.unit, dMean[x], dMean.s, f.betaMean);
    if (f.dev) {
      grad[LOGITS] += f.betaDev * dCosDev;
      rows(KF, f.dev[x].unit, f.dev.s.unit, dDev[x], dDev.s, f.betaDev);
    }
  };

  const dWeights = new Float64Array(Q * S);
  const half = a.supportInverse ? 0.5 : 1;
  for (let q = 0; q < Q; q++)
    for (let s = 0; s < S; s++) {
      let sum = 0;
      for (let g = 0; g < G; g++) sum += dTransferred[q * G + g] * a.residual[s * G + g];
      dWeights[q * S + s] = half * sum;
    }
  const dLogits = new Float64Array(Q * S);
  grad[LOGITS + 2] += attendBackward(f.attention, dWeights, S, dLogits);
  similarityBackward(dLogits, f.query, 'q', Q);

  if (f.context) {
    const c = f.context;
    const dLoo = new Float64Array(S * G);
    for (let g = 0; g < G; g++) {
      const dExponent = dScale[g] * f.gain[g] * c.factor[g];
      grad[LOGITS + 3] += dExponent * c.rho[g];
      const dRho = dExponent * f.kappa;
      const dCovariance = dRho / c.norms[g];
      const dNorm = (-dRho * c.covariance[g]) / (c.norms[g] * c.norms[g]);
      const dLooSquares = (dNorm * c.squares[g]) / (2 * c.norms[g]);
      for (let s = 0; s < S; s++)
        dLoo[s * G + g] = dCovariance * a.residual[s * G + g] + 2 * dLooSquares * c.loo[s * G + g];
    }
    const dShares = cross(dLoo, S, a.residual, S, G);
    const dSelf = new Float64Array(S * S);
    grad[LOGITS + 2] += attendBackward(c.attention, dShares, S, dSelf);
    similarityBackward(dSelf, c.self, 's', S);
  }

  unitRowsBackward(f.mean.q, dMean.q, F, dMeanWeight, F);
  unitRowsBackward(f.mean.s, dMean.s, F, dMeanWeight, F);
  if (f.dev) {
    unitRowsBackward(f.dev.q, dDev.q, KF, dDevWeight, F);
    unitRowsBackward(f.dev.s, dDev.s, KF, dDevWeight, F);
  }
  gradient.set(grad);
  return loss / (Q * G);
}
