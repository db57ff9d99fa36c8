/*
 * The WGSL of the fused transfer kernels' programs (transfer-webgpu.ts runs them): transfer-maths.ts's
 * algorithm, one thread per output element or row. A step's rows are the queries' (Q) and, when the context
 * representation is on, the support's attending to itself (S more): RA rows. Sizes are uniforms (Q, S, K, F,
 * G and the thread count); the switches are baked in.
 *   rows       per row of the Q + S mean or dev profiles: |x w|, the row mean (means), per-gene sums of x^2
 *   cosines    per (row, support pair): the mean and dev cosines, and the plain dev product (linear)
 *   attend     per row: softmax over the support and the sink; the linear transfer's average (queries)
 *   context    per gene: rho and what its gradient reads
 *   transfer   per (query, gene): W R + mix, times the gain (predict) or not (the step)
 *   genes      per gene: the loss's share, d gain, d kappa's share, d cov and d sum loo^2
 *   attendBack per row: d logits and the sink's share
 *   moments    per (support pair, column): M = beta (dL / |z_a|)^T x_a, of the mean or dev rows
 *   gradient   per feature gene: d w_mean or d w_dev (transfer-maths.ts cosineWeightGradient)
 *   assemble   per packed weight: the gradient [2F + G + 4];  loss: one thread.
 */

/** Which parts a step's programs carry (baked into the shaders). */
export interface TransferShape {
  deviations: boolean;
  /** The context representation: its switch on and S >= 2. */
  context: boolean;
  mix: boolean;
  linear: boolean;
}

/** WGSL shared by the programs: sizes, the packed weights' offsets, rows' profiles. */
export function prelude(s: TransferShape, names: string[]): string {
  const has = (name: string) => names.includes(name);
  return `
fn sizeQ() -> i32 { return uniforms.Q; }
fn sizeS() -> i32 { return uniforms.S; }
fn sizeF() -> i32 { return uniforms.F; }
fn sizeG() -> i32 { return uniforms.G; }
fn sizeKF() -> i32 { return uniforms.K * uniforms.F; }
fn rowsAttending() -> i32 { return uniforms.Q + ${s.context ? 'uniforms.S' : '0'}; }
fn logitsAt() -> i32 { return 2 * uniforms.F + uniforms.G; }
${
  has('weights')
    ? `fn scaleOf(g: i32) -> f32 {
  let gain = weights[2 * uniforms.F + g];
  ${has('ctxOut') ? 'return gain * exp(weights[logitsAt() + 3] * ctxOut[g]);' : 'return gain;'}
}`
    : ''
}
${has('devQ') ? 'fn devAt(n: i32, j: i32) -> f32 { if (n < uniforms.Q) { return devQ[n * sizeKF() + j]; } return devS[(n - uniforms.Q) * sizeKF() + j]; }' : ''}
${has('meanQ') ? 'fn meanRaw(n: i32, j: i32) -> f32 { if (n < uniforms.Q) { return meanQ[n * uniforms.F + j]; } return meanS[(n - uniforms.Q) * uniforms.F + j]; }' : ''}
${has('rowsMean') ? 'fn meanAt(n: i32, j: i32) -> f32 { return meanRaw(n, j) - rowsMean[uniforms.Q + uniforms.S + n]; }' : ''}
`;
}

/** Each program's inputs (by their WGSL names), output size, threads and body, for a step's shape. */
export function programs(s: TransferShape, Q: number, S: number, K: number, F: number, G: number) {
  const RA = Q + (s.context ? S : 0);
  const R = Q + S;
  const KF = K * F;
  const dev = (names: string[]) => (s.deviations ? names : []);
  const ctx = (names: string[]) => (s.context ? names : []);
  return {
    rowsMean: {
      names: ['meanQ', 'meanS', 'weights'],
      size: 2 * R + R * F,
      threads: R,
      body: rowsBody('meanRaw', 'sizeF()', 'uniforms.F + f', true),
    },
    rowsDev: {
      names: ['devQ', 'devS', 'weights'],
      size: 2 * R + R * F,
      threads: R,
      body: rowsBody('devAt', 'sizeKF()', 'f', false),
    },
    cosines: {
      names: [
        'meanQ',
        'meanS',
        ...(s.deviations || s.linear ? ['devQ', 'devS'] : []),
        'weights',
        'rowsMean',
        ...dev(['rowsDev']),
      ],
      size: 2 * RA * S + Q * S,
      threads: RA * S,
      body: cosinesBody(s),
    },
    attend: {
      names: ['cosAll', 'weights', ...(s.linear ? ['inverse'] : [])],
      size: RA * S + RA + Q * S,
      threads: RA,
      body: attendBody(s),
    },
    context: { names: ['attn', 'resid'], size: 4 * G, threads: G, body: contextBody },
    transfer: (predict: boolean) => ({
      names: ['attn', 'resid', ...(s.mix ? ['mixed'] : []), 'weights', ...ctx(['ctxOut'])],
      size: Q * G,
      threads: Q * G,
      body: transferBody(s, predict),
    }),
    genes: {
      names: ['trans', 'goal', 'weights', ...ctx(['ctxOut'])],
      size: 5 * G,
      threads: G,
      body: genesBody(s),
    },
    attendBack: {
      names: ['attn', 'trans', 'goal', 'resid', 'weights', ...ctx(['ctxOut']), 'genesOut'],
      size: RA * S + RA,
      threads: RA,
      body: attendBackBody(s),
    },
    momentsMean: {
      names: ['back', 'meanQ', 'meanS', 'weights', 'rowsMean'],
      size: S * F,
      threads: S * F,
      body: momentsBody('meanAt', 'rowsMean', 'sizeF()', 'logitsAt() + 1'),
    },
    momentsDev: {
      names: ['back', 'devQ', 'devS', 'weights', 'rowsDev'],
      size: S * KF,
      threads: S * KF,
      body: momentsBody('devAt', 'rowsDev', 'sizeKF()', 'logitsAt()'),
    },
    gradientMean: {
      names: ['mMean', 'back', 'cosAll', 'meanQ', 'meanS', 'weights', 'rowsMean'],
      size: F,
      threads: F,
      body: kindGradient('mMean', 'rowsMean', 'meanAt', '1', 'logitsAt() + 1', '0', 'uniforms.F'),
    },
    gradientDev: {
      names: ['mDev', 'back', 'cosAll', 'devQ', 'devS', 'weights', 'rowsDev'],
      size: F,
      threads: F,
      body: kindGradient('mDev', 'rowsDev', 'devAt', 'uniforms.K', 'logitsAt()', 'RA * S', '0'),
    },
    assemble: {
      names: [...dev(['gDev']), 'gMean', 'genesOut', 'back', 'cosAll', 'weights'],
      size: 2 * F + G + 4,
      threads: 2 * F + G + 4,
      body: assembleBody(s),
    },
    loss: { names: ['genesOut'], size: 1, threads: 1, body: lossBody },
  };
}

function rowsBody(at: string, width: string, weightAt: string, centre: boolean): string {
  return `
fn run(n: i32) {
  let R = uniforms.Q + uniforms.S;
  let F = sizeF();
  let D = ${width};
  var mean = 0.0;
  ${centre ? `for (var j = 0; j < D; j++) { mean += ${at}(n, j); }\n  mean = mean / f32(D);` : ''}
  var sum = 0.0;
  for (var f = 0; f < F; f++) {
    var squares = 0.0;
    for (var j = f; j < D; j += F) { let v = ${at}(n, j) - mean; squares += v * v; }
    result[2 * R + n * F + f] = squares;
    let w = weights[${weightAt}];
    sum += squares * w * w;
  }
  result[n] = sqrt(sum + 1e-12);
  result[R + n] = mean;
}`;
}

function cosinesBody(s: TransferShape): string {
  return `
fn run(index: i32) {
  let S = sizeS();
  let F = sizeF();
  let n = index / S;
  let b = uniforms.Q + index % S;
  let RA = rowsAttending();
  var dotMean = 0.0;
  for (var j = 0; j < F; j++) { let w = weights[F + j]; dotMean += meanAt(n, j) * meanAt(b, j) * w * w; }
  result[index] = dotMean / (rowsMean[n] * rowsMean[b]);
  var dotDev = 0.0;
  var plain = 0.0;
  ${
    s.deviations || s.linear
      ? `for (var k = 0; k < uniforms.K; k++) {
    for (var f = 0; f < F; f++) {
      let x = devAt(n, k * F + f) * devAt(b, k * F + f);
      ${s.deviations ? 'let w = weights[f];\n      dotDev += x * w * w;' : ''}
      plain += x;
    }
  }`
      : ''
  }
  result[RA * S + index] = ${s.deviations ? 'dotDev / (rowsDev[n] * rowsDev[b])' : '0.0'};
  if (n < uniforms.Q) { result[2 * RA * S + index] = plain; }
}`;
}

function attendBody(s: TransferShape): string {
  return `
fn logitOf(n: i32, b: i32) -> f32 {
  let S = sizeS();
  let at = n * S + b;
  var logit = exp(weights[logitsAt() + 1]) * cosAll[at];
  ${s.deviations ? 'logit += exp(weights[logitsAt()]) * cosAll[rowsAttending() * S + at];' : ''}
  if (n >= uniforms.Q && b == n - uniforms.Q) { logit += -10000.0; }
  return logit;
}
fn run(n: i32) {
  let S = sizeS();
  let RA = rowsAttending();
  let sink = weights[logitsAt() + 2];
  var top = sink;
  for (var b = 0; b < S; b++) { top = max(top, logitOf(n, b)); }
  var total = exp(sink - top);
  for (var b = 0; b < S; b++) { total += exp(logitOf(n, b) - top); }
  for (var b = 0; b < S; b++) { result[n * S + b] = exp(logitOf(n, b) - top) / total; }
  result[RA * S + n] = exp(sink - top) / total;
  ${
    s.linear
      ? `if (n < uniforms.Q) {
    for (var b = 0; b < S; b++) {
      var linear = 0.0;
      for (var c = 0; c < S; c++) { linear += cosAll[2 * RA * S + n * S + c] * inverse[c * S + b]; }
      result[RA * S + RA + n * S + b] = 0.5 * (result[n * S + b] + linear);
    }
  }`
      : ''
  }
}`;
}

const contextBody = `
fn run(g: i32) {
  let S = sizeS();
  let G = sizeG();
  var covariance = 0.0;
  var looSquares = 0.0;
  var squares = 0.0;
  for (var s = 0; s < S; s++) {
    var loo = 0.0;
    for (var c = 0; c < S; c++) { loo += attn[(uniforms.Q + s) * S + c] * resid[c * G + g]; }
    let r = resid[s * G + g];
    covariance += loo * r;
    looSquares += loo * loo;
    squares += r * r;
  }
  let norm = sqrt(looSquares * squares + 1e-12);
  result[g] = covariance / norm;
  result[G + g] = norm;
  result[2 * G + g] = covariance;
  result[3 * G + g] = squares;
}`;

/** The weights W [Q, S] the queries transfer by: the attention, or its average with the linear transfer. */
function weightOf(s: TransferShape): string {
  const at = s.linear ? 'rowsAttending() * sizeS() + rowsAttending() + q * sizeS() + b' : 'q * sizeS() + b';
  return `fn weightOf(q: i32, b: i32) -> f32 { return attn[${at}]; }`;
}

function transferBody(s: TransferShape, predict: boolean): string {
  return `
${weightOf(s)}
fn run(index: i32) {
  let G = sizeG();
  let q = index / G;
  let g = index % G;
  var value = ${s.mix ? 'mixed[index]' : '0.0'};
  for (var b = 0; b < sizeS(); b++) { value += weightOf(q, b) * resid[b * G + g]; }
  result[index] = ${predict ? 'value * scaleOf(g)' : 'value'};
}`;
}

function genesBody(s: TransferShape): string {
  return `
fn run(g: i32) {
  let G = sizeG();
  let Q = sizeQ();
  let scale = scaleOf(g);
  var lossPart = 0.0;
  var dScale = 0.0;
  for (var q = 0; q < Q; q++) {
    let t = trans[q * G + g];
    let error = t * scale - goal[q * G + g];
    lossPart += error * error;
    dScale += 2.0 * error / f32(Q * G) * t;
  }
  result[g] = lossPart;
  result[G + g] = ${s.context ? 'dScale * exp(weights[logitsAt() + 3] * ctxOut[g])' : 'dScale'};
  ${
    s.context
      ? `let dExponent = dScale * scale;
  let rho = ctxOut[g];
  let norm = ctxOut[G + g];
  let dRho = dExponent * weights[logitsAt() + 3];
  result[2 * G + g] = dExponent * rho;
  result[3 * G + g] = dRho / norm;
  let dNorm = -dRho * ctxOut[2 * G + g] / (norm * norm);
  result[4 * G + g] = dNorm * ctxOut[3 * G + g] / (2.0 * norm);`
      : ''
  }
}`;
}

function attendBackBody(s: TransferShape): string {
  return `
fn run(n: i32) {
  let S = sizeS();
  let G = sizeG();
  let Q = sizeQ();
  let RA = rowsAttending();
  for (var b = 0; b < S; b++) { result[n * S + b] = 0.0; }
  if (n < Q) {
    for (var g = 0; g < G; g++) {
      let scale = scaleOf(g);
      let dT = 2.0 * (trans[n * G + g] * scale - goal[n * G + g]) / f32(Q * G) * scale;
      for (var b = 0; b < S; b++) { result[n * S + b] += dT * resid[b * G + g]; }
    }
    for (var b = 0; b < S; b++) { result[n * S + b] *= ${s.linear ? '0.5' : '1.0'}; }
  }${
    s.context
      ? ` else {
    let own = n - Q;
    for (var g = 0; g < G; g++) {
      var loo = 0.0;
      for (var c = 0; c < S; c++) { loo += attn[n * S + c] * resid[c * G + g]; }
      let dLoo = genesOut[3 * G + g] * resid[own * G + g] + 2.0 * genesOut[4 * G + g] * loo;
      for (var b = 0; b < S; b++) { result[n * S + b] += dLoo * resid[b * G + g]; }
    }
  }`
      : ''
  }
  var mean = 0.0;
  for (var b = 0; b < S; b++) { mean += attn[n * S + b] * result[n * S + b]; }
  for (var b = 0; b < S; b++) { result[n * S + b] = attn[n * S + b] * (result[n * S + b] - mean); }
  result[RA * S + n] = -attn[RA * S + n] * mean;
}`;
}

/** M [S, D] of one kind of rows: beta sum over the attending rows a of dL_ab x_a / |z_a|. */
function momentsBody(x: string, rows: string, width: string, logBeta: string): string {
  return `
fn run(index: i32) {
  let S = sizeS();
  let b = index / ${width};
  let j = index % ${width};
  var sum = 0.0;
  for (var a = 0; a < rowsAttending(); a++) { sum += back[a * S + b] * ${x}(a, j) / ${rows}[a]; }
  result[index] = exp(weights[${logBeta}]) * sum;
}`;
}

/**
 * d w_f of one kind of rows (transfer-maths.ts cosineWeightGradient over both attentions): `moments` its M,
 * `rows` its rows buffer, `x` its profile reader, `blocks` K or 1, its logit scale and cosines' offset, and
 * where its weights start in the packed vector.
 */
function kindGradient(
  moments: string,
  rows: string,
  x: string,
  blocks: string,
  logBeta: string,
  cos: string,
  weightsAt: string,
) {
  return `
fn run(f: i32) {
  let S = sizeS();
  let F = sizeF();
  let Q = sizeQ();
  let RA = rowsAttending();
  let R = Q + S;
  let beta = exp(weights[${logBeta}]);
  var inner = 0.0;
  for (var b = 0; b < S; b++) {
    let row = Q + b;
    let norm = ${rows}[row];
    for (var k = 0; k < ${blocks}; k++) {
      inner += 2.0 * ${moments}[(b * ${blocks} + k) * F + f] * ${x}(row, k * F + f) / norm;
    }
    var rowSum = 0.0;
    for (var a = 0; a < RA; a++) { rowSum += beta * back[a * S + b] * cosAll[${cos} + a * S + b]; }
    inner -= rowSum / (norm * norm) * ${rows}[2 * R + row * F + f];
  }
  for (var a = 0; a < RA; a++) {
    var rowSum = 0.0;
    for (var b = 0; b < S; b++) { rowSum += beta * back[a * S + b] * cosAll[${cos} + a * S + b]; }
    let norm = ${rows}[a];
    inner -= rowSum / (norm * norm) * ${rows}[2 * R + a * F + f];
  }
  result[f] = weights[${weightsAt} + f] * inner;
}`;
}

function assembleBody(s: TransferShape): string {
  return `
fn run(i: i32) {
  let F = sizeF();
  let G = sizeG();
  let S = sizeS();
  let RA = rowsAttending();
  let at = logitsAt();
  if (i < F) { result[i] = ${s.deviations ? 'gDev[i]' : '0.0'}; return; }
  if (i < 2 * F) { result[i] = gMean[i - F]; return; }
  if (i < at) { result[i] = genesOut[G + i - 2 * F]; return; }
  var sum = 0.0;
  if (i == at) {
    ${s.deviations ? 'for (var p = 0; p < RA * S; p++) { sum += back[p] * cosAll[RA * S + p]; } sum *= exp(weights[at]);' : ''}
  } else if (i == at + 1) {
    for (var p = 0; p < RA * S; p++) { sum += back[p] * cosAll[p]; }
    sum *= exp(weights[at + 1]);
  } else if (i == at + 2) {
    for (var n = 0; n < RA; n++) { sum += back[RA * S + n]; }
  } else {
    ${s.context ? 'for (var g = 0; g < G; g++) { sum += genesOut[2 * G + g]; }' : ''}
  }
  result[i] = sum;
}`;
}

const lossBody = `
fn run(i: i32) {
  var sum = 0.0;
  for (var g = 0; g < sizeG(); g++) { sum += genesOut[g]; }
  result[0] = sum / f32(sizeQ() * sizeG());
}`;
