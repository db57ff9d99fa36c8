/** Text for the sessions list. */

const UNITS = ['bytes', 'kB', 'MB', 'GB'];

/** "512 bytes", "7.3 MB", "1.02 GB": three significant digits, powers of 1000 (as file managers show). */
export function formatDecimalBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  return `${Number(value.toPrecision(3))} ${UNITS[unit]}`;
}

/** A default session name from what was set up: "ctx03, evaluate, 2026-01-02 14:05". */
export function defaultSessionName(target: string | undefined, mode: string, at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const when = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}`;
  return [target, mode, when].filter(Boolean).join(', ');
}
