import { describe, expect, it } from 'vitest';
import { SIM_KINDS, simulatorOptionsForKind } from '../../../../src/core/simulate/kinds';
import {
  DEFAULT_SIM_SETTINGS,
  formatSimFragment,
  parseSimFragment,
  settingsForKind,
  simulatorOptionsOf,
  validateSimSettings,
  type SimSettings,
} from '../../../../src/core/simulate/settings';
import { simulate } from '../../../../src/core/simulate/simulator';

const small: SimSettings = { ...DEFAULT_SIM_SETTINGS, contexts: 3, perturbations: 30, genes: 60 };

describe('simulation settings <-> #sim= fragment', () => {
  const cases: SimSettings[] = [
    DEFAULT_SIM_SETTINGS,
    small,
    { ...settingsForKind('no-modulation'), seed: 2, contexts: 4, perturbations: 200, genes: 400 },
    { ...settingsForKind('gains'), depth: 1.5e6, replicates: 1, drugs: 1 },
    { ...settingsForKind('noise'), modulation: 0.25, edgesOff: 0.9, seed: 2 ** 31 - 1 },
    settingsForKind('pathways'),
  ];
  it.each(cases.map((s) => [formatSimFragment(s), s] as const))('round trips %s', (fragment, settings) => {
    expect(fragment.startsWith('#sim=kind:')).toBe(true);
    expect(parseSimFragment(fragment)).toEqual({ ok: true, data: settings });
    expect(parseSimFragment(fragment.slice(1))).toEqual({ ok: true, data: settings });
  });

  it('fills what a link leaves out from its kind', () => {
    expect(parseSimFragment('#sim=')).toEqual({ ok: true, data: DEFAULT_SIM_SETTINGS });
    const gains = parseSimFragment('#sim=kind:gains,seed:7');
    expect(gains).toEqual({ ok: true, data: { ...settingsForKind('gains'), seed: 7 } });
    expect(gains.ok && gains.data.modulation).toBe(0.4);
    const negative = parseSimFragment('#sim=kind:no-modulation');
    expect(negative.ok && negative.data.modulation).toBe(0);
    // Percent-encoded (as some mail clients rewrite links) and with the keys in another order.
    expect(parseSimFragment('#sim=seed%3A3%2Ckind%3Anoise')).toEqual({
      ok: true,
      data: { ...settingsForKind('noise'), seed: 3 },
    });
  });

  const malformed: [string, string, RegExp][] = [
    ['not a sim link', '#forgotten', /ends in "#sim=/],
    ['unknown key', '#sim=colours:3', /unknown setting "colours"/],
    ['repeated key', '#sim=seed:1,seed:2', /"seed" is given twice/],
    ['no colon', '#sim=seed', /"seed" is not key:value/],
    ['unknown kind', '#sim=kind:chaos', /kind must be one of default, pathways/],
    ['text for a number', '#sim=genes:many', /genes must be a number, got "many"/],
    ['hex is not a number here', '#sim=genes:0x40', /genes must be a number/],
    ['empty value', '#sim=genes:', /genes must be a number, got ""/],
    ['fraction of a context', '#sim=contexts:2.5', /contexts must be a whole number from 2 to 24, got 2.5/],
    ['one context cannot transfer', '#sim=contexts:1', /contexts must be a whole number from 2/],
    ['too many genes', '#sim=genes:1e9', /genes must be a whole number from 20 to 5000/],
    ['negative modulation', '#sim=modulation:-1', /context modulation must be a number from 0 to 10/],
    ['all edges off', '#sim=edgesOff:1', /share of edges switched off must be a number from 0 to 0.9/],
    ['infinite depth', '#sim=depth:Infinity', /depth must be a number/],
    ['seed 0', '#sim=seed:0', /seed must be a whole number from 1/],
    ['bad percent-encoding', '#sim=seed%3', /not valid percent-encoding/],
    ['more knockdowns than genes', '#sim=genes:50,perturbations:100,drugs:0', /100 knockdowns need/],
  ];
  it.each(malformed)('rejects %s (%s) with a clear reason', (_name, fragment, reason) => {
    const result = parseSimFragment(fragment);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('validates settings built in the panel the same way', () => {
    expect(validateSimSettings({ ...small, replicates: 0 })).toEqual({
      ok: false,
      reason: 'replicates must be a whole number from 1 to 20, got 0.',
    });
    expect(validateSimSettings(small)).toEqual({ ok: true, data: small });
  });
});

describe('simulator options of settings', () => {
  const size = { contexts: 3, perturbations: 30, genes: 60, seed: 5 };
  it('gives the simulator defaults (the demo) and each kind exactly, bit for bit', () => {
    for (const kind of SIM_KINDS) {
      const settings = { ...settingsForKind(kind), ...size };
      const ours = simulate(simulatorOptionsOf(settings));
      const plain = simulate({ ...simulatorOptionsForKind(kind), ...size, counts: false });
      expect(ours.tensor.values).toEqual(plain.tensor.values);
      expect(ours.truth).toEqual(plain.truth);
      expect(ours.tensor.basal).toEqual(plain.tensor.basal);
    }
  });

  it('turns modulation 0 into one network for all contexts and passes the other knobs on', () => {
    expect(simulatorOptionsOf({ ...small, modulation: 0 })).toMatchObject({ modulation: false });
    expect(
      simulatorOptionsOf({ ...small, modulation: 1.5, edgesOff: 0.3, depth: 1e6, replicates: 2 }),
    ).toMatchObject({
      modulationStrength: 1.5,
      edgeOffFraction: 0.3,
      librarySize: 1e6,
      replicates: 2,
      drugFraction: 0.2,
    });
    const noModulation = simulate(simulatorOptionsOf({ ...small, modulation: 0 }));
    const weak = simulate(simulatorOptionsOf({ ...small, modulation: 0.5 }));
    expect(noModulation.truth).not.toEqual(weak.truth);
  });
});
