import * as tf from '@tensorflow/tfjs';
import type { BlockInputs, C3tlData, C3tlParameters, C3tlSwitches, GeneBlock } from './c3tl';
import { SHARED_PARAMETER_NAMES, blockVariables, episodeLoss } from './c3tl';
import type { Episode } from './episodes';
import { disposeEpisode, episodeTensors, queryContextTensor, supportPairsOf } from './train-episodes';
import { stepOptimizer, type StepOptimizer } from './adam-kernel';
import { fixedFormKernelServes, fixedFormLossAndGradients } from './fixed-form-kernel';
import {
  blockInputs,
  disposeInputs,
  queryRowTable,
  supportMomentTable,
  supportMoments,
  type HostData,
} from './train-host';

/*
 * One optimiser step of the fixed form's training (train.ts), shaped so that little moves between the host
 * and the device: the query terms of every pair sit on the device for the whole training (a step uploads the
 * query pairs' row indices, not their [Q, Gb] rows), and each gene block's gates are one variable.
 */

/** Largest resident query table, bytes (3 C P G float32); above it the rows are built and uploaded per step. */
export const RESIDENT_QUERY_BYTES = 256 * 1024 * 1024;

/**
 * Every pair's query terms on each gene block, [3 C P, Gb] per block (scaled units): rows [0, CP) the
 * pair's own effect y (0 for pairs that are not training pairs), rows [CP, 2CP) its perturbation mean
 * pm_p(-c), rows [2CP, 3CP) its denoising direction, as fillPairRow writes them. They depend only on the
 * training pairs, which stay fixed while one target trains. Undefined when the tables would exceed budget.
 */
export function residentQueryRows(
  host: HostData,
  blocks: GeneBlock[],
  budget = RESIDENT_QUERY_BYTES,
): tf.Tensor2D[] | undefined {
  const pairs = host.contexts * host.perturbations;
  if (3 * pairs * host.genes * 4 > budget) return undefined;
  const every = Int32Array.from({ length: pairs }, (_, pair) => pair);
  return blocks.map((block) => tf.tensor2d(queryRowTable(host, every, block), [3 * pairs, block.size]));
}

/** The query pairs' rows of a resident table, [3Q, Gb] in queryRowTable's layout: one gather. */
function gatherQueryRows(host: HostData, table: tf.Tensor2D, queryPairs: Int32Array): tf.Tensor2D {
  const pairs = host.contexts * host.perturbations;
  const Q = queryPairs.length;
  const rows = new Int32Array(3 * Q);
  for (let q = 0; q < Q; q++) {
    rows[q] = queryPairs[q];
    rows[Q + q] = pairs + queryPairs[q];
    rows[2 * Q + q] = 2 * pairs + queryPairs[q];
  }
  return tf.tidy(() => tf.gather(table, tf.tensor1d(rows, 'int32')));
}

/** The training step's state: the model, its data and the optimisers (one for shared weights, one per block). */
export interface StepTrainer {
  params: C3tlParameters;
  data: C3tlData | undefined;
  host: HostData;
  geneWeights: tf.Tensor1D[];
  switches: C3tlSwitches;
  resident: tf.Tensor2D[] | undefined;
  /**
   * Whether steps use the fused kernel (fixed-form-kernel.ts) rather than autodiff: asked for (the default),
   * the network off and the kernel serving the active backend.
   */
  fused: boolean;
  /** FusedAdam (adam-kernel.ts) when fused, else tf.train.adam: the same update, fewer kernels. */
  sharedOptimizer: StepOptimizer;
  blockOptimizers: StepOptimizer[];
}

export function createStepTrainer(
  params: C3tlParameters,
  data: C3tlData | undefined,
  host: HostData,
  geneWeights: tf.Tensor1D[],
  options: { switches: C3tlSwitches; learningRate: number; residentBudget?: number; fused?: boolean },
): StepTrainer {
  const fused = (options.fused ?? true) && !options.switches.network && fixedFormKernelServes(host.contexts);
  return {
    params,
    data,
    host,
    geneWeights,
    switches: options.switches,
    resident: residentQueryRows(host, params.geneBlocks, options.residentBudget),
    fused,
    // Adam keys its moments by the position of a gradient in the list it is given, so each optimiser must
    // always see the same variables: one for the shared weights, one per gene block.
    sharedOptimizer: stepOptimizer(options.learningRate, fused),
    blockOptimizers: params.geneBlocks.map(() => stepOptimizer(options.learningRate, fused)),
  };
}

export function disposeStepTrainer(trainer: StepTrainer): void {
  trainer.sharedOptimizer.dispose();
  trainer.blockOptimizers.forEach((o) => o.dispose());
  tf.dispose(trainer.resident ?? []);
}

/** A step's inputs on block b: the query rows gathered from the resident tables, or built on the host. */
function stepInputs(
  trainer: StepTrainer,
  support: { weights: Float32Array; pairs: readonly number[] },
  queryPairs: Int32Array,
  b: number,
): { inputs: BlockInputs; queryObserved: tf.Tensor2D } {
  const { host, resident, geneWeights } = trainer;
  const block = trainer.params.geneBlocks[b];
  if (!resident) return blockInputs(host, support, queryPairs, block, geneWeights[b]);
  const [queryObserved, queryMean, queryDenoise] = tf.tidy(() =>
    tf.split(gatherQueryRows(host, resident[b], queryPairs), 3, 0),
  ) as tf.Tensor2D[];
  return {
    inputs: {
      support: supportMoments(host, support, block),
      queryMean,
      queryDenoise,
      geneWeights: geneWeights[b],
    },
    queryObserved,
  };
}

/**
 * The network-off step through the fused kernel: the loss and the gates' gradient in one kernel, then block
 * b's Adam. Uploads the support's moments [8C, Gb], the queries' contexts and weights, and (without resident
 * tables) the query rows [3Q, Gb].
 */
function fusedStep(trainer: StepTrainer, sampled: Episode, support: StepSupport, b: number): tf.Scalar {
  const { host, resident, params } = trainer;
  const block = params.geneBlocks[b];
  const { queryPairs } = sampled;
  const Q = queryPairs.length;
  const rows = resident
    ? gatherQueryRows(host, resident[b], queryPairs)
    : tf.tensor2d(queryRowTable(host, queryPairs, block), [3 * Q, block.size]);
  const moments = tf.tensor2d(supportMomentTable(host, support, block), [8 * host.contexts, block.size]);
  const queryContexts = queryContextTensor(host, queryPairs);
  const queryWeights = tf.tensor1d(sampled.queryWeights);
  const gates = params.blocks[b].gates;
  const { loss, gradient } = fixedFormLossAndGradients(
    {
      gates: gates as tf.Tensor as tf.Tensor2D,
      gateScale: params.gateScale,
      moments,
      rows,
      queryContexts,
      queryWeights,
      geneWeights: trainer.geneWeights[b],
    },
    trainer.switches,
  );
  trainer.blockOptimizers[b].applyGradients([{ name: gates.name, tensor: gradient }]);
  tf.dispose([rows, moments, queryContexts, queryWeights, gradient]);
  return loss;
}

type StepSupport = { weights: Float32Array; pairs: readonly number[] };

/**
 * One optimiser step on a sampled episode, scored on gene block b: the loss's gradients applied by the
 * shared optimiser (when the network is on) and block b's. With the network off (and trainer.fused) the
 * fused kernel computes the loss and gradient; otherwise autodiff of episodeLoss. Returns the step's loss, a
 * scalar tensor the caller disposes.
 */
export function trainStep(trainer: StepTrainer, sampled: Episode, b: number): tf.Scalar {
  const { params, data, switches } = trainer;
  const support = { weights: sampled.supportWeights, pairs: supportPairsOf(sampled.supportWeights) };
  if (trainer.fused) {
    return fusedStep(trainer, sampled, support, b);
  }
  const episode = episodeTensors(trainer.host, support, sampled.queryPairs, switches.network);
  const { inputs, queryObserved } = stepInputs(trainer, support, sampled.queryPairs, b);
  const weights = tf.tensor2d(sampled.queryWeights, [sampled.queryPairs.length, 1]);
  const sharedVariables = SHARED_PARAMETER_NAMES.map((n) => params.shared[n]);
  const ownVariables = blockVariables(params.blocks[b]);
  const { value, grads } = tf.variableGrads(
    () => episodeLoss(params, data, episode, inputs, queryObserved, weights, { block: b, switches }),
    [...sharedVariables, ...ownVariables],
  );
  const gradientsOf = (vars: tf.Variable[]) =>
    vars.filter((v) => grads[v.name]).map((v) => ({ name: v.name, tensor: grads[v.name] }));
  const sharedGrads = gradientsOf(sharedVariables);
  if (sharedGrads.length > 0) trainer.sharedOptimizer.applyGradients(sharedGrads);
  trainer.blockOptimizers[b].applyGradients(gradientsOf(ownVariables));
  tf.dispose(Object.values(grads));
  disposeEpisode(episode);
  disposeInputs(inputs);
  tf.dispose([weights, queryObserved]);
  return value;
}
