/** The tfjs backends the app, the CLI and the benchmarks can run on, fastest first where each is real. */
export const BACKEND_NAMES = ['webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
