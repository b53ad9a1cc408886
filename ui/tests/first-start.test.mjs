// @ts-check
// The first start (no last settings, nothing chosen): a panel points to the Demo preset
// and says where the three models come from; what the run still needs is listed muted,
// as things to do, not as errors.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { texts, useBrowser, VALID_SETTINGS, waitForText } from './harness.mjs';

const withApp = useBrowser(before, after);

/** @param {import('playwright-core').Page} page @param {string} selector */
const colours = (page, selector) => page.$$eval(selector, (items) => items.map((i) => getComputedStyle(i).color));

test('the first start points to the Demo preset and says where the models come from', () =>
  withApp({}, async ({ page }) => {
    await page.waitForSelector('#first-start', { state: 'visible' });
    await waitForText(page, '#first-start', 'Try it first with the Demo preset');
    const models = await texts(page, '#first-start .model-sources li');
    assert.equal(models.length, 3);
    assert.match(models[0] ?? '', /^DNABERT-S: .*zhihan1996\/DNABERT-S.*https:\/\/huggingface\.co\/zhihan1996\/DNABERT-S$/);
    assert.match(models[1] ?? '', /^ESM-2 3B: esm2_t36_3B_UR50D\.pt .*fair-esm.*https:\/\/dl\.fbaipublicfiles\.com\/fair-esm\/models\/esm2_t36_3B_UR50D\.pt$/);
    assert.match(models[2] ?? '', /^Classifier: 500_model\.pth .* 300_model\.pth .*https:\/\/github\.com\/Li-Jing-1997\/VirNucPro$/);

    // What the run still needs is listed, but muted: nothing is wrong yet.
    await waitForText(page, '#run-blockers', 'Output folder: Choose an output folder.');
    const needs = await page.$$eval('#run-blockers li', (items) => items.map((i) => i.className));
    assert.deepEqual(needs, ['todo', 'todo', 'todo', 'todo', 'todo']);
    const [muted] = await colours(page, '.hint');
    assert.ok(muted);
    assert.deepEqual(new Set(await colours(page, '#run-blockers li')), new Set([muted]));

    await page.click('#first-start-demo');
    await waitForText(page, '#status-bar', 'Loaded preset “Demo”.');
    await page.waitForSelector('#first-start', { state: 'hidden' });
    assert.equal(await page.inputValue('#path-dnabert'), '/opt/virnucpro/demo/models/dnabert_s_tiny');
    await page.waitForSelector('#run-button:enabled');
  }));

test('the panel goes once something is chosen, and is not shown when settings were restored', async () => {
  await withApp({ answers: { pick_folders: [['/data/results/new']] } }, async ({ page }) => {
    await page.waitForSelector('#first-start', { state: 'visible' });
    await page.click('[aria-label="Output folder: Choose"]');
    await page.waitForSelector('#first-start', { state: 'hidden' });
    // An unchosen field is still only a thing to do.
    await waitForText(page, '#run-blockers', 'Input reads:');
    assert.equal(await page.$$eval('#run-blockers li:not(.todo)', (items) => items.length), 0);
  });
  await withApp({ lastSettings: VALID_SETTINGS }, async ({ page }) => {
    await page.waitForSelector('#run-button:enabled');
    assert.equal(await page.isHidden('#first-start'), true);
  });
});

test('a wrong value is still an error under Run', () =>
  withApp({ lastSettings: { ...VALID_SETTINGS, threads: 0 } }, async ({ page }) => {
    await waitForText(page, '#run-blockers', 'Prepare and merge threads:');
    assert.deepEqual(await page.$$eval('#run-blockers li', (items) => items.map((i) => i.className)), ['']);
    const [error] = await colours(page, '#run-blockers li');
    assert.notDeepEqual([error], await colours(page, '.hint').then((c) => c.slice(0, 1)));
  }));
