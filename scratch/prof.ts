import * as tf from '@tensorflow/tfjs';
import { simulate } from '../src/core/simulate/simulator';
import { evaluationSplit } from '../src/core/eval/split';
import { DEFAULT_TRAIN_OPTIONS, trainC3tl, AbortError } from '../src/core/model/train';
await tf.setBackend('cpu');
const tensor = simulate({ contexts: 6, perturbations: 300, genes: 1000, counts: false }).tensor;
const split = evaluationSplit(tensor, 0, { supportFraction: 0.1, seed: 1 });
let epochs = 0; const names: string[][] = [];
let prof: string[] = [];
const p = await tf.profile(async () => {
 try {
  const m = await trainC3tl(tensor, split, { ...DEFAULT_TRAIN_OPTIONS, preset: 'small', seed: 1, maxEpochs: 3, transferOptions: {maxEpochs: 2} }, { shouldStop: () => { names.push(tf.engine().state.activeProfile.kernels.map(k=>k.name)); return false; } });
  m.dispose();
 } catch (e) { if (!(e instanceof AbortError)) throw e; }
});
const all = p.kernels.map(k=>k.name);
const a = names[1].length, b = names[2].length;
const h: Record<string, number> = {};
for (const n of all.slice(a, b)) h[n] = (h[n]??0)+1;
console.log('epoch2 kernels', b-a, JSON.stringify(Object.entries(h).sort((x,y)=>y[1]-x[1])));
const t: Record<string, number> = {};
for (const n of all.slice(names[names.length-1].length)) t[n] = (t[n]??0)+1;
console.log('after last poll (transfer etc)', all.length - names[names.length-1].length, names.length);
