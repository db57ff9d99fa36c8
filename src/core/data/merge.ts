/**
 * Several files into one tensor (genes harmonised and intersected, contexts and perturbations united, pairs
 * present in several files averaged by their replicate counts), then the checks that need the whole dataset.
 */
import { formatBinaryBytes, listSome, quoted, reject } from './failure';
import { geneKey } from './labels';
import { LabelIndex } from './pairs';
import { type EffectPart } from './table';
import type { EffectTensor } from './tensor';
import { plural } from '../text';

export function mergeParts(parts: readonly EffectPart[], notes: string[], budgetBytes: number): EffectTensor {
  if (parts.length === 1) return parts[0].tensor;
  const allFiles = parts.map((p) => p.file).join(', ');
  const keyMaps = parts.map((part) => new Map(part.tensor.genes.map((g, i) => [geneKey(g), i])));
  const first = parts[0].tensor.genes;
  const common = first.filter((g) => keyMaps.every((m) => m.has(geneKey(g))));
  if (!common.length) {
    reject({
      file: allFiles,
      expected: 'genes present in every file',
      found: `no gene in common (${parts
        .map(
          (p) =>
            `${p.file}: ${listSome(
              p.tensor.genes.map((g) => quoted(g, 20)),
              3,
            )}`,
        )
        .join('; ')})`,
    });
  }
  const lost = parts.map((p) => p.tensor.genes.length - common.length);
  if (lost.some((n) => n > 0)) {
    notes.push(
      `Kept the ${plural(common.length, 'gene')} present in every file; ${parts.map((p, i) => `${p.file} lost ${lost[i].toLocaleString('en-US')}`).join(', ')}.`,
    );
  }
  const contexts = new LabelIndex();
  const perturbations = new LabelIndex();
  const cMaps = parts.map((p) => p.tensor.contexts.map((c) => contexts.index(c)));
  const pMaps = parts.map((p) => p.tensor.perturbations.map((q) => perturbations.index(q)));
  const C = contexts.size;
  const P = perturbations.size;
  const G = common.length;
  const bytes = C * P * G * 4;
  if (bytes > budgetBytes) {
    reject({
      file: allFiles,
      expected: `a merged tensor within the memory budget of ${formatBinaryBytes(budgetBytes)}`,
      found: `${C} contexts x ${P} perturbations x ${G} genes (${formatBinaryBytes(bytes)})`,
    });
  }
  const values = new Float32Array(C * P * G);
  const weight = new Float64Array(C * P);
  const observed = new Uint8Array(C * P);
  const replicates = new Uint16Array(C * P);
  const basalSum = new Float64Array(C * G);
  const basalParts = new Uint16Array(C);
  let overlapping = 0;
  // Weight of each merged cell that some file only imputed (its 0 adds nothing to the sum): left out of
  // that cell's mean, so a value measured in another file is not diluted by the gap.
  const imputedWeight = new Map<number, number>();
  parts.forEach((part, k) => {
    const t = part.tensor;
    const Pk = t.perturbations.length;
    const Gk = t.genes.length;
    const geneIdx = common.map((g) => keyMaps[k].get(geneKey(g)) as number);
    if (part.imputed?.length) {
      const column = new Int32Array(Gk).fill(-1);
      geneIdx.forEach((g, j) => (column[g] = j));
      for (const cell of part.imputed) {
        const pair = Math.floor(cell / Gk);
        const j = column[cell - pair * Gk];
        if (j < 0) continue;
        const c = Math.floor(pair / Pk);
        const at = (cMaps[k][c] * P + pMaps[k][pair - c * Pk]) * G + j;
        imputedWeight.set(at, (imputedWeight.get(at) ?? 0) + Math.max(1, t.replicates[pair]));
      }
    }
    for (let c = 0; c < t.contexts.length; c++) {
      const oc = cMaps[k][c];
      for (let p = 0; p < Pk; p++) {
        if (!t.observed[c * Pk + p]) continue;
        const pair = oc * P + pMaps[k][p];
        const w = Math.max(1, t.replicates[c * Pk + p]);
        if (observed[pair]) overlapping++;
        observed[pair] = 1;
        weight[pair] += w;
        replicates[pair] = Math.min(65535, replicates[pair] + w);
        const src = (c * Pk + p) * Gk;
        const dst = pair * G;
        for (let j = 0; j < G; j++) values[dst + j] += w * t.values[src + geneIdx[j]];
      }
      if (t.basal) {
        basalParts[oc]++;
        for (let j = 0; j < G; j++) basalSum[oc * G + j] += t.basal[c * Gk + geneIdx[j]];
      }
    }
  });
  for (let pair = 0; pair < C * P; pair++) {
    if (weight[pair] > 1) {
      const inv = 1 / weight[pair];
      for (let j = 0; j < G; j++) values[pair * G + j] *= inv;
    }
  }
  let filled = 0;
  for (const [at, lost] of imputedWeight) {
    const w = weight[Math.floor(at / G)];
    if (w <= lost) continue;
    values[at] *= w / (w - lost);
    filled++;
  }
  if (filled) {
    notes.push(
      `${plural(filled, 'value')} missing in one file but measured in another ${filled === 1 ? 'was' : 'were'} taken from the files that measured ${filled === 1 ? 'it' : 'them'}, not set to 0.`,
    );
  }
  if (overlapping) {
    notes.push(
      `${plural(overlapping, '(context, perturbation) pair')} measured in more than one file, averaged.`,
    );
  }
  const anyBasal = parts.some((p) => p.tensor.basal);
  const allBasal = basalParts.every((n) => n > 0);
  let basal: Float32Array | undefined;
  if (allBasal) {
    basal = new Float32Array(C * G);
    for (let c = 0; c < C; c++)
      for (let j = 0; j < G; j++) basal[c * G + j] = basalSum[c * G + j] / basalParts[c];
  } else if (anyBasal) {
    notes.push('Basal (control) expression is not known for every context, so it was left out.');
  }
  return {
    contexts: contexts.labels,
    perturbations: perturbations.labels,
    genes: common,
    values,
    observed,
    replicates,
    ...(basal ? { basal } : {}),
  };
}

/**
 * Whole-dataset checks: at least two contexts, and at least one perturbation measured in two contexts.
 * Contexts that share no perturbation with any other are kept and named in a note (they cannot be targets).
 */
export function checkTransferable(tensor: EffectTensor, files: string, notes: string[]): void {
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  if (C < 2) {
    reject({
      file: files,
      expected: 'at least two contexts (cell lines, cell types, donors)',
      found: C === 1 ? `only one context, ${quoted(tensor.contexts[0])}` : 'no context',
    });
  }
  const measuredIn = new Uint32Array(P);
  for (let c = 0; c < C; c++) for (let p = 0; p < P; p++) measuredIn[p] += tensor.observed[c * P + p];
  const isolated: string[] = [];
  for (let c = 0; c < C; c++) {
    let shares = false;
    for (let p = 0; p < P && !shares; p++) shares = tensor.observed[c * P + p] === 1 && measuredIn[p] > 1;
    if (!shares) isolated.push(tensor.contexts[c]);
  }
  if (isolated.length === C) {
    reject({
      file: files,
      expected: 'contexts that share at least one perturbation, so that effects can transfer between them',
      found: `no perturbation measured in more than one of the ${C} contexts`,
    });
  }
  if (isolated.length) {
    notes.push(
      `${plural(isolated.length, 'context')} ${isolated.length === 1 ? 'shares' : 'share'} no perturbation with any other context and cannot be prediction targets: ${listSome(isolated.map((c) => quoted(c)))}.`,
    );
  }
}
