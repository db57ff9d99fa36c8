/** How every headless Chromium of the tests and browser benchmarks is launched: Debian's, not a download. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** WebGPU is exposed (a SwiftShader fallback adapter on CPU machines); nothing reaches out to Google. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];
