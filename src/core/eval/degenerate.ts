/**
 * Warnings for evaluations on degenerate data: held-out pairs whose observed effects leave some metrics
 * undefined (metrics.ts marks them NaN). Without them an all-zero dataset reads as Pearson 0 and a perfect
 * DEG overlap.
 */
import { listSome, quoted } from '../data/failure';
import { observedDegeneracy } from './metrics';
import { plural } from '../text';

interface Case {
  what: string;
  /** The undefined metrics, with their verb ("X and Y are", "X is"). */
  metrics: string;
  pairs: string[];
}

/**
 * One sentence per kind of degenerate query pair of target `context` (observed: Q*G row-major; center: m_t),
 * naming the pairs, what is degenerate and which metrics are undefined; empty when nothing is.
 */
export function degenerateWarnings(
  context: string,
  queryPerturbations: readonly string[],
  observed: Float32Array,
  center: ArrayLike<number>,
): string[] {
  const Q = queryPerturbations.length;
  const G = Q ? observed.length / Q : 0;
  const cases: Case[] = [
    {
      what: 'an effect of 0 on every gene',
      metrics: 'Pearson, top-50 direction and DEG overlap are',
      pairs: [],
    },
    { what: 'the same effect on every gene', metrics: 'Pearson and top-50 DEG overlap are', pairs: [] },
    {
      what: 'effects of the same size on every gene (its top genes are a tie)',
      metrics: 'top-50 DEG overlap is',
      pairs: [],
    },
    {
      what: "the target's support mean plus a constant on every gene",
      metrics: 'centred Pearson is',
      pairs: [],
    },
  ];
  for (let q = 0; q < Q; q++) {
    const odd = observedDegeneracy(observed.subarray(q * G, (q + 1) * G), center);
    const name = quoted(queryPerturbations[q], 24);
    if (odd.allZero) cases[0].pairs.push(name);
    else if (odd.constant) cases[1].pairs.push(name);
    else if (odd.tiedMagnitudes) cases[2].pairs.push(name);
    if (odd.constantCentred) cases[3].pairs.push(name);
  }
  return cases
    .filter((c) => c.pairs.length)
    .map(
      (c) =>
        `Target ${quoted(context)}: ${c.pairs.length === Q ? `all ${plural(Q, 'held-out pair')}` : `${c.pairs.length} of ${plural(Q, 'held-out pair')}`} ` +
        `(${listSome(c.pairs, 3)}) ${c.pairs.length === 1 ? 'has' : 'have'} ${c.what}, so ${c.metrics} ` +
        (c.pairs.length === Q
          ? 'undefined for this target.'
          : "undefined there and left out of the target's means."),
    );
}
