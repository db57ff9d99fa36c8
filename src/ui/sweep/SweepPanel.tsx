import { useMemo } from 'react';
import type { DatasetInfo } from '../../worker/api-types';
import { formatNumber, formatPercent } from '../lib/format';
import { sweepSeries } from '../lib/results';
import type { PlotData, PlotLayout } from '../plot/Plot';
import { Plot } from '../plot/Plot';
import type { SetupValues, SweepState } from '../state/studio';
import { SWEEP_FRACTIONS } from '../state/studio';

interface Props {
  dataset: DatasetInfo;
  setup: SetupValues;
  sweep: SweepState | null;
  busy: boolean;
  cancelling: boolean;
  onSweep: () => void;
  onCancel: () => void;
}

/** "How many must I measure?": accuracy of C3TL and the best baseline against the support size. */
export function SweepPanel({ dataset, setup, sweep, busy, cancelling, onSweep, onCancel }: Props) {
  const context = dataset.contexts[setup.target];
  const shared = dataset.sharedPerContext[setup.target] ?? 0;
  const series = useMemo(() => sweepSeries(sweep?.points ?? []), [sweep?.points]);
  const { data, layout } = useMemo(() => {
    const traces: PlotData[] = [
      {
        type: 'scatter',
        mode: 'lines+markers',
        name: 'C3TL',
        x: series.support,
        y: series.c3tl,
        line: { color: '#0b5cad', width: 3 },
        marker: { size: 9 },
        hovertemplate: '%{x} measured: C3TL %{y:.3f}<extra></extra>',
      },
      {
        type: 'scatter',
        mode: 'lines+markers',
        name: 'best baseline',
        x: series.support,
        y: series.baseline,
        text: series.baselineName,
        line: { color: '#c2410c', width: 2, dash: 'dot' },
        marker: { size: 8, symbol: 'square' },
        hovertemplate: '%{x} measured: %{text} %{y:.3f}<extra></extra>',
      },
    ];
    const plotLayout: PlotLayout = {
      xaxis: {
        title: { text: `perturbations measured in ${context} (support, log scale)` },
        type: 'log',
        tickvals: series.support,
        ticktext: series.support.map(String),
      },
      yaxis: { title: { text: 'accuracy (centred Pearson)' } },
      legend: { orientation: 'h', y: 1.12 },
    };
    return { data: traces, layout: plotLayout };
  }, [series, context]);

  const running = sweep !== null && !sweep.done;
  return (
    <section className="panel" aria-labelledby="sweep-heading" data-testid="sweep-view">
      <h2 id="sweep-heading">How many perturbations must I measure?</h2>
      <p className="hint">
        Trains once per support size ({SWEEP_FRACTIONS.map(formatPercent).join(', ')} of the {shared} shared
        perturbations of {context}) with the setup above, and scores all of them on the same held-out pairs
        (those the {formatPercent(Math.max(...SWEEP_FRACTIONS))} support leaves out).
      </p>
      <div className="actions">
        <button type="button" data-testid="sweep-button" onClick={onSweep} disabled={busy || shared < 2}>
          Run support sweep
        </button>
        {running && (
          <button
            type="button"
            className="danger"
            data-testid="sweep-cancel-button"
            onClick={onCancel}
            disabled={cancelling}
          >
            {cancelling ? 'Cancelling…' : 'Cancel sweep'}
          </button>
        )}
      </div>
      {running && (
        <p className="hint" data-testid="sweep-progress" aria-live="polite">
          Point {Math.min(sweep.points.length + 1, sweep.fractions.length)} of {sweep.fractions.length}
          {sweep.epoch ? `, epoch ${sweep.epoch.epoch}` : ''}…
        </p>
      )}
      {sweep && sweep.points.length > 0 && (
        <>
          <Plot
            data={data}
            layout={layout}
            height={340}
            testId="sweep-plot"
            label={`Accuracy of C3TL and the best baseline against the number of measured perturbations in ${context}`}
          />
          <table className="sweep-table" data-testid="sweep-table">
            <caption>Centred Pearson on held-out pairs per support size</caption>
            <thead>
              <tr>
                <th scope="col">Support</th>
                <th scope="col">C3TL</th>
                <th scope="col">Best baseline</th>
              </tr>
            </thead>
            <tbody>
              {series.support.map((support, i) => (
                <tr key={`${series.fraction[i]}`}>
                  <th scope="row">
                    {support} ({formatPercent(series.fraction[i])})
                  </th>
                  <td>{formatNumber(series.c3tl[i])}</td>
                  <td>
                    {formatNumber(series.baseline[i])} <span className="muted">{series.baselineName[i]}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
