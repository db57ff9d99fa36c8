import type { Rng } from '../random';
import { shuffled } from '../random';
import { sampleNegativeBinomial } from './sampling';

/** Measurement settings of one context's samples. */
export interface ContextQuality {
  /** Mean total counts per sample. */
  librarySize: number;
  /** Negative-binomial dispersion phi. */
  dispersion: number;
  /** Treated replicates per pair and control replicates of the context. */
  replicates: number;
}

/**
 * Per-context measurement quality. spread 0: every context gets the base settings. spread s > 0: contexts
 * take evenly spaced quality ranks q in [-1, 1] in a seeded order; depth x depthRange^(s q), dispersion x
 * dispersionRange^(-s q), replicates + round(s q) (at least 1), so the best and worst are far apart.
 */
export function contextQualities(
  rng: Rng,
  base: ContextQuality,
  {
    contexts,
    spread,
    depthRange,
    dispersionRange,
  }: { contexts: number; spread: number; depthRange: number; dispersionRange: number },
): ContextQuality[] {
  const ranks = shuffled(
    Array.from({ length: contexts }, (_, c) => (contexts === 1 ? 0 : -1 + (2 * c) / (contexts - 1))),
    rng,
  );
  return ranks.map((q) =>
    spread === 0
      ? { ...base }
      : {
          librarySize: base.librarySize * Math.pow(depthRange, spread * q),
          dispersion: base.dispersion * Math.pow(dispersionRange, -spread * q),
          replicates: Math.min(65535, Math.max(1, base.replicates + Math.round(spread * q))),
        },
  );
}

/**
 * Expected composition of a sample: share[g] = 2^(a_g + e_g) / sum over genes, from basal = 2^(a - max a)
 * (0 for silent genes) and the effect e in log2 units (omitted: the control); only genes with e != 0 cost
 * an exponential, since most of a knockdown's effects are exactly zero.
 */
export function expectedShare(
  basal: Float64Array,
  effect: Float64Array | undefined,
  share: Float64Array,
): void {
  let total = 0;
  for (let g = 0; g < share.length; g++) {
    const e = effect ? effect[g] : 0;
    const x = e === 0 ? basal[g] : basal[g] * Math.exp(e * Math.LN2);
    share[g] = x;
    total += x;
  }
  if (total === 0) return;
  for (let g = 0; g < share.length; g++) share[g] /= total;
}

/** 2^(a - max a) per gene (0 for silent genes, a = -Infinity): the unnormalised basal composition. */
export function basalComposition(logAbundance: Float64Array): Float64Array {
  let max = -Infinity;
  for (const a of logAbundance) max = Math.max(max, a);
  return Float64Array.from(logAbundance, (a) => (max === -Infinity ? 0 : Math.pow(2, a - max)));
}

/** Draws one sample's counts at a time and accumulates weight * log2(CPM+1) into a running mean. */
export class ReplicateSampler {
  private readonly column: Uint32Array;
  constructor(private readonly o: { genes: number; rng: Rng }) {
    this.column = new Uint32Array(o.genes);
  }

  /** Returns the sample's counts (reused buffer, valid until the next call). */
  draw(share: Float64Array, mean: Float64Array, weight: number, quality: ContextQuality): Uint32Array {
    const { rng } = this.o;
    const library = quality.librarySize * (0.8 + 0.4 * rng.next());
    let total = 0;
    for (let g = 0; g < share.length; g++) {
      const n = sampleNegativeBinomial(rng, library * share[g], quality.dispersion);
      this.column[g] = n;
      total += n;
    }
    const scale = total > 0 ? 1e6 / total : 0;
    for (let g = 0; g < share.length; g++) mean[g] += weight * Math.log2(this.column[g] * scale + 1);
    return this.column;
  }
}
