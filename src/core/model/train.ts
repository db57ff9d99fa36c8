import * as tf from '@tensorflow/tfjs';
import type { EffectTensor } from '../data/tensor';
import type { EpochLog, RunHooks, TargetSplit } from '../eval/types';
import { createRng, shuffled } from '../random';
import type { C3tlArchitecture, C3tlSwitches } from './c3tl';
import {
  createParameters,
  allVariables,
  disposeParameters,
  initialParameterValues,
  parameterCount,
} from './c3tl';
import type { EpisodePool } from './episodes';
import { fixedSupportWeights, sampleEpisode } from './episodes';
import { applyHeldGenes, heldGenes } from './held-genes';
import { baseJudgedSets, chooseSparseBase, perturbationMeans, type JudgedSet } from './sparse-base';
import { principalBasis } from './basis';
import { geneStandardisation } from './standardise';
import { AbortError } from './abort';
import { DEFAULT_TRANSFER_OPTIONS, trainTransfer, type TrainedTransfer } from './transfer-train';
import { blockGeneWeights, hostData, scaledValues, trainingMask } from './train-host';
import { deviceData, disposeData, geneBlocks, modelOrderWeights } from './train-episodes';
import { disposeScored, heldOutScores, pseudoTarget, scoredEpisode, type Scored } from './train-validation';
import { createStepTrainer, disposeStepTrainer, trainStep } from './train-step';
import { predictFixedForm, tensorOrderWeights, type FixedFormModel } from './train-predict';
import {
  DEFAULT_SWITCHES,
  DEFAULT_TRAIN_OPTIONS,
  PRESETS,
  trainedParameterCount,
  type TrainedC3tl,
  type TrainOptions,
} from './train-options';

export * from './train-options';
export { AbortError };
export { hostData, supportMomentValues, type HostData } from './train-host';
export type { C3tlParameters } from './c3tl';

const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Trains C3TL for one target split by episodes (docs/DESIGN.md §2.5) and keeps the weights of the best epoch;
 * epoch 0, the untrained model, is the additive rule on the means the fixed form reads (sparse-base.ts; held
 * genes apart, held-genes.ts). "Best" is judged on held-out pairs only, by the evaluation's own metric: the
 * mean centred Pearson over the target's validation pairs, averaged with the same over up to
 * pseudoTargetPairs pairs of a pseudo-target, a reference context that is trained as the
 * target is (a support of as many pairs as the target's) and whose other pairs are never training queries.
 * The target's 2% are a handful of noisy pairs; the pseudo-target adds a hundred pairs of a context in the
 * target's situation. EpochLog.trainLoss is the epoch's mean step loss, valLoss the loss on the target's
 * validation pairs (on the pseudo-target's without them), both in training-loss units (squared error, each
 * gene weighted by its squared scale, mean weight 1).
 * Runs on whatever tfjs backend is active; leaves no tensors behind once the result is disposed, and none
 * when it throws (AbortError when hooks.shouldStop returns true).
 */
export async function trainC3tl(
  tensor: EffectTensor,
  split: TargetSplit,
  options: TrainOptions,
  hooks: RunHooks = {},
): Promise<TrainedC3tl> {
  const started = performance.now();
  const C = tensor.contexts.length;
  const P = tensor.perturbations.length;
  const G = tensor.genes.length;
  const preset = PRESETS[options.preset];
  const architecture: C3tlArchitecture = { genes: G, ...preset, basisRank: Math.min(preset.basisRank, G) };
  const switches: C3tlSwitches = { ...DEFAULT_SWITCHES, ...options.switches };
  const rng = createRng(options.seed);

  const mask = trainingMask(tensor, split);
  // Genes in a seeded random order, so that contiguous training blocks are random gene sets.
  const geneOrder = Int32Array.from(
    shuffled(
      Array.from({ length: G }, (_, g) => g),
      rng,
    ),
  );
  const pool: EpisodePool = { contexts: C, perturbations: P, targets: [split.target], pairs: [] };
  for (let c = 0; c < C; c++) {
    const pairs: number[] = [];
    for (let p = 0; p < P; p++) if (mask[c * P + p]) pairs.push(p);
    pool.pairs.push(pairs);
  }
  const pseudo = pseudoTarget(
    pool,
    Math.max(2, split.supportTrain.length),
    options.pseudoTargetPairs ?? DEFAULT_TRAIN_OPTIONS.pseudoTargetPairs ?? 0,
    rng.fork(),
  );
  // The pseudo-target's scored pairs judge transfer, so no statistic of training may read them.
  if (pseudo) for (const pair of pseudo.queryPairs) mask[pair] = 0;
  // The same as perturbation indices: what the choices made on judged pairs read.
  const holdout = pseudo && {
    context: pseudo.context,
    support: pseudo.support.pairs.map((pair) => pair - pseudo.context * P),
    queries: Array.from(pseudo.queryPairs, (pair) => pair - pseudo.context * P),
  };
  const standard = options.standardisation ?? geneStandardisation(tensor, mask);
  if (standard.scale.length !== G || standard.mean.length !== G) {
    throw new Error(`The standardisation has ${standard.scale.length} genes; the tensor has ${G}.`);
  }

  const sparseMeans = baseMeans(tensor, split, mask, standard.scale, options, holdout);
  let host = hostData(tensor, mask, standard, geneOrder, sparseMeans);
  const modelScale = Float32Array.from(geneOrder, (g) => standard.scale[g]);
  // The gene basis is fitted once, on the training pairs, and reused for the final model's data; only the
  // learnt network uses it.
  const basisRng = rng.fork();
  const basis = switches.network
    ? principalBasis(scaledValues(host), C * P, G, architecture.basisRank, basisRng)
    : undefined;
  let data = switches.network
    ? deviceData(host, basis, architecture.basisRank, architecture.embedDim)
    : undefined;
  const blocks = geneBlocks(G, options.genesPerStep);
  const geneWeights = blockGeneWeights(host, blocks);
  const initialRng = rng.fork();
  const params = createParameters(
    architecture,
    options.initialWeights
      ? modelOrderWeights(architecture, options.initialWeights, geneOrder)
      : initialParameterValues(
          architecture,
          basis ?? new Float32Array(G * architecture.basisRank),
          initialRng,
        ),
    blocks,
  );
  const variables = allVariables(params);
  const trainer = createStepTrainer(params, data, host, geneWeights, {
    switches,
    learningRate: options.learningRate,
    fused: options.fusedStep,
  });
  const blockModel = { blocks, geneWeights, network: switches.network, fused: trainer.fused };

  const targetValidation =
    split.supportVal.length > 0 && split.supportTrain.length > 0
      ? scoredEpisode(
          tensor,
          host,
          modelScale,
          {
            weights: fixedSupportWeights(C, P, split.target, split.supportTrain),
            pairs: split.supportTrain.map((p) => split.target * P + p),
          },
          Int32Array.from(split.supportVal, (p) => split.target * P + p),
          blockModel,
        )
      : undefined;
  const pseudoValidation = pseudo
    ? scoredEpisode(tensor, host, modelScale, pseudo.support, pseudo.queryPairs, blockModel)
    : undefined;
  const validations = [targetValidation, pseudoValidation].filter((v): v is Scored => v !== undefined);
  const evaluateHeldOut = () =>
    heldOutScores(validations, { params, data, switches, host, modelScale, fused: trainer.fused });
  const criterion = (pearson: number[]) => pearson.reduce((a, b) => a + b, 0) / pearson.length;

  let best: tf.Tensor[] = [];
  let bestEpoch = 0;
  const history: EpochLog[] = [];
  let trainingDisposed = false;
  const disposeTraining = (): void => {
    if (trainingDisposed) return;
    trainingDisposed = true;
    tf.dispose(best);
    disposeScored(targetValidation);
    disposeScored(pseudoValidation);
    disposeStepTrainer(trainer);
  };

  try {
    // With fewer than two reference contexts nothing held out can judge transfer (a pseudo-target's only
    // reference would be the target's few support pairs): the gates then stay closed and the fixed form is
    // the additive baseline. (The step's timing, calibrate.ts, trains on 4 contexts without a pseudo-target.)
    const epochs = C >= 3 ? options.maxEpochs : 0;
    // Without epochs nothing is compared: the held-out score would only cost time.
    const validated = validations.length > 0 && epochs > 0;
    let bestScore = validated ? criterion((await evaluateHeldOut()).pearson) : -Infinity;
    best = variables.map((v) => v.clone());

    let step = 0;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      if (hooks.shouldStop?.()) throw new AbortError();
      // Sum of the epoch's step losses, kept on the device: one read-back per epoch.
      let lossSum: tf.Tensor | null = null;
      let steps = 0;
      for (let s = 0; s < options.stepsPerEpoch; s++, step++) {
        const sampled = sampleEpisode(pool, options.episodes, rng);
        if (sampled.queryPairs.length === 0) break;
        const value = trainStep(trainer, sampled, step % blocks.length);
        const sum: tf.Tensor = lossSum ? tf.add(lossSum, value) : value.clone();
        lossSum?.dispose();
        value.dispose();
        lossSum = sum;
        steps++;
      }
      const trainLoss = lossSum ? (await lossSum.data())[0] / steps : NaN;
      lossSum?.dispose();
      const heldOut = validated ? await evaluateHeldOut() : undefined;
      const current = heldOut ? criterion(heldOut.pearson) : NaN;
      const improved = heldOut ? current > bestScore : true;
      if (improved) {
        tf.dispose(best);
        best = variables.map((v) => v.clone());
        if (heldOut) bestScore = current;
        bestEpoch = epoch;
      }
      const log: EpochLog = {
        epoch,
        maxEpochs: options.maxEpochs,
        trainLoss,
        valLoss: heldOut ? heldOut.loss[0] : NaN,
        bestEpoch,
        elapsedSeconds: (performance.now() - started) / 1000,
      };
      history.push(log);
      hooks.onEpoch?.(log);
      await nextTask();
      if (validated && epoch - bestEpoch >= options.patience) break;
    }
    variables.forEach((v, i) => v.assign(best[i]));
  } catch (error) {
    disposeTraining();
    disposeData(data);
    disposeParameters(params);
    tf.dispose(geneWeights);
    throw error;
  }
  disposeTraining();
  const fixedForm: FixedFormModel = {
    architecture,
    params,
    geneWeights,
    switches,
    geneOrder,
    standard,
    state: { host, data },
  };

  let transfer: TrainedTransfer | undefined;
  if (switches.transfer) {
    try {
      transfer = await trainTransfer(tensor, split, standard.scale, {
        ...DEFAULT_TRANSFER_OPTIONS,
        ...options.transferOptions,
        // maxEpochs bounds both stages: a user who asks for 2 epochs gets a short run.
        maxEpochs: Math.min(
          options.maxEpochs,
          options.transferOptions?.maxEpochs ?? DEFAULT_TRANSFER_OPTIONS.maxEpochs,
        ),
        ...(options.initialTransfer && { maxEpochs: 0, restore: options.initialTransfer }),
        seed: options.seed,
        fusedStep: options.fusedStep,
        switches: {
          deviations: switches.deviations,
          context: switches.context,
          mix: switches.mix,
          linear: switches.linear,
        },
        ...(holdout && { holdout }),
        fixedForm: (context, support, queries) => predictFixedForm(fixedForm, context, support, queries),
        ...(switches.slope && {
          slopeFreeFixedForm: (context: number, support: readonly number[], queries: readonly number[]) =>
            predictFixedForm(fixedForm, context, support, queries, { slope: false }),
        }),
        ...(hooks.shouldStop && { shouldStop: hooks.shouldStop }),
      });
    } catch (error) {
      disposeData(data);
      disposeParameters(params);
      tf.dispose(geneWeights);
      throw error;
    }
  }

  // The final model sees the whole support (training and validation pairs) as the target's known pairs.
  disposeData(data);
  const finalMask = trainingMask(tensor, split, split.supportVal);
  host = hostData(
    tensor,
    finalMask,
    standard,
    geneOrder,
    sparseMeans && perturbationMeans(tensor, finalMask, standard.scale, true),
  );
  data = switches.network
    ? deviceData(host, basis, architecture.basisRank, architecture.embedDim)
    : undefined;
  fixedForm.state = { host, data };

  const seconds = (performance.now() - started) / 1000;
  return {
    architecture,
    switches,
    parameters: parameterCount(architecture) + (transfer?.parameters ?? 0),
    trainedParameters: trainedParameterCount(architecture, switches) + (transfer?.parameters ?? 0),
    ...(transfer && {
      transfer: {
        epochs: transfer.epochs,
        bestEpoch: transfer.bestEpoch,
        scale: transfer.scale,
        judgedOn: transfer.judgedOn,
        sparseMix: transfer.sparseMix,
        withoutSlope: transfer.withoutSlope,
        robustShift: transfer.robustShift,
        parameters: transfer.parameters,
        features: transfer.features,
      },
    }),
    sparseBase: sparseMeans !== undefined,
    standardisation: standard,
    history,
    bestEpoch,
    seconds,
    async predict(support, perturbations) {
      const calibrated = await predictFixedForm(fixedForm, split.target, support, perturbations);
      if (!transfer || perturbations.length === 0) return { c3tl: calibrated.slice(), calibrated };
      // The path is applied on the fixed form it was chosen on: the target's deviation of each support pair
      // from that form is what it carries.
      const form = { slope: !transfer.withoutSlope };
      const base = transfer.withoutSlope
        ? await predictFixedForm(fixedForm, split.target, support, perturbations, form)
        : calibrated;
      const supportBase = await predictFixedForm(fixedForm, split.target, support, support, form);
      const residual = new Float32Array(supportBase.length);
      for (let s = 0; s < support.length; s++) {
        const row = (split.target * P + support[s]) * G;
        for (let g = 0; g < G; g++) residual[s * G + g] = tensor.values[row + g] - supportBase[s * G + g];
      }
      const { deviations, mixWeights } = await transfer.transfer(support, perturbations, residual, {
        queries: base,
        support: supportBase,
      });
      const c3tl = Float32Array.from(base, (v, i) => v + deviations[i]);
      // The mix reads the references' deviations on every gene; a gene held in the target stays held.
      applyHeldGenes(c3tl, G, heldGenes(tensor.values, P, G, split.target, support));
      if (!mixWeights) return { c3tl, calibrated };
      const contexts = tensor.contexts.map((_, c) => c).filter((c) => c !== split.target);
      return { c3tl, calibrated, mix: { contexts, weights: Array.from(mixWeights) } };
    },
    async transferWeights() {
      return transfer ? transfer.weights() : undefined;
    },
    weights: () => tensorOrderWeights(fixedForm),
    dispose() {
      disposeData(data);
      disposeParameters(params);
      tf.dispose(geneWeights);
      transfer?.dispose();
    },
  };
}

/**
 * The sparse-denoised perturbation means the fixed form reads (sparse-base.ts), or undefined for the observed
 * effects' means: imposed by options.sparseBase, else chosen on judged pairs when the fixed form trains at all.
 */
function baseMeans(
  tensor: EffectTensor,
  split: TargetSplit,
  mask: Uint8Array,
  scale: Float32Array,
  options: TrainOptions,
  holdout: JudgedSet | undefined,
): Float32Array | undefined {
  const wanted = options.sparseBase ?? 'choose';
  if (wanted !== 'choose') return wanted ? perturbationMeans(tensor, mask, scale, true) : undefined;
  if (tensor.contexts.length < 3 || options.maxEpochs === 0) return undefined;
  const sets = baseJudgedSets(tensor, mask, {
    target: split.target,
    supportTrain: split.supportTrain,
    supportVal: split.supportVal,
    ...(holdout && { pseudo: holdout }),
    maxQueries: options.pseudoTargetPairs ?? DEFAULT_TRAIN_OPTIONS.pseudoTargetPairs ?? 0,
    seed: options.seed,
  });
  return chooseSparseBase(tensor, mask, scale, sets);
}
