/** The inputs and options of the loader; `load.ts` re-exports them as the public contract. */

/** File and Blob satisfy this; in Node use `new Blob([bytes])` plus a name, or fs.openAsBlob. */
export interface InputFile {
  readonly name: string;
  /** Size in bytes as stored (compressed size for .gz). */
  readonly size: number;
  stream(): ReadableStream<Uint8Array>;
}

export interface LoadProgress {
  file: string;
  /** Bytes of the stored file consumed so far (compressed bytes for gzip). */
  bytesRead: number;
  totalBytes: number;
  /**
   * Per file: 'scanning' (wide tables only: a first pass over the label columns), 'reading' (the values),
   * 'building' (its tensor); then once 'merging' (all files). bytesRead grows within each stage.
   */
  stage: string;
}

export interface LoadOptions {
  /** GCT/wide/long/sheet: make the perturbation "drug@dose@time" instead of averaging over dose and time. */
  keepDoseTime?: boolean;
  /** Default 1 GiB of dense tensor; refused BEFORE reading when file sizes imply more. */
  memoryBudgetBytes?: number;
  onProgress?: (p: LoadProgress) => void;
  /** Polled once per chunk read; when it returns true the load rejects with a DOMException named 'AbortError'. */
  shouldStop?: () => boolean;
}

export const DEFAULT_MEMORY_BUDGET = 1024 ** 3;
