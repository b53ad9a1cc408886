// @ts-check
// Paired reads (RunSettings.pairs, the CLI's --pairs): R1/R2 pairs found by their names by
// default, a select under Options turns it off; the choice reaches the settings the shell
// checks and runs, presets keep it, older presets and settings (saved before it existed)
// read as auto, and a resume with the other choice says the settings differ.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { useBrowser, VALID_SETTINGS, waitForText } from './harness.mjs';

const withApp = useBrowser(before, after);

/** VALID_SETTINGS as an older version saved them: without pairs. */
const { pairs: _unused, ...OLD_SETTINGS } = VALID_SETTINGS;

/**
 * Waits until the shell was asked to check settings with `pairs`.
 * @param {import('playwright-core').Page} page
 * @param {string} pairs
 */
const checkedWith = (page, pairs) =>
  page.waitForFunction(
    (p) => /** @type {any} */ (window).__VIRNUCPRO_MOCK_CALLS__.filter((/** @type {any} */ c) => c.cmd === 'validate_settings').at(-1)?.args.settings.pairs === p,
    pairs,
  );

/** @param {import('playwright-core').Page} page */
const selectedLabel = (page) => page.$eval('#pairs', (s) => /** @type {HTMLSelectElement} */ (s).selectedOptions[0]?.textContent);

test('pairs are detected by name by default, the hint says how mates are read, and single-end reaches the run', () =>
  withApp({ lastSettings: VALID_SETTINGS }, async ({ page, calls }) => {
    assert.equal(await page.inputValue('#pairs'), 'auto');
    assert.equal(await selectedLabel(page), 'Detect R1/R2 pairs by name (default)');
    assert.equal(await page.isVisible('#pairs'), true, 'under Options, not hidden in Advanced');
    await waitForText(page, '#pairs-field label', 'Paired reads');
    await waitForText(page, '#pairs-hint', 'each mate is classified as a read of its own, named /1 and /2');
    await waitForText(page, '#pairs-hint', 'pair_summary.tsv gives a call per pair');
    await checkedWith(page, 'auto');

    await page.selectOption('#pairs', 'off');
    assert.equal(await selectedLabel(page), 'Treat every file as single-end');
    await checkedWith(page, 'off');
    await page.waitForSelector('#run-button:enabled');
    await page.click('#run-button');
    await page.waitForSelector('#run-summary:not([hidden])', { timeout: 15000 });
    const [start] = await calls('start_run');
    assert.deepEqual(start.settings, { ...VALID_SETTINGS, pairs: 'off' });
  }));

test('a preset saves Paired reads and loading it restores it', () =>
  withApp({ lastSettings: VALID_SETTINGS }, async ({ page, calls }) => {
    await page.selectOption('#pairs', 'off');
    await checkedWith(page, 'off');
    await page.click('[data-screen=presets]');
    await page.fill('#preset-name', 'Single-end');
    await page.press('#preset-name', 'Enter');
    await page.waitForSelector('tr[data-preset=Single-end]');
    assert.deepEqual((await calls('save_preset'))[0], { name: 'Single-end', settings: { ...VALID_SETTINGS, pairs: 'off' } });

    await page.click('[data-screen=setup]');
    await page.selectOption('#pairs', 'auto');
    await checkedWith(page, 'auto');
    await page.click('[data-screen=presets]');
    await page.click('tr[data-preset=Single-end] button[data-action=load]');
    await waitForText(page, '#status-bar', 'Loaded preset “Single-end”.');
    assert.equal(await page.inputValue('#pairs'), 'off');
    await checkedWith(page, 'off');
  }));

test('a preset and last settings saved before the setting existed load with pairs detected', () =>
  withApp(
    {
      lastSettings: /** @type {any} */ (OLD_SETTINGS),
      presetFiles: { '/home/user/presets/old.json': { name: 'Old', settings: OLD_SETTINGS, updated: '2026-10-01T08:00:00Z' } },
      answers: { pick_file: ['/home/user/presets/old.json'] },
    },
    async ({ page }) => {
      await waitForText(page, '#status-bar', 'Restored the settings of the last run.');
      assert.equal(await page.inputValue('#pairs'), 'auto');
      await checkedWith(page, 'auto');

      await page.selectOption('#pairs', 'off');
      await checkedWith(page, 'off');
      await page.click('[data-screen=presets]');
      await page.click('#preset-import');
      await waitForText(page, '#status-bar', 'Imported preset “Old”.');
      await page.click('tr[data-preset=Old] button[data-action=load]');
      await waitForText(page, '#status-bar', 'Loaded preset “Old”.');
      // Not left as it was: the shell reads the missing field as auto.
      assert.equal(await page.inputValue('#pairs'), 'auto');
      await checkedWith(page, 'auto');
    },
  ));

test('resuming with the other pairing says the settings differ, and prepares the reads again', () =>
  withApp({ lastSettings: VALID_SETTINGS, failures: 'never', eventIntervalMs: 5 }, async ({ page }) => {
    await page.click('#run-button');
    await page.waitForSelector('#run-summary:not([hidden])', { timeout: 15000 });
    await page.click('[data-screen=setup]');
    await waitForText(page, '#resume-text', 'This output folder holds an earlier run (ok;');
    assert.equal(await page.textContent('#resume-differs'), '');

    await page.selectOption('#pairs', 'off');
    await waitForText(page, '#resume-differs', 'Its settings differ from the ones above (Paired reads): resuming redoes the stages they affect.');
    await page.click('#resume-button');
    await page.waitForSelector('#run-summary:not([hidden])', { timeout: 15000 });
    await waitForText(page, 'tr[data-stage=prepare] th', 'to do');

    await page.click('[data-screen=setup]');
    await page.selectOption('#pairs', 'auto');
    await waitForText(page, '#resume-differs', '(Paired reads)');
    await page.click('#use-resume-settings');
    await page.waitForSelector('#use-resume-settings', { state: 'hidden' });
    assert.equal(await page.inputValue('#pairs'), 'off');
  }));

test('Results offers pair_summary.tsv when the run found pairs, and not after a single-end run', () =>
  withApp({ lastSettings: VALID_SETTINGS, pairedReads: true, failures: 'never', eventIntervalMs: 5 }, async ({ page, calls }) => {
    await page.click('#run-button');
    await page.waitForSelector('#run-summary:not([hidden])', { timeout: 15000 });
    await page.click('[data-screen=results]');
    await waitForText(page, '#pair-summary', 'Paired reads: each mate is a read of its own below (/1, /2); /data/results/new/pair_summary.tsv gives a call per pair');
    await page.click('#open-pair-summary');
    await page.waitForFunction(() => /** @type {any} */ (window).__VIRNUCPRO_MOCK_CALLS__.some((/** @type {any} */ c) => c.cmd === 'open_folder'));
    assert.deepEqual(await calls('open_folder'), [{ path: '/data/results/new/pair_summary.tsv' }]);

    await page.click('[data-screen=setup]');
    await page.selectOption('#pairs', 'off');
    await page.waitForSelector('#resume-button:enabled');
    await page.click('#resume-button');
    await page.waitForSelector('#run-summary h3:has-text("Run finished")', { timeout: 15000 });
    await page.click('[data-screen=results]');
    await page.waitForFunction(() => /** @type {any} */ (window).__VIRNUCPRO_MOCK_CALLS__.filter((/** @type {any} */ c) => c.cmd === 'load_results').length === 2);
    await waitForText(page, '#results-totals', 'reads,');
    assert.equal(await page.isHidden('#pair-summary'), true);
  }));
