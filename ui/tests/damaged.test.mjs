// @ts-check
// Never lose a result: a run with failures leads to its failures, Results says when the
// reports are partial or an earlier run's (out of date), and the Failures screen sets the
// damaged files aside and retries in one action, and opens the run folder.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { useBrowser, VALID_SETTINGS, waitForText } from './harness.mjs';

const withApp = useBrowser(before, after);
// The mock's folder with a finished, complete run in it.
const FINISHED = { ...VALID_SETTINGS, out_dir: '/data/results/run41' };

/**
 * @param {import('playwright-core').Page} page
 * @param {string} [button] #run-button, or #resume-button in a folder that holds a run
 */
async function runWithFailures(page, button = '#run-button') {
  await page.waitForSelector(`${button}:enabled`);
  await page.click(button);
  await page.waitForSelector('#run-summary:not([hidden])', { timeout: 15000 });
  await waitForText(page, '#run-summary h3', 'Run finished: partial');
}

/** @param {import('playwright-core').Page} page @param {string} selector */
const classes = (page, selector) => page.$eval(selector, (el) => el.className);

test('a resume with failures keeps the earlier results, and Results says they are out of date', () =>
  withApp({ lastSettings: FINISHED, failures: 'always' }, async ({ page, calls }) => {
    await page.click('[data-screen=results]');
    await waitForText(page, '#results-totals', '300 reads');
    assert.equal(await page.isHidden('#reports-status'), true, 'complete results need no notice');
    const before = (await calls('load_results')).length;

    await page.click('[data-screen=setup]');
    await runWithFailures(page, '#resume-button');
    // The failures lead; the results are one click away, not the main button.
    assert.match(await classes(page, '#view-failures'), /\bprimary\b/);
    assert.doesNotMatch(await classes(page, '#view-results'), /\bprimary\b/);
    await waitForText(page, '#run-incomplete', 'Reports of an earlier run are never replaced by an incomplete one');

    await page.click('#view-results');
    await page.waitForFunction((n) => /** @type {any} */ (window).__VIRNUCPRO_MOCK_CALLS__.filter((/** @type {any} */ c) => c.cmd === 'load_results').length > n, before);
    await waitForText(page, '#reports-status', 'Out of date: these results are from an earlier run, kept because the last run (partial) did not complete.');
    await waitForText(page, '#reports-status', '/data/results/run41/prediction_results.partial.txt');
    assert.equal(await page.getAttribute('#reports-status', 'data-state'), 'earlier');
    // The earlier results themselves are shown, not emptied.
    await waitForText(page, '#results-totals', '300 reads');
  }));

test('a first run with failures shows its results as partial', () =>
  withApp({ lastSettings: VALID_SETTINGS }, async ({ page }) => {
    await runWithFailures(page);
    await page.click('#view-results');
    await waitForText(page, '#reports-status', 'Partial results: some items of the run failed');
    assert.equal(await page.getAttribute('#reports-status', 'data-state'), 'partial');
  }));

test('Set aside and retry moves the damaged files aside, then resumes to a complete run', () =>
  // A run that kept its feature files, which its merge failures name.
  withApp({ lastSettings: { ...VALID_SETTINGS, keep_features: true } }, async ({ page, calls }) => {
    await runWithFailures(page);
    await page.click('#view-failures');
    await waitForText(page, '#failure-total', '3 failures of 2 kinds');
    await page.waitForSelector('#set-aside-retry:enabled');
    assert.match(await classes(page, '#set-aside-retry'), /\bprimary\b/);
    assert.doesNotMatch(await classes(page, '#retry-failed'), /\bprimary\b/);

    await page.click('#open-run-folder');
    await page.waitForFunction(() => /** @type {any} */ (window).__VIRNUCPRO_MOCK_CALLS__.some((/** @type {any} */ c) => c.cmd === 'open_folder'));
    assert.deepEqual(await calls('open_folder'), [{ path: '/data/results/new' }]);

    await page.click('#set-aside-retry');
    await waitForText(page, '#status-bar', 'Moved 4 files to /data/results/new/set-aside/');
    await page.waitForSelector('#run-summary h3:has-text("Run finished: ok")', { timeout: 15000 });
    assert.deepEqual(await calls('set_aside_damaged'), [{ out_dir: '/data/results/new' }]);
    const starts = await calls('start_run');
    assert.equal(starts.length, 2);
    assert.equal(starts[1].restart, false);
    // The set-aside came before the retry.
    const order = await page.evaluate(() =>
      /** @type {any} */ (window).__VIRNUCPRO_MOCK_CALLS__.map((/** @type {any} */ c) => c.cmd).filter((/** @type {string} */ c) => c === 'set_aside_damaged' || c === 'start_run'),
    );
    assert.deepEqual(order, ['start_run', 'set_aside_damaged', 'start_run']);

    await page.click('#view-results');
    await page.waitForSelector('#score-histogram');
    assert.equal(await page.isHidden('#reports-status'), true, 'the completed run’s results are current');
  }));

test('a run without damaged files offers no set-aside', () =>
  withApp({ lastSettings: FINISHED, failures: 'never' }, async ({ page }) => {
    await page.click('[data-screen=failures]');
    await waitForText(page, '#failure-total', 'No failures');
    assert.equal(await page.isHidden('#set-aside-retry'), true);
    assert.equal(await page.isDisabled('#open-run-folder'), false);
  }));
