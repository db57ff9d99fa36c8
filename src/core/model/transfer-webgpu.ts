import type * as tf from '@tensorflow/tfjs';
import { prelude, programs, type TransferShape } from './transfer-wgsl';

/*
 * The fused transfer kernels on WebGPU (transfer-kernel.ts): transfer-wgsl.ts's programs run in turn, their
 * intermediates in buffers between dispatches (14 dispatches for a step with every switch on, 6 for
 * predictions). Sizes are uniforms, so a new episode size compiles nothing.
 */

const WORKGROUP = 64;
/** tfjs's webgpu programs bind every input as storage; a few names are kept off WGSL's reserved words. */
const INPUT_NAMES = {
  packed: 'weights',
  devQuery: 'devQ',
  devSupport: 'devS',
  meanQuery: 'meanQ',
  meanSupport: 'meanS',
  residual: 'resid',
  mix: 'mixed',
  supportInverse: 'inverse',
  target: 'goal',
} as const;
type InputName = keyof typeof INPUT_NAMES;

interface WebGpuBackend {
  runWebGPUProgram(
    program: TransferProgram,
    inputs: tf.TensorInfo[],
    dtype: 'float32',
    uniforms: { type: 'int32'; data: number[] }[],
  ): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

class TransferProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  uniforms = 'threads : i32, Q : i32, S : i32, K : i32, F : i32, G : i32,';

  constructor(
    readonly variableNames: string[],
    outputSize: number,
    threads: number,
    key: string,
    readonly body: string,
  ) {
    this.outputShape = [outputSize];
    this.dispatch = [Math.ceil(threads / WORKGROUP), 1, 1];
    this.shaderKey = `c3tlTransfer_${key}`;
  }

  /** Every input is referenced (a pipeline's automatic layout leaves out a binding its shader never uses). */
  getUserCode(): string {
    return `${this.body}
fn main(index: i32) {
  ${this.variableNames.map((name) => `_ = arrayLength(&${name});`).join(' ')}
  if (index >= uniforms.threads) { return; }
  run(index);
}`;
  }
}

/** The kernels' inputs as the backend hands them over (TransferInputs, the packed weights, the target). */
export type TransferInputInfos = Partial<Record<InputName, tf.TensorInfo>> &
  Record<'packed' | 'devQuery' | 'residual', tf.TensorInfo>;

/**
 * The fused transfer kernels' body on backend 'webgpu': [loss [], gradient [2F + G + 4]] (`gradient`) or
 * the predictions [Q, G] (`predict`). Intermediates are disposed here (the backend keeps them alive until
 * its queued dispatches have run).
 */
export function transferWebGpu(
  mode: 'gradient' | 'predict',
  inputs: TransferInputInfos,
  flags: { deviations: boolean; context: boolean },
  backend: unknown,
): tf.TensorInfo[] {
  const gpu = backend as WebGpuBackend;
  const [Q, K, F] = inputs.devQuery.shape;
  const [S, G] = inputs.residual.shape;
  const shape: TransferShape = {
    deviations: flags.deviations,
    context: flags.context && S >= 2,
    mix: inputs.mix !== undefined,
    linear: inputs.supportInverse !== undefined,
  };
  const key = (['deviations', 'context', 'mix', 'linear'] as const).map((k) => (shape[k] ? 1 : 0)).join('');
  const specs = programs(shape, Q, S, K, F, G);
  const buffers: Record<string, tf.TensorInfo> = {};
  for (const [name, info] of Object.entries(inputs) as [InputName, tf.TensorInfo][]) {
    buffers[INPUT_NAMES[name]] = {
      dataId: info.dataId,
      dtype: info.dtype,
      shape: [info.shape.reduce((a, b) => a * b, 1)],
    };
  }
  const made: tf.TensorInfo[] = [];
  const run = (name: string, spec: { names: string[]; size: number; threads: number; body: string }) => {
    const program = new TransferProgram(
      spec.names,
      spec.size,
      spec.threads,
      `${name}_${key}`,
      prelude(shape, spec.names) + spec.body,
    );
    const uniforms = [spec.threads, Q, S, K, F, G].map((v) => ({ type: 'int32' as const, data: [v] }));
    const out = gpu.runWebGPUProgram(
      program,
      spec.names.map((n) => buffers[n]),
      'float32',
      uniforms,
    );
    buffers[name] = out;
    made.push(out);
    return out;
  };
  run('rowsMean', specs.rowsMean);
  if (shape.deviations) run('rowsDev', specs.rowsDev);
  run('cosAll', specs.cosines);
  run('attn', specs.attend);
  if (shape.context) run('ctxOut', specs.context);
  const dispose = (keep: tf.TensorInfo[]) => {
    for (const info of made) if (!keep.includes(info)) gpu.disposeData(info.dataId);
  };
  if (mode === 'predict') {
    // Its own name: the name keys the compiled program, and this one scales by the gain.
    const predicted = run('predicted', specs.transfer(true));
    dispose([predicted]);
    return [{ dataId: predicted.dataId, dtype: 'float32', shape: [Q, G] }];
  }
  run('trans', specs.transfer(false));
  run('genesOut', specs.genes);
  run('back', specs.attendBack);
  run('mMean', specs.momentsMean);
  run('gMean', specs.gradientMean);
  if (shape.deviations) {
    run('mDev', specs.momentsDev);
    run('gDev', specs.gradientDev);
  }
  const gradient = run('gradient', specs.assemble);
  const loss = run('loss', specs.loss);
  dispose([gradient, loss]);
  return [
    { dataId: loss.dataId, dtype: 'float32', shape: [] },
    { dataId: gradient.dataId, dtype: 'float32', shape: [2 * F + G + 4] },
  ];
}
