// @ts-check
// The presets list tells presets apart: real dates, what each one reads, with which
// models on which devices, and which presets name files that are gone; renaming keeps the
// columns still and says a refused name at the field; Replace goes with the name.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { useBrowser, VALID_SETTINGS, waitForText } from './harness.mjs';

const withApp = useBrowser(before, after);

/** @param {string} name */
const row = (name) => `tr[data-preset="${name}"]`;

test('each preset says when it was updated, and what it reads with which models on which devices', () =>
  withApp({}, async ({ page }) => {
    await page.click('[data-screen=presets]');
    await page.waitForSelector(row('Gut metagenomes'));
    const cells = await page.$$eval('#preset-table tbody tr', (rows) =>
      rows.map((r) => ({ summary: r.children[1]?.textContent ?? '', updated: r.children[2]?.textContent ?? '' })),
    );
    const [demo, gut] = cells;
    assert.ok(demo && gut);
    // The mock's dates (2026-11-01T09:00:00Z, 2026-11-20T14:32:00Z), as dates people read
    // (the day in the page's time zone: "Nov 1, 2026, 9:00 AM" in UTC).
    const day = (/** @type {string} */ iso) =>
      page.evaluate((at) => new Date(at).toLocaleDateString('en-US', { month: 'short', day: 'numeric', year: 'numeric' }), iso);
    assert.ok(demo.updated.startsWith(`${await day('2026-11-01T09:00:00Z')}, `), demo.updated);
    assert.ok(gut.updated.startsWith(`${await day('2026-11-20T14:32:00Z')}, `), gut.updated);
    assert.doesNotMatch(demo.updated, /1970|\d+\/\d+\/\d+/);
    assert.equal(demo.summary, 'Reads: demo/sample_reads.fa' + 'Models: dnabert_s_tiny · esm2_t2_tiny_fixture.pt · classifier_500_tiny.pth' + '500 bp · CPU');
    assert.equal(gut.summary, 'Reads: run43/reads' + 'Models: DNABERT-S · esm2_t36_3B_UR50D.pt · 500_model.pth' + '500 bp · 2 GPUs (cuda:0, cuda:1)');
    assert.equal(await page.getAttribute(`${row('Gut metagenomes')} .preset-summary div:first-child`, 'title'), '/data/run43/reads');
  }));

test('a preset whose files are gone is marked in the list, with what is gone', () =>
  withApp({ gone: ['/data/run43/reads', '/models/500_model.pth'] }, async ({ page }) => {
    await page.click('[data-screen=presets]');
    await waitForText(page, `${row('Gut metagenomes')} th`, 'files missing');
    assert.equal(await page.getAttribute(row('Gut metagenomes'), 'data-missing'), '');
    await waitForText(page, `${row('Gut metagenomes')} .preset-summary .error-text`, 'Gone: run43/reads, models/500_model.pth');
    assert.equal(await page.getAttribute(row('Demo'), 'data-missing'), null);
    assert.equal(await page.$(`${row('Demo')} .badge.warn`), null);
  }));

test('a preset of samples lists its samples, and their inputs that are gone', () =>
  withApp(
    {
      lastSettings: {
        ...VALID_SETTINGS,
        inputs: [],
        samples: [
          { name: 'gut', inputs: ['/data/run43/reads'] },
          { name: 'soil', inputs: ['/data/run42/reads', '/data/single/sample_D.fq.gz'] },
        ],
      },
      gone: ['/data/single/sample_D.fq.gz'],
    },
    async ({ page }) => {
      await page.click('[data-screen=presets]');
      await page.fill('#preset-name', 'Two samples');
      await page.press('#preset-name', 'Enter');
      await page.waitForSelector(row('Two samples'));
      const reads = `${row('Two samples')} .preset-summary div:first-child`;
      await waitForText(page, reads, '2 samples: gut, soil');
      assert.equal(await page.getAttribute(reads, 'title'), 'gut: /data/run43/reads\nsoil: /data/run42/reads, /data/single/sample_D.fq.gz');
      await waitForText(page, `${row('Two samples')} .preset-summary .error-text`, 'Gone: single/sample_D.fq.gz');
      assert.equal(await page.getAttribute(row('Two samples'), 'data-missing'), '');
    },
  ));

test('a name that is taken or refused is said at the rename field, which keeps the focus', () =>
  withApp({}, async ({ page, calls }) => {
    await page.click('[data-screen=presets]');
    await page.click(`${row('Gut metagenomes')} button[data-action=rename]`);
    const field = `${row('Gut metagenomes')} input`;
    await page.fill(field, 'Demo');
    await page.press(field, 'Enter');
    await waitForText(page, `${row('Gut metagenomes')} #rename-message`, 'A preset named “Demo” exists already.');
    assert.equal(await page.getAttribute(field, 'aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'New name for Gut metagenomes');
    assert.deepEqual(await calls('rename_preset'), []);

    // The shell refuses the built-in name in any case; its reason shows at the field too.
    await page.fill(field, 'demo');
    assert.equal(await page.getAttribute(field, 'aria-invalid'), null, 'typing clears the mark');
    await page.press(field, 'Enter');
    await waitForText(page, `${row('Gut metagenomes')} #rename-message`, '"Demo" is the built-in preset; choose another name');
    assert.deepEqual(await calls('rename_preset'), [{ from: 'Gut metagenomes', to: 'demo' }]);
    assert.equal(await page.getAttribute('#status-bar', 'data-tone'), 'info', 'nothing reported in the status bar');

    await page.fill(field, 'Gut 2026');
    await page.press(field, 'Enter');
    await page.waitForSelector(row('Gut 2026'));
    await waitForText(page, '#status-bar', 'Renamed “Gut metagenomes” to “Gut 2026”.');
  }));

test('renaming does not move the columns', () =>
  withApp({}, async ({ page }) => {
    await page.click('[data-screen=presets]');
    await page.waitForSelector(row('Gut metagenomes'));
    const columns = () =>
      page.$$eval('#preset-table thead th', (cells) => cells.map((c) => { const r = c.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.width)]; }));
    const before = await columns();
    await page.click(`${row('Gut metagenomes')} button[data-action=rename]`);
    await page.waitForSelector(`${row('Gut metagenomes')} input`);
    assert.deepEqual(await columns(), before);
    await page.fill(`${row('Gut metagenomes')} input`, 'Demo');
    await page.press(`${row('Gut metagenomes')} input`, 'Enter');
    await page.waitForSelector('#rename-message[data-tone=error]');
    assert.deepEqual(await columns(), before, 'with the message under the field');
  }));

test('Replace goes away when the name is cleared', () =>
  withApp({}, async ({ page }) => {
    await page.click('[data-screen=presets]');
    await page.fill('#preset-name', 'Gut metagenomes');
    await page.click('#preset-save-button');
    await page.waitForSelector('#preset-replace', { state: 'visible' });
    await page.fill('#preset-name', '');
    await page.waitForSelector('#preset-replace', { state: 'hidden' });
    await waitForText(page, '#preset-save-message', /^$/);

    // Cleared with the keyboard after the question, as a user does.
    await page.fill('#preset-name', 'Gut metagenomes');
    await page.press('#preset-name', 'Enter');
    await page.waitForSelector('#preset-replace', { state: 'visible' });
    await page.focus('#preset-name');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Backspace');
    await page.waitForSelector('#preset-replace', { state: 'hidden' });

    // Cleared without typing, as WebDriver's Element Clear and some input methods do: the
    // value set and a change event, no input event.
    await page.press('#preset-name', 'Enter');
    await waitForText(page, '#preset-save-message', 'Enter a name for the preset.');
    await page.fill('#preset-name', 'Gut metagenomes');
    await page.press('#preset-name', 'Enter');
    await page.waitForSelector('#preset-replace', { state: 'visible' });
    await page.$eval('#preset-name', (input) => {
      /** @type {HTMLInputElement} */ (input).value = '';
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await page.waitForSelector('#preset-replace', { state: 'hidden' });
    await waitForText(page, '#preset-save-message', /^$/);
  }));
