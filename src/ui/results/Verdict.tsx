import type { Verdict as VerdictValue } from '../lib/results';

/** The plain-language answer, coloured but never only by colour (the sentence says it). */
export function Verdict({ verdict }: { verdict: VerdictValue }) {
  return (
    <p
      className={`verdict verdict-${verdict.kind}`}
      data-testid="verdict"
      data-verdict={verdict.kind}
      data-mean={String(verdict.difference.mean)}
      data-lo={String(verdict.difference.lo)}
      data-hi={String(verdict.difference.hi)}
    >
      {verdict.text}
    </p>
  );
}
