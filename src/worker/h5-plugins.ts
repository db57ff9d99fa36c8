import lzf from 'h5wasm-plugins/plugins/libH5Zlzf.so?inline';
import { useH5Plugins } from '../core/data/h5ad-hdf5';

/** The bytes of a base64 data: URL, decoded here (CSP's connect-src would refuse fetching it). */
function decodeDataUrl(url: string): Uint8Array {
  const binary = atob(url.slice(url.indexOf(',') + 1));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** The LZF filter travels inside the worker bundle, so opening an .h5ad needs no request. */
export function installBundledH5Plugins(): void {
  useH5Plugins([{ name: 'libH5Zlzf.so', bytes: decodeDataUrl(lzf) }]);
}
