import type { Rng } from '../random';
import { shuffled } from '../random';

/**
 * The gene regulatory DAG shared by all contexts. Edges are stored per child in topological order (CSR), so
 * that the steady state of the linear SCM is one forward pass over the edge list.
 */
export interface RegulatoryNetwork {
  genes: number;
  /** Gene index at each topological position (length G): parents always come before their children. */
  order: Int32Array;
  /** Topological position of each gene (length G), the inverse of order. */
  position: Int32Array;
  /** Length G+1: edges of the child at topological position k are edgeStart[k]..edgeStart[k+1]-1. */
  edgeStart: Int32Array;
  /** Parent gene index of each edge (length E). */
  edgeParent: Int32Array;
  /** Child gene index of each edge (length E). */
  edgeChild: Int32Array;
  /** Signed weight of each edge (length E): effect of a 1 log2 unit change of the parent on the child. */
  edgeWeight: Float64Array;
  /** 1 for genes that are regulators (hubs with many children), length G. */
  isRegulator: Uint8Array;
}

export interface NetworkOptions {
  genes: number;
  /** Share of genes that are regulators (hubs). */
  regulatorFraction: number;
  /** Probabilities of 0, 1, 2, ... parents for a regulator and for any other gene. */
  regulatorInDegree: readonly number[];
  targetInDegree: readonly number[];
  /** Probability that a parent is drawn among earlier regulators rather than among all earlier genes. */
  regulatorParentShare: number;
  /** Log-scale SD of the regulators' hubness (preference as a parent): larger makes out-degrees heavier-tailed. */
  hubnessSd: number;
  /**
   * Range of |weight| of a gene's first (dominant) parent and of its other parents, before the caps; signs
   * are positive with probability activationShare. One dominant regulator per gene forms coherent modules.
   */
  dominantWeight: readonly [number, number];
  minorWeight: readonly [number, number];
  activationShare: number;
  /**
   * Largest |effect| per unit shift of one upstream gene, for regulators (< 1, so a shift decays along a
   * cascade of regulators) and for other genes (they rarely have children, so several regulators may
   * converge on them with larger total weight). Enforced by capAmplification.
   */
  regulatorCap: number;
  targetCap: number;
}

/** Builds a random hub-structured DAG: regulators sit in the first half of a random order, most parents are regulators. */
export function buildNetwork(rng: Rng, options: NetworkOptions): RegulatoryNetwork {
  const G = options.genes;
  const ids = Array.from({ length: G }, (_, g) => g);
  const order = Int32Array.from(shuffled(ids, rng));
  const position = new Int32Array(G);
  for (let k = 0; k < G; k++) position[order[k]] = k;

  // Regulators at random positions in the first half of the order, so every regulator has room for children.
  const regulatorCount = G >= 2 ? Math.max(1, Math.round(options.regulatorFraction * G)) : 0;
  const firstHalf = Math.max(regulatorCount, Math.ceil(G / 2));
  const regulatorPositions = shuffled(
    Array.from({ length: firstHalf }, (_, k) => k),
    rng,
  )
    .slice(0, regulatorCount)
    .sort((a, b) => a - b);
  const isRegulator = new Uint8Array(G);
  for (const k of regulatorPositions) isRegulator[order[k]] = 1;

  // Hubness: a lognormal weight per regulator makes out-degrees heavy-tailed (a few master regulators).
  const cumulativeHubness = new Float64Array(regulatorCount);
  let total = 0;
  for (let r = 0; r < regulatorCount; r++) {
    total += Math.exp(options.hubnessSd * rng.normal());
    cumulativeHubness[r] = total;
  }

  const edgeStart = new Int32Array(G + 1);
  const parents: number[] = [];
  const children: number[] = [];
  const weights: number[] = [];
  let regulatorsBefore = 0;
  for (let k = 0; k < G; k++) {
    edgeStart[k] = parents.length;
    const child = order[k];
    if (k > 0) {
      const wanted = drawCategory(
        rng,
        isRegulator[child] ? options.regulatorInDegree : options.targetInDegree,
      );
      const chosen: number[] = [];
      for (let attempt = 0; chosen.length < Math.min(wanted, k) && attempt < 20; attempt++) {
        let parentPos: number;
        if (regulatorsBefore > 0 && rng.next() < options.regulatorParentShare) {
          const x = rng.next() * cumulativeHubness[regulatorsBefore - 1];
          let lo = 0;
          let hi = regulatorsBefore - 1;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (cumulativeHubness[mid] < x) lo = mid + 1;
            else hi = mid;
          }
          parentPos = regulatorPositions[lo];
        } else {
          parentPos = rng.int(k);
        }
        const parent = order[parentPos];
        if (!chosen.includes(parent)) chosen.push(parent);
      }
      const ws = chosen.map((_, i) => {
        const [lo, hi] = i === 0 ? options.dominantWeight : options.minorWeight;
        return (rng.next() < options.activationShare ? 1 : -1) * (lo + (hi - lo) * rng.next());
      });
      for (let i = 0; i < chosen.length; i++) {
        parents.push(chosen[i]);
        children.push(child);
        weights.push(ws[i]);
      }
    }
    if (isRegulator[child]) regulatorsBefore++;
  }
  edgeStart[G] = parents.length;
  const network: RegulatoryNetwork = {
    genes: G,
    order,
    position,
    edgeStart,
    edgeParent: Int32Array.from(parents),
    edgeChild: Int32Array.from(children),
    edgeWeight: Float64Array.from(weights),
    isRegulator,
  };
  capAmplification(network, network.edgeWeight, options);
  return network;
}

/**
 * Rescales incoming weights (in place, topological order) so that a unit shift of any single gene moves
 * every gene g by at most bound(g) = max(1, sum over parents |w| bound(parent)) <= its cap: effects of a
 * knockdown stay O(1) whatever the depth of the DAG or the context's modulation.
 */
export function capAmplification(
  network: RegulatoryNetwork,
  weights: Float64Array,
  caps: { regulatorCap: number; targetCap: number },
): void {
  const { order, edgeStart, edgeParent } = network;
  const bound = new Float64Array(network.genes);
  for (let k = 0; k < network.genes; k++) {
    const gene = order[k];
    let reach = 0;
    for (let e = edgeStart[k]; e < edgeStart[k + 1]; e++)
      reach += Math.abs(weights[e]) * bound[edgeParent[e]];
    const cap = network.isRegulator[gene] ? caps.regulatorCap : caps.targetCap;
    if (reach > cap) {
      const scale = cap / reach;
      for (let e = edgeStart[k]; e < edgeStart[k + 1]; e++) weights[e] *= scale;
      reach = cap;
    }
    bound[gene] = Math.max(1, reach);
  }
}

/**
 * Steady-state effect of a shift intervention in the linear SCM, e = (I - W^T)^-1 delta, by forward
 * substitution in topological order. weights: per-edge weights of this context (length E); delta and out:
 * per gene (length G), in log2 units. out is overwritten.
 */
export function propagate(
  network: RegulatoryNetwork,
  weights: ArrayLike<number>,
  delta: ArrayLike<number>,
  out: Float64Array,
): void {
  const { order, edgeStart, edgeParent } = network;
  for (let k = 0; k < network.genes; k++) {
    const gene = order[k];
    let sum = delta[gene];
    for (let e = edgeStart[k]; e < edgeStart[k + 1]; e++) {
      const parentEffect = out[edgeParent[e]];
      if (parentEffect !== 0) sum += weights[e] * parentEffect;
    }
    out[gene] = sum;
  }
}

/** Marks gene and every gene downstream of it (length G, 1 = reached); O(E) per call. */
export function descendantsOf(network: RegulatoryNetwork, gene: number): Uint8Array {
  const reached = new Uint8Array(network.genes);
  reached[gene] = 1;
  const { order, edgeStart, edgeParent } = network;
  for (let k = network.position[gene] + 1; k < network.genes; k++) {
    for (let e = edgeStart[k]; e < edgeStart[k + 1]; e++) {
      if (reached[edgeParent[e]]) {
        reached[order[k]] = 1;
        break;
      }
    }
  }
  return reached;
}

/** Index i drawn with probability probabilities[i] (the last category takes any rounding remainder). */
function drawCategory(rng: Rng, probabilities: readonly number[]): number {
  let u = rng.next();
  for (let i = 0; i < probabilities.length - 1; i++) {
    if (u < probabilities[i]) return i;
    u -= probabilities[i];
  }
  return probabilities.length - 1;
}
