import { createSHA256 } from 'hash-wasm';
import { abortError } from './data/failure';

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** SHA-256 of the bytes (Web Crypto: browsers, workers and Node 20), as 64 lowercase hex digits. */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer> | ArrayBuffer): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', bytes));
}

export interface HashHooks {
  /** Polled before each chunk; true cancels the stream and rejects with a DOMException named 'AbortError'. */
  shouldStop?: () => boolean;
  /** Called after each chunk with the bytes hashed so far. */
  onBytes?: (hashed: number) => void;
}

/**
 * SHA-256 of everything a stream hands out, as 64 lowercase hex digits, and the number of bytes hashed.
 * Hashed chunk by chunk (hash-wasm; crypto.subtle cannot hash incrementally), so a file of several GB is
 * never held whole: memory is one chunk.
 */
export async function sha256OfStream(
  stream: ReadableStream<Uint8Array>,
  hooks: HashHooks = {},
): Promise<{ sha256: string; bytes: number }> {
  const hasher = await createSHA256();
  hasher.init();
  let bytes = 0;
  const reader = stream.getReader();
  for (;;) {
    if (hooks.shouldStop?.()) {
      await reader.cancel();
      throw abortError();
    }
    const { done, value } = await reader.read();
    if (done) break;
    hasher.update(value);
    bytes += value.length;
    hooks.onBytes?.(bytes);
  }
  return { sha256: hasher.digest('hex'), bytes };
}
