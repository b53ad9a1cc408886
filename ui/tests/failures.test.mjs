// @ts-check
// The failures screen: groups by kind with counts, entries with files, message and fix,
// Export TSV, and Retry failed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runToEnd, texts, useBrowser, VALID_SETTINGS, waitForText } from './harness.mjs';

const withApp = useBrowser(before, after);

test('failures are grouped by kind, largest group first, each entry with its files, message and fix', () =>
  // A run that kept its feature files, which its merge failures name.
  withApp({ lastSettings: { ...VALID_SETTINGS, keep_features: true } }, async ({ page, calls }) => {
    await page.waitForSelector('#run-button:enabled');
    await runToEnd(page);
    await page.click('#view-failures');
    await waitForText(page, '#failure-total', '3 failures of 2 kinds');
    assert.deepEqual(await calls('load_failures'), [{ out_dir: '/data/results/new' }]);

    const groups = await page.$$eval('.failure-group', (sections) =>
      sections.map((s) => ({
        kind: s.getAttribute('data-kind'),
        title: s.querySelector('h3')?.textContent,
        entries: s.querySelectorAll('.failure-entry').length,
      })),
    );
    assert.deepEqual(groups, [
      { kind: 'corrupt', title: 'corrupt 2', entries: 2 },
      { kind: 'missing_input', title: 'missing input 1', entries: 1 },
    ]);
    const first = '.failure-group[data-kind=corrupt] .failure-entry:first-child';
    await waitForText(page, first, 'output_2 · Merge features');
    await waitForText(page, `${first} .failure-message`, 'truncated: the header says 3,328 columns but the data ends at row 812');
    assert.deepEqual(await texts(page, `${first} .files li`), [
      '/data/results/new/features/output_2.nucleotide.safetensors',
      '/data/results/new/features/output_2.protein.safetensors',
    ]);
    await waitForText(page, '.failure-group[data-kind=corrupt] > .suggestion', 'Fix: A file holds values that cannot be used. Use Set aside and retry');
    await waitForText(page, '.failure-group[data-kind=missing_input] > .suggestion', 'Fix: The ESM-2 stage did not write this shard');
  }));

test('Export TSV writes where the user chose, and nothing when the dialog is cancelled', () =>
  withApp({ lastSettings: VALID_SETTINGS, answers: { pick_save_file: [null, '/home/user/run-failures.tsv'] } }, async ({ page, calls }) => {
    await page.waitForSelector('#run-button:enabled');
    await runToEnd(page);
    await page.click('#view-failures');
    await page.waitForSelector('#export-failures:enabled');
    await page.click('#export-failures');
    await page.waitForFunction(() => /** @type {any} */ (window).__VIRNUCPRO_MOCK_CALLS__.some((/** @type {any} */ c) => c.cmd === 'pick_save_file'));
    await page.click('#export-failures');
    await waitForText(page, '#status-bar', 'Exported the failures to /home/user/run-failures.tsv.');
    assert.deepEqual(await calls('pick_save_file'), [
      { title: 'Export failures', default_name: 'failures.tsv', directory: '/data/results/new' },
      { title: 'Export failures', default_name: 'failures.tsv', directory: '/data/results/new' },
    ]);
    assert.deepEqual(await calls('export_failures'), [{ out_dir: '/data/results/new', dest: '/home/user/run-failures.tsv' }]);
  }));

test('Retry failed resumes the same settings; the redone items then succeed', () =>
  withApp({ lastSettings: VALID_SETTINGS }, async ({ page, calls }) => {
    await page.waitForSelector('#run-button:enabled');
    await runToEnd(page);
    await page.click('#view-failures');
    await page.click('#retry-failed');
    await page.waitForSelector('#run-summary h3:has-text("Run finished: ok")', { timeout: 15000 });
    const starts = await calls('start_run');
    assert.equal(starts.length, 2);
    assert.deepEqual(starts[1].settings, VALID_SETTINGS);
    assert.equal(starts[1].restart, false);
    // Stages before the failures are reused; merge redoes its failed shards.
    await waitForText(page, 'tr[data-stage=embed_protein]', '0 done, 8 reused, 0 failed');
    await waitForText(page, 'tr[data-stage=merge]', '8 done, 0 reused, 0 failed');

    await page.click('[data-screen=failures]');
    await waitForText(page, '#failure-total', 'No failures: every item went through.');
    assert.equal(await page.$$eval('.failure-group', (g) => g.length), 0);
    assert.equal(await page.isDisabled('#retry-failed'), true);
    assert.equal(await page.isDisabled('#export-failures'), true);
  }));
