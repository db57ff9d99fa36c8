import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../../../../src/core/eval/metrics';
import { truthRows, truthScores } from '../../../../src/core/eval/truth';
import { METHODS, type Method } from '../../../../src/core/eval/methods';
import { networkView } from '../../../../src/core/simulate/network-view';
import { simulate } from '../../../../src/core/simulate/simulator';

const sim = simulate({ contexts: 3, perturbations: 30, genes: 60, seed: 3, counts: false });
const { tensor, truth } = sim;
const P = tensor.perturbations.length;
const G = tensor.genes.length;

function rows(values: Float32Array, c: number, ps: number[]): Float32Array {
  const out = new Float32Array(ps.length * G);
  ps.forEach((p, i) => out.set(values.subarray((c * P + p) * G, (c * P + p + 1) * G), i * G));
  return out;
}

describe('truth scores', () => {
  const query = [2, 5, 9, 14];
  const names = query.map((p) => tensor.perturbations[p]);
  const observed = rows(tensor.values, 1, query);
  const center = new Float32Array(G).fill(0.01);

  it('reads the noise-free rows of the named pairs and genes', () => {
    const genes = [tensor.genes[7], tensor.genes[0]];
    const picked = truthRows(tensor, truth, 1, names.slice(0, 2), genes);
    expect(Array.from(picked)).toEqual([
      truth[(1 * P + 2) * G + 7],
      truth[(1 * P + 2) * G + 0],
      truth[(1 * P + 5) * G + 7],
      truth[(1 * P + 5) * G + 0],
    ]);
    expect(() => truthRows(tensor, truth, 1, ['nope'], genes)).toThrow(/perturbation "nope"/);
  });

  it('scores the truth against the observations (ceiling) and every method against the truth', () => {
    const exact = truthRows(tensor, truth, 1, names, tensor.genes);
    const predictions = Object.fromEntries(
      METHODS.map((m, i) => [m, i === 0 ? exact : i === 1 ? observed : new Float32Array(query.length * G)]),
    ) as Record<Method, Float32Array>;
    const scores = truthScores({
      observed,
      truth: exact,
      truthSupportMean: center,
      predictions,
      contextMean: center,
      queryCount: query.length,
      geneCount: G,
    });
    const expected = computeMetrics({
      predicted: exact,
      observed,
      contextMean: center,
      queryCount: query.length,
      geneCount: G,
    });
    expect(scores.ceiling).toEqual(expected.mean);
    expect(scores.ceilingPerPair).toEqual(expected.perPair);
    // The truth itself scores perfectly against the truth.
    expect(scores.vsTruth[METHODS[0]].pearson).toBeCloseTo(1, 6);
    expect(scores.vsTruth[METHODS[0]].mse).toBe(0);
    // Predicting the observations: against the truth, symmetric metrics equal the ceiling's.
    expect(scores.vsTruth[METHODS[1]].pearson).toBeCloseTo(scores.ceiling.pearson, 6);
    expect(scores.vsTruth[METHODS[1]].mse).toBeCloseTo(scores.ceiling.mse, 9);
    // The truth explains much of what is observed, not all of it (sampled counts).
    expect(scores.ceiling.pearson).toBeGreaterThan(0.5);
    expect(scores.ceiling.pearson).toBeLessThan(1);
  });

  it("adds the context's shared measurement offset to the truth: a control's noise does not lower the ceiling", () => {
    const exact = truthRows(tensor, truth, 1, names, tensor.genes);
    const support = [0, 1, 3, 4, 6, 7];
    const truthSupport = truthRows(
      tensor,
      truth,
      1,
      support.map((p) => tensor.perturbations[p]),
      tensor.genes,
    );
    const truthSupportMean = Float32Array.from({ length: G }, (_, g) => {
      let sum = 0;
      for (let s = 0; s < support.length; s++) sum += truthSupport[s * G + g];
      return sum / support.length;
    });
    // One control sample's noise: the same offset on every gene's observed effect in the context.
    const offset = Float32Array.from({ length: G }, (_, g) => 0.8 * Math.sin(3.7 * g));
    const shifted = Float32Array.from(observed, (v, i) => v + offset[i % G]);
    const observedSupportMean = rows(tensor.values, 1, support);
    const m = Float32Array.from({ length: G }, (_, g) => {
      let sum = 0;
      for (let s = 0; s < support.length; s++) sum += observedSupportMean[s * G + g];
      return sum / support.length;
    });
    const shiftedMean = Float32Array.from(m, (v, g) => v + offset[g]);
    const predictions = Object.fromEntries(METHODS.map((method) => [method, shifted])) as Record<
      Method,
      Float32Array
    >;
    const score = (obs: Float32Array, contextMean: Float32Array) =>
      truthScores({
        observed: obs,
        truth: exact,
        truthSupportMean,
        predictions,
        contextMean,
        queryCount: query.length,
        geneCount: G,
      });
    const plain = score(observed, m);
    const withOffset = score(shifted, shiftedMean);
    expect(withOffset.ceiling.pearson_centered).toBeCloseTo(plain.ceiling.pearson_centered, 5);
    // Scored without the offset, the truth would lose to the observations' own shared offset.
    const naive = computeMetrics({
      predicted: exact,
      observed: shifted,
      contextMean: shiftedMean,
      queryCount: query.length,
      geneCount: G,
    });
    expect(naive.mean.pearson_centered).toBeLessThan(withOffset.ceiling.pearson_centered - 0.05);
    // Centred at m_t, the aligned truth is the truth centred at its own support mean.
    const aligned = computeMetrics({
      predicted: Float32Array.from(exact, (v, i) => v - truthSupportMean[i % G]),
      observed: Float32Array.from(shifted, (v, i) => v - shiftedMean[i % G]),
      contextMean: new Float32Array(G),
      queryCount: query.length,
      geneCount: G,
    });
    expect(withOffset.ceiling.pearson_centered).toBeCloseTo(aligned.mean.pearson_centered, 5);
  });

  it('is not clipped: a prediction of the observations beats the ceiling on them', () => {
    const exact = truthRows(tensor, truth, 1, names, tensor.genes);
    const ceiling = computeMetrics({
      predicted: exact,
      observed,
      contextMean: center,
      queryCount: 4,
      geneCount: G,
    });
    const overfit = computeMetrics({
      predicted: observed,
      observed,
      contextMean: center,
      queryCount: 4,
      geneCount: G,
    });
    expect(overfit.mean.pearson).toBeGreaterThan(ceiling.mean.pearson);
  });
});

describe('network view', () => {
  it('shows the perturbed genes, the top of the cascade and the edges among them', () => {
    const p = 0;
    const view = networkView({
      sim,
      target: 0,
      support: [3, 4, 5, 6],
      perturbation: p,
      reference: null,
      predicted: null,
    });
    expect(view.perturbation).toBe(tensor.perturbations[p]);
    expect(view.references.map((r) => r.context).sort()).toEqual([1, 2]);
    expect(view.reference).toBe(view.references[0].name);
    const perturbed = view.genes.filter((g) => g.role === 'perturbed');
    expect(perturbed.map((g) => tensor.genes.indexOf(g.name))).toEqual(sim.targets[p]);
    expect(view.genes.length).toBeLessThanOrEqual(perturbed.length + 12);
    for (const edge of view.edges) {
      expect(edge.from).toBeLessThan(view.genes.length);
      if (edge.target === 0) expect(edge.change).toBe('off-in-target');
    }
    const views = tensor.perturbations.map((_, q) =>
      networkView({ sim, target: 0, support: [], perturbation: q, reference: 1, predicted: null }),
    );
    // Some perturbations reach a cascade; downstream genes are always joined to it by an edge.
    expect(views.some((v) => v.genes.some((g) => g.role === 'downstream'))).toBe(true);
    for (const v of views) {
      v.genes.forEach((g, i) => {
        if (g.role === 'downstream' && g.depth > 1) expect(v.edges.some((e) => e.to === i)).toBe(true);
      });
    }
    const chosen = networkView({
      sim,
      target: 0,
      support: [],
      perturbation: p,
      reference: 2,
      predicted: null,
    });
    expect(chosen.reference).toBe(tensor.contexts[2]);
  });
});
