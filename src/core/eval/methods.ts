/**
 * The methods every run predicts with, in display order: C3TL, its fixed form, and the baselines. To add a
 * baseline, add its entry here (kind 'baseline') and its prediction to BASELINES in model/baselines.ts; the
 * compiler then asks for nothing else, and every table, export and CLI lists it.
 */
export type MethodKind = 'model' | 'baseline';

export interface MethodInfo {
  /** Short name shown in tables and legends. */
  label: string;
  /** One sentence on what the method does, shown as a tooltip. */
  help: string;
  /** 'model': trained here (model/train.ts); 'baseline': computed in closed form (model/baselines.ts). */
  kind: MethodKind;
}

export const METHOD_INFO = {
  c3tl: {
    label: 'C3TL',
    help: 'The model trained here: its fixed form plus a learnt transfer from the support perturbations most like each query.',
    kind: 'model',
  },
  calibrated: {
    label: 'C3TL fixed form',
    help: 'C3TL without its learnt transfer path: additive plus per-gene denoising, context shift and support slope, with gates trained here; on screens where it helps, perturbation means denoised as sparse, and genes the target does not express held.',
    kind: 'model',
  },
  additive: {
    label: 'Additive',
    help: 'Perturbation mean plus the target context shift estimated on the support.',
    kind: 'baseline',
  },
  perturb_mean: {
    label: 'Perturbation mean',
    help: 'Mean effect of the perturbation over the other contexts.',
    kind: 'baseline',
  },
  context_mean: {
    label: 'Context mean',
    help: 'Mean effect over the target support, the same for every perturbation.',
    kind: 'baseline',
  },
  ridge: {
    label: 'Ridge',
    help: 'Ridge regression of the target on the other contexts, fitted on the support.',
    kind: 'baseline',
  },
  knn_residual: {
    label: 'kNN residual',
    help: 'Additive plus residuals of similar support perturbations.',
    kind: 'baseline',
  },
} as const satisfies Record<string, MethodInfo>;

export type Method = keyof typeof METHOD_INFO;
export const METHODS = Object.keys(METHOD_INFO) as Method[];

/** The method every other one is compared with. */
export const REFERENCE_METHOD = 'c3tl' satisfies Method;
/** Every method C3TL is compared with: its own fixed form (`calibrated`, the transfer path off) and the baselines. */
export type OtherMethod = Exclude<Method, typeof REFERENCE_METHOD>;
export const OTHER_METHODS = METHODS.filter((m): m is OtherMethod => m !== REFERENCE_METHOD);

/** The simple baselines (model/baselines.ts), which train nothing. */
export type BaselineMethod = {
  [M in Method]: (typeof METHOD_INFO)[M]['kind'] extends 'baseline' ? M : never;
}[Method];
export const BASELINE_METHODS = METHODS.filter(
  (m): m is BaselineMethod => METHOD_INFO[m].kind === 'baseline',
);
