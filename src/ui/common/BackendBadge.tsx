import type { BackendInfo, BackendPreference, CalibrationInfo } from '../../worker/api-types';
import { describeFigure } from '../../worker/calibrate-rules';

interface Props {
  backend: BackendInfo | null;
  preference: BackendPreference;
  disabled: boolean;
  onChange: (preference: BackendPreference) => void;
  /** Times every backend again and re-applies the preference. */
  onRecalibrate: () => void;
}

const OPTIONS: { value: BackendPreference; label: string }[] = [
  { value: 'auto', label: 'Automatic (fastest)' },
  { value: 'webgpu', label: 'WebGPU' },
  { value: 'wasm', label: 'WebAssembly (wasm)' },
  { value: 'cpu', label: 'Plain JavaScript (cpu)' },
];

function provenance(calibration: CalibrationInfo): string {
  const when = new Date(calibration.measuredAt).toLocaleString();
  if (calibration.fromStore) return `measured ${when}, remembered on this device`;
  const took = `took ${(calibration.totalMs / 1000).toFixed(1)} s`;
  return calibration.stored
    ? `just now (${took}), remembered on this device`
    : `just now (${took}), not stored`;
}

/** The calibration's figures: one training step per backend, as measured on this device. */
function CalibrationFigures({
  calibration,
  isFallbackAdapter,
  disabled,
  onRecalibrate,
}: {
  calibration: CalibrationInfo;
  isFallbackAdapter: boolean;
  disabled: boolean;
  onRecalibrate: () => void;
}) {
  return (
    <p
      className="backend-calibration"
      data-testid="calibration"
      data-from-store={String(calibration.fromStore)}
      data-measured-at={calibration.measuredAt}
      data-total-ms={Math.round(calibration.totalMs)}
    >
      <span title="Time of one C3TL training step on each backend">Measured:</span>{' '}
      {calibration.figures.map((figure, i) => (
        <span key={figure.backend}>
          {i > 0 && ' · '}
          <span
            className={`calibration-figure calibration-${figure.status}`}
            data-backend={figure.backend}
            data-status={figure.status}
            {...(figure.status === 'measured' && { 'data-ms': figure.msPerStep.toFixed(2) })}
          >
            {describeFigure(figure, isFallbackAdapter)}
          </span>
        </span>
      ))}{' '}
      <span className="calibration-when">({provenance(calibration)})</span>{' '}
      <button
        type="button"
        className="secondary calibration-again"
        data-testid="recalibrate"
        disabled={disabled}
        onClick={onRecalibrate}
      >
        Measure again
      </button>
    </p>
  );
}

/** Which compute backend the worker uses and why, the measured figures, and a user override. */
export function BackendBadge({ backend, preference, disabled, onChange, onRecalibrate }: Props) {
  const unavailable = (value: BackendPreference): boolean =>
    backend !== null && value !== 'auto' && !backend.available.includes(value);
  return (
    <div className="backend">
      <p className="backend-badge" data-testid="backend" title={backend?.reason ?? ''}>
        <span className={`backend-name backend-${backend?.name ?? 'pending'}`}>
          {backend?.name ?? 'starting…'}
        </span>
        {backend?.wasmThreads != null && (
          <span className="backend-threads" data-testid="backend-threads" data-threads={backend.wasmThreads}>
            {' '}
            · {backend.wasmThreads} thread{backend.wasmThreads === 1 ? '' : 's'}
          </span>
        )}
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
      {backend?.calibration && (
        <CalibrationFigures
          calibration={backend.calibration}
          isFallbackAdapter={backend.isFallbackAdapter}
          disabled={disabled}
          onRecalibrate={onRecalibrate}
        />
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
