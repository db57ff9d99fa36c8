import { useEffect, useId, useState } from 'react';
import type { CellsInfo, GroupPreview, PseudobulkChoice } from '../../worker/api-types';

interface Props {
  cells: CellsInfo;
  busy: boolean;
  onPreview: (choice: PseudobulkChoice) => Promise<GroupPreview>;
  onRun: (choice: PseudobulkChoice) => void;
}

const DEFAULT_MIN_CELLS = 10;

/**
 * Step 1b for single-cell input: which obs column is the context, which the perturbation, which labels are
 * controls, and the fewest cells a group needs. Cells per group are shown as the choice changes.
 */
export function PseudobulkPanel({ cells, busy, onPreview, onRun }: Props) {
  const ids = { context: useId(), perturbation: useId(), control: useId(), min: useId() };
  const names = cells.columns.map((c) => c.name);
  const [contextColumn, setContext] = useState(cells.guess.context ?? names[0] ?? '');
  const [perturbationColumn, setPerturbation] = useState(
    cells.guess.perturbation ?? names.find((n) => n !== contextColumn) ?? '',
  );
  const [controls, setControls] = useState<string[]>(cells.guess.controls);
  const [minCells, setMinCells] = useState(DEFAULT_MIN_CELLS);
  const [preview, setPreview] = useState<GroupPreview | null>(null);
  const values = cells.columns.find((c) => c.name === perturbationColumn)?.values ?? [];
  const choice: PseudobulkChoice = { contextColumn, perturbationColumn, controls, minCells };
  const key = JSON.stringify(choice);

  useEffect(() => {
    let live = true;
    onPreview(JSON.parse(key) as PseudobulkChoice).then(
      (p) => live && setPreview(p),
      () => live && setPreview(null),
    );
    return () => {
      live = false;
    };
  }, [key, onPreview]);

  const usable = cells.counts !== null && contextColumn !== perturbationColumn && controls.length > 0;
  return (
    <div className="pseudobulk" data-testid="pseudobulk-panel">
      <h3>Pseudo-bulk {cells.source}</h3>
      <p className="hint" data-testid="cells-summary">
        {cells.cells.toLocaleString('en-US')} cells x {cells.genes.toLocaleString('en-US')} genes;{' '}
        {cells.counts ? `counts from ${cells.counts}` : 'no counts'} ({cells.countsReason}). Counts are summed
        per (context, perturbation), normalised to log2 CPM, and each perturbation is compared with the
        controls of its own context.
      </p>
      {cells.lacks.length > 0 && (
        <ul className="notes" data-testid="cells-lacks">
          {cells.lacks.map((l) => (
            <li key={l}>{l}</li>
          ))}
        </ul>
      )}
      <div className="fields">
        <div className="field">
          <label htmlFor={ids.context}>Context column</label>
          <select
            id={ids.context}
            data-testid="context-col"
            value={contextColumn}
            disabled={busy}
            onChange={(e) => setContext(e.target.value)}
          >
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.perturbation}>Perturbation column</label>
          <select
            id={ids.perturbation}
            data-testid="perturbation-col"
            value={perturbationColumn}
            disabled={busy}
            onChange={(e) => {
              setPerturbation(e.target.value);
              setControls([]);
            }}
          >
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.control}>Control label(s)</label>
          <select
            id={ids.control}
            data-testid="control-label"
            multiple
            size={Math.min(6, Math.max(2, values.length))}
            value={controls}
            disabled={busy}
            onChange={(e) => setControls(Array.from(e.target.selectedOptions, (o) => o.value))}
          >
            {values.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.min}>Min cells per group</label>
          <input
            id={ids.min}
            data-testid="min-cells"
            type="number"
            min={1}
            step={1}
            value={minCells}
            disabled={busy}
            onChange={(e) => setMinCells(Math.max(1, Math.floor(Number(e.target.value) || 1)))}
          />
        </div>
      </div>
      <p className="hint" data-testid="cells-per-pair">
        {preview
          ? preview.kept
            ? `${preview.kept} of ${preview.groups} (context, perturbation) pairs have at least ${minCells} cells; cells per pair ${preview.min} to ${preview.max} (median ${preview.median}).`
            : `No (context, perturbation) pair has ${minCells} cells or more with these choices.`
          : 'Counting cells per pair…'}
        {preview && preview.contextsWithoutControls.length > 0 && (
          <> Without enough control cells: {preview.contextsWithoutControls.join(', ')}.</>
        )}
      </p>
      <button
        type="button"
        data-testid="pseudobulk-button"
        disabled={busy || !usable || !preview?.kept}
        onClick={() => onRun(choice)}
      >
        Pseudo-bulk
      </button>
    </div>
  );
}
