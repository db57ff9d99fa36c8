/**
 * Internal control flow for rejections: parsers deep in a stream throw an InputFailure, and loadDataset turns
 * it into `fail(...)`, so that no caller ever sees an exception for a bad file.
 */
import { inputError, type InputError } from './result';

export class InputFailure extends Error {
  readonly error: InputError;
  constructor(error: InputError) {
    super(error.message);
    this.name = 'InputFailure';
    this.error = error;
  }
}

export function reject(fields: Omit<InputError, 'message'>): never {
  throw new InputFailure(inputError(fields));
}

/** A user-supplied text, quoted and cut to `max` characters so that a message stays one readable line. */
export function quoted(text: string, max = 40): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}

/** "a, b, c and 4 more" */
export function listSome(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

export function abortError(): DOMException {
  return new DOMException('Loading was stopped before it finished.', 'AbortError');
}

export function isAbortError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}

/** A size in binary units with one decimal ("512 bytes", "1.5 MiB"), for memory budgets and file sizes in messages. */
export function formatBinaryBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
