/**
 * Accumulation of effect rows into (context, perturbation) pairs while the file streams, before the number
 * of contexts and perturbations is known; then one dense EffectTensor per file.
 */
import { formatBytes, reject } from './failure';
import { geneKey, labelKey } from './labels';
import type { EffectTensor } from './tensor';

/** Labels in order of first appearance, matched by labelKey; the first spelling is kept for display. */
export class LabelIndex {
  readonly labels: string[] = [];
  private readonly byKey = new Map<string, number>();
  private lastRaw = '';
  private lastIndex = -1;

  index(raw: string): number {
    if (raw === this.lastRaw && this.lastIndex >= 0) return this.lastIndex;
    const key = labelKey(raw);
    let i = this.byKey.get(key);
    if (i === undefined) {
      i = this.labels.length;
      this.labels.push(raw.trim());
      this.byKey.set(key, i);
    }
    this.lastRaw = raw;
    this.lastIndex = i;
    return i;
  }

  get size(): number {
    return this.labels.length;
  }
}

/** Float32 elements per slab (16 MiB): large enough to be cheap, small enough to free while building. */
const SLAB_FLOATS = 4 * 1024 * 1024;
const PAIR_KEY_STRIDE = 2 ** 24;

/**
 * Per-pair sums of gene vectors (length G each) in slabs, plus how many rows went into each pair.
 * Memory: pairs x G x 4 bytes, checked against the budget as pairs appear.
 */
export class PairSums {
  readonly genes: number;
  private readonly perSlab: number;
  private readonly slabs: (Float32Array | null)[] = [];
  private readonly slotOf = new Map<number, number>();
  readonly slotContext: number[] = [];
  readonly slotPerturbation: number[] = [];
  readonly rowsPerSlot: number[] = [];

  constructor(
    genes: number,
    private readonly budgetBytes: number,
    private readonly file: string,
  ) {
    this.genes = genes;
    this.perSlab = Math.max(1, Math.floor(SLAB_FLOATS / Math.max(1, genes)));
  }

  get pairs(): number {
    return this.slotContext.length;
  }

  /** The slot of pair (c, p), created on first use; `line` names where a budget overflow happened. */
  slot(c: number, p: number, line: number): number {
    const key = c * PAIR_KEY_STRIDE + p;
    let s = this.slotOf.get(key);
    if (s === undefined) {
      s = this.slotContext.length;
      const bytes = (s + 1) * this.genes * 4;
      if (bytes > this.budgetBytes) {
        reject({
          file: this.file,
          line,
          expected: `effects that fit the memory budget of ${formatBytes(this.budgetBytes)}`,
          found: `${s + 1} (context, perturbation) pairs of ${this.genes} genes by this line (${formatBytes(bytes)})`,
        });
      }
      this.slotOf.set(key, s);
      this.slotContext.push(c);
      this.slotPerturbation.push(p);
      this.rowsPerSlot.push(0);
      const slab = Math.floor(s / this.perSlab);
      if (slab === this.slabs.length) this.slabs.push(new Float32Array(this.perSlab * this.genes));
    }
    this.rowsPerSlot[s]++;
    return s;
  }

  slab(s: number): Float32Array {
    return this.slabs[Math.floor(s / this.perSlab)] as Float32Array;
  }

  offset(s: number): number {
    return (s % this.perSlab) * this.genes;
  }

  /**
   * Dense C*P*G' tensor values (means of the rows of each pair) restricted to the gene indices `keep`;
   * slabs are released as they are copied so that the peak stays near one copy of the data.
   */
  build(
    contexts: number,
    perturbations: number,
    keep: Int32Array,
  ): Pick<EffectTensor, 'values' | 'observed' | 'replicates'> {
    const G = keep.length;
    const bytes = contexts * perturbations * G * 4;
    if (bytes > this.budgetBytes) {
      reject({
        file: this.file,
        expected: `a dense tensor within the memory budget of ${formatBytes(this.budgetBytes)}`,
        found: `${contexts} contexts x ${perturbations} perturbations x ${G} genes (${formatBytes(bytes)})`,
      });
    }
    const values = new Float32Array(contexts * perturbations * G);
    const observed = new Uint8Array(contexts * perturbations);
    const replicates = new Uint16Array(contexts * perturbations);
    const identity = G === this.genes && keep.every((g, j) => g === j);
    for (let s = 0; s < this.pairs; s++) {
      const slabIndex = Math.floor(s / this.perSlab);
      const slab = this.slabs[slabIndex] as Float32Array;
      const off = (s % this.perSlab) * this.genes;
      const pair = this.slotContext[s] * perturbations + this.slotPerturbation[s];
      const rows = this.rowsPerSlot[s];
      const base = pair * G;
      if (identity) values.set(slab.subarray(off, off + G), base);
      else for (let j = 0; j < G; j++) values[base + j] = slab[off + keep[j]];
      if (rows > 1) {
        const inv = 1 / rows;
        for (let j = 0; j < G; j++) values[base + j] *= inv;
      }
      observed[pair] = 1;
      replicates[pair] = Math.min(rows, 65535);
      if ((s + 1) % this.perSlab === 0) this.slabs[slabIndex] = null;
    }
    this.slabs.length = 0;
    return { values, observed, replicates };
  }
}

/** Gene indices 0..G-1 whose flag is 0 (kept). */
export function keptIndices(dropped: Uint8Array): Int32Array {
  const out: number[] = [];
  for (let g = 0; g < dropped.length; g++) if (!dropped[g]) out.push(g);
  return Int32Array.from(out);
}

/** Number of observed pairs that averaged more than one row, and how many rows they held. */
export function averagedPairs(replicates: Uint16Array): { pairs: number; rows: number } {
  let pairs = 0;
  let rows = 0;
  for (const r of replicates) {
    if (r > 1) {
      pairs++;
      rows += r;
    }
  }
  return { pairs, rows };
}

/** Genes in order of first appearance, matched by geneKey (Ensembl version and case ignored). */
export class GeneIndex {
  readonly names: string[] = [];
  private readonly byKey = new Map<string, number>();

  /** The index of `name`, or -1 when it is unknown. */
  find(name: string): number {
    return this.byKey.get(geneKey(name)) ?? -1;
  }

  index(name: string): number {
    const key = geneKey(name);
    let i = this.byKey.get(key);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(name.trim());
      this.byKey.set(key, i);
    }
    return i;
  }

  get size(): number {
    return this.names.length;
  }
}

/** A typed array that doubles when full. */
export class Growable<T extends Float32Array | Int32Array | Uint32Array> {
  length = 0;
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = this.make(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}
