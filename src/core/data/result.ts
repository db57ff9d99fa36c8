/** Where and why an input was rejected; every field is meant to be shown to the user as is. */
export interface InputError {
  /** The file name as the user gave it. */
  file: string;
  /** 1-based line in the decompressed text, when the problem sits on one line. */
  line?: number;
  /** 1-based column number, or the column's header name, when the problem sits in one column. */
  column?: number | string;
  expected: string;
  found: string;
  /** One sentence that names the file, the place, what was expected and what was found. */
  message: string;
}

export type ParseResult<T> = { ok: true; data: T; notes: string[] } | { ok: false; error: InputError };

export function inputError(fields: Omit<InputError, 'message'>): InputError {
  const where = [
    fields.file,
    fields.line !== undefined ? `line ${fields.line}` : undefined,
    fields.column !== undefined
      ? typeof fields.column === 'number'
        ? `column ${fields.column}`
        : `column "${fields.column}"`
      : undefined,
  ]
    .filter(Boolean)
    .join(', ');
  return { ...fields, message: `${where}: expected ${fields.expected}, found ${fields.found}.` };
}

export function fail<T>(fields: Omit<InputError, 'message'>): ParseResult<T> {
  return { ok: false, error: inputError(fields) };
}
