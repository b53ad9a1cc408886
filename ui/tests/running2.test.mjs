// @ts-check
// What the Run screen says, truthfully (issue 19, B5, B6, D12): a device's elapsed time
// stops with its stage, a stage with failures is not shown as good news, the status bar
// follows the run, a reused prepare counts its reads, the demo's random models are said to
// be random, and a missing input's error is said once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runToEnd, texts, useBrowser, VALID_SETTINGS, waitForText } from './harness.mjs';

const withApp = useBrowser(before, after);
const OK_GREEN = 'rgb(31, 122, 61)';

/**
 * The Elapsed cell of each device row of `stage`.
 * @param {import('playwright-core').Page} page
 * @param {string} stage
 */
function elapsed(page, stage) {
  return page.$$eval(`#device-table tr[data-stage=${stage}]`, (rows) => rows.map((r) => r.lastElementChild?.textContent ?? ''));
}

test("a device's elapsed time stops when its stage ends, while the run goes on", () =>
  withApp({ lastSettings: VALID_SETTINGS, holdStage: 'embed_protein' }, async ({ page }) => {
    await page.waitForSelector('#run-button:enabled');
    await page.click('#run-button');
    await page.waitForSelector('tr[data-stage=embed_dna][data-state=done]');
    await page.waitForSelector('#device-table tr[data-stage=embed_protein]');
    const before = await elapsed(page, 'embed_dna');
    assert.equal(before.length, 2);
    // The screen redraws every second while a run goes: two redraws later, the same.
    await page.waitForTimeout(2300);
    assert.deepEqual(await elapsed(page, 'embed_dna'), before);
    await page.click('#cancel-run');
    await page.waitForSelector('#run-summary:not([hidden])');
  }));

test('a stage with failed items is not green; a clean one is', () =>
  withApp({ lastSettings: VALID_SETTINGS }, async ({ page }) => {
    await page.waitForSelector('#run-button:enabled');
    await runToEnd(page);
    await waitForText(page, 'tr[data-stage=merge]', '5 done, 0 reused, 3 failed');
    const color = (/** @type {string} */ stage) =>
      page.$eval(`tr[data-stage=${stage}] .stage-result`, (el) => getComputedStyle(el).color);
    assert.notEqual(await color('merge'), OK_GREEN);
    assert.equal(await page.getAttribute('tr[data-stage=merge]', 'data-result'), 'failed');
    assert.equal(await color('prepare'), OK_GREEN);
  }));

test('the status bar follows the run instead of keeping "Loaded preset …"', () =>
  withApp({ holdStage: 'embed_dna' }, async ({ page }) => {
    await page.click('[data-screen=presets]');
    await page.click('tr[data-preset="Demo"] button[data-action="load"]');
    await waitForText(page, '#status-bar', 'Loaded preset');
    await page.click('[data-screen=setup]');
    await page.waitForSelector('#run-button:enabled');
    await page.click('#run-button');
    await waitForText(page, '#status-bar', /^Running in \/home\/user\/virnucpro-demo-output\.$/);
    await page.click('#cancel-run');
    await waitForText(page, '#status-bar', /^Run cancelled; it can be resumed \(\/home\/user\/virnucpro-demo-output\)\.$/);
  }));

test('on resume, a reused prepare shows its reads, not "0 reads (100%)"', () =>
  withApp({ lastSettings: VALID_SETTINGS, failures: 'never' }, async ({ page }) => {
    await page.waitForSelector('#run-button:enabled');
    await runToEnd(page);
    await page.click('[data-screen=setup]');
    await runToEnd(page, '#resume-button');
    await waitForText(page, 'tr[data-stage=prepare]', '0 done, 8 reused, 0 failed');
    assert.equal(await page.textContent('tr[data-stage=prepare] td.num'), '1,200 / 1,200 reads (100%)');
  }));

test('a Demo run says on the Run screen that its models are random', () =>
  withApp({}, async ({ page }) => {
    await page.click('[data-screen=presets]');
    await page.click('tr[data-preset="Demo"] button[data-action="load"]');
    await page.click('[data-screen=setup]');
    await page.waitForSelector('#run-button:enabled');
    await runToEnd(page);
    await waitForText(page, '#run-demo-note', 'random weights');
    await waitForText(page, '#run-demo-note', 'say nothing about these reads');
  }));

test('a run with real models has no demo note', () =>
  withApp({ lastSettings: VALID_SETTINGS }, async ({ page }) => {
    await page.waitForSelector('#run-button:enabled');
    await runToEnd(page);
    await waitForText(page, '#run-summary h3', 'Run finished');
    assert.equal(await page.$('#run-demo-note'), null);
  }));

test("a missing input's error is said once in the inputs section", () =>
  withApp({ lastSettings: { ...VALID_SETTINGS, inputs: ['/data/run42/reads', '/data/missing/reads'] } }, async ({ page }) => {
    await waitForText(page, '#run-blockers', 'Input reads: /data/missing/reads: no such file or folder');
    await waitForText(page, '#inputs-section', '3 FASTA files');
    const section = (await page.textContent('#inputs-section')) ?? '';
    assert.equal(section.split('/data/missing/reads: no such file or folder').length - 1, 1, section);
    assert.deepEqual(await texts(page, '#run-blockers li'), ['Input reads: /data/missing/reads: no such file or folder']);
  }));
