import { useState } from 'react';
import { SIM_KIND_SUMMARY, SIM_KINDS, type SimKind } from '../../core/simulate/kinds';
import {
  formatSimFragment,
  settingsForKind,
  SIM_BOUNDS,
  validateSimSettings,
  type SimSettings,
} from '../../core/simulate/settings';
import { NumberField } from '../setup/NumberField';
import { Tour } from './Tour';
import './teach.css';

interface Props {
  /** The settings the panel opens with (a #sim= link's, or the defaults). */
  initial: SimSettings;
  busy: boolean;
  onGenerate: (settings: SimSettings) => void;
}

type Whole = 'contexts' | 'perturbations' | 'genes' | 'replicates' | 'seed';

const WHOLE_FIELDS: { key: Whole; label: string }[] = [
  { key: 'contexts', label: 'Contexts' },
  { key: 'perturbations', label: 'Perturbations' },
  { key: 'genes', label: 'Genes' },
  { key: 'replicates', label: 'Replicates' },
  { key: 'seed', label: 'Seed' },
];

/**
 * The teaching knobs of the simulator: size, measurement noise, how contexts change the network, knockdowns
 * vs drugs, seed. Generating writes the settings (never data) into the address's #sim= fragment, so the
 * address is a link that opens the same screen.
 */
export function SimPanel({ initial, busy, onGenerate }: Props) {
  const [settings, setSettings] = useState<SimSettings>(initial);
  const [empty, setEmpty] = useState<string | null>(null);
  const set = (patch: Partial<SimSettings>) => setSettings((s) => ({ ...s, ...patch }));
  const number = (key: keyof SimSettings, label: string) => (value: number | null) => {
    setEmpty(value === null ? label : null);
    if (value !== null) set({ [key]: value });
  };
  const valid = validateSimSettings(settings);
  const generate = () => {
    if (!valid.ok || empty) return;
    window.history.replaceState(null, '', formatSimFragment(valid.data));
    onGenerate(valid.data);
  };

  return (
    <details className="sim-panel" data-testid="sim-panel" open>
      <summary>Simulated screen (teaching mode)</summary>
      <p className="hint">
        Turn the knobs of the simulator and watch what C3TL can and cannot learn. The truth it keeps is shown
        beside the results. Generating puts the settings (never data) in the address: copy it to share the
        screen.
      </p>
      <div className="field">
        <label htmlFor="sim-kind">Context kind</label>
        <select
          id="sim-kind"
          data-testid="sim-kind"
          value={settings.kind}
          disabled={busy}
          onChange={(e) => setSettings((s) => settingsForKind(e.target.value as SimKind, s))}
        >
          {SIM_KINDS.map((kind) => (
            <option key={kind} value={kind}>
              {kind}: {SIM_KIND_SUMMARY[kind]}
            </option>
          ))}
        </select>
      </div>
      <div className="sim-fields">
        {WHOLE_FIELDS.map(({ key, label }) => (
          <NumberField
            key={key}
            label={label}
            value={settings[key]}
            min={SIM_BOUNDS[key].min}
            max={SIM_BOUNDS[key].max}
            testId={`sim-${key}`}
            disabled={busy}
            onChange={number(key, label)}
          />
        ))}
        <NumberField
          label="Depth (million reads per sample)"
          value={settings.depth / 1e6}
          min={SIM_BOUNDS.depth.min / 1e6}
          max={SIM_BOUNDS.depth.max / 1e6}
          step={0.5}
          testId="sim-depth"
          disabled={busy}
          onChange={(v) => number('depth', 'Depth')(v === null ? null : v * 1e6)}
        />
        <NumberField
          label="Context modulation (0: one shared network)"
          value={settings.modulation}
          min={SIM_BOUNDS.modulation.min}
          max={SIM_BOUNDS.modulation.max}
          step={0.1}
          testId="sim-modulation"
          disabled={busy}
          onChange={number('modulation', 'Context modulation')}
        />
        <NumberField
          label="Edges switched off per context (%)"
          value={Math.round(settings.edgesOff * 1000) / 10}
          min={SIM_BOUNDS.edgesOff.min * 100}
          max={SIM_BOUNDS.edgesOff.max * 100}
          step={1}
          testId="sim-edges-off"
          disabled={busy || settings.modulation === 0}
          onChange={(v) => number('edgesOff', 'Edges switched off')(v === null ? null : v / 100)}
        />
        <NumberField
          label="Drugs (%, the rest knockdowns)"
          value={Math.round(settings.drugs * 1000) / 10}
          min={0}
          max={100}
          step={5}
          testId="sim-drugs"
          disabled={busy}
          onChange={(v) => number('drugs', 'Drugs')(v === null ? null : v / 100)}
        />
      </div>
      {empty && <p className="hint">{empty} is empty.</p>}
      {!valid.ok && (
        <p className="hint" role="alert" data-testid="sim-invalid">
          {valid.reason}
        </p>
      )}
      <button
        type="button"
        data-testid="sim-generate"
        onClick={generate}
        disabled={busy || !valid.ok || empty !== null}
      >
        Generate screen
      </button>
      <Tour />
    </details>
  );
}
