import { describe, expect, it } from 'vitest';
import type { EffectTensor } from '../../../../src/core/data/tensor';
import {
  buildEpisode,
  sparseReferenceEffects,
  type TransferSource,
} from '../../../../src/core/model/transfer-data';
import { invertSymmetric, robustShift, withSupportRules } from '../../../../src/core/model/transfer-support';
import { createRng } from '../../../../src/core/random';
import { denseTensor } from './dense-tensor';

const P = 12;
const MIX = { mix: true, linear: false };
const G = 40;

/**
 * Three references with random effects; the target's effect of every perturbation is the references' mean
 * plus 0.7 times its deviation in reference 1, so the target is exactly that mix of its references.
 */
function mixedScreen(): { tensor: EffectTensor; truth: (p: number, g: number) => number } {
  const rng = createRng(5);
  const C = 4;
  const values = new Float32Array(C * P * G);
  for (let c = 1; c < C; c++)
    for (let i = 0; i < P * G; i++) values[c * P * G + i] = rng.next() * 2 - 1 + (c === 2 ? 0.3 : 0);
  const at = (c: number, p: number, g: number) => values[(c * P + p) * G + g];
  const mean = (p: number, g: number) => (at(1, p, g) + at(2, p, g) + at(3, p, g)) / 3;
  const truth = (p: number, g: number) => 0.7 * (at(1, p, g) - mean(p, g));
  for (let p = 0; p < P; p++) for (let g = 0; g < G; g++) values[p * G + g] = mean(p, g) + truth(p, g);
  return { tensor: denseTensor(values, C, P, G), truth };
}

describe('reference mix', () => {
  const { tensor, truth } = mixedScreen();
  const mask = tensor.observed.slice();
  const support = [0, 1, 2, 3, 4];
  const queries = [5, 6, 7, 8, 9, 10, 11];
  for (const p of queries) mask[p] = 0;
  const source: TransferSource = {
    tensor,
    mask,
    scale: new Float32Array(G).fill(1),
    features: Int32Array.from({ length: 20 }, (_, i) => 2 * i),
  };

  it('recovers a target that is a mix of its references and leaves nothing of the support', () => {
    const episode = withSupportRules(source, buildEpisode(source, 0, support, queries), MIX);
    const mix = episode.mix as Float32Array;
    expect(mix).toHaveLength(queries.length * G);
    // The support's deviations from the additive baseline are the truth minus its support mean, and the mix
    // is centred the same way; so the query's mix plus the support mean of the truth is the truth.
    const centre = (g: number) => support.reduce((sum, p) => sum + truth(p, g), 0) / support.length;
    queries.forEach((p, q) => {
      for (let g = 0; g < G; g++) expect(mix[q * G + g] + centre(g)).toBeCloseTo(truth(p, g), 2);
    });
    for (const r of episode.residual) expect(Math.abs(r)).toBeLessThan(1e-2);
  });

  it('reads no query value of the target', () => {
    const poisoned = { ...tensor, values: tensor.values.slice() };
    for (const p of queries) for (let g = 0; g < G; g++) poisoned.values[p * G + g] = 1e6;
    const clean = withSupportRules(source, buildEpisode(source, 0, support, queries), {
      mix: true,
      linear: true,
    });
    const dirty = withSupportRules(
      { ...source, tensor: poisoned },
      buildEpisode({ ...source, tensor: poisoned }, 0, support, queries),
      { mix: true, linear: true },
    );
    expect(dirty.mix).toEqual(clean.mix);
    expect(dirty.residual).toEqual(clean.residual);
    expect(dirty.supportInverse).toEqual(clean.supportInverse);
  });

  it('reads the sparse-denoised effects when the source has them', () => {
    const raw = withSupportRules(source, buildEpisode(source, 0, support, queries), MIX);
    const same = withSupportRules(
      { ...source, sparse: Float32Array.from(tensor.values) },
      buildEpisode(source, 0, support, queries),
      MIX,
    );
    (same.mix as Float32Array).forEach((v, i) => expect(v).toBeCloseTo((raw.mix as Float32Array)[i], 5));
    // References without deviations in their denoised effects leave nothing to mix.
    const flat = withSupportRules(
      { ...source, sparse: new Float32Array(tensor.values.length) },
      buildEpisode(source, 0, support, queries),
      MIX,
    );
    expect(Array.from(flat.mix as Float32Array).every((v) => v === 0)).toBe(true);
    expect(flat.residual).toEqual(buildEpisode(source, 0, support, queries).residual);
  });

  it('is zero with fewer than two support pairs', () => {
    const episode = withSupportRules(source, buildEpisode(source, 0, [0], queries), MIX);
    expect(Array.from(episode.mix as Float32Array).every((v) => v === 0)).toBe(true);
  });
});

describe('remainder slope (a path on the slope-free fixed form)', () => {
  const { tensor } = mixedScreen();
  const mask = tensor.observed.slice();
  const support = [0, 1, 2, 3, 4, 5];
  const queries = [6, 7, 8, 9, 10, 11];
  for (const p of queries) mask[p] = 0;
  const source: TransferSource = {
    tensor,
    mask,
    scale: new Float32Array(G).fill(1),
    features: new Int32Array(),
  };
  const SLOPE = { mix: false, linear: false, slope: true };
  /** An episode on a fixed form whose base is x, with support residuals beta_g (x - mean_s x) + offset_g. */
  const onBase = (beta: (g: number) => number) => {
    const x = (p: number, g: number) => Math.sin(p * 1.7 + g * 0.3) * (1 + (g % 3));
    const episode = buildEpisode(source, 0, support, queries);
    const centre = (g: number) => support.reduce((sum, p) => sum + x(p, g), 0) / support.length;
    episode.supportBase = Float32Array.from({ length: support.length * G }, (_, i) =>
      x(support[Math.floor(i / G)], i % G),
    );
    episode.additive = Float32Array.from({ length: queries.length * G }, (_, i) =>
      x(queries[Math.floor(i / G)], i % G),
    );
    episode.residual = Float32Array.from({ length: support.length * G }, (_, i) => {
      const g = i % G;
      return beta(g) * (x(support[Math.floor(i / G)], g) - centre(g)) + 0.2 * g;
    });
    return { episode, x, centre };
  };

  it("adds each gene's shrunk slope of the residual on the base to the queries and takes it from the support", () => {
    const beta = (g: number) => (g % 4) - 1.5;
    const { episode, x, centre } = onBase(beta);
    const out = withSupportRules(source, episode, SLOPE);
    const mix = out.mix as Float32Array;
    // The fitted slope is beta times var_g / (var_g + floor): the same shrinkage for genes of equal spread.
    const spread = (g: number) => support.reduce((sum, p) => sum + (x(p, g) - centre(g)) ** 2, 0);
    const floor = Array.from({ length: G }, (_, g) => spread(g)).reduce((a, b) => a + b, 0) / G;
    queries.forEach((p, q) => {
      for (let g = 0; g < G; g++) {
        const fitted = (beta(g) * spread(g)) / (spread(g) + floor);
        expect(mix[q * G + g]).toBeCloseTo(fitted * (x(p, g) - centre(g)), 4);
      }
    });
    support.forEach((p, s) => {
      for (let g = 0; g < G; g++) {
        const fitted = (beta(g) * spread(g)) / (spread(g) + floor);
        const expected = (beta(g) - fitted) * (x(p, g) - centre(g)) + 0.2 * g;
        expect(out.residual[s * G + g]).toBeCloseTo(expected, 4);
      }
    });
  });

  it('adds to the mix, and changes nothing without a base, with one support pair or with the rule off', () => {
    const { episode } = onBase((g) => g / G);
    const mixed = withSupportRules(source, episode, { ...SLOPE, mix: true });
    const mixOnly = withSupportRules(source, episode, { ...SLOPE, mix: true, slope: false });
    expect(mixed.mix).not.toEqual(mixOnly.mix);
    expect(withSupportRules(source, episode, { ...SLOPE, slope: false })).toBe(episode);
    const withoutBase = withSupportRules(source, { ...episode, supportBase: undefined }, SLOPE);
    expect(withoutBase.mix).toBeUndefined();
    expect(withoutBase.residual).toEqual(episode.residual);
    const single = buildEpisode(source, 0, [0], queries);
    single.supportBase = new Float32Array(G).fill(1);
    expect(withSupportRules(source, single, SLOPE).residual).toEqual(single.residual);
  });
});

describe('robustShift', () => {
  /**
   * Two references with effect 1 everywhere; the target adds 0.2 (+- 0.05) to every effect, and support
   * perturbation 3 acts very differently there (+`outlier` on the first half of the genes).
   */
  function shiftedScreen(outlier: number): EffectTensor {
    const C = 3;
    const values = new Float32Array(C * P * G).fill(1);
    for (let p = 0; p < P; p++)
      for (let g = 0; g < G; g++) values[p * G + g] = 1.2 + 0.05 * Math.sin(7 * p + 3 * g);
    for (let g = 0; g < G / 2; g++) values[3 * G + g] += outlier;
    return denseTensor(values, C, P, G);
  }
  const support = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const shiftOf = (source: TransferSource, context: number, pairs: number[]) =>
    robustShift(buildEpisode(source, context, pairs, [], { profiles: false }));
  const sourceOf = (tensor: EffectTensor): TransferSource => ({
    tensor,
    mask: tensor.observed.slice(),
    scale: new Float32Array(G).fill(2),
    features: new Int32Array(0),
  });

  it("takes back most of what one support perturbation's own effect adds to the plain mean, in scaled units", () => {
    const shift = shiftOf(sourceOf(shiftedScreen(10)), 0, support);
    expect(shift).toHaveLength(G);
    // The outlier adds 10 / 10 to the plain mean (0.5 in scaled units); clipped within 4 robust SDs of the
    // support's 0.2 +- 0.05, it adds at most 0.4 / 10 of it back (scaled: 0.02).
    for (let g = 0; g < G / 2; g++) {
      expect(shift[g]).toBeLessThan(-0.48);
      expect(shift[g]).toBeGreaterThan(-0.5);
    }
    for (let g = G / 2; g < G; g++) expect(Math.abs(shift[g])).toBeLessThan(1e-6);
  });

  it('is zero where the support agrees or has no spread, with fewer than three pairs, and reads no query value', () => {
    expect(shiftOf(sourceOf(shiftedScreen(0)), 0, support).every((v) => Math.abs(v) < 1e-6)).toBe(true);
    expect(shiftOf(sourceOf(shiftedScreen(10)), 0, [3, 4]).every((v) => v === 0)).toBe(true);
    const flat = denseTensor(new Float32Array(3 * P * G).fill(1), 3, P, G);
    for (let g = 0; g < G; g++) flat.values[3 * G + g] = 5;
    expect(shiftOf(sourceOf(flat), 0, support).every((v) => v === 0)).toBe(true);
    const poisoned = shiftedScreen(10);
    for (let p = 10; p < P; p++) for (let g = 0; g < G; g++) poisoned.values[p * G + g] = 1e6;
    expect(shiftOf(sourceOf(poisoned), 0, support)).toEqual(shiftOf(sourceOf(shiftedScreen(10)), 0, support));
  });
});

describe('linear transfer inverse', () => {
  it('inverts a symmetric positive definite matrix with its ridge', () => {
    const rng = createRng(2);
    const n = 5;
    const A = Array.from({ length: n * n }, () => rng.next() - 0.5);
    const M = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) M[i * n + j] += A[i * n + k] * A[j * n + k];
    const inverse = invertSymmetric(M, n, 0.3);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let product = 0;
        for (let k = 0; k < n; k++) product += (M[i * n + k] + (i === k ? 0.3 : 0)) * inverse[k * n + j];
        expect(product).toBeCloseTo(i === j ? 1 : 0, 9);
      }
  });

  it("is the inverse of the support profiles' Gram matrix plus its ridge", () => {
    const { tensor } = mixedScreen();
    const source: TransferSource = {
      tensor,
      mask: tensor.observed.slice(),
      scale: new Float32Array(G).fill(1),
      features: Int32Array.from({ length: G }, (_, g) => g),
    };
    const support = [0, 1, 2, 3];
    const episode = withSupportRules(source, buildEpisode(source, 0, support, [5, 6]), {
      mix: false,
      linear: true,
    });
    expect(episode.mix).toBeUndefined();
    const inverse = episode.supportInverse as Float32Array;
    const S = support.length;
    const KF = episode.devSupport.length / S;
    const gram = (a: number, b: number) => {
      let dot = 0;
      for (let i = 0; i < KF; i++) dot += episode.devSupport[a * KF + i] * episode.devSupport[b * KF + i];
      return dot;
    };
    let trace = 0;
    for (let a = 0; a < S; a++) trace += gram(a, a);
    for (let i = 0; i < S; i++)
      for (let j = 0; j < S; j++) {
        let product = 0;
        for (let k = 0; k < S; k++)
          product += (gram(i, k) + (i === k ? (0.1 * trace) / S : 0)) * inverse[k * S + j];
        expect(product).toBeCloseTo(i === j ? 1 : 0, 4);
      }
  });
});

describe('sparseReferenceEffects', () => {
  const { tensor } = mixedScreen();
  const mask = tensor.observed.slice();
  for (const p of [5, 6, 7]) mask[p] = 0;
  mask[2 * P + 4] = 0;
  const source = { tensor, mask, scale: new Float32Array(G).fill(2) };

  it('denoises each context on its readable pairs alone and leaves unreadable pairs 0', () => {
    const sparse = sparseReferenceEffects(source);
    expect(sparse).toHaveLength(tensor.values.length);
    for (const pair of [5, 6, 7, 2 * P + 4])
      expect(Array.from(sparse.subarray(pair * G, (pair + 1) * G)).every((v) => v === 0)).toBe(true);
    const poisoned = { ...tensor, values: tensor.values.slice() };
    for (const pair of [5, 6, 7, 2 * P + 4]) poisoned.values.fill(1e6, pair * G, (pair + 1) * G);
    expect(sparseReferenceEffects({ ...source, tensor: poisoned })).toEqual(sparse);
  });

  it('reuses the contexts whose readable pairs did not change, and only those', () => {
    const sparse = sparseReferenceEffects(source);
    const wider = mask.slice();
    wider[2 * P + 4] = 1;
    const fresh = sparseReferenceEffects({ ...source, mask: wider });
    // Stale values planted in the reused result show where reuse was taken.
    const planted = Float32Array.from(sparse, (v, i) => (i < P * G ? v + 1 : v));
    const reused = sparseReferenceEffects({ ...source, mask: wider }, { mask, sparse: planted });
    expect(Array.from(reused.subarray(P * G))).toEqual(Array.from(fresh.subarray(P * G)));
    expect(reused[0]).toBe(planted[0]);
  });
});
