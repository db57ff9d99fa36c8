import type { EpochLog } from '../../worker/api-types';
import { formatNumber, formatSeconds } from '../lib/format';
import { etaSeconds } from '../lib/results';
import { LossChart } from './LossChart';

interface Props {
  epochs: EpochLog[];
  running: boolean;
  cancelling: boolean;
  onCancel: () => void;
}

/** Step 3: progress with epoch and ETA, the live loss curve, and Cancel. */
export function TrainingPanel({ epochs, running, cancelling, onCancel }: Props) {
  const last = epochs.length > 0 ? epochs[epochs.length - 1] : null;
  const fraction = last ? Math.min(1, last.epoch / Math.max(1, last.maxEpochs)) : 0;
  const text = last
    ? `Epoch ${last.epoch} of at most ${last.maxEpochs} · best epoch ${last.bestEpoch} · ${formatSeconds(
        last.elapsedSeconds,
      )} elapsed${running ? ` · ETA ≤ ${formatSeconds(etaSeconds(last))}` : ''}`
    : running
      ? 'Preparing the split, the baselines and the model…'
      : '';
  return (
    <section className="panel" aria-labelledby="training-heading" data-testid="training-view">
      <h2 id="training-heading">Training</h2>
      <div className="progress-row">
        <label className="progress-label" data-testid="progress-text">
          {text}
          <progress
            data-testid="progress"
            max={1}
            value={last || !running ? fraction : undefined}
            aria-valuetext={text}
          />
        </label>
        <button
          type="button"
          className="danger"
          data-testid="cancel-button"
          onClick={onCancel}
          disabled={!running || cancelling}
        >
          {cancelling ? 'Cancelling…' : 'Cancel'}
        </button>
      </div>
      {last && (
        <p className="hint">
          Latest losses: training {formatNumber(last.trainLoss)}, validation {formatNumber(last.valLoss)}.
          Early stopping keeps the epoch with the lowest validation loss.
        </p>
      )}
      {epochs.length > 0 && <LossChart epochs={epochs} />}
    </section>
  );
}
