/** Saving files the page made itself (tables, charts, records): a Blob, an object URL and a download link. */

/** Firefox may still be reading the Blob for a moment after the click: the URL is revoked later. */
const REVOKE_AFTER_MS = 30_000;

/** Offers the Blob as a download named filename (no network: the URL points into this page's memory). */
export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}

/** Downloads text with the given MIME type, UTF-8 encoded. */
export function downloadText(text: string, filename: string, type: string): void {
  downloadBlob(new Blob([text], { type: `${type};charset=utf-8` }), filename);
}

/**
 * The bytes of a data: URL (base64 or percent-encoded, as Plotly.toImage makes them for PNG and SVG).
 * fetch() cannot be used: the Content-Security-Policy's connect-src does not allow data: URLs.
 */
export function dataUrlToBlob(url: string): Blob {
  const match = /^data:([^,]*?)(;base64)?,(.*)$/s.exec(url);
  if (!match) throw new Error('The chart image came back in an unexpected form (not a data: URL).');
  const type = match[1] || 'text/plain';
  if (match[2]) {
    const binary = atob(match[3]);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new Blob([bytes], { type });
  }
  return new Blob([decodeURIComponent(match[3])], { type });
}

/** A file-name part from free text: ASCII letters (accents dropped), digits, '.', '_', '-'; other runs become '-'. */
export function fileStem(text: string): string {
  const stem = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '');
  return stem.slice(0, 80) || 'c3tl';
}
