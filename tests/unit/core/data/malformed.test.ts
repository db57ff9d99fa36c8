import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../../../src/core/data/load';
import { memoryFile } from '../../../fixtures/files';
import { ACCEPTED, MALFORMED } from '../../../fixtures/malformed';

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

describe('loadDataset reads odd but valid input right', () => {
  it.each(ACCEPTED.map((c) => [c.title, c] as const))('%s', async (_title, c) => {
    for (const chunk of [0, 3]) {
      const result = await loadDataset(c.files.map((f) => memoryFile(f.name, f.bytes, chunk)));
      if (!result.ok) throw new Error(`expected success, got: ${result.error.message}`);
      const t = result.data.tensor;
      expect(t.genes).toEqual(c.genes);
      const G = t.genes.length;
      for (const [pair, values] of Object.entries(c.effects)) {
        const [context, perturbation] = pair.split('|');
        const at =
          t.contexts.indexOf(context) * t.perturbations.length + t.perturbations.indexOf(perturbation);
        expect(t.observed[at], pair).toBe(1);
        expect(Array.from(t.values.subarray(at * G, (at + 1) * G)), pair).toEqual(values.map(Math.fround));
      }
      for (const note of c.notes ?? [])
        expect(
          result.data.notes.some((n) => note.test(n)),
          String(note),
        ).toBe(true);
    }
  });
});
