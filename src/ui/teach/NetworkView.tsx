import { useEffect, useState } from 'react';
import type { NetworkEdge, NetworkViewData } from '../../core/simulate/network-view';
import type { EvaluationView } from '../../worker/api-types';
import { formatNumber } from '../lib/format';
import type { EngineClient } from '../state/engine-client';
import { errorMessage } from '../state/errors';

interface Props {
  engine: EngineClient;
  view: EvaluationView;
  /** A held-out perturbation of the view. */
  perturbation: string;
}

const EDGE_STYLE: Record<NetworkEdge['change'], { color: string; dash?: string; label: string }> = {
  same: { color: '#9aa5b1', label: 'alike in both contexts' },
  stronger: { color: '#0b5cad', label: 'stronger in the target' },
  weaker: { color: '#c2410c', label: 'weaker in the target' },
  'off-in-target': { color: '#c2410c', dash: '4 3', label: 'off in the target' },
  'off-in-reference': { color: '#0b5cad', dash: '4 3', label: 'off in the reference' },
};

const COLUMN = 150;
const ROW = 34;
/** Genes per column before a depth wraps into another column. */
const PER_COLUMN = 8;

/**
 * Why transfer works or fails for one perturbation: its cascade in the target and a reference context (the
 * simulator's causal network), with each shown gene's observed, true and C3TL-predicted effect.
 */
export function NetworkView({ engine, view, perturbation }: Props) {
  const [reference, setReference] = useState<number | null>(null);
  const [shown, setShown] = useState<{ key: string; data: NetworkViewData } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = `${perturbation}|${reference ?? 'auto'}`;
  useEffect(() => {
    let live = true;
    engine.api
      .networkView(perturbation, reference)
      .then((data) => live && setShown({ key, data }))
      .catch((e: unknown) => live && setError(errorMessage(e)));
    return () => {
      live = false;
    };
  }, [engine, perturbation, reference, key, view]);
  const data = shown?.data ?? null;

  return (
    <section className="network-view" data-testid="network-view" aria-labelledby="network-heading">
      <h3 id="network-heading">Why transfer works or fails: the causal network of {perturbation}</h3>
      {error && <p role="alert">{error}</p>}
      {data && (
        <>
          <label className="field inline">
            Reference context
            <select
              data-testid="network-reference"
              value={reference ?? ''}
              onChange={(e) => setReference(e.target.value === '' ? null : Number(e.target.value))}
            >
              <option value="">
                most like {data.target} on its support ({data.references[0]?.name})
              </option>
              {data.references.map((r) => (
                <option key={r.context} value={r.context}>
                  {r.name} (similarity {formatNumber(r.similarity)})
                </option>
              ))}
            </select>
          </label>
          {data.genes.some((g) => g.role === 'downstream') ? (
            <NetworkPicture data={data} />
          ) : (
            <p className="hint" data-testid="network-empty">
              {data.perturbation} hits genes that regulate nothing in either context: its effect stays on them
              (besides the small shifts of normalisation), so there is no cascade to transfer. Pick a
              regulator knockdown or a drug above.
            </p>
          )}
          <div className="network-legend" aria-label="Edge colours">
            {Object.entries(EDGE_STYLE).map(([change, style]) => (
              <span key={change}>
                <svg width="28" height="8" aria-hidden="true">
                  <line
                    x1="0"
                    y1="4"
                    x2="28"
                    y2="4"
                    stroke={style.color}
                    strokeWidth="2"
                    strokeDasharray={style.dash}
                  />
                </svg>{' '}
                {style.label}
              </span>
            ))}
          </div>
          <div className="table-scroll" tabIndex={0} aria-label="Effects of the shown genes">
            <table className="metrics" data-testid="network-genes">
              <caption>
                The perturbed genes and the {data.genes.filter((g) => g.role === 'downstream').length}{' '}
                strongest of the cascade in {data.target};{' '}
                {data.edges.filter((e) => e.change !== 'same').length} of the {data.edges.length} edges among
                them differ from {data.reference}.
              </caption>
              <thead>
                <tr>
                  <th scope="col">Gene</th>
                  <th scope="col">observed in {data.target}</th>
                  <th scope="col">true in {data.target}</th>
                  <th scope="col">true in {data.reference}</th>
                  <th scope="col">C3TL</th>
                </tr>
              </thead>
              <tbody>
                {data.genes.map((g) => (
                  <tr key={g.name} data-gene={g.name} data-role={g.role}>
                    <th scope="row">
                      {g.name}
                      {g.role === 'perturbed' ? ' (perturbed)' : ''}
                    </th>
                    <td>{formatNumber(g.observed)}</td>
                    <td>{formatNumber(g.truth)}</td>
                    <td>{formatNumber(g.truthReference)}</td>
                    <td>{g.predicted === null ? '—' : formatNumber(g.predicted)}</td>
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

/** Genes in columns by their depth in the cascade, edges coloured by how the two contexts differ. */
function NetworkPicture({ data }: { data: NetworkViewData }) {
  const byDepth = new Map<number, number[]>();
  data.genes.forEach((g, i) => byDepth.set(g.depth, [...(byDepth.get(g.depth) ?? []), i]));
  const columns: number[][] = [];
  for (const depth of [...byDepth.keys()].sort((a, b) => a - b)) {
    const genes = byDepth.get(depth) ?? [];
    for (let i = 0; i < genes.length; i += PER_COLUMN) columns.push(genes.slice(i, i + PER_COLUMN));
  }
  const position: { x: number; y: number }[] = [];
  columns.forEach((genes, column) =>
    genes.forEach((i, r) => (position[i] = { x: 20 + column * COLUMN, y: 20 + r * ROW })),
  );
  const height = 20 + Math.max(...columns.map((c) => c.length)) * ROW;
  const width = 20 + columns.length * COLUMN;
  return (
    <svg
      className="network-picture"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`Cascade of ${data.perturbation} in ${data.target} against ${data.reference}`}
    >
      {data.edges.map((e, i) => {
        const a = position[e.from];
        const b = position[e.to];
        const style = EDGE_STYLE[e.change];
        return (
          <line
            key={i}
            x1={a.x}
            y1={a.y}
            x2={b.x}
            y2={b.y}
            stroke={style.color}
            strokeWidth={1 + Math.min(3, Math.abs(e.target || e.reference) * 2)}
            strokeDasharray={style.dash}
            data-change={e.change}
          >
            <title>{`${data.genes[e.from].name} → ${data.genes[e.to].name}: ${formatNumber(e.target)} in ${data.target}, ${formatNumber(e.reference)} in ${data.reference}`}</title>
          </line>
        );
      })}
      {data.genes.map((g, i) => (
        <g key={g.name} transform={`translate(${position[i].x},${position[i].y})`}>
          <circle r="7" fill={g.role === 'perturbed' ? '#111827' : g.truth > 0 ? '#0b5cad' : '#c2410c'} />
          <text x="10" y="4" fontSize="11">
            {g.name}
          </text>
        </g>
      ))}
    </svg>
  );
}
