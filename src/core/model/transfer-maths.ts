/*
 * The transfer path's forward pass, squared-error loss and gradient with respect to the packed weights, by
 * hand (transfer.ts `transferForward` and `meanSquaredError`), over plain typed arrays: the cpu and wasm
 * bodies of the fused transfer kernels (transfer-kernel.ts). No imports, so that both backends share it as is;
 * the matrix products come in as a function (`Product`: plain loops on cpu, the backend's matMul on wasm).
 * Sums are float64 except inside wasm's products; the results agree with tfjs's float32 autodiff to its
 * rounding. The WebGPU programs (transfer-wgsl.ts) are the same algorithm.
 *
 * Shapes (row-major): Q queries, S support, K references, F feature genes, G genes. With Mx the unit rows of
 * centre(mean_x) * w_mean and Dx those of dev_x * w_dev ([N, K F]):
 *   L [Q, S] = beta_mean Mq Ms^T + beta_dev Dq Ds^T          (the dev term only with `deviations`)
 *   A = softmax over [L, sink] without the sink's column;  W = A, or (A + Lin) / 2 with the linear transfer
 *   T = W R + mix;  pred = T * gain * exp(kappa rho)      (the exp only with `context` and S >= 2)
 *   rho_g = sum_s loo_sg R_sg / sqrt(sum_s loo_sg^2 sum_s R_sg^2 + 1e-12),  loo = Ass R,
 *   Ass = softmax over [Lss - 1e4 I, sink] without the sink's column (Lss: L of the support with itself)
 *   loss = mean over Q G of (pred - target)^2.
 * The backward pass runs the same chain in reverse; the weights' gradient through the cosines is in closed
 * form (cosineWeightGradient), one product per attention.
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

/**
 * op(a) [m, k] times op(b) [k, n], row-major, op transposing when asked: the host's large products (the
 * wasm body runs them in the backend's matMul; hostProduct is plain loops).
 */
export type Product = (
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean,
) => Float32Array | Float64Array;

/** Product in plain loops (float64 sums), for the cases the kernels use: (a, b), (a, b^T) and (a^T, b). */
export const hostProduct: Product = (a, b, m, k, n, transposeA, transposeB) => {
  const out = new Float64Array(m * n);
  if (transposeB) {
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let l = 0; l < k; l++) sum += a[i * k + l] * b[j * k + l];
        out[i * n + j] = sum;
      }
    return out;
  }
  for (let l = 0; l < k; l++)
    for (let i = 0; i < m; i++) {
      const v = transposeA ? a[l * m + i] : a[i * k + l];
      if (v === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += v * b[l * n + j];
    }
  return out;
};

/**
 * Rows x [N, D] (D = K F) compared after weighting by w (period F): |x_n * w| per row (with 1e-12), and
 * squares [N, F], sum over the K blocks of x^2.
 */
interface Rows {
  x: Float32Array;
  N: number;
  norm: Float64Array;
  squares: Float64Array;
}

function weightedRows(x: Float32Array, N: number, D: number, w: Float32Array): Rows {
  const F = w.length;
  const norm = new Float64Array(N);
  const squares = new Float64Array(N * F);
  for (let n = 0; n < N; n++) {
    for (let j = n * D; j < (n + 1) * D; j += F)
      for (let f = 0; f < F; f++) squares[n * F + f] += x[j + f] * x[j + f];
    let sum = 0;
    for (let f = 0; f < F; f++) sum += squares[n * F + f] * w[f] * w[f];
    norm[n] = Math.sqrt(sum + 1e-12);
  }
  return { x, N, norm, squares };
}

/** Each row of x [N, D] less its mean (transfer.ts centreRows). */
function centred(x: Float32Array, N: number, D: number): Float32Array {
  const out = new Float32Array(N * D);
  for (let n = 0; n < N; n++) {
    let mean = 0;
    for (let j = 0; j < D; j++) mean += x[n * D + j];
    mean /= D;
    for (let j = 0; j < D; j++) out[n * D + j] = x[n * D + j] - mean;
  }
  return out;
}

/** x [N, D] times w^2 (period F). */
function timesWeightSquared(x: Float32Array, w: Float32Array): Float32Array {
  const F = w.length;
  const out = new Float32Array(x.length);
  for (let j = 0; j < x.length; j += F) for (let f = 0; f < F; f++) out[j + f] = x[j + f] * w[f] * w[f];
  return out;
}

/** Cosines [Na, Nb] of the weighted rows of a and b, from the product a.x (b.x w^2)^T [Na, Nb]. */
function cosines(products: ArrayLike<number>, a: Rows, b: Rows, stride = b.N): Float64Array {
  const out = new Float64Array(a.N * b.N);
  for (let i = 0; i < a.N; i++)
    for (let k = 0; k < b.N; k++) out[i * b.N + k] = products[i * stride + k] / (a.norm[i] * b.norm[k]);
  return out;
}

/**
 * Adds into dw [F] the gradient of sum_ab c_ab cos_ab with respect to w, cos_ab the cosine of rows a_i * w
 * and b_k * w (D = K F, w repeated over the K blocks), in closed form with one product: with
 * M = (c / |z_a|)^T a.x [Nb, D] and the rows' c-weighted cosine sums r,
 *   dw_f = w_f ( 2 sum_bk M_bkf x_bkf / |z_b| - sum_{rows of a and b} r / |z|^2 sum_k x_kf^2 ).
 */
function cosineWeightGradient(
  c: Float64Array,
  cos: Float64Array,
  a: Rows,
  b: Rows,
  D: number,
  w: Float32Array,
  product: Product,
  dw: Float64Array,
): void {
  const F = w.length;
  const scaled = new Float32Array(a.N * b.N);
  const sums = { a: new Float64Array(a.N), b: new Float64Array(b.N) };
  for (let i = 0; i < a.N; i++)
    for (let k = 0; k < b.N; k++) {
      const weight = c[i * b.N + k];
      scaled[i * b.N + k] = weight / a.norm[i];
      sums.a[i] += weight * cos[i * b.N + k];
      sums.b[k] += weight * cos[i * b.N + k];
    }
  const M = product(scaled, a.x, b.N, a.N, D, true, false);
  const inner = new Float64Array(F);
  for (let k = 0; k < b.N; k++) {
    const inverse = 1 / b.norm[k];
    for (let j = k * D; j < (k + 1) * D; j += F)
      for (let f = 0; f < F; f++) inner[f] += 2 * M[j + f] * b.x[j + f] * inverse;
  }
  for (const [rows, rowSums] of [
    [a, sums.a],
    [b, sums.b],
  ] as const)
    for (let r = 0; r < rows.N; r++) {
      const scale = rowSums[r] / (rows.norm[r] * rows.norm[r]);
      for (let f = 0; f < F; f++) inner[f] -= scale * rows.squares[r * F + f];
    }
  for (let f = 0; f < F; f++) dw[f] += w[f] * inner[f];
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

/** Products of float64 values (small: [Q, S], [S, S], [Q, G]) through the host's product. */
function productOf(
  product: Product,
  a: Float64Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  transposeB = false,
) {
  const out = product(Float32Array.from(a), b, m, k, n, false, transposeB);
  return out instanceof Float64Array ? out : Float64Array.from(out);
}

/** The forward pass's values that the backward pass reads. */
function forwardPass(a: TransferArrays, z: TransferSizes, flags: TransferFlags, product: Product) {
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
    q: weightedRows(centred(a.meanQuery, Q, F), Q, F, meanWeight),
    s: weightedRows(centred(a.meanSupport, S, F), S, F, meanWeight),
  };
  const meanSupportW = timesWeightSquared(mean.s.x, meanWeight);
  const dev = flags.deviations
    ? { q: weightedRows(a.devQuery, Q, KF, devWeight), s: weightedRows(a.devSupport, S, KF, devWeight) }
    : undefined;
  const devSupportW = dev && timesWeightSquared(a.devSupport, devWeight);
  // The queries' dev products with the weighted support rows and, for the linear transfer, the plain ones.
  const right = [...(devSupportW ? [devSupportW] : []), ...(a.supportInverse ? [a.devSupport] : [])];
  const stacked = new Float32Array(right.length * S * KF);
  right.forEach((r, i) => stacked.set(r, i * S * KF));
  const queryDev =
    right.length > 0 ? product(a.devQuery, stacked, Q, KF, right.length * S, false, true) : undefined;
  /** Cosines of the mean and dev rows of x to the support's, and the similarity logits. */
  const similarity = (x: 'q' | 's', N: number) => {
    const cosMean = cosines(product(mean[x].x, meanSupportW, N, F, S, false, true), mean[x], mean.s);
    let cosDev: Float64Array | undefined;
    if (dev && devSupportW) {
      const products = x === 'q' ? queryDev! : product(a.devSupport, devSupportW, S, KF, S, false, true);
      cosDev = cosines(products, dev[x], dev.s, x === 'q' ? right.length * S : S);
    }
    const logits = cosMean.map((c, i) => betaMean * c + (cosDev ? betaDev * cosDev[i] : 0));
    return { cosMean, cosDev, logits };
  };
  const query = similarity('q', Q);
  const attention = attend(query.logits, Q, S, sink);
  let weights = attention.shares;
  if (a.supportInverse) {
    const plain = new Float64Array(Q * S);
    const offset = (right.length - 1) * S;
    for (let q = 0; q < Q; q++)
      for (let s = 0; s < S; s++) plain[q * S + s] = queryDev![q * right.length * S + offset + s];
    const linear = productOf(product, plain, a.supportInverse, Q, S, S);
    weights = attention.shares.map((v, i) => 0.5 * (v + linear[i]));
  }
  const transferred = productOf(product, weights, a.residual, Q, S, G);
  if (a.mix) for (let i = 0; i < Q * G; i++) transferred[i] += a.mix[i];
  const context =
    flags.context && S >= 2
      ? contextPass(a.residual, z, similarity('s', S), sink, kappa, product)
      : undefined;
  const scale = Float64Array.from(gain, (v, g) => v * (context ? context.factor[g] : 1));
  const predicted = new Float64Array(Q * G);
  for (let q = 0; q < Q; q++)
    for (let g = 0; g < G; g++) predicted[q * G + g] = transferred[q * G + g] * scale[g];
  return {
    ...{ meanWeight, devWeight, gain, kappa, betaDev, betaMean, mean, dev, query, attention },
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
  product: Product,
) {
  const { S, G } = z;
  const logits = self.logits.map((v, i) => (i % (S + 1) === 0 ? v + SELF_LOGIT : v));
  const attention = attend(logits, S, S, sink);
  const loo = productOf(product, attention.shares, residual, S, S, G);
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
  product: Product = hostProduct,
): void {
  predicted.set(forwardPass(a, sizes, flags, product).predicted);
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
  product: Product = hostProduct,
): number {
  const { Q, S, K, F, G } = sizes;
  const KF = K * F;
  const f = forwardPass(a, sizes, flags, product);
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

  /** Back through logits [N, S] = beta_mean cosMean + beta_dev cosDev of rows x against the support's. */
  const similarityBackward = (
    dLogits: Float64Array,
    sim: { cosMean: Float64Array; cosDev: Float64Array | undefined },
    x: 'q' | 's',
  ) => {
    const through = (
      beta: number,
      cos: Float64Array,
      rows: Rows,
      support: Rows,
      D: number,
      w: Float32Array,
      dw: Float64Array,
    ) => {
      const c = dLogits.map((d) => beta * d);
      let dLogBeta = 0;
      for (let i = 0; i < c.length; i++) dLogBeta += c[i] * cos[i];
      cosineWeightGradient(c, cos, rows, support, D, w, product, dw);
      return dLogBeta;
    };
    grad[LOGITS + 1] += through(f.betaMean, sim.cosMean, f.mean[x], f.mean.s, F, f.meanWeight, dMeanWeight);
    if (f.dev && sim.cosDev)
      grad[LOGITS] += through(f.betaDev, sim.cosDev, f.dev[x], f.dev.s, KF, f.devWeight, dDevWeight);
  };

  const half = a.supportInverse ? 0.5 : 1;
  const dWeights = productOf(product, dTransferred, a.residual, Q, G, S, true).map((v) => half * v);
  const dLogits = new Float64Array(Q * S);
  grad[LOGITS + 2] += attendBackward(f.attention, dWeights, S, dLogits);
  similarityBackward(dLogits, f.query, 'q');

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
    const dShares = productOf(product, dLoo, a.residual, S, G, S, true);
    const dSelf = new Float64Array(S * S);
    grad[LOGITS + 2] += attendBackward(c.attention, dShares, S, dSelf);
    similarityBackward(dSelf, c.self, 's');
  }

  gradient.set(grad);
  return loss / (Q * G);
}
