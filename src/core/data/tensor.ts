/**
 * The dataset every part of the engine works on: effects of perturbations (log fold change or z-score)
 * for contexts x perturbations x genes, dense and row-major, with a mask of the measured pairs.
 */
export interface EffectTensor {
  readonly contexts: readonly string[];
  readonly perturbations: readonly string[];
  readonly genes: readonly string[];
  /** Length C*P*G; the effect of (c, p) on gene g sits at (c*P + p)*G + g; 0 where not observed. */
  readonly values: Float32Array;
  /** Length C*P; 1 where the pair (c, p) was measured. */
  readonly observed: Uint8Array;
  /** Length C*P; how many input rows (replicates, doses) were averaged into the pair; 0 if unobserved. */
  readonly replicates: Uint16Array;
  /** Length C*G; basal (control) log expression per context, when the input provides it. */
  readonly basal?: Float32Array;
}

export interface TensorSummary {
  contexts: number;
  perturbations: number;
  genes: number;
  /** Number of observed (context, perturbation) pairs. */
  pairs: number;
  /** Number of observed pairs built from more than one input row. */
  averagedPairs: number;
  /** Observed pairs per context, in the order of tensor.contexts. */
  pairsPerContext: number[];
}

export function tensorSummary(tensor: EffectTensor): TensorSummary {
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const pairsPerContext = new Array<number>(C).fill(0);
  let averagedPairs = 0;
  for (let c = 0; c < C; c++) {
    for (let p = 0; p < P; p++) {
      if (tensor.observed[c * P + p]) {
        pairsPerContext[c]++;
        if (tensor.replicates[c * P + p] > 1) averagedPairs++;
      }
    }
  }
  return {
    contexts: C,
    perturbations: P,
    genes: tensor.genes.length,
    pairs: pairsPerContext.reduce((a, b) => a + b, 0),
    averagedPairs,
    pairsPerContext,
  };
}

/** Copies the effect vector of (c, p) (length G). */
export function pairEffect(tensor: EffectTensor, c: number, p: number): Float32Array {
  const G = tensor.genes.length;
  const start = (c * tensor.perturbations.length + p) * G;
  return tensor.values.slice(start, start + G);
}

/** Indices of the perturbations measured in context c and in at least one other context. */
export function sharedPerturbations(tensor: EffectTensor, c: number): number[] {
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const shared: number[] = [];
  for (let p = 0; p < P; p++) {
    if (!tensor.observed[c * P + p]) continue;
    for (let o = 0; o < C; o++) {
      if (o !== c && tensor.observed[o * P + p]) {
        shared.push(p);
        break;
      }
    }
  }
  return shared;
}

/** Indices of the perturbations measured in some other context but not in context c. */
export function unmeasuredPerturbations(tensor: EffectTensor, c: number): number[] {
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const out: number[] = [];
  for (let p = 0; p < P; p++) {
    if (tensor.observed[c * P + p]) continue;
    for (let o = 0; o < C; o++) {
      if (o !== c && tensor.observed[o * P + p]) {
        out.push(p);
        break;
      }
    }
  }
  return out;
}
