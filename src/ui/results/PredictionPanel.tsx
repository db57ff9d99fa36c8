import { useMemo } from 'react';
import type { PredictionView } from '../../worker/api-types';
import { formatNumber, formatSeconds } from '../lib/format';
import { predictionsCsv, topGenesOfRow } from '../lib/results';
import { plural } from '../../core/text';

const SHOWN_GENES = 5;
const SHOWN_ROWS = 200;

/** Step 4 (predict mode): C3TL's predicted effects for perturbations never measured in the target. */
export function PredictionPanel({ view }: { view: PredictionView }) {
  const G = view.genes.length;
  const rows = useMemo(
    () =>
      view.perturbations.slice(0, SHOWN_ROWS).map((name, q) => ({
        name,
        genes: topGenesOfRow(view.predictions, q, G, SHOWN_GENES).map((g) => ({
          gene: view.genes[g],
          value: view.predictions[q * G + g],
        })),
      })),
    [view, G],
  );

  const download = () => {
    const blob = new Blob([predictionsCsv(view)], { type: 'text/csv' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `c3tl-predictions-${view.context}.csv`;
    a.click();
    URL.revokeObjectURL(url);
  };

  return (
    <section className="panel" aria-labelledby="prediction-heading" data-testid="prediction-view">
      <h2 id="prediction-heading">Predictions for {view.context}</h2>
      <p className="hint">
        Trained on all {plural(view.support, 'measured perturbation')} of {view.context} in{' '}
        {formatSeconds(view.train.seconds)} on {view.train.backend}. These{' '}
        {plural(view.perturbations.length, 'pair')} were never measured, so their accuracy cannot be checked
        here: run evaluate mode to see how well C3TL does on this context.
      </p>
      {view.perturbations.length === 0 ? (
        <p className="empty">Nothing to predict: every perturbation is measured in {view.context}.</p>
      ) : (
        <>
          <button type="button" data-testid="download-predictions" onClick={download}>
            Download all predictions (CSV, {plural(G, 'gene')})
          </button>
          <div className="table-scroll" tabIndex={0} aria-label="Predicted effects table">
            <table className="predictions" data-testid="prediction-table">
              <caption>
                Strongest predicted changes per perturbation
                {view.perturbations.length > SHOWN_ROWS ? ` (first ${SHOWN_ROWS}; the CSV has all)` : ''}.
              </caption>
              <thead>
                <tr>
                  <th scope="col">Perturbation</th>
                  {Array.from({ length: Math.min(SHOWN_GENES, G) }, (_, i) => (
                    <th key={i} scope="col">
                      Gene #{i + 1}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={row.name} data-perturbation={row.name}>
                    <th scope="row">{row.name}</th>
                    {row.genes.map((cell) => (
                      <td key={cell.gene} className={cell.value >= 0 ? 'up' : 'down'}>
                        {cell.gene} <span className="value">{formatNumber(cell.value)}</span>
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
