import { useMemo, useState } from 'react';
import type { EvaluationView } from '../../worker/api-types';
import type { EngineClient } from '../state/engine-client';
import { formatSeconds } from '../lib/format';
import { METHOD_INFO } from '../../core/eval/methods';
import {
  heldGenesText,
  rankPairs,
  referenceMixText,
  slopeFreeText,
  sparseBaseText,
  verdict,
} from '../lib/results';
import { DataWarnings } from './DataWarnings';
import { GeneHeatmap } from './GeneHeatmap';
import { MetricsTable } from './MetricsTable';
import { PerPairList } from './PerPairList';
import { ScatterPlot } from './ScatterPlot';
import { Verdict } from './Verdict';
import { plural } from '../../core/text';
import { TruthTable } from '../teach/TruthTable';
import { NetworkView } from '../teach/NetworkView';

/** Step 4 (evaluate mode): verdict, metrics, scatter for one perturbation, ranking and heatmap. */
export function ResultsPanel({ view, engine }: { view: EvaluationView; engine?: EngineClient }) {
  const ranked = useMemo(() => rankPairs(view), [view]);
  // The median-ranked perturbation is a fair first example: neither the best nor the worst case.
  const typical = ranked.length > 0 ? ranked[Math.floor(ranked.length / 2)].index : 0;
  const [chosen, setChosen] = useState<{ view: EvaluationView; index: number } | null>(null);
  const selected = chosen && chosen.view === view ? chosen.index : typical;
  const select = (index: number) => setChosen({ view, index });
  const [x, setX] = useState<'observed' | 'truth'>('observed');
  const baselineLabel = METHOD_INFO[view.bestBaseline].label;
  const { train } = view;
  const heldText = heldGenesText(train.heldGenes);
  const baseText = sparseBaseText(train.sparseBase);
  const mixText = referenceMixText(train.transfer?.mix, train.transfer?.sparseMix);
  const slopeText = slopeFreeText(train.transfer?.withoutSlope);

  return (
    <section className="panel" aria-labelledby="results-heading" data-testid="results-view">
      <h2 id="results-heading">Results for {view.context}</h2>
      <Verdict verdict={verdict(view)} />
      <DataWarnings warnings={view.warnings ?? []} />
      <p className="hint" data-testid="train-info">
        Support {plural(view.support, 'perturbation')}, {plural(view.query, 'held-out perturbation')},{' '}
        {plural(view.genes.length, 'gene')}. C3TL:{' '}
        <span data-testid="trained-parameters">{plural(train.trainedParameters, 'parameter')} trained</span>{' '}
        of <span data-testid="total-parameters">{train.parameters.toLocaleString('en-US')}</span> held,{' '}
        {train.epochs} epochs of its fixed form (best {train.bestEpoch}),{' '}
        <span data-testid="transfer-info">{transferText(train.transfer)}</span>, in{' '}
        {formatSeconds(train.seconds)} on {train.backend}.
      </p>
      {baseText && (
        <p className="hint" data-testid="sparse-base">
          {baseText}
        </p>
      )}
      {heldText && (
        <p className="hint" data-testid="held-genes">
          {heldText}
        </p>
      )}
      {mixText && (
        <p className="hint" data-testid="reference-mix">
          {mixText}
        </p>
      )}
      {slopeText && (
        <p className="hint" data-testid="slope-free">
          {slopeText}
        </p>
      )}
      <MetricsTable metrics={view.metrics} query={view.query} ceiling={view.truth?.ceiling} />
      {view.truth && <TruthTable vsTruth={view.truth.vsTruth} query={view.query} />}
      <div className="results-grid">
        <div className="scatter">
          <h3>Predicted vs observed, one held-out perturbation</h3>
          <label className="field inline">
            Perturbation
            <select
              data-testid="scatter-select"
              value={selected}
              onChange={(e) => select(Number(e.target.value))}
            >
              {ranked.map((row) => (
                <option key={row.index} value={row.index}>
                  {row.name}
                </option>
              ))}
            </select>
          </label>
          {view.truth && (
            <fieldset className="truth-toggle" data-testid="scatter-x">
              <legend>x axis</legend>
              {(['observed', 'truth'] as const).map((axis) => (
                <label key={axis}>
                  <input
                    type="radio"
                    name="scatter-x"
                    value={axis}
                    checked={x === axis}
                    onChange={() => setX(axis)}
                  />
                  {axis === 'observed' ? 'observed (noisy)' : 'truth (noise-free)'}
                </label>
              ))}
            </fieldset>
          )}
          <ScatterPlot view={view} query={selected} x={x} />
          <p className="hint">
            Each dot is a gene; hover for its name. Dots on the dashed line are predicted exactly.
          </p>
        </div>
        <PerPairList ranked={ranked} selected={selected} baselineLabel={baselineLabel} onSelect={select} />
      </div>
      <GeneHeatmap view={view} />
      {view.truth && engine && (
        <NetworkView engine={engine} view={view} perturbation={view.queryPerturbations[selected]} />
      )}
    </section>
  );
}

/** What the learnt transfer path did in this run, in words. */
function transferText(transfer: EvaluationView['train']['transfer']): string {
  if (!transfer) return 'its learnt transfer path off';
  if (transfer.epochs === 0)
    return 'its learnt transfer path untrained in this run (no held-out reference context could judge training, or the model was read from a file)';
  const epochs = `${transfer.epochs} epochs of its learnt transfer path`;
  const judged = transfer.judgedOn
    ? `${transfer.judgedOn.pairs} pairs in ${transfer.judgedOn.contexts} contexts`
    : 'held-out pairs';
  if (transfer.scale === 0)
    return `${epochs}, then switched off: on ${judged} the fixed form alone did better`;
  const best =
    transfer.bestEpoch === 0 ? 'no epoch beat its initial similarity rule' : `best ${transfer.bestEpoch}`;
  return `${epochs} (${best}; applied at ${transfer.scale}x, the multiple preferred on ${judged})`;
}
