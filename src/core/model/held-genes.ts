/*
 * Genes that do not respond in a context, pure maths over plain arrays (no imports). A gene with no reads in
 * a context gives the same effect (0 after the log fold change's pseudo-count) for every perturbation measured
 * there; no perturbation can be predicted to move it, whatever it does elsewhere.
 */

/** Fewest support pairs whose identical values hold a gene: with fewer, ties are too likely by chance. */
export const HELD_MIN_SUPPORT = 5;

/** Genes held at one value in a context: `genes` (tensor gene indices) and the value of each. */
export interface HeldGenes {
  genes: Int32Array;
  values: Float32Array;
}

/**
 * The genes whose effect is identical on every support pair of `context` (none with fewer than
 * HELD_MIN_SUPPORT support pairs). values: C*P*G effects, (c, p, g) at (c*P + p)*G + g; support: perturbation
 * indices measured in the context.
 */
export function heldGenes(
  values: ArrayLike<number>,
  perturbations: number,
  genes: number,
  context: number,
  support: readonly number[],
): HeldGenes {
  const held: number[] = [];
  const heldValues: number[] = [];
  if (support.length >= HELD_MIN_SUPPORT) {
    const rowOf = (p: number): number => (context * perturbations + p) * genes;
    for (let g = 0; g < genes; g++) {
      const first = values[rowOf(support[0]) + g];
      let same = Number.isFinite(first);
      for (let s = 1; s < support.length && same; s++) same = values[rowOf(support[s]) + g] === first;
      if (same) {
        held.push(g);
        heldValues.push(first);
      }
    }
  }
  return { genes: Int32Array.from(held), values: Float32Array.from(heldValues) };
}

/** Sets every held gene of every row of `predictions` ([rows, G] row-major) to its held value, in place. */
export function applyHeldGenes(predictions: Float32Array, genes: number, held: HeldGenes): void {
  const rows = predictions.length / genes;
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < held.genes.length; i++) predictions[r * genes + held.genes[i]] = held.values[i];
}
