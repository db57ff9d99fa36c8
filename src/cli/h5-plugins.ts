import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { useH5Plugins } from '../core/data/h5ad-hdf5';

/** HDF5 filters the .h5ad reader installs: LZF is what AnnData 0.7 compressed with (gzip is built in). */
export const H5_PLUGIN_FILES = ['libH5Zlzf.so'] as const;

/** Hands h5wasm-plugins' LZF filter, read from node_modules, to the .h5ad reader (idempotent). */
export function installNodeH5Plugins(): void {
  const require = createRequire(import.meta.url);
  useH5Plugins(
    H5_PLUGIN_FILES.map((name) => ({
      name,
      bytes: readFileSync(require.resolve(`h5wasm-plugins/plugins/${name}`)),
    })),
  );
}
