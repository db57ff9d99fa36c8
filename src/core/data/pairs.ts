/** Small building blocks of the parsers: label and gene indices, growable typed arrays, replicate counts. */
import { geneKey, labelKey } from './labels';

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
  private readonly byRaw = new Map<string, number>();

  index(name: string): number {
    // Exact spellings are cached, so each repeated name skips normalisation (long tables repeat every gene).
    let i = this.byRaw.get(name);
    if (i !== undefined) return i;
    const key = geneKey(name);
    i = this.byKey.get(key);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(name.trim());
      this.byKey.set(key, i);
    }
    this.byRaw.set(name, i);
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
