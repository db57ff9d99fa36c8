import { describe, expect, it } from 'vitest';
import { HELD_MIN_SUPPORT, applyHeldGenes, heldGenes } from '../../../../src/core/model/held-genes';

// One context of interest (1) among 2, 7 perturbations, 3 genes: (c, p, g) at (c*7 + p)*3 + g.
const P = 7;
const G = 3;
function effects(rows: Record<number, readonly number[]>): Float32Array {
  const values = new Float32Array(2 * P * G).fill(0.25);
  for (const [p, row] of Object.entries(rows)) values.set(row, (P + Number(p)) * G);
  return values;
}

describe('heldGenes', () => {
  const support = [0, 1, 2, 3, 4];
  it.each<{ name: string; rows: Record<number, readonly number[]>; genes: number[]; values: number[] }>([
    {
      name: 'a gene at 0 on every support pair is held at 0, one that moves is not',
      rows: { 0: [0, 1, 2], 1: [0, 1, 3], 2: [0, 1, 4], 3: [0, 1, 5], 4: [0, 1, 6] },
      genes: [0, 1],
      values: [0, 1],
    },
    {
      name: 'a single differing pair frees the gene',
      rows: { 0: [0, 1, 2], 1: [0, 1, 2], 2: [0, 1, 2], 3: [0, 1, 2], 4: [1e-6, 1, 2] },
      genes: [1, 2],
      values: [1, 2],
    },
    {
      name: 'a missing value (NaN) holds nothing',
      rows: { 0: [NaN, 1, 2], 1: [NaN, 1, 3], 2: [NaN, 1, 4], 3: [NaN, 1, 5], 4: [NaN, 1, 6] },
      genes: [1],
      values: [1],
    },
  ])('$name', ({ rows, genes, values }) => {
    const held = heldGenes(effects(rows), P, G, 1, support);
    expect(Array.from(held.genes)).toEqual(genes);
    expect(Array.from(held.values)).toEqual(values);
  });

  it(`holds nothing on fewer than ${HELD_MIN_SUPPORT} support pairs`, () => {
    const values = effects({ 0: [0, 0, 0], 1: [0, 0, 0], 2: [0, 0, 0], 3: [0, 0, 0] });
    expect(heldGenes(values, P, G, 1, [0, 1, 2, 3]).genes).toHaveLength(0);
    expect(heldGenes(values, P, G, 1, [0, 1, 2, 3, 5]).genes).toHaveLength(0);
    expect(Array.from(heldGenes(values, P, G, 0, [0, 1, 2, 3, 5]).genes)).toEqual([0, 1, 2]);
  });

  it('sets the held genes of every predicted row and nothing else', () => {
    const predictions = Float32Array.from([1, 2, 3, 4, 5, 6]);
    applyHeldGenes(predictions, G, { genes: Int32Array.from([2]), values: Float32Array.from([-1]) });
    expect(Array.from(predictions)).toEqual([1, 2, -1, 4, 5, -1]);
  });
});
