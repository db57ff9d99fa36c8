import { useState } from 'react';

interface Step {
  title: string;
  text: string;
}

/** The guided tour's steps: what a student should look at, in the order the page shows it. */
export const TOUR_STEPS: readonly Step[] = [
  {
    title: 'Support and held-out pairs',
    text:
      'One context is the target. Of its measured perturbations, a small share (10% by default) is the ' +
      'support: the only part of the target any method may see. The rest are held out and predicted; the ' +
      'coverage heatmap shows which pairs exist. The other contexts are seen in full.',
  },
  {
    title: 'The baselines',
    text:
      'C3TL is always shown beside simpler methods: the perturbation’s mean over the other contexts, the ' +
      'target’s mean effect, their sum (additive), ridge, nearest neighbours, and C3TL’s own fixed form ' +
      '(calibrated, the learnt transfer path off). A model earns its place only by beating the best of them.',
  },
  {
    title: 'Centred Pearson, and why the centring',
    text:
      'Most genes move alike under every perturbation of a context. Plain Pearson rewards predicting that ' +
      'shared shift, which the target’s mean already gives. Centred Pearson subtracts the target’s mean ' +
      'effect on its support from both sides first, so it scores what is specific to each perturbation.',
  },
  {
    title: 'The truth and the noise ceiling',
    text:
      'A simulated screen keeps its noise-free effects. The noise-ceiling row scores the truth itself ' +
      'against the noisy measurements: about the best any method can reach. It is an estimate, so a method ' +
      'may sit slightly above it. Switch the scatter’s x axis to the truth to see what noise hides.',
  },
  {
    title: 'How many must I measure?',
    text:
      'The support sweep trains again with 1, 5, 10 and 30% of the target as support. Where the curves ' +
      'flatten, measuring more perturbations in the new context buys little.',
  },
  {
    title: 'The negative control, live',
    text:
      'Set context modulation to 0 and generate: every context now shares one network and differs only in ' +
      'basal expression. Train again: C3TL’s lead over the best other method (calibrated included) ' +
      'vanishes, or leaves a thousandth on some seeds. The network view shows why: no edge differs, so ' +
      'there is nothing to carry from one context to another.',
  },
];

/** A short guided tour, skippable at any step; nothing about it is stored. */
export function Tour() {
  const [step, setStep] = useState<number | null>(null);
  if (step === null) {
    return (
      <button type="button" data-testid="tour-start" onClick={() => setStep(0)}>
        Take the tour ({TOUR_STEPS.length} steps)
      </button>
    );
  }
  const { title, text } = TOUR_STEPS[step];
  const last = step === TOUR_STEPS.length - 1;
  return (
    <div className="tour" role="dialog" aria-labelledby="tour-title" data-testid="tour" data-step={step + 1}>
      <p className="hint">
        Step {step + 1} of {TOUR_STEPS.length}
      </p>
      <h3 id="tour-title">{title}</h3>
      <p>{text}</p>
      <div className="tour-buttons">
        <button type="button" disabled={step === 0} onClick={() => setStep(step - 1)}>
          Back
        </button>
        <button type="button" data-testid="tour-next" onClick={() => setStep(last ? null : step + 1)}>
          {last ? 'Done' : 'Next'}
        </button>
        <button type="button" data-testid="tour-skip" onClick={() => setStep(null)}>
          Skip the tour
        </button>
      </div>
    </div>
  );
}
