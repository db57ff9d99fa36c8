import type { BackendInfo, BackendPreference } from '../../worker/api-types';

interface Props {
  backend: BackendInfo | null;
  preference: BackendPreference;
  disabled: boolean;
  onChange: (preference: BackendPreference) => void;
}

const OPTIONS: { value: BackendPreference; label: string }[] = [
  { value: 'auto', label: 'Automatic (fastest)' },
  { value: 'webgpu', label: 'WebGPU' },
  { value: 'wasm', label: 'WebAssembly (wasm)' },
  { value: 'cpu', label: 'Plain JavaScript (cpu)' },
];

/** Which compute backend the worker uses and why, with a user override. */
export function BackendBadge({ backend, preference, disabled, onChange }: Props) {
  const unavailable = (value: BackendPreference): boolean =>
    backend !== null && value !== 'auto' && !backend.available.includes(value);
  return (
    <div className="backend">
      <p className="backend-badge" data-testid="backend" title={backend?.reason ?? ''}>
        <span className={`backend-name backend-${backend?.name ?? 'pending'}`}>
          {backend?.name ?? 'starting…'}
        </span>
        {backend?.adapter && (
          <span className="backend-adapter">
            {' '}
            · adapter: {backend.adapter}
            {backend.isFallbackAdapter ? ' (CPU fallback)' : ''}
          </span>
        )}
      </p>
      {backend && (
        <p className="backend-reason" data-testid="backend-reason">
          {backend.reason}
        </p>
      )}
      <label className="backend-override">
        Compute backend
        <select
          data-testid="backend-select"
          value={preference}
          disabled={disabled}
          onChange={(e) => onChange(e.target.value as BackendPreference)}
        >
          {OPTIONS.map((o) => (
            <option key={o.value} value={o.value} disabled={unavailable(o.value)}>
              {o.label}
              {unavailable(o.value) ? ' (not available)' : ''}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
