// @ts-check
// Presets: the built-in Demo, save (and replace), rename, duplicate, delete, export,
// import, load; rename and delete from the keyboard.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { texts, useBrowser, VALID_SETTINGS, waitForText } from './harness.mjs';

const withApp = useBrowser(before, after);

/** @param {import('playwright-core').Page} page */
const presetNames = (page) => page.$$eval('#preset-table tbody tr', (rows) => rows.map((r) => r.getAttribute('data-preset')));
/** @param {string} name @param {string} action */
const button = (name, action) => `tr[data-preset="${name}"] button[data-action=${action}]`;

test('the built-in Demo preset is listed and cannot be renamed or deleted', () =>
  withApp({}, async ({ page }) => {
    await page.click('[data-screen=presets]');
    assert.deepEqual(await presetNames(page), ['Demo', 'Gut metagenomes']);
    await waitForText(page, 'tr[data-preset=Demo] th', 'built-in');
    assert.equal(await page.isDisabled(button('Demo', 'rename')), true);
    assert.equal(await page.isDisabled(button('Demo', 'delete')), true);
    assert.equal(await page.isDisabled(button('Gut metagenomes', 'delete')), false);
  }));

test('loading a preset fills the setup with its settings', () =>
  withApp({}, async ({ page }) => {
    await page.click('[data-screen=presets]');
    await page.click(button('Demo', 'load'));
    assert.equal(await page.isVisible('#screen-setup'), true);
    assert.equal(await page.inputValue('#path-dnabert'), '/opt/virnucpro/demo/models/dnabert_s_tiny');
    assert.deepEqual(await texts(page, '#input-list .path'), ['/opt/virnucpro/demo/sample_reads.fa']);
    assert.equal(await page.isChecked('#device-cpu'), true);
    assert.equal(await page.isChecked('#device-cuda-0'), false);
    await waitForText(page, '[data-testid=scan-summary]', '1 FASTA file, 161 KB in all');
    await waitForText(page, '#status-bar', 'Loaded preset “Demo”.');
    await page.waitForSelector('#run-button:enabled');
  }));

test('save, replace, duplicate and delete a preset', () =>
  withApp({ lastSettings: VALID_SETTINGS }, async ({ page, calls }) => {
    await page.click('[data-screen=presets]');
    await page.click('#preset-save-button');
    await waitForText(page, '#preset-save-message', 'Enter a name for the preset.');

    await page.fill('#preset-name', 'Alpha');
    await page.press('#preset-name', 'Enter');
    await page.waitForSelector('tr[data-preset=Alpha]');
    await waitForText(page, '#status-bar', 'Saved preset “Alpha”.');
    assert.deepEqual((await calls('save_preset'))[0], { name: 'Alpha', settings: VALID_SETTINGS });

    // Saving under a taken name asks first.
    await page.fill('#preset-name', 'Alpha');
    await page.click('#preset-save-button');
    await waitForText(page, '#preset-save-message', 'A preset named “Alpha” exists. Replace it?');
    assert.equal((await calls('save_preset')).length, 1);
    await page.click('#preset-replace');
    await waitForText(page, '#status-bar', 'Saved preset “Alpha”.');
    assert.equal((await calls('save_preset')).length, 2);
    assert.deepEqual(await presetNames(page), ['Alpha', 'Demo', 'Gut metagenomes']);

    await page.click(button('Alpha', 'duplicate'));
    await page.waitForSelector('tr[data-preset="Alpha copy"]');
    await page.click(button('Alpha', 'duplicate'));
    await page.waitForSelector('tr[data-preset="Alpha copy 2"]');
    assert.deepEqual((await calls('duplicate_preset')).map((a) => a.as_name), ['Alpha copy', 'Alpha copy 2']);

    await page.click(button('Alpha copy', 'delete'));
    await waitForText(page, 'tr[data-preset="Alpha copy"]', 'Delete this preset?');
    await page.click('tr[data-preset="Alpha copy"] button:has-text("Keep")');
    await page.click(button('Alpha copy', 'delete'));
    await page.click('tr[data-preset="Alpha copy"] button.danger');
    await page.waitForSelector('tr[data-preset="Alpha copy"]', { state: 'detached' });
    assert.deepEqual(await presetNames(page), ['Alpha', 'Alpha copy 2', 'Demo', 'Gut metagenomes']);
    assert.deepEqual(await calls('delete_preset'), [{ name: 'Alpha copy' }]);
  }));

test('from the keyboard: Enter renames, Escape keeps the old name, the focus survives each redraw', () =>
  withApp({}, async ({ page, calls }) => {
    await page.click('[data-screen=presets]');
    await page.focus(button('Gut metagenomes', 'rename'));
    await page.keyboard.press('Enter');
    // The name field takes the focus, holding the old name.
    assert.equal(await page.evaluate(() => /** @type {HTMLInputElement} */ (document.activeElement).value), 'Gut metagenomes');
    await page.keyboard.press('Escape');
    await page.waitForSelector('tr[data-preset="Gut metagenomes"] input', { state: 'detached' });

    await page.focus(button('Gut metagenomes', 'rename'));
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('Gut, 2026 samples');
    await page.keyboard.press('Enter');
    await page.waitForSelector('tr[data-preset="Gut, 2026 samples"]');
    assert.deepEqual(await presetNames(page), ['Demo', 'Gut, 2026 samples']);
    // The redrawn list keeps the keyboard in it: on the first row's Load.
    assert.equal(await page.evaluate(() => /** @type {HTMLElement} */ (document.activeElement).dataset['action']), 'load');

    // Duplicate from the keyboard: the focus stays on the same button of the same row.
    await page.focus(button('Demo', 'duplicate'));
    await page.keyboard.press('Enter');
    await page.waitForSelector('tr[data-preset="Demo copy"]');
    assert.equal(
      await page.evaluate(() => `${document.activeElement?.closest('tr')?.dataset['preset']} ${/** @type {HTMLElement} */ (document.activeElement).dataset['action']}`),
      'Demo duplicate',
    );
    assert.deepEqual(await calls('rename_preset'), [{ from: 'Gut metagenomes', to: 'Gut, 2026 samples' }]);
  }));

test('export writes where the user chose; import brings a preset back, a bad file is refused', () =>
  withApp(
    {
      answers: {
        pick_save_file: [null, '/home/user/gut.json'],
        pick_file: ['/home/user/gut.json', '/home/user/presets/gpu-box.json', '/home/user/notes.txt'],
      },
    },
    async ({ page, calls }) => {
      await page.click('[data-screen=presets]');
      await page.click(button('Gut metagenomes', 'export'));
      await waitForText(page, '#status-bar', 'Export cancelled.');
      await page.click(button('Gut metagenomes', 'export'));
      await waitForText(page, '#status-bar', 'Exported preset “Gut metagenomes” to /home/user/gut.json.');
      assert.deepEqual((await calls('pick_save_file')).map((a) => a.default_name), ['Gut metagenomes.json', 'Gut metagenomes.json']);
      assert.deepEqual(await calls('export_preset'), [{ name: 'Gut metagenomes', dest: '/home/user/gut.json' }]);

      await page.click(button('Gut metagenomes', 'delete'));
      await page.click('tr[data-preset="Gut metagenomes"] button.danger');
      await page.waitForSelector('tr[data-preset="Gut metagenomes"]', { state: 'detached' });
      await page.click('#preset-import');
      await page.waitForSelector('tr[data-preset="Gut metagenomes"]');
      await waitForText(page, '#status-bar', 'Imported preset “Gut metagenomes”.');

      await page.click('#preset-import');
      await page.waitForSelector('tr[data-preset="GPU box"]');
      await page.click('#preset-import');
      await waitForText(page, '#status-bar', 'Could not import the preset: /home/user/notes.txt is not a VirNucPro preset');
      assert.equal(await page.getAttribute('#status-bar', 'data-tone'), 'error');
      assert.deepEqual((await calls('pick_file'))[0].filters, [{ name: 'VirNucPro preset', extensions: ['json'] }]);
      assert.deepEqual(await presetNames(page), ['Demo', 'GPU box', 'Gut metagenomes']);
    },
  ));
