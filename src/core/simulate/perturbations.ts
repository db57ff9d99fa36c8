import type { Rng } from '../random';
import { shuffled } from '../random';
import type { ContextModel } from './contexts';
import type { RegulatoryNetwork } from './network';
import { descendantsOf, propagate } from './network';
import { WORLD } from './world';

export interface Perturbation {
  name: string;
  targets: number[];
  /** Shift of each target in log2 units (negative). */
  shifts: number[];
}

const uniform = (rng: Rng, [lo, hi]: readonly [number, number]): number => lo + (hi - lo) * rng.next();
const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/**
 * Knockdowns of distinct genes (most aimed at regulators while any are left), then multi-target drugs.
 * Drawn on the shared network, so every kind has the same perturbations.
 */
export function drawPerturbations(
  rng: Rng,
  network: RegulatoryNetwork,
  { P, drugFraction, geneNames }: { P: number; drugFraction: number; geneNames: readonly string[] },
): Perturbation[] {
  const G = network.genes;
  const drugs = Math.round(drugFraction * P);
  const knockdowns = P - drugs;
  const all = Array.from({ length: G }, (_, g) => g);
  const regulators = shuffled(
    all.filter((g) => network.isRegulator[g]),
    rng,
  );
  const others = shuffled(
    all.filter((g) => !network.isRegulator[g]),
    rng,
  );
  const kdTargets: number[] = [];
  while (kdTargets.length < knockdowns) {
    const fromRegulators =
      regulators.length > 0 && (others.length === 0 || rng.next() < WORLD.knockdownRegulatorShare);
    kdTargets.push((fromRegulators ? regulators : others).pop() as number);
  }
  kdTargets.sort((a, b) => a - b);
  const out: Perturbation[] = kdTargets.map((g) => ({
    name: `KD_${geneNames[g]}`,
    targets: [g],
    shifts: [-uniform(rng, WORLD.knockdownShift)],
  }));

  const regulatorList = all.filter((g) => network.isRegulator[g]);
  for (let d = 0; d < drugs; d++) {
    const [lo, hi] = WORLD.drugTargets;
    const wanted = Math.min(G, lo + rng.int(hi - lo + 1));
    const targets: number[] = [];
    const reach: Uint8Array[] = [];
    // Targets are never ancestors of one another, so each target's own shift is what shows on it.
    for (let attempt = 0; targets.length < wanted && attempt < 100; attempt++) {
      const g =
        regulatorList.length > 0 && rng.next() < WORLD.knockdownRegulatorShare
          ? regulatorList[rng.int(regulatorList.length)]
          : rng.int(G);
      if (reach.some((r) => r[g])) continue;
      const mine = descendantsOf(network, g);
      if (targets.some((t) => mine[t])) continue;
      targets.push(g);
      reach.push(mine);
    }
    targets.sort((a, b) => a - b);
    out.push({
      name: `DRUG_${pad(d + 1, Math.max(3, String(drugs).length))}`,
      targets,
      shifts: targets.map(() => -uniform(rng, WORLD.drugShift)),
    });
  }
  return out;
}

/**
 * Effect (log2 units, length G) of a perturbation in one context: shift the expressed targets, propagate
 * through the context's weights (network: the contextual network the weights belong to), then apply the
 * per-gene gain where the context has one. delta is scratch space, left all zero.
 */
export function steadyStateEffect(
  network: RegulatoryNetwork,
  model: ContextModel,
  pert: Perturbation,
  delta: Float64Array,
  out: Float64Array,
): void {
  pert.targets.forEach((t, i) => {
    if (!model.silent[t]) delta[t] = pert.shifts[i];
  });
  propagate(network, model.edgeWeight, delta, out);
  for (const t of pert.targets) delta[t] = 0;
  const gain = model.gain;
  if (gain) for (let g = 0; g < out.length; g++) out[g] *= gain[g];
}
