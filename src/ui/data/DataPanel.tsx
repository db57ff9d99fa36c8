import type { ReactNode } from 'react';
import type {
  CellsInfo,
  DatasetInfo,
  GroupPreview,
  LoadProgress,
  PseudobulkChoice,
} from '../../worker/api-types';
import { CoverageHeatmap } from './CoverageHeatmap';
import { DatasetSummary } from './DatasetSummary';
import { DropZone } from './DropZone';
import { PseudobulkPanel } from './PseudobulkPanel';

interface Props {
  dataset: DatasetInfo | null;
  busy: boolean;
  loading: boolean;
  progress: LoadProgress | null;
  onDemo: () => void;
  onFiles: (files: File[]) => void;
  /** A dropped single-cell input and its pseudo-bulk actions; the panel shows while it is set. */
  cells?: CellsInfo | null;
  onPreview?: (choice: PseudobulkChoice) => Promise<GroupPreview>;
  onPseudobulk?: (choice: PseudobulkChoice) => void;
  /** Stops the load in progress; the Cancel button shows while it is set (pseudo-bulking). */
  onCancelLoad?: () => void;
  cancelling?: boolean;
  /** The teaching panel, shown beside the demo. */
  simulation?: ReactNode;
}

/** Step 1: bring data (demo or files), see what was loaded. */
export function DataPanel({
  dataset,
  busy,
  loading,
  progress,
  onDemo,
  onFiles,
  cells,
  onPreview,
  onPseudobulk,
  onCancelLoad,
  cancelling = false,
  simulation,
}: Props) {
  return (
    <section className="panel" aria-labelledby="data-heading" data-testid="data-view">
      <h2 id="data-heading">Data</h2>
      <div className="data-sources">
        <DropZone disabled={busy} onFiles={onFiles} />
        <div className="demo">
          <button type="button" data-testid="demo-button" onClick={onDemo} disabled={busy}>
            Load demo
          </button>
          <p className="hint">
            A simulated screen with known truth: knockdowns and drugs propagate through a gene network that
            each of 6 contexts rewires differently, measured as noisy replicate counts.
            <br />6 contexts × 300 perturbations × 1,000 genes, seed 1; context rewiring is what C3TL can
            learn.
          </p>
        </div>
        {simulation}
      </div>
      {loading && (
        <div className="load-progress" data-testid="load-progress">
          <label>
            {progress?.message ?? 'Loading…'}
            <progress
              max={1}
              value={progress && Number.isFinite(progress.fraction) ? progress.fraction : undefined}
            />
          </label>
          {onCancelLoad && (
            <button
              type="button"
              data-testid="pseudobulk-cancel"
              disabled={cancelling}
              onClick={onCancelLoad}
            >
              {cancelling ? 'Cancelling…' : 'Cancel'}
            </button>
          )}
        </div>
      )}
      {cells && onPreview && onPseudobulk && (
        <PseudobulkPanel
          key={cells.source}
          cells={cells}
          busy={busy}
          onPreview={onPreview}
          onRun={onPseudobulk}
        />
      )}
      {dataset ? (
        <div className="dataset">
          <DatasetSummary dataset={dataset} />
          <CoverageHeatmap dataset={dataset} />
        </div>
      ) : (
        !loading && <p className="empty">No dataset yet: load the demo or choose a file.</p>
      )}
    </section>
  );
}
