// @ts-check
// The Models screen against the mock backend: the catalogue's models and their states, a
// download with live progress to "verified", cancel (Resume goes on from the bytes kept),
// a failing download's message in its row, import, and the Setup's use of installed
// models (empty fields filled, a pointer to Models while one is missing).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { texts, useBrowser, waitForText } from './harness.mjs';

const withApp = useBrowser(before, after);
const SNAPSHOT = '/home/user/.cache/huggingface/hub/models--zhihan1996--DNABERT-S/snapshots/00e47f96cdea35e4b6f5df89e5419cbe47d490c6';

/** @param {import('playwright-core').Page} page */
async function openModels(page) {
  await page.click('button[data-screen="models"]');
  await page.waitForSelector('#model-table tr[data-model="classifier-500"]');
}

/** @param {import('playwright-core').Page} page @param {string} id @param {string} state */
const waitForState = (page, id, state, timeout = 5000) =>
  page.waitForSelector(`tr[data-model="${id}"][data-state="${state}"]:not([data-job])`, { timeout });

test('every catalogue model is listed with its state, size, location and the actions it allows', () =>
  withApp({ models: { 'dnabert-s': 'verified', 'classifier-500': 'partial' } }, async ({ page }) => {
    await openModels(page);
    assert.deepEqual(await page.$$eval('#model-table tbody tr', (rows) => rows.map((r) => [r.getAttribute('data-model'), r.getAttribute('data-state')])), [
      ['dnabert-s', 'verified'],
      ['esm2-3b', 'missing'],
      ['classifier-300', 'missing'],
      ['classifier-500', 'partial'],
    ]);
    const dnabert = 'tr[data-model="dnabert-s"]';
    await waitForText(page, `${dnabert} td:nth-child(1)`, 'DNABERT-S (zhihan1996/DNABERT-S)');
    await waitForText(page, `${dnabert} .model-state`, 'verified');
    await waitForText(page, `${dnabert} td:nth-child(3)`, '468 MB');
    await waitForText(page, `${dnabert} td:nth-child(4)`, SNAPSHOT);
    assert.equal(await page.isHidden(`${dnabert} [data-action="download"]`), true, 'nothing to download');
    assert.equal(await page.isEnabled(`${dnabert} [data-action="reveal"]`), true);
    // Partial: Resume, with what is there already.
    const partial = 'tr[data-model="classifier-500"]';
    assert.equal((await page.textContent(`${partial} [data-action="download"]`))?.trim(), 'Resume');
    await waitForText(page, `${partial} td:nth-child(3)`, '5.45 MB of 13.6 MB');
    // Missing: Download; nothing to verify or reveal.
    const esm = 'tr[data-model="esm2-3b"]';
    assert.equal((await page.textContent(`${esm} [data-action="download"]`))?.trim(), 'Download');
    assert.equal(await page.isDisabled(`${esm} [data-action="verify"]`), true);
    assert.equal(await page.isDisabled(`${esm} [data-action="reveal"]`), true);
    await waitForText(page, '#models-caches', '/home/user/.cache/huggingface/hub');
  }));

test('a download shows bytes, percent, rate and time left, ends verified, and fills the empty Setup field', () =>
  withApp({ models: {}, modelSteps: 30, eventIntervalMs: 25 }, async ({ page, calls }) => {
    assert.equal(await page.inputValue('#path-dnabert'), '');
    await openModels(page);
    const row = 'tr[data-model="dnabert-s"]';
    await page.click(`${row} [data-action="download"]`);
    await page.waitForSelector(`${row}[data-job="fetch"]`);
    await waitForText(page, `${row} .model-progress`, /MB of 468 MB · \d+ % · 48\.0 MB\/s · \d+ s left/);
    assert.equal(await page.isVisible(`${row} [data-action="cancel"]`), true);
    assert.equal(await page.isHidden(`${row} [data-action="download"]`), true);
    const value = await page.$eval(`${row} progress`, (p) => /** @type {HTMLProgressElement} */ (p).value);
    assert.ok(value > 0, 'the bar moves');
    await waitForState(page, 'dnabert-s', 'verified');
    await waitForText(page, `${row} .model-state`, 'verified');
    await waitForText(page, '#status-bar', 'DNABERT-S (zhihan1996/DNABERT-S) is verified.');
    assert.deepEqual((await calls('fetch_model')).map((a) => a.id), ['dnabert-s']);
    // Setup: the empty DNABERT-S field now holds the installed snapshot.
    await page.click('button[data-screen="setup"]');
    await page.waitForFunction((path) => /** @type {HTMLInputElement} */ (document.querySelector('#path-dnabert')).value === path, SNAPSHOT);
    assert.equal(await page.inputValue('#path-esm'), '', 'ESM-2 is still missing');
  }));

test('cancel keeps what was downloaded and Resume goes on from there', () =>
  withApp({ models: {}, holdDownloadAt: 0.4 }, async ({ page, calls }) => {
    await openModels(page);
    const row = 'tr[data-model="classifier-500"]';
    await page.click(`${row} [data-action="download"]`);
    await waitForText(page, `${row} .model-progress`, / %/);
    await page.click(`${row} [data-action="cancel"]`);
    await waitForState(page, 'classifier-500', 'partial');
    await waitForText(page, `${row} .model-progress`, 'Cancelled. 5.45 MB kept; Resume goes on from there.');
    assert.deepEqual((await calls('cancel_fetch')).map((a) => a.id), ['classifier-500']);
    assert.equal((await page.textContent(`${row} [data-action="download"]`))?.trim(), 'Resume');
    assert.equal(await page.isHidden(`${row} [data-action="cancel"]`), true);

    // @ts-ignore: the mock reads its configuration from window
    await page.evaluate(() => (window.__VIRNUCPRO_MOCK__.holdDownloadAt = null));
    await page.click(`${row} [data-action="download"]`);
    await waitForState(page, 'classifier-500', 'verified');
    assert.equal(await page.isHidden(`${row} .model-error`), true);
  }));

test('a failed download says why in its row and can be tried again', () =>
  withApp({ models: {} }, async ({ page, status }) => {
    await openModels(page);
    const row = 'tr[data-model="esm2-3b"]';
    await page.click(`${row} [data-action="download"]`);
    await page.waitForSelector(`${row} .model-error:not([hidden])`);
    await waitForText(page, `${row} .model-error`, 'esm2-3b: esm2_t36_3B_UR50D.pt from https://dl.fbaipublicfiles.com/fair-esm/models/esm2_t36_3B_UR50D.pt does not match the catalogue');
    assert.match(await status(), /Could not download ESM-2 3B/);
    await page.waitForSelector(`${row}:not([data-job]) [data-action="download"]:visible`);
    // The other models are unaffected.
    assert.deepEqual(await texts(page, 'tr[data-model="classifier-300"] .model-error'), ['']);
  }));

test('verify hashes the files again and import installs matching files', () =>
  withApp({ models: { 'dnabert-s': 'installed' } }, async ({ page, calls }) => {
    await openModels(page);
    await page.click('tr[data-model="dnabert-s"] [data-action="verify"]');
    await waitForState(page, 'dnabert-s', 'verified');
    assert.deepEqual((await calls('verify_model')).map((a) => a.id), ['dnabert-s']);

    await page.click('#import-model-file');
    await waitForText(page, '#models-message', 'Imported 500_model.pth (classifier-500).');
    await waitForState(page, 'classifier-500', 'verified');
    await page.click('#import-model-folder');
    await waitForText(page, '#models-message', 'Imported 300_model.pth (classifier-300). 1 file matches no model of the catalogue: notes.txt.');
    await waitForState(page, 'classifier-300', 'verified');
    assert.deepEqual(await calls('import_models_dialog'), [{ folder: false }, { folder: true }]);

    await page.click('tr[data-model="dnabert-s"] [data-action="reveal"]');
    assert.deepEqual((await calls('reveal_model')).map((a) => a.id), ['dnabert-s']);
  }));

test('Setup fills empty model fields with installed models and points to Models for a missing one', () =>
  withApp({ models: { 'dnabert-s': 'verified', 'classifier-500': 'verified' } }, async ({ page }) => {
    await page.waitForFunction((path) => /** @type {HTMLInputElement} */ (document.querySelector('#path-dnabert')).value === path, SNAPSHOT);
    assert.equal(await page.inputValue('#path-classifier'), '/home/user/.cache/virnucpro/classifiers/500_model.pth');
    assert.equal(await page.inputValue('#path-esm'), '');
    await waitForText(page, '#run-blockers', 'ESM-2 model: ESM-2 is not installed: open Models to download it');
    assert.equal(await page.isVisible('[data-field="esm"] [data-action="open-models"]'), true);
    assert.equal(await page.isHidden('[data-field="dnabert"] [data-action="open-models"]'), true);

    // A preset's own model replaces the installed one; "Use the installed model" brings it back.
    await page.click('button[data-screen="presets"]');
    await page.click('tr[data-preset="Demo"] button[data-action="load"]');
    await page.waitForFunction(() => /** @type {HTMLInputElement} */ (document.querySelector('#path-dnabert')).value.includes('/demo/'));
    await page.click('[data-field="dnabert"] [data-action="use-installed"]');
    await page.waitForFunction((path) => /** @type {HTMLInputElement} */ (document.querySelector('#path-dnabert')).value === path, SNAPSHOT);
    assert.equal(await page.isHidden('[data-field="dnabert"] [data-action="use-installed"]'), true);
    // ESM-2 is not installed: nothing to use instead of the Demo's.
    assert.equal(await page.isHidden('[data-field="esm"] [data-action="use-installed"]'), true);
  }));

test('the pointers on Setup and the first-start panel open the Models screen', async () => {
  await withApp({ models: {} }, async ({ page }) => {
    await page.click('[data-field="dnabert"] [data-action="open-models"]');
    await page.waitForSelector('#screen-models:not([hidden]) tr[data-model="dnabert-s"][data-state="missing"]');
  });
  await withApp({}, async ({ page }) => {
    await page.click('#first-start-models');
    await page.waitForSelector('#screen-models:not([hidden]) tr[data-model="dnabert-s"]');
  });
});
