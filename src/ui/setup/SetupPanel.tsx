import { useId } from 'react';
import type { DatasetInfo, ModelPreset } from '../../worker/api-types';
import type { Mode, SetupValues } from '../state/studio';
import { NumberField } from './NumberField';

interface Props {
  dataset: DatasetInfo;
  setup: SetupValues;
  busy: boolean;
  onChange: (patch: Partial<SetupValues>) => void;
  onTrain: () => void;
}

const PRESETS: { value: ModelPreset; label: string }[] = [
  { value: 'small', label: 'Small (fastest)' },
  { value: 'medium', label: 'Medium' },
  { value: 'large', label: 'Large' },
];

/** Why Train cannot start with this setup, or null when it can. */
export function trainBlocker(dataset: DatasetInfo, setup: SetupValues): string | null {
  const context = dataset.contexts[setup.target];
  if (setup.mode === 'predict' && dataset.unmeasuredPerContext[setup.target] === 0) {
    return `Every perturbation measured elsewhere is already measured in ${context}: nothing to predict. Use evaluate mode to measure accuracy.`;
  }
  if (dataset.sharedPerContext[setup.target] < 2) {
    return `${context} shares fewer than 2 measured perturbations with the other contexts: there is nothing to learn its context from.`;
  }
  return null;
}

/** Step 2: what to predict and how. Every control has a default, so one click on Train works. */
export function SetupPanel({ dataset, setup, busy, onChange, onTrain }: Props) {
  const targetId = useId();
  const presetId = useId();
  const blocker = trainBlocker(dataset, setup);
  const shared = dataset.sharedPerContext[setup.target] ?? 0;
  const supportCount = Math.max(1, Math.round((shared * setup.supportPercent) / 100));
  const set = (patch: Partial<SetupValues>) => onChange(patch);

  return (
    <section className="panel" aria-labelledby="setup-heading" data-testid="setup-view">
      <h2 id="setup-heading">Set up</h2>
      <form
        className="setup-grid"
        onSubmit={(e) => {
          e.preventDefault();
          if (!busy && blocker === null) onTrain();
        }}
      >
        <div className="field target">
          <label htmlFor={targetId}>Context to predict</label>
          <select
            id={targetId}
            data-testid="target-select"
            value={setup.target}
            disabled={busy}
            onChange={(e) => set({ target: Number(e.target.value) })}
          >
            {dataset.contexts.map((name, c) => (
              <option key={name} value={c}>
                {name} · {dataset.sharedPerContext[c]} shared · {dataset.unmeasuredPerContext[c]} missing
              </option>
            ))}
          </select>
        </div>

        <fieldset className="field mode" disabled={busy}>
          <legend>Mode</legend>
          {(['evaluate', 'predict'] as Mode[]).map((mode) => (
            <label key={mode} className="radio">
              <input
                type="radio"
                name="mode"
                value={mode}
                data-testid={`mode-${mode}`}
                checked={setup.mode === mode}
                onChange={() => set({ mode })}
              />
              {mode === 'evaluate'
                ? 'Evaluate: hide most measured perturbations and score predictions'
                : 'Predict: use all measured perturbations, predict the missing ones'}
            </label>
          ))}
        </fieldset>

        {setup.mode === 'evaluate' && (
          <NumberField
            label="Support (% of shared perturbations)"
            testId="support-input"
            value={setup.supportPercent}
            min={1}
            max={90}
            disabled={busy}
            hint={`About ${supportCount} of ${shared} perturbations are shown to the model; the rest are held out.`}
            onChange={(v) => set({ supportPercent: v ?? 10 })}
          />
        )}

        <NumberField
          label="Seed"
          testId="seed-input"
          value={setup.seed}
          min={0}
          max={2 ** 31 - 1}
          disabled={busy}
          hint="Same seed, same split and same model."
          onChange={(v) => set({ seed: v ?? 1 })}
        />

        <div className="field">
          <label htmlFor={presetId}>Model size</label>
          <select
            id={presetId}
            data-testid="preset-select"
            value={setup.preset}
            disabled={busy}
            onChange={(e) => set({ preset: e.target.value as ModelPreset })}
          >
            {PRESETS.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
        </div>

        <NumberField
          label="Gene limit"
          testId="gene-limit-input"
          value={setup.geneLimit}
          min={0}
          max={100000}
          step={100}
          disabled={busy}
          hint="Most variable genes kept (chosen on training pairs only); 0 keeps all."
          onChange={(v) => set({ geneLimit: v ?? 2000 })}
        />

        <details className="field advanced">
          <summary>Advanced</summary>
          <NumberField
            label="Max epochs"
            testId="max-epochs-input"
            value={setup.maxEpochs}
            min={1}
            max={10000}
            placeholder="engine default"
            disabled={busy}
            hint="Upper bound on training epochs; early stopping usually ends sooner."
            onChange={(v) => set({ maxEpochs: v })}
          />
        </details>

        <div className="actions">
          <button
            type="submit"
            className="primary"
            data-testid="train-button"
            disabled={busy || blocker !== null}
          >
            Train
          </button>
          {blocker && (
            <p className="hint warning" data-testid="train-blocker">
              {blocker}
            </p>
          )}
        </div>
      </form>
    </section>
  );
}
