// The worker tsconfig has no vite/client types; Vite turns `?url` imports into the emitted asset's URL.
declare module '*.wasm?url' {
  const url: string;
  export default url;
}

// `?inline` imports become a data: URL of the file (here the HDF5 LZF filter, a few KiB).
declare module '*.so?inline' {
  const dataUrl: string;
  export default dataUrl;
}
