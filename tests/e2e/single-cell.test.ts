/**
 * Single-cell input in the app: a generated .h5ad dropped on the page is opened by the worker (h5wasm and its
 * LZF filter come with the worker bundle), pseudo-bulked with the columns chosen in the panel, trained on,
 * and no request leaves the page between the drop and the results.
 */
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { writeH5ad } from '../../src/core/data/h5ad-write';
import { formatMtx } from '../../src/core/data/mtx';
import { simulate } from '../../src/core/simulate/simulator';
import { cellTable, simulateCells } from '../../src/core/simulate/single-cell';
import { TRAIN_TIMEOUT, readMetrics, setMaxEpochs, trainToResults, waitOrError } from './driver';
import { appUnderTest, openApp, snap } from './harness';

const app = appUnderTest();

async function h5adFile(): Promise<{ name: string; mimeType: string; buffer: Buffer }> {
  const sim = simulate({ contexts: 3, perturbations: 12, genes: 120, seed: 4, counts: false });
  const cells = simulateCells(sim, { cellsPerPair: 15, umisPerCell: 3000, seed: 4 });
  const bytes = await writeH5ad({
    genes: cells.genes,
    barcodes: cells.barcodes,
    obs: {
      cell_line: cells.contexts,
      guide: cells.perturbations.map((p) => (p === 'control' ? 'non-targeting' : p)),
      batch: cells.barcodes.map((_, i) => `b${i % 2}`),
    },
    indptr: cells.indptr,
    indices: cells.indices,
    data: cells.data,
  });
  return { name: 'cells.h5ad', mimeType: 'application/x-hdf5', buffer: Buffer.from(bytes) };
}

describe('single-cell .h5ad in the app', () => {
  it(
    'drops an .h5ad, chooses columns, pseudo-bulks, trains and shows results without a request',
    async () => {
      const file = await h5adFile();
      const { page, log } = await openApp(app.browser, app.server.origin);
      await page
        .getByTestId('backend')
        .filter({ hasText: /webgpu|wasm|cpu/ })
        .waitFor();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.getByTestId('file-input').setInputFiles(file);
      const panel = page.getByTestId('pseudobulk-panel');
      await waitOrError(page, panel);
      // The likely columns and the control label are pre-selected.
      expect(await page.getByTestId('context-col').inputValue()).toBe('cell_line');
      expect(await page.getByTestId('perturbation-col').inputValue()).toBe('guide');
      await page.getByTestId('perturbation-col').selectOption('batch');
      await page.getByTestId('perturbation-col').selectOption('guide');
      await page.getByTestId('control-label').selectOption(['non-targeting']);
      await page.getByTestId('min-cells').fill('10');
      await page
        .getByTestId('cells-per-pair')
        .filter({
          hasText: '36 of 36 (context, perturbation) pairs have at least 10 cells; cells per pair 15 to 15',
        })
        .waitFor();
      await snap(panel, 'single-cell-panel');
      await page.getByTestId('pseudobulk-button').click();
      await waitOrError(page, page.getByTestId('dataset-summary').filter({ hasText: 'cells.h5ad' }));
      expect(await page.getByTestId('summary-contexts').textContent()).toBe('3');
      expect(await page.getByTestId('summary-perturbations').textContent()).toBe('12');
      await setMaxEpochs(page, 3);
      await trainToResults(page);
      const metrics = await readMetrics(page);
      expect(Number.isFinite(metrics.c3tl.pearson_centered)).toBe(true);
      await snap(page, 'single-cell-results');
      expect(requests).toEqual([]);
      expect(log.foreign).toEqual([]);
      expect(log.errors).toEqual([]);
      await page.close();
    },
    TRAIN_TIMEOUT * 2,
  );

  it('drops the files of a 10x folder and pseudo-bulks them with the pre-selected columns', async () => {
    const sim = simulate({ contexts: 2, perturbations: 6, genes: 80, seed: 5, counts: false });
    const cells = simulateCells(sim, { cellsPerPair: 12, seed: 5 });
    const text = formatMtx(cellTable(cells, { context: 'cell_type', perturbation: 'perturbation' }));
    const gz = (name: string, body: string) => ({
      name,
      mimeType: 'application/gzip',
      buffer: gzipSync(body),
    });
    const { page, log } = await openApp(app.browser, app.server.origin);
    await page
      .getByTestId('backend')
      .filter({ hasText: /webgpu|wasm|cpu/ })
      .waitFor();
    await page
      .getByTestId('file-input')
      .setInputFiles([
        gz('matrix.mtx.gz', text.matrix),
        gz('barcodes.tsv.gz', text.barcodes),
        gz('features.tsv.gz', text.features),
        { name: 'cells.csv', mimeType: 'text/csv', buffer: Buffer.from(text.cells) },
      ]);
    await waitOrError(page, page.getByTestId('pseudobulk-panel'));
    expect(await page.getByTestId('context-col').inputValue()).toBe('cell_type');
    expect(await page.getByTestId('control-label').inputValue()).toBe('control');
    await page.getByTestId('cells-per-pair').filter({ hasText: '12 of 12' }).waitFor();
    await page.getByTestId('pseudobulk-button').click();
    await waitOrError(
      page,
      page.getByTestId('dataset-summary').filter({ hasText: 'pseudo-bulk by cell_type' }),
    );
    expect(await page.getByTestId('summary-pairs').textContent()).toMatch(/^12/);
    expect(log.errors).toEqual([]);
    await page.close();
  });

  it('shows cells read while pseudo-bulking, and Cancel stops it with the demo still loaded', async () => {
    // About half a million matrix entries: the pass takes long enough to cancel after the first report.
    const sim = simulate({ contexts: 2, perturbations: 10, genes: 400, seed: 6, counts: false });
    const cells = simulateCells(sim, { cellsPerPair: 60, seed: 6 });
    const total = cells.barcodes.length.toLocaleString('en-US');
    const text = formatMtx(cellTable(cells));
    const gz = (name: string, body: string) => ({
      name,
      mimeType: 'application/gzip',
      buffer: gzipSync(body),
    });
    const { page, log } = await openApp(app.browser, app.server.origin);
    await page.getByTestId('demo-button').click();
    const summary = page.getByTestId('dataset-summary');
    await waitOrError(page, summary.filter({ hasText: 'Built-in demo' }));
    await page
      .getByTestId('file-input')
      .setInputFiles([
        gz('matrix.mtx.gz', text.matrix),
        gz('barcodes.tsv.gz', text.barcodes),
        gz('features.tsv.gz', text.features),
        { name: 'cells.csv', mimeType: 'text/csv', buffer: Buffer.from(text.cells) },
      ]);
    await waitOrError(page, page.getByTestId('pseudobulk-panel'));
    await page.getByTestId('cells-per-pair').filter({ hasText: '20 of 20' }).waitFor();
    await page.getByTestId('pseudobulk-button').click();
    const progress = page.getByTestId('load-progress');
    const partway = new RegExp(`Pseudo-bulking: (?!${total} )[\\d,]+ of ${total} cells`);
    await progress.filter({ hasText: partway }).waitFor();
    await page.getByTestId('pseudobulk-cancel').click();
    await page.getByTestId('status').filter({ hasText: 'Pseudo-bulking cancelled' }).waitFor();
    expect(await progress.count()).toBe(0);
    expect(await summary.textContent()).toContain('Built-in demo');
    // The opened files stay: pseudo-bulking again runs to the end and replaces the demo.
    await page.getByTestId('pseudobulk-button').click();
    await waitOrError(page, summary.filter({ hasText: 'pseudo-bulk by context' }));
    expect(await page.getByTestId('summary-pairs').textContent()).toMatch(/^20/);
    expect(log.errors).toEqual([]);
    await page.close();
  });
});
