import { describe, expect, it } from 'vitest';
import { CSP_DIRECTIVES, CSP_HEADER, CSP_META } from '../../../../src/ui/privacy/csp';

function parse(policy: string): Map<string, string[]> {
  return new Map(
    policy.split('; ').map((directive) => {
      const [name, ...sources] = directive.split(' ');
      return [name, sources];
    }),
  );
}

describe('Content-Security-Policy', () => {
  const meta = parse(CSP_META);
  const header = parse(CSP_HEADER);

  it.each([
    ['default-src', ["'self'"]],
    ['script-src', ["'self'", "'wasm-unsafe-eval'"]],
    ['worker-src', ["'self'"]],
    ['connect-src', ["'self'"]],
    ['font-src', ["'self'"]],
    ['object-src', ["'none'"]],
  ])('%s is %j in the meta tag and the header', (name, sources) => {
    expect(meta.get(name)).toEqual(sources);
    expect(header.get(name)).toEqual(sources);
  });

  it('never lets scripts run inline or from strings, and names no other host', () => {
    for (const sources of Object.values(CSP_DIRECTIVES)) {
      for (const source of sources) {
        expect(source).toMatch(/^('self'|'none'|'unsafe-inline'|'wasm-unsafe-eval'|data:|blob:)$/);
      }
    }
    expect(CSP_HEADER).not.toContain("'unsafe-eval'");
    expect(meta.get('script-src')).not.toContain("'unsafe-inline'");
  });

  it('keeps frame-ancestors out of the meta tag (browsers ignore it there) but in the header', () => {
    expect(meta.has('frame-ancestors')).toBe(false);
    expect(header.get('frame-ancestors')).toEqual(["'none'"]);
    expect(CSP_HEADER.startsWith(CSP_META)).toBe(true);
  });
});
