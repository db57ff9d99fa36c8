import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random';

/*
 * C3TL's parameters (c3tl.ts describes the model): their names and shapes, the seeded initial values, and
 * the variables training updates. The four per-gene gates of a gene block live in one [4, Gb] variable, so
 * that Adam updates them in one pass of its kernels instead of four; names, shapes and model files still
 * speak of the four parameters apart.
 */

export interface C3tlArchitecture {
  genes: number;
  basisRank: number;
  embedDim: number;
  hidden: number;
}

export const GATE_SCALE = 30;

export const SHARED_PARAMETER_NAMES = [
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
] as const;
/** Per-gene gates, [G] each, held as the rows of one variable per gene block (in this order). */
export const GATE_PARAMETER_NAMES = ['denoise_gate', 'shift_gate', 'slope_gate', 'slope_shrink'] as const;
/** The learnt network's parameters whose last axis is the gene axis, one variable each per gene block. */
export const NETWORK_GENE_PARAMETER_NAMES = ['decoder_basis', 'gain_w', 'gain_b'] as const;
/** Parameters whose last axis is the gene axis; they are held per gene block. */
export const GENE_PARAMETER_NAMES = ['decoder_basis', ...GATE_PARAMETER_NAMES, 'gain_w', 'gain_b'] as const;
export const PARAMETER_NAMES = [...SHARED_PARAMETER_NAMES, ...GENE_PARAMETER_NAMES] as const;
export type SharedParameterName = (typeof SHARED_PARAMETER_NAMES)[number];
export type GateParameterName = (typeof GATE_PARAMETER_NAMES)[number];
export type NetworkGeneParameterName = (typeof NETWORK_GENE_PARAMETER_NAMES)[number];
export type GeneParameterName = (typeof GENE_PARAMETER_NAMES)[number];
export type ParameterName = (typeof PARAMETER_NAMES)[number];

/** What each gate row is multiplied by in the forward pass: GATE_SCALE for the gates, 1 for the shrinkage. */
const GATE_ROW_SCALES: Record<GateParameterName, number> = {
  denoise_gate: GATE_SCALE,
  shift_gate: GATE_SCALE,
  slope_gate: GATE_SCALE,
  slope_shrink: 1,
};

/** A contiguous range of genes [begin, begin + size) of the model's gene order. */
export interface GeneBlock {
  begin: number;
  size: number;
}

/** One gene block's variables: the gates [4, Gb] (rows GATE_PARAMETER_NAMES) and the network's. */
export type BlockParameters = { gates: tf.Variable } & Record<NetworkGeneParameterName, tf.Variable>;

export interface C3tlParameters {
  shared: Record<SharedParameterName, tf.Variable>;
  /** One set per gene block, in the order of `geneBlocks`. */
  blocks: BlockParameters[];
  geneBlocks: GeneBlock[];
  /** [4, 1] constant: each gate row's scale (GATE_ROW_SCALES), resident for the whole training. */
  gateScale: tf.Tensor2D;
}

/** Shapes of every parameter for an architecture (gene-axis parameters over all G genes). */
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
    denoise_gate: [G],
    shift_gate: [G],
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

const ZERO_INIT: ReadonlySet<ParameterName> = new Set(['decoder2_w', 'gain_w']);

/**
 * Initial values, drawn from the seeded Rng on the CPU so every backend starts from identical numbers:
 * Glorot-uniform weights, zero biases and gates, zero output layers, and the decoder basis set to basis^T.
 * basis: [G, k] row-major; gene axes in the model's gene order.
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

/** Rows of a gene-axis parameter: 1 for a vector. */
function rowsOf(shape: number[]): number {
  return shape.length === 2 ? shape[0] : 1;
}

/** Columns [begin, begin + size) of a row-major [rows, G] matrix (a vector is one row). */
function columns(values: Float32Array, rows: number, block: GeneBlock): Float32Array {
  const G = values.length / rows;
  const out = new Float32Array(rows * block.size);
  for (let r = 0; r < rows; r++)
    out.set(values.subarray(r * G + block.begin, r * G + block.begin + block.size), r * block.size);
  return out;
}

/**
 * Variables from initial values; gene-axis parameters are split into the given gene blocks, and each
 * block's gates packed into one [4, Gb] variable. Variables get engine-unique names, so that several models
 * may live side by side. Dispose with disposeParameters.
 */
export function createParameters(
  arch: C3tlArchitecture,
  values: Record<ParameterName, Float32Array>,
  geneBlocks: GeneBlock[],
): C3tlParameters {
  const shapes = parameterShapes(arch);
  // tidy disposes each initial tensor; the variable keeps its own reference to the data.
  const variable = (data: Float32Array, shape: number[]) =>
    tf.tidy(() => tf.variable(tf.tensor(data, shape, 'float32')));
  const shared = {} as Record<SharedParameterName, tf.Variable>;
  for (const name of SHARED_PARAMETER_NAMES) shared[name] = variable(values[name], shapes[name]);
  const blocks = geneBlocks.map((block) => {
    const gates = new Float32Array(GATE_PARAMETER_NAMES.length * block.size);
    GATE_PARAMETER_NAMES.forEach((name, r) => gates.set(columns(values[name], 1, block), r * block.size));
    const set = { gates: variable(gates, [GATE_PARAMETER_NAMES.length, block.size]) } as BlockParameters;
    for (const name of NETWORK_GENE_PARAMETER_NAMES) {
      const rows = rowsOf(shapes[name]);
      const blockShape = shapes[name].length === 2 ? [rows, block.size] : [block.size];
      set[name] = variable(columns(values[name], rows, block), blockShape);
    }
    return set;
  });
  const scales = Float32Array.from(GATE_PARAMETER_NAMES, (name) => GATE_ROW_SCALES[name]);
  const gateScale = tf.tensor2d(scales, [GATE_PARAMETER_NAMES.length, 1]);
  return { shared, blocks, geneBlocks, gateScale };
}

/** The variables of one gene block (the gates first). */
export function blockVariables(set: BlockParameters): tf.Variable[] {
  return [set.gates, ...NETWORK_GENE_PARAMETER_NAMES.map((n) => set[n])];
}

/** Every variable: the shared ones, then each block's. */
export function allVariables(params: C3tlParameters): tf.Variable[] {
  return [...SHARED_PARAMETER_NAMES.map((n) => params.shared[n]), ...params.blocks.flatMap(blockVariables)];
}

export function disposeParameters(params: C3tlParameters): void {
  tf.dispose([...allVariables(params), params.gateScale]);
}

/**
 * Current values with the gene blocks joined again and the gates unpacked: gene axes in the model's gene
 * order. Read back asynchronously: a synchronous read of a WebGPU tensor destroys the device in a browser
 * worker.
 */
export async function parameterValues(
  arch: C3tlArchitecture,
  params: C3tlParameters,
): Promise<Record<ParameterName, Float32Array>> {
  const shapes = parameterShapes(arch);
  const out = {} as Record<ParameterName, Float32Array>;
  for (const name of SHARED_PARAMETER_NAMES)
    out[name] = ((await params.shared[name].data()) as Float32Array).slice();
  for (const name of GENE_PARAMETER_NAMES) out[name] = new Float32Array(rowsOf(shapes[name]) * arch.genes);
  const G = arch.genes;
  for (const [b, block] of params.geneBlocks.entries()) {
    const set = params.blocks[b];
    const gates = (await set.gates.data()) as Float32Array;
    GATE_PARAMETER_NAMES.forEach((name, r) =>
      out[name].set(gates.subarray(r * block.size, (r + 1) * block.size), block.begin),
    );
    for (const name of NETWORK_GENE_PARAMETER_NAMES) {
      const part = (await set[name].data()) as Float32Array;
      for (let r = 0; r < rowsOf(shapes[name]); r++)
        out[name].set(part.subarray(r * block.size, (r + 1) * block.size), r * G + block.begin);
    }
  }
  return out;
}
