/** How well the gene lists of several inputs meet, and the likely cause when they barely do. */
import { listSome, quoted } from './failure';
import { geneKey } from './labels';

export interface GeneList {
  file: string;
  genes: readonly string[];
}

const ENSEMBL = /^ENS[A-Z]*G\d+(\.\d+)?$/i;
/** Below this share of the smaller list, the overlap is reported as a problem. */
export const FEW_SHARED = 0.5;

function likelyCause(lists: readonly GeneList[]): string {
  const ensemblShare = lists.map(
    (l) => l.genes.filter((g) => ENSEMBL.test(g.trim())).length / Math.max(1, l.genes.length),
  );
  if (ensemblShare.some((s) => s > 0.5) && ensemblShare.some((s) => s < 0.1))
    return 'one input names genes by Ensembl ID, the other by symbol';
  const mouseLike = lists.map(
    (l) => l.genes.filter((g) => /^[A-Z][a-z0-9]+$/.test(g.trim())).length / Math.max(1, l.genes.length),
  );
  if (mouseLike.some((s) => s > 0.5) && mouseLike.some((s) => s < 0.1))
    return 'the inputs look like different species (mouse-style Trp53 against human-style TP53)';
  return 'the inputs measured different gene panels, or one was filtered to a few genes';
}

/**
 * Genes shared by all lists (matched by geneKey: case and Ensembl version suffix ignored), and, when they are
 * fewer than FEW_SHARED of the smallest list, one sentence saying how many, with examples only in each list
 * and the likely cause. `message` is undefined when the overlap is fine.
 */
export function geneOverlap(lists: readonly GeneList[]): { shared: number; message?: string } {
  if (lists.length < 2) return { shared: lists[0]?.genes.length ?? 0 };
  const keys = lists.map((l) => new Set(l.genes.map(geneKey)));
  const shared = [...keys[0]].filter((k) => keys.every((s) => s.has(k))).length;
  const smallest = Math.min(...keys.map((s) => s.size));
  if (shared >= FEW_SHARED * smallest) return { shared };
  const only = lists.map((l, i) =>
    l.genes.filter((g) => !keys.every((s, j) => j === i || s.has(geneKey(g)))).slice(0, 3),
  );
  const message = `the inputs share ${shared.toLocaleString('en-US')} genes (${lists
    .map((l) => `${l.file}: ${l.genes.length.toLocaleString('en-US')}`)
    .join(', ')}); only in ${lists
    .map(
      (l, i) =>
        `${l.file}: ${listSome(
          only[i].map((g) => quoted(g, 24)),
          3,
        )}`,
    )
    .join('; only in ')}; likely cause: ${likelyCause(lists)}`;
  return { shared, message };
}
