import type { Rng } from '../random';

/**
 * Seeded samplers for count noise: Gamma (Marsaglia-Tsang), Poisson (inversion for small means, Hormann's
 * PTRS transformed rejection above, a normal approximation above NORMAL_POISSON_MEAN) and the negative
 * binomial as their Gamma-Poisson mixture.
 */

/** Above this mean Poisson(mean) is drawn as round(N(mean, mean)): skewness 1/sqrt(mean) <= 0.03 is negligible. */
export const NORMAL_POISSON_MEAN = 1000;

/**
 * The same uniform stream with a faster normal(): Marsaglia's polar method (no trigonometry) with the
 * spare kept in a field; the count sampler draws two normals per count, so this matters at benchmark sizes.
 */
export function withPolarNormal(rng: Rng): Rng {
  let hasSpare = false;
  const spare = new Float64Array(1);
  return {
    next: rng.next,
    int: rng.int,
    fork: rng.fork,
    normal: () => {
      if (hasSpare) {
        hasSpare = false;
        return spare[0];
      }
      let u: number;
      let v: number;
      let q: number;
      do {
        u = 2 * rng.next() - 1;
        v = 2 * rng.next() - 1;
        q = u * u + v * v;
      } while (q >= 1 || q === 0);
      const f = Math.sqrt((-2 * Math.log(q)) / q);
      spare[0] = v * f;
      hasSpare = true;
      return u * f;
    },
  };
}

/** Gamma(shape, 1) variate; shape > 0 (Marsaglia & Tsang 2000, with the u^(1/shape) boost below 1). */
export function sampleGamma(rng: Rng, shape: number): number {
  if (shape < 1) {
    let u = rng.next();
    while (u === 0) u = rng.next();
    return sampleGamma(rng, shape + 1) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = rng.next();
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return d * v;
    if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
  }
}

const LOG_FACTORIAL_TABLE_SIZE = 256;
const LOG_FACTORIAL: Float64Array = (() => {
  const table = new Float64Array(LOG_FACTORIAL_TABLE_SIZE);
  for (let k = 1; k < LOG_FACTORIAL_TABLE_SIZE; k++) table[k] = table[k - 1] + Math.log(k);
  return table;
})();
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln(k!) for an integer k >= 0: exact table below 256, Stirling series (error < 1e-15) above. */
export function logFactorial(k: number): number {
  if (k < LOG_FACTORIAL_TABLE_SIZE) return LOG_FACTORIAL[k];
  const x = k + 1;
  const inv = 1 / x;
  const inv2 = inv * inv;
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260));
}

/** Poisson(mean) variate; mean >= 0 (exact up to NORMAL_POISSON_MEAN). */
export function samplePoisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean < 10) {
    // Sequential inversion: O(mean) steps, cheap for small means.
    let p = Math.exp(-mean);
    let cdf = p;
    let k = 0;
    const u = rng.next();
    while (u > cdf && k < 1000) {
      k++;
      p *= mean / k;
      cdf += p;
    }
    return k;
  }
  if (mean > NORMAL_POISSON_MEAN) return Math.max(0, Math.floor(mean + Math.sqrt(mean) * rng.normal() + 0.5));
  // PTRS (Hormann 1993, as in NumPy): O(1) expected work for any mean >= 10, exact.
  const slam = Math.sqrt(mean);
  const loglam = Math.log(mean);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.next() - 0.5;
    const v = rng.next();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (
      Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <=
      -mean + k * loglam - logFactorial(k)
    ) {
      return k;
    }
  }
}

/**
 * Negative binomial variate with the given mean and dispersion phi (variance = mean + phi * mean^2), drawn
 * as Poisson(mean * Gamma(1/phi, phi)); phi <= 0 gives plain Poisson.
 */
export function sampleNegativeBinomial(rng: Rng, mean: number, dispersion: number): number {
  if (mean <= 0) return 0;
  if (dispersion <= 0) return samplePoisson(rng, mean);
  const shape = 1 / dispersion;
  return samplePoisson(rng, mean * dispersion * sampleGamma(rng, shape));
}
