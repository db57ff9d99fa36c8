import type { RankedPair } from '../lib/results';
import { formatNumber } from '../lib/format';

interface Props {
  ranked: RankedPair[];
  selected: number;
  baselineLabel: string;
  onSelect: (index: number) => void;
}

function barWidth(value: number): string {
  return `${Math.max(0, Math.min(1, Number.isFinite(value) ? value : 0)) * 100}%`;
}

/** Held-out perturbations sorted by C3TL's centred Pearson; choosing one shows it in the scatter. */
export function PerPairList({ ranked, selected, baselineLabel, onSelect }: Props) {
  return (
    <div className="per-pair">
      <h3 id="per-pair-heading">Per perturbation, most accurate first</h3>
      <p className="hint">
        Centred Pearson of C3TL (bar) and of {baselineLabel} (number on the right). Choose one to see its
        scatter.
      </p>
      <ol className="per-pair-list" data-testid="per-pair-list" aria-labelledby="per-pair-heading">
        {ranked.map((row, rank) => (
          <li key={row.index}>
            <button
              type="button"
              className={`pair-row${row.index === selected ? ' selected' : ''}`}
              aria-pressed={row.index === selected}
              data-perturbation={row.name}
              onClick={() => onSelect(row.index)}
            >
              <span className="pair-rank">{rank + 1}.</span>
              <span className="pair-name">{row.name}</span>
              <span className="pair-bar" aria-hidden="true">
                <span style={{ width: barWidth(row.c3tl) }} />
              </span>
              <span className="pair-value">{formatNumber(row.c3tl)}</span>
              <span className="pair-baseline">{formatNumber(row.baseline)}</span>
            </button>
          </li>
        ))}
      </ol>
    </div>
  );
}
