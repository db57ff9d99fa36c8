import type { EffectTensor } from '../../../../src/core/data/tensor';

/** A tensor with every pair observed once: contexts c0.., perturbations p0.., genes g0..; values C*P*G. */
export function denseTensor(values: Float32Array, C: number, P: number, G: number): EffectTensor {
  if (values.length !== C * P * G) throw new Error(`values hold ${values.length}, not C*P*G = ${C * P * G}`);
  return {
    contexts: Array.from({ length: C }, (_, c) => `c${c}`),
    perturbations: Array.from({ length: P }, (_, p) => `p${p}`),
    genes: Array.from({ length: G }, (_, g) => `g${g}`),
    values,
    observed: new Uint8Array(C * P).fill(1),
    replicates: new Uint16Array(C * P).fill(1),
  };
}
