/**
 * Where h5wasm finds an .h5ad file: copied into its memory (bytes), a File mounted with WORKERFS (read on
 * demand in a worker), or a file read in pieces through a synchronous `readAt` (the CLI, with fs.readSync),
 * so that neither the worker nor the CLI holds the whole file.
 */
import type { H5Module } from './h5ad-hdf5';

/** A file read in pieces: fills `target` from byte `position` and says how many bytes it filled. */
export interface RandomAccessFile {
  readonly name: string;
  readonly size: number;
  readAt(target: Uint8Array, position: number): number;
  /** Releases the file (called when the .h5ad is closed). */
  close?(): void;
}

/**
 * An .h5ad file: its bytes (copied into h5wasm's memory), a File/Blob mounted read-only in a worker, or a
 * random-access reader.
 */
export type H5adInput =
  | { readonly name: string; readonly bytes: Uint8Array }
  | { readonly name: string; readonly blob: Blob }
  | { readonly name: string; readonly reader: RandomAccessFile };

/** Names the h5wasm file of each open, so that two opens never share a path. */
let fileCounter = 0;

export function inputSize(input: H5adInput): number {
  if ('bytes' in input) return input.bytes.length;
  if ('blob' in input) return input.blob.size;
  return input.reader.size;
}

/** The first `length` bytes of the input (fewer when it is shorter). */
export async function inputHead(input: H5adInput, length: number): Promise<Uint8Array> {
  if ('bytes' in input) return input.bytes.subarray(0, length);
  if ('blob' in input) return new Uint8Array(await input.blob.slice(0, length).arrayBuffer());
  const head = new Uint8Array(Math.min(length, input.reader.size));
  return head.subarray(0, input.reader.readAt(head, 0));
}

/** The parts of Emscripten's FS (and of its WORKERFS) that mounting uses; h5wasm's typings omit them. */
interface NodeFs {
  mkdir(p: string): void;
  mount(type: unknown, opts: unknown, p: string): void;
  unmount(p: string): void;
  rmdir(p: string): void;
  filesystems: { WORKERFS: WorkerFs };
}

interface FsNode {
  stream_ops: Record<string, unknown>;
}

interface WorkerFs {
  DIR_MODE: number;
  FILE_MODE: number;
  createNode(parent: FsNode | null, name: string, mode: number, dev: number, contents?: unknown): FsNode;
  stream_ops: Record<string, unknown>;
}

/**
 * A one-file read-only filesystem built from WORKERFS's nodes, whose reads go to `reader.readAt` instead of
 * FileReaderSync (which only dedicated workers have).
 */
function readerFs(reader: RandomAccessFile, workerFs: WorkerFs) {
  return {
    mount(): FsNode {
      const root = workerFs.createNode(null, '/', workerFs.DIR_MODE, 0);
      const file = workerFs.createNode(root, 'data.h5ad', workerFs.FILE_MODE, 0, { size: reader.size });
      file.stream_ops = {
        ...workerFs.stream_ops,
        read(_stream: unknown, heap: Int8Array, offset: number, length: number, position: number): number {
          const n = Math.max(0, Math.min(length, reader.size - position));
          if (n === 0) return 0;
          const target = new Uint8Array(heap.buffer, heap.byteOffset + offset, n);
          let filled = 0;
          while (filled < n) {
            const got = reader.readAt(target.subarray(filled), position + filled);
            if (got <= 0) break;
            filled += got;
          }
          return filled;
        },
      };
      return root;
    },
  };
}

/** Makes the input a path h5wasm can open; `cleanup` removes it (and frees a copy). */
export function mountInput(input: H5adInput, module: H5Module): { path: string; cleanup: () => void } {
  const id = ++fileCounter;
  if ('bytes' in input) {
    const path = `/c3tl-${id}.h5ad`;
    module.FS.writeFile(path, input.bytes);
    return { path, cleanup: () => module.FS.unlink(path) };
  }
  const dir = `/c3tl-${id}`;
  const fs = module.FS as unknown as NodeFs;
  fs.mkdir(dir);
  if ('blob' in input) {
    // WORKERFS reads the File on demand (FileReaderSync), so a large file is never copied whole.
    fs.mount(fs.filesystems.WORKERFS, { files: [new File([input.blob], 'data.h5ad')] }, dir);
  } else {
    fs.mount(readerFs(input.reader, fs.filesystems.WORKERFS), {}, dir);
  }
  return {
    path: `${dir}/data.h5ad`,
    cleanup: () => {
      fs.unmount(dir);
      fs.rmdir(dir);
      if ('reader' in input) input.reader.close?.();
    },
  };
}
