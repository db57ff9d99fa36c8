import { describe, expect, it } from 'vitest';
import { selectVariableGenes } from '../../../../src/core/data/load';
import type { EffectTensor } from '../../../../src/core/data/tensor';

// 2 contexts x 3 perturbations x 4 genes; pair (1, 2) is where G_spike goes wild, pair (0, 2) is unobserved.
function fixture(): EffectTensor {
  const rows: Record<number, number[]> = {
    0: [1, 0, 5, 0.1],
    1: [-1, 0, 5, -0.1],
    3: [2, 0, 5, 0.2],
    4: [-2, 0, 5, -0.2],
    5: [0, 100, 5, 0],
  };
  const values = new Float32Array(6 * 4);
  for (const [pair, v] of Object.entries(rows)) values.set(v, Number(pair) * 4);
  values.set([0, 0, 0, 999], 2 * 4);
  return {
    contexts: ['A', 'B'],
    perturbations: ['p1', 'p2', 'p3'],
    genes: ['G_wide', 'G_spike', 'G_flat', 'G_small'],
    values,
    observed: Uint8Array.from([1, 1, 0, 1, 1, 1]),
    replicates: Uint16Array.from([1, 2, 0, 1, 1, 3]),
    basal: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
  };
}

describe('selectVariableGenes', () => {
  it('picks the most variable genes over all observed pairs by default', () => {
    const t = selectVariableGenes(fixture(), { limit: 1 });
    expect(t.genes).toEqual(['G_spike']);
  });

  it('ignores pairs excluded by usePairs: a gene varying only there is not picked', () => {
    const usePairs = Uint8Array.from([1, 1, 1, 1, 1, 0]);
    const t = selectVariableGenes(fixture(), { limit: 1, usePairs });
    expect(t.genes).toEqual(['G_wide']);
    const two = selectVariableGenes(fixture(), { limit: 2, usePairs });
    expect(two.genes).toEqual(['G_wide', 'G_small']);
  });

  it('never uses unobserved pairs, even when usePairs allows them', () => {
    // Pair (0, 2) holds 999 for G_small; were it used, G_small would be the most variable gene.
    const t = selectVariableGenes(fixture(), { limit: 1, usePairs: Uint8Array.from([0, 0, 1, 1, 1, 0]) });
    expect(t.genes).toEqual(['G_wide']);
  });

  it('returns a new tensor restricted to the genes in their original order, basal included', () => {
    const src = fixture();
    const t = selectVariableGenes(src, { limit: 2 });
    expect(t.genes).toEqual(['G_wide', 'G_spike']);
    expect(Array.from(t.values.subarray(5 * 2, 6 * 2))).toEqual([0, 100]);
    expect(Array.from(t.values.subarray(0, 2))).toEqual([1, 0]);
    expect(Array.from(t.basal ?? [])).toEqual([1, 2, 5, 6]);
    expect(Array.from(t.observed)).toEqual(Array.from(src.observed));
    expect(Array.from(t.replicates)).toEqual(Array.from(src.replicates));
    expect(t.values.buffer).not.toBe(src.values.buffer);
    expect(t.observed.buffer).not.toBe(src.observed.buffer);
  });

  it('keeps every gene for limit 0 or a limit of at least G', () => {
    expect(selectVariableGenes(fixture(), { limit: 0 }).genes).toHaveLength(4);
    expect(selectVariableGenes(fixture(), { limit: 10 }).genes).toHaveLength(4);
  });

  it('breaks ties by the earlier gene and refuses a mask of the wrong length', () => {
    const t = fixture();
    const flat = { ...t, values: new Float32Array(t.values.length) };
    expect(selectVariableGenes(flat, { limit: 2 }).genes).toEqual(['G_wide', 'G_spike']);
    expect(() => selectVariableGenes(t, { limit: 1, usePairs: new Uint8Array(5) })).toThrow(RangeError);
  });
});
