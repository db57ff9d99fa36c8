import { useId } from 'react';

interface Props {
  label: string;
  value: number | null;
  min: number;
  max: number;
  step?: number;
  testId: string;
  hint?: string;
  placeholder?: string;
  disabled?: boolean;
  onChange: (value: number | null) => void;
}

/** A labelled number input that reports null while empty or out of range, never NaN. */
export function NumberField({
  label,
  value,
  min,
  max,
  step = 1,
  testId,
  hint,
  placeholder,
  disabled,
  onChange,
}: Props) {
  const id = useId();
  const hintId = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        data-testid={testId}
        type="number"
        inputMode="numeric"
        min={min}
        max={max}
        step={step}
        value={value ?? ''}
        placeholder={placeholder}
        disabled={disabled}
        aria-describedby={hint ? hintId : undefined}
        onChange={(e) => {
          const raw = e.target.value;
          const n = Number(raw);
          onChange(raw === '' || !Number.isFinite(n) ? null : Math.min(max, Math.max(min, n)));
        }}
      />
      {hint && (
        <p id={hintId} className="hint">
          {hint}
        </p>
      )}
    </div>
  );
}
