import { describe, expect, it } from 'vitest';
import { INITIAL_STATE, studioReducer } from '../../../../src/ui/state/studio';
import type { Action } from '../../../../src/ui/state/studio';
import type { CellsInfo, DatasetInfo } from '../../../../src/worker/api-types';

const cells: CellsInfo = {
  source: 'screen.h5ad',
  format: 'h5ad',
  cells: 1200,
  genes: 300,
  columns: [{ name: 'cell_line', distinct: 3, values: ['a', 'b', 'c'] }],
  counts: 'X',
  countsReason: 'counts taken from X',
  lacks: [],
  guess: { context: 'cell_line', controls: [] },
  notes: [],
};

const dataset = { source: 'screen.h5ad (pseudo-bulk)', contexts: ['a', 'b'] } as unknown as DatasetInfo;
const run = (actions: Action[]) => actions.reduce(studioReducer, INITIAL_STATE);

describe('studioReducer: single-cell input', () => {
  it('an opened input waits for its choices, and stays while its pseudo-bulk becomes the dataset', () => {
    const opened = run([
      { type: 'task-start', task: 'cells', status: 'Opening…' },
      { type: 'cells', cells },
    ]);
    expect(opened).toMatchObject({ task: null, cells, error: null });
    expect(opened.status).toMatch(/1200 cells x 300 genes/);
    const bulked = [
      { type: 'task-start', task: 'pseudobulk', status: 'Summing…' },
      { type: 'dataset', dataset },
    ] as Action[];
    expect(bulked.reduce(studioReducer, opened)).toMatchObject({ cells, dataset });
  });

  it('a rejected pseudo-bulk keeps the input open; a new file or the demo closes it', () => {
    const opened = run([{ type: 'cells', cells }]);
    const rejected = [
      { type: 'task-start', task: 'pseudobulk', status: '' },
      { type: 'load-rejected', message: 'x.h5ad: expected …' },
    ] as Action[];
    expect(rejected.reduce(studioReducer, opened)).toMatchObject({ cells, error: 'x.h5ad: expected …' });
    expect(studioReducer(opened, { type: 'task-start', task: 'files', status: '' }).cells).toBeNull();
    expect(studioReducer(opened, { type: 'task-start', task: 'demo', status: '' }).cells).toBeNull();
  });

  it('a cancelled pseudo-bulk keeps the previous dataset and the opened input, and says so', () => {
    const before = run([
      { type: 'dataset', dataset },
      { type: 'cells', cells },
    ]);
    const started = studioReducer(before, { type: 'task-start', task: 'pseudobulk', status: '' });
    const moving = studioReducer(started, {
      type: 'load-progress',
      progress: { fraction: 0.1, message: 'Pseudo-bulking: 120 of 1,200 cells' },
    });
    expect(moving.loadProgress?.message).toBe('Pseudo-bulking: 120 of 1,200 cells');
    const asked = studioReducer(moving, { type: 'cancel-requested' });
    expect(asked.status).toBe('Cancelling… (stops after the current block of cells)');
    const done = studioReducer(asked, { type: 'task-cancelled' });
    expect(done).toMatchObject({ task: null, cells, dataset, loadProgress: null, cancelling: false });
    expect(done.status).toMatch(/^Pseudo-bulking cancelled/);
  });
});
