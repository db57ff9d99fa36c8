/**
 * Teaching mode in real headless Chromium: a #sim= link opens its simulated screen, training shows the noise
 * ceiling and the network view, and with context modulation at zero C3TL's lead over the best other method
 * vanishes within its paired interval. The screen is small (4 x 200 x 400) so that it trains in seconds on two
 * cores; seed 2 measured with the core (cpu, target ctx01, at f0b819b): lead +0.0121 [+0.0104, +0.0138] with
 * the default modulation, −0.0000 [−0.0001, +0.0001] without.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../src/core/eval/metric-info';
import { TRAIN_TIMEOUT, trainToResults, waitOrError } from './driver';
import { appUnderTest, openApp, snap } from './harness';

const app = appUnderTest();
const LINK = '/#sim=kind:default,contexts:4,perturbations:200,genes:400,seed:2';

async function ceilingRow(page: Page): Promise<Record<string, number>> {
  const cells = await page
    .locator('[data-testid="metrics-table"] tr[data-method="noise_ceiling"] td')
    .evaluateAll((tds) =>
      tds.map((td) => [td.getAttribute('data-metric'), Number(td.getAttribute('data-value'))]),
    );
  return Object.fromEntries(cells);
}

/** The verdict's paired difference (C3TL minus the best other method, per held-out pair): mean and interval. */
async function verdictInterval(page: Page): Promise<{ mean: number; lo: number; hi: number }> {
  const verdict = page.getByTestId('verdict');
  const read = async (name: string) => Number(await verdict.getAttribute(`data-${name}`));
  return { mean: await read('mean'), lo: await read('lo'), hi: await read('hi') };
}

describe('teaching mode', () => {
  it(
    'opens a #sim= link, shows the truth, and the lead vanishes without context modulation',
    async () => {
      const { page, log } = await openApp(app.browser, app.server.origin, LINK);
      await waitOrError(page, page.getByTestId('dataset-summary').filter({ hasText: 'Simulated screen' }));
      await expect(page.getByTestId('sim-contexts').inputValue()).resolves.toBe('4');
      await expect(page.getByTestId('sim-seed').inputValue()).resolves.toBe('2');

      await trainToResults(page);
      const ceiling = await ceilingRow(page);
      expect(Object.keys(ceiling).sort()).toEqual([...METRICS].sort());
      expect(ceiling.pearson_centered).toBeGreaterThan(0);
      expect(ceiling.pearson_centered).toBeLessThanOrEqual(1);
      await expect(page.getByTestId('truth-table').locator('tbody tr').count()).resolves.toBeGreaterThan(1);
      // A drug reaches a cascade (many knockdowns hit genes that regulate nothing).
      const drug = await page
        .getByTestId('scatter-select')
        .locator('option')
        .evaluateAll((options) =>
          options.find((o) => o.textContent?.startsWith('DRUG_'))?.getAttribute('value'),
        );
      expect(drug).toBeDefined();
      await page.getByTestId('scatter-select').selectOption(drug ?? '');
      const network = page.getByTestId('network-view');
      await network.getByText(/causal network of DRUG_/).waitFor();
      await network.getByTestId('network-genes').locator('tr[data-role="downstream"]').first().waitFor();
      await network.getByTestId('network-genes').locator('tr[data-role="perturbed"]').first().waitFor();
      await expect(network.locator('svg[role="img"]').count()).resolves.toBe(1);
      await page.getByTestId('scatter-x').getByLabel('truth (noise-free)').check();
      await expect(page.getByTestId('verdict').getAttribute('data-verdict')).resolves.toBe('better');
      // The simulator silences about 5% of the genes in each context: the target's are held at 0.
      await expect(page.getByTestId('held-genes').textContent()).resolves.toMatch(
        /^\d+ genes? ha(s|ve) the same/,
      );
      const modulated = await verdictInterval(page);
      await snap(page, 'teaching-default');

      await page.getByTestId('sim-modulation').fill('0');
      await page.getByTestId('sim-generate').click();
      await page.waitForURL(/modulation:0(,|$)/);
      await waitOrError(page, page.getByTestId('dataset-summary').filter({ hasText: 'modulation 0' }));
      await trainToResults(page);
      // Without modulation no gene is silenced, so none is held.
      await expect(page.getByTestId('held-genes').count()).resolves.toBe(0);
      // The lead vanishes: its paired interval holds 0 (no clear difference), within the science benchmark's
      // negative-control band of 0.005. On other seeds of this screen the core measured +0.0015 [+0.0013,
      // +0.0018] (seed 1) and −0.0002 [−0.0003, −0.0000] (seed 3): the lead is gone or a thousandth.
      const flat = await verdictInterval(page);
      expect(flat.lo).toBeLessThanOrEqual(0);
      expect(flat.hi).toBeGreaterThanOrEqual(0);
      expect(flat.lo).toBeGreaterThan(-0.005);
      expect(flat.hi).toBeLessThan(0.005);
      expect(flat.mean).toBeLessThan(modulated.mean);
      await expect(page.getByTestId('verdict').getAttribute('data-verdict')).resolves.toBe('unclear');
      await page.getByTestId('network-view').getByTestId('network-genes').waitFor();
      await snap(page, 'teaching-no-modulation');
      expect(log.foreign).toEqual([]);
      expect(log.errors).toEqual([]);
      await page.close();
    },
    3 * TRAIN_TIMEOUT,
  );

  it('walks through the tour and skips it', async () => {
    const { page } = await openApp(app.browser, app.server.origin);
    await page.getByTestId('tour-start').click();
    const tour = page.getByTestId('tour');
    await expect(tour.getAttribute('data-step')).resolves.toBe('1');
    await page.getByTestId('tour-next').click();
    await expect(tour.getAttribute('data-step')).resolves.toBe('2');
    await page.getByTestId('tour-skip').click();
    await page.getByTestId('tour-start').waitFor();
    await page.close();
  });

  it('says why a malformed link cannot be read, and keeps the page usable', async () => {
    const { page } = await openApp(app.browser, app.server.origin, '/#sim=genes:many');
    await page.getByTestId('error').filter({ hasText: 'genes must be a number, got "many"' }).waitFor();
    await expect(page.getByTestId('sim-generate').isEnabled()).resolves.toBe(true);
    await page.close();
  });
});
