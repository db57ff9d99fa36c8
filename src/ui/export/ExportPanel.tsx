import { useMemo, useState } from 'react';
import type { Delimiter } from '../../core/data/write';
import { recordJson } from '../../core/record';
import type { Method } from '../../worker/api-types';
import type { EngineClient } from '../state/engine-client';
import { METHOD_INFO } from '../../core/eval/methods';
import { downloadText } from './download';
import './export.css';
import type { ResultView } from './tables';
import { exportableMethods, exportFileName, metricsTable, predictionsTable } from './tables';
import { plural } from '../../core/text';

const TABLE_TYPES: Record<Delimiter, { ext: string; type: string }> = {
  ',': { ext: 'csv', type: 'text/csv' },
  '\t': { ext: 'tsv', type: 'text/tab-separated-values' },
};

/** Step 5: take the results away (tables, the record) and see how to get the same numbers again. */
export function ExportPanel({ view, engine }: { view: ResultView; engine?: EngineClient }) {
  const [modelError, setModelError] = useState<string | null>(null);
  const methods = useMemo(() => exportableMethods(view), [view]);
  const [chosen, setChosen] = useState<Method>('c3tl');
  const method = methods.includes(chosen) ? chosen : methods[0];
  const evaluation = 'queryPerturbations' in view ? view : null;
  const pairs = 'queryPerturbations' in view ? view.queryPerturbations.length : view.perturbations.length;
  const record = useMemo(() => (view.record ? recordJson(view.record) : null), [view]);

  const saveModel = () => {
    if (!engine) return;
    setModelError(null);
    engine.api
      .exportModel()
      .then(({ name, text }) => downloadText(text, name, 'application/json'))
      .catch((error: unknown) => setModelError(error instanceof Error ? error.message : String(error)));
  };

  const savePredictions = (delimiter: Delimiter) => {
    const { ext, type } = TABLE_TYPES[delimiter];
    downloadText(
      predictionsTable(view, method, delimiter),
      exportFileName(evaluation ? 'heldout-predictions' : 'predictions', view.context, ext, method),
      type,
    );
  };

  return (
    <section className="panel" aria-labelledby="export-heading" data-testid="export-view">
      <h2 id="export-heading">Export and reproduce</h2>
      <p className="hint">
        Files are made here in the browser and saved by it; nothing is uploaded. Every chart also has PNG and
        SVG buttons under it.
      </p>
      <div className="export-grid">
        <div className="export-group">
          <h3>Predictions</h3>
          <p className="hint">
            Wide table: context, perturbation, then {plural(view.genes.length, 'gene')}; one row per{' '}
            {evaluation ? 'held-out' : 'predicted'} perturbation ({pairs}).
          </p>
          <div className="export-buttons">
            {methods.length > 1 && (
              <label className="field inline">
                Method
                <select
                  data-testid="export-method-select"
                  value={method}
                  onChange={(e) => setChosen(e.target.value as Method)}
                >
                  {methods.map((m) => (
                    <option key={m} value={m}>
                      {METHOD_INFO[m].label}
                    </option>
                  ))}
                </select>
              </label>
            )}
            <button type="button" data-testid="export-predictions-csv" onClick={() => savePredictions(',')}>
              CSV
            </button>
            <button type="button" data-testid="export-predictions-tsv" onClick={() => savePredictions('\t')}>
              TSV
            </button>
          </div>
        </div>
        {evaluation && (
          <div className="export-group">
            <h3>Metrics</h3>
            <p className="hint">The metrics table: one row per method, one column per metric.</p>
            <button
              type="button"
              data-testid="export-metrics-csv"
              onClick={() =>
                downloadText(
                  metricsTable(evaluation),
                  exportFileName('metrics', view.context, 'csv'),
                  'text/csv',
                )
              }
            >
              Metrics CSV
            </button>
          </div>
        )}
        {engine && (
          <div className="export-group">
            <h3>Model</h3>
            <p className="hint">
              The trained C3TL model as one portable file (weights, genes, target, support, settings, the
              dataset’s SHA-256). Apply it later here or with the CLI (<code>predict --model</code>) to
              predict without training.
            </p>
            <button type="button" data-testid="export-model" onClick={saveModel}>
              Model file
            </button>
            {modelError && (
              <p className="hint" role="alert" data-testid="export-model-error">
                {modelError}
              </p>
            )}
          </div>
        )}
        {record && (
          <div className="export-group">
            <h3>Reproducibility record</h3>
            <p className="hint">
              Input files with size and SHA-256 (or the demo’s simulator options), every setting, the seed,
              backend and adapter, versions and the metrics. The same record and files give the same numbers
              on the same backend.
            </p>
            <button
              type="button"
              data-testid="export-record-json"
              onClick={() =>
                downloadText(record, exportFileName('record', view.context, 'json'), 'application/json')
              }
            >
              Record JSON
            </button>
          </div>
        )}
      </div>
      {record && (
        <details className="repro-record" data-testid="repro-record">
          <summary>Show the reproducibility record</summary>
          <pre tabIndex={0} aria-label="Reproducibility record (JSON)">
            {record}
          </pre>
        </details>
      )}
    </section>
  );
}
