/**
 * The app's Content-Security-Policy, in one place: vite.config.ts writes it into the built index.html (meta)
 * and into `vite preview`'s headers, and the e2e server sends the same header.
 *
 * Nothing may be loaded or contacted outside the app's own origin: no CDN, fonts, analytics or telemetry.
 */
export const CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'self'"],
  // Scripts only from the app's own files; never 'unsafe-inline' or 'unsafe-eval'. 'wasm-unsafe-eval' lets the
  // tfjs wasm backend, h5wasm and hash-wasm (SHA-256 of dropped files) compile their WebAssembly, and allows
  // nothing else.
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  // The engine worker, wasm's thread workers (src/build/threaded-wasm.ts) and the service worker are files of
  // the app: no blob: workers.
  'worker-src': ["'self'"],
  // fetch/XHR/WebSocket only to the app's origin: the wasm binaries and nothing else.
  'connect-src': ["'self'"],
  // Plotly injects a <style> element with its rules and sets style attributes on its SVG nodes: without
  // 'unsafe-inline' here Chromium refuses both (style-src-elem and style-src-attr violations) and the charts
  // lose their styling. Inline styles cannot run code, and url() in them is still bound to img-src/font-src.
  'style-src': ["'self'", "'unsafe-inline'"],
  // data:/blob: are the charts' "download as PNG" images, made locally in the page (no network).
  'img-src': ["'self'", 'data:', 'blob:'],
  'font-src': ["'self'"],
  'manifest-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'none'"],
};

/** Directives browsers ignore (with a console error) when they come in a <meta> tag: header only. */
const HEADER_ONLY: Readonly<Record<string, readonly string[]>> = {
  'frame-ancestors': ["'none'"],
};

function serialise(directives: Readonly<Record<string, readonly string[]>>): string {
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

/** The policy for `<meta http-equiv="Content-Security-Policy">` in index.html. */
export const CSP_META = serialise(CSP_DIRECTIVES);

/** The policy for the Content-Security-Policy response header (the meta policy plus frame-ancestors). */
export const CSP_HEADER = serialise({ ...CSP_DIRECTIVES, ...HEADER_ONLY });
