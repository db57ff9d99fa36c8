import { describe, expect, it } from 'vitest';
import { sha256Hex, sha256OfStream } from '../../../src/core/sha256';

/** Bytes 0..n-1 of a fixed pseudo-random sequence. */
const bytesOf = (n: number): Uint8Array<ArrayBuffer> =>
  new Uint8Array(n).map((_, i) => (i * 7919 + 13) % 251);

function streamOf(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += chunk) controller.enqueue(bytes.slice(i, i + chunk));
      controller.close();
    },
  });
}

const subtleHex = async (bytes: Uint8Array<ArrayBuffer>): Promise<string> =>
  Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex');

describe('sha256OfStream', () => {
  // Sizes around SHA-256's 64-byte block and its 56-byte padding limit, and around a 64 KiB stream chunk.
  const sizes = [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 65_535, 65_536, 65_537, 1_000_003];
  const chunks = [1, 63, 64, 65, 4096, 65_536];

  it.each(sizes)('equals crypto.subtle on %i bytes, whatever the chunk size', async (size) => {
    const bytes = bytesOf(size);
    const expected = await subtleHex(bytes);
    for (const chunk of chunks.filter((c) => c >= 64 || size <= 4096)) {
      expect(await sha256OfStream(streamOf(bytes, chunk))).toEqual({ sha256: expected, bytes: size });
    }
  });

  it('agrees with the whole-bytes path (sha256Hex) and with a Blob stream', async () => {
    const bytes = bytesOf(300_001);
    const whole = await sha256Hex(bytes);
    expect((await sha256OfStream(new Blob([bytes]).stream())).sha256).toBe(whole);
    expect((await sha256OfStream(streamOf(bytes, 1000))).sha256).toBe(whole);
  });

  it('tells the bytes hashed after each chunk', async () => {
    const seen: number[] = [];
    await sha256OfStream(streamOf(bytesOf(2500), 1000), { onBytes: (n) => seen.push(n) });
    expect(seen).toEqual([1000, 2000, 2500]);
  });

  it('changes when one byte changes', async () => {
    const bytes = bytesOf(4097);
    const before = (await sha256OfStream(streamOf(bytes, 64))).sha256;
    bytes[4096] ^= 1;
    expect((await sha256OfStream(streamOf(bytes, 64))).sha256).not.toBe(before);
  });

  it('hashes two streams at once without mixing them', async () => {
    const a = bytesOf(200_000);
    const b = bytesOf(200_001);
    const [ha, hb] = await Promise.all([sha256OfStream(streamOf(a, 999)), sha256OfStream(streamOf(b, 777))]);
    expect(ha.sha256).toBe(await subtleHex(a));
    expect(hb.sha256).toBe(await subtleHex(b));
  });

  it('stops mid-stream when asked: cancels the stream and rejects with an AbortError', async () => {
    const bytes = bytesOf(10_000);
    let cancelled = false;
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled * 1000 >= bytes.length) controller.close();
        else controller.enqueue(bytes.slice(pulled * 1000, ++pulled * 1000));
      },
      cancel() {
        cancelled = true;
      },
    });
    let polls = 0;
    await expect(sha256OfStream(stream, { shouldStop: () => ++polls > 3 })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThan(10);
  });
});
