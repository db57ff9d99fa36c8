import type * as tf from '@tensorflow/tfjs';
import { FIXED_FORM_INPUT_NAMES, type FixedFormFlags } from './fixed-form-maths';

/*
 * The fused fixed-form kernel on WebGPU (fixed-form-kernel.ts): fixed-form-maths.ts's algorithm in WGSL, run
 * by one workgroup that walks the block's genes (WORKGROUP threads, a gene each in turn) and meets at
 * barriers for the sums across genes (the contexts' mean variances, their gradient, the loss). A step is
 * dispatch-bound, not arithmetic-bound: one workgroup does its O(Gb (C + Q)) work in one dispatch. Three
 * programs from one source: the gradient [4, Gb], the loss [1] and the predictions [Q, Gb].
 */

const WORKGROUP = 256;
/** The prediction reads the first five inputs (no weights). */
const PREDICT_INPUTS = 5;

type FixedFormMode = 'gradient' | 'loss' | 'predict';
/** Contexts a step may have here: per-thread arrays of C values and workgroup memory grow with C. */
export const WEBGPU_MAX_CONTEXTS = 128;
/** tfjs's softplus switches to exp(x) below this and to x above its negation (its cpu kernel, float32). */
const SOFTPLUS_THRESHOLD = Math.log(1.1920928955078125e-7) + 2;

/** The kernels' inputs as the backend hands them over (shapes as in FixedFormTensors; predict: the first five). */
export type FixedFormInputInfos = Record<(typeof FIXED_FORM_INPUT_NAMES)[number], tf.TensorInfo>;

/** The slice of tfjs-backend-webgpu's backend and program interface this kernel uses. */
interface WebGpuBackend {
  runWebGPUProgram(program: FixedFormProgram, inputs: tf.TensorInfo[], dtype: 'float32'): tf.TensorInfo;
}

class FixedFormProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number] = [1, 1, 1];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];

  constructor(
    readonly mode: FixedFormMode,
    readonly contexts: number,
    readonly flags: FixedFormFlags,
    outputSize: number,
  ) {
    this.outputShape = [outputSize];
    this.variableNames = FIXED_FORM_INPUT_NAMES.slice(0, mode === 'predict' ? PREDICT_INPUTS : undefined);
    this.dispatchLayout = { x: [0] };
    const on = (f: boolean) => (f ? 1 : 0);
    this.shaderKey = `c3tlFixedForm_${mode}_${contexts}_${on(flags.denoise)}${on(flags.shift)}${on(flags.slope)}`;
  }

  getUserCode(): string {
    const C = this.contexts;
    const { denoise, shift, slope } = this.flags;
    const gradient = this.mode === 'gradient';
    const predict = this.mode === 'predict';
    return `
var<workgroup> partial: array<f32, ${WORKGROUP}>;
var<workgroup> meanVar: array<f32, ${C}>;
var<workgroup> dMeanVar: array<f32, ${C}>;

fn workgroupSum(value: f32) -> f32 {
  let t = localIndex;
  partial[t] = value;
  workgroupBarrier();
  for (var stride = ${WORKGROUP / 2}u; stride > 0u; stride = stride >> 1u) {
    if (t < stride) { partial[t] = partial[t] + partial[t + stride]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

fn moment(k: i32, c: i32, g: i32) -> f32 {
  return moments[(k * ${C} + c) * (uniforms.gatesShape / 4) + g];
}
fn deltaOf(g: i32) -> f32 {
  return ${denoise ? 'gateScale[0] * gates[g]' : '0.0'};
}
fn spreadOf(c: i32, g: i32, dg: f32) -> f32 {
  return moment(5, c, g) + dg * (2.0 * moment(6, c, g) + dg * moment(7, c, g));
}
fn softplus(x: f32) -> f32 {
  if (x < ${SOFTPLUS_THRESHOLD}) { return exp(x); }
  if (x > ${-SOFTPLUS_THRESHOLD}) { return x; }
  return log(1.0 + exp(x));
}

fn main(index: i32) {
  let Gb = uniforms.gatesShape / 4;
  let Q = uniforms.queryContextsShape;
  let t = i32(localIndex);
  let s0 = gateScale[0];
  let s1 = gateScale[1];
  let s2 = gateScale[2];
  let s3 = gateScale[3];

  ${
    slope
      ? `for (var c = 0; c < ${C}; c++) {
    var sum = 0.0;
    for (var g = t; g < Gb; g += ${WORKGROUP}) { sum += max(spreadOf(c, g, deltaOf(g)), 0.0); }
    let total = workgroupSum(sum);
    if (t == 0) { meanVar[c] = total / f32(Gb); }
  }
  workgroupBarrier();`
      : ''
  }

  var xMean: array<f32, ${C}>;
  var shiftValue: array<f32, ${C}>;
  var shiftTerm: array<f32, ${C}>;
  var ratio: array<f32, ${C}>;
  var denom: array<f32, ${C}>;
  var scale: array<f32, ${C}>;
  var sumE: array<f32, ${C}>;
  var sumS: array<f32, ${C}>;
  var dMeanVarPart: array<f32, ${C}>;
  var lossPart = 0.0;
  for (var g = t; g < Gb; g += ${WORKGROUP}) {
    let dg = deltaOf(g);
    let gamma = ${shift ? 's1 * gates[Gb + g]' : '0.0'};
    let beta = s2 * gates[2 * Gb + g];
    let kappa = s3 * gates[3 * Gb + g];
    let sp = softplus(kappa);
    for (var c = 0; c < ${C}; c++) {
      xMean[c] = moment(1, c, g) + dg * moment(2, c, g);
      shiftValue[c] = moment(0, c, g) - xMean[c];
      shiftTerm[c] = shiftValue[c] * (1.0 - gamma);
      scale[c] = 0.0;
      ${
        slope
          ? `let spread = spreadOf(c, g, dg);
      let cov = moment(3, c, g) + dg * moment(4, c, g) - spread;
      denom[c] = max(spread, 0.0) + meanVar[c] * sp + 0.000001;
      ratio[c] = cov / denom[c];
      scale[c] = ratio[c] * beta;`
          : ''
      }
      sumE[c] = 0.0;
      sumS[c] = 0.0;
    }
    ${
      predict
        ? `for (var q = 0; q < Q; q++) {
      let c = queryContexts[q];
      let x = rows[(Q + q) * Gb + g] + dg * rows[(2 * Q + q) * Gb + g];
      result[q * Gb + g] = x + shiftTerm[c] + scale[c] * (x - xMean[c]);
    }`
        : `let lossWeight = geneWeights[g] / f32(Gb);
    var dDelta = 0.0;
    for (var q = 0; q < Q; q++) {
      let c = queryContexts[q];
      let qd = rows[(2 * Q + q) * Gb + g];
      let x = rows[(Q + q) * Gb + g] + dg * qd;
      let centred = x - xMean[c];
      let error = x + shiftTerm[c] + scale[c] * centred - rows[q * Gb + g];
      let weighted = queryWeights[q] * lossWeight;
      lossPart += weighted * error * error;
      let e = 2.0 * weighted * error;
      sumE[c] += e;
      sumS[c] += e * centred;
      dDelta += e * (1.0 + scale[c]) * qd;
    }`
    }
    ${
      gradient
        ? `var dGamma = 0.0;
    var dBeta = 0.0;
    var dKappa = 0.0;
    for (var c = 0; c < ${C}; c++) {
      dGamma -= sumE[c] * shiftValue[c];
      dDelta -= (scale[c] * sumE[c] + sumE[c] * (1.0 - gamma)) * moment(2, c, g);
      ${
        slope
          ? `dBeta += sumS[c] * ratio[c];
      let dRatio = sumS[c] * beta;
      let dCov = dRatio / denom[c];
      let dDenom = -dRatio * ratio[c] / denom[c];
      dKappa += dDenom * meanVar[c];
      dMeanVarPart[c] += dDenom * sp;
      let spread = spreadOf(c, g, dg);
      let dSpread = select(0.0, dDenom, spread > 0.0) - dCov;
      dDelta += dCov * moment(4, c, g) + dSpread * 2.0 * (moment(6, c, g) + dg * moment(7, c, g));`
          : ''
      }
    }
    let sigmoid = 1.0 / (1.0 + exp(-kappa));
    result[g] = ${denoise ? 's0 * dDelta' : '0.0'};
    result[Gb + g] = ${shift ? 's1 * dGamma' : '0.0'};
    result[2 * Gb + g] = ${slope ? 's2 * dBeta' : '0.0'};
    result[3 * Gb + g] = ${slope ? 's3 * dKappa * sigmoid' : '0.0'};`
        : ''
    }
  }
  ${
    gradient && slope && denoise
      ? `for (var c = 0; c < ${C}; c++) {
    let total = workgroupSum(dMeanVarPart[c]);
    if (t == 0) { dMeanVar[c] = total; }
  }
  workgroupBarrier();
  for (var g = t; g < Gb; g += ${WORKGROUP}) {
    let dg = deltaOf(g);
    var dDelta = 0.0;
    for (var c = 0; c < ${C}; c++) {
      if (spreadOf(c, g, dg) > 0.0) {
        dDelta += dMeanVar[c] / f32(Gb) * 2.0 * (moment(6, c, g) + dg * moment(7, c, g));
      }
    }
    result[g] += s0 * dDelta;
  }`
      : ''
  }
  ${
    this.mode !== 'loss'
      ? ''
      : `let totalLoss = workgroupSum(lossPart);
  if (t == 0) { result[0] = totalLoss; }`
  }
}
`;
  }
}

/** Flat views of the inputs (runWebGPUProgram binds buffers by dataId; the shapes only feed uniforms). */
function flat(info: tf.TensorInfo): tf.TensorInfo {
  return { dataId: info.dataId, dtype: info.dtype, shape: [info.shape.reduce((a, b) => a * b, 1)] };
}

/** Genes and contexts of a call, checked against WEBGPU_MAX_CONTEXTS. */
function sizesOf(inputs: FixedFormInputInfos): { genes: number; contexts: number } {
  const genes = inputs.gates.shape[1];
  const contexts = inputs.moments.shape[0] / 8;
  if (contexts > WEBGPU_MAX_CONTEXTS) {
    throw new Error(
      `The fused step serves at most ${WEBGPU_MAX_CONTEXTS} contexts on WebGPU, not ${contexts}.`,
    );
  }
  return { genes, contexts };
}

/** The loss-and-gradient kernel's body on backend 'webgpu': [loss [], gradient [4, Gb]], two dispatches. */
export function fixedFormWebGpu(
  inputs: FixedFormInputInfos,
  flags: FixedFormFlags,
  backend: unknown,
): tf.TensorInfo[] {
  const gpu = backend as WebGpuBackend;
  const { genes, contexts } = sizesOf(inputs);
  const views = FIXED_FORM_INPUT_NAMES.map((name) => flat(inputs[name]));
  const run = (mode: FixedFormMode, size: number) =>
    gpu.runWebGPUProgram(new FixedFormProgram(mode, contexts, flags, size), views, 'float32');
  const loss = run('loss', 1);
  const gradient = run('gradient', 4 * genes);
  return [
    { dataId: loss.dataId, dtype: 'float32', shape: [] },
    { dataId: gradient.dataId, dtype: 'float32', shape: [4, genes] },
  ];
}

/** The prediction kernel's body on backend 'webgpu': predicted [Q, Gb], one dispatch. */
export function fixedFormPredictWebGpu(
  inputs: FixedFormInputInfos,
  flags: FixedFormFlags,
  backend: unknown,
): tf.TensorInfo {
  const { genes, contexts } = sizesOf(inputs);
  const [queries] = inputs.queryContexts.shape;
  const views = FIXED_FORM_INPUT_NAMES.slice(0, PREDICT_INPUTS).map((name) => flat(inputs[name]));
  const program = new FixedFormProgram('predict', contexts, flags, queries * genes);
  const predicted = (backend as WebGpuBackend).runWebGPUProgram(program, views, 'float32');
  return { dataId: predicted.dataId, dtype: 'float32', shape: [queries, genes] };
}
