import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/core/data/load';
import { memoryFile } from '../fixtures/files';
import { MALFORMED } from '../fixtures/malformed';

describe('loadDataset rejects malformed input with file, line and column', () => {
  it.each(MALFORMED.map((c) => [c.title, c] as const))('%s', async (_title, c) => {
    // Whole-file and tiny chunks must give the same message: chunk boundaries are invisible to validation.
    for (const chunk of [0, 3]) {
      const files = [
        memoryFile(c.name, c.bytes, chunk),
        ...(c.companions ?? []).map((f) => memoryFile(f.name, f.bytes, chunk)),
      ];
      const result = await loadDataset(files, c.options);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.message).toMatch(c.expect);
      expect(result.error.file.split(', ')).toContain(c.name);
      if (c.line !== undefined) expect(result.error.line).toBe(c.line);
      if (c.column !== undefined) expect(result.error.column).toBe(c.column);
      expect(result.error.expected.length).toBeGreaterThan(0);
      expect(result.error.found.length).toBeGreaterThan(0);
    }
  });
});
