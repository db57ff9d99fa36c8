import type { DatasetInfo } from '../../worker/api-types';
import { plural } from '../../core/text';

/** Counts of the loaded dataset and the notes from loading (averaged replicates and the like). */
export function DatasetSummary({ dataset }: { dataset: DatasetInfo }) {
  const { summary } = dataset;
  const possible = summary.contexts * summary.perturbations;
  return (
    <div className="dataset-summary" data-testid="dataset-summary">
      <p className="dataset-source">{dataset.source}</p>
      <dl className="stats">
        <div>
          <dt>Contexts</dt>
          <dd data-testid="summary-contexts">{summary.contexts}</dd>
        </div>
        <div>
          <dt>Perturbations</dt>
          <dd data-testid="summary-perturbations">{summary.perturbations}</dd>
        </div>
        <div>
          <dt>Genes</dt>
          <dd data-testid="summary-genes">{summary.genes}</dd>
        </div>
        <div>
          <dt>Observed pairs</dt>
          <dd data-testid="summary-pairs">
            {summary.pairs}
            <span className="muted"> of {possible}</span>
          </dd>
        </div>
      </dl>
      <ul className="notes">
        {summary.averagedPairs > 0 && (
          <li>
            {plural(summary.averagedPairs, 'pair')} averaged over several input rows (replicates or doses).
          </li>
        )}
        {dataset.notes.map((note, i) => (
          <li key={i}>{note}</li>
        ))}
      </ul>
    </div>
  );
}
