// @ts-check
// A cancelled run claims no work it did not do (issue 19, B3): the stages it stopped show
// how far they got, not a full bar at 100 %, and Setup lists only the stages that finished.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { useBrowser, VALID_SETTINGS, waitForText } from './harness.mjs';

const withApp = useBrowser(before, after);

/**
 * Each stage row: its state, bar, count and result.
 * @param {import('playwright-core').Page} page
 */
function stageRows(page) {
  return page.$$eval('#stage-table tbody tr', (rows) =>
    Object.fromEntries(
      rows.map((row) => {
        const bar = /** @type {HTMLProgressElement} */ (row.querySelector('progress'));
        const cells = [...row.querySelectorAll('td')].map((c) => (c.textContent ?? '').trim());
        return [
          row.getAttribute('data-stage'),
          { state: row.getAttribute('data-state'), value: bar.value, max: bar.max, count: cells[1], result: cells[4] },
        ];
      }),
    ),
  );
}

test('cancelled early in DNABERT-S: the stopped stages keep their counts and Setup lists only Prepare', () =>
  withApp({ lastSettings: VALID_SETTINGS, holdStage: 'embed_dna', progressSteps: 100 }, async ({ page }) => {
    await page.waitForSelector('#run-button:enabled');
    await page.click('#run-button');
    // Held after its first step: 1 % of DNABERT-S done.
    await waitForText(page, 'tr[data-stage=embed_dna] td.num', '33 / 3,300 sequences (1%)');
    await page.click('#cancel-run');
    await waitForText(page, '#run-summary h3', 'Run cancelled');

    const rows = await stageRows(page);
    assert.equal(rows['prepare']?.state, 'done');
    for (const stage of ['embed_dna', 'embed_protein']) {
      const row = rows[stage];
      assert.equal(row?.state, 'stopped', `${stage}: ${JSON.stringify(row)}`);
      assert.ok((row?.value ?? 0) < (row?.max ?? 0), `${stage}: the bar is not full: ${JSON.stringify(row)}`);
      assert.doesNotMatch(row?.count ?? '', /100%/, stage);
      assert.match(row?.result ?? '', /^stopped after \d+ s: 0 done, 0 reused, 0 failed$/, stage);
    }
    assert.equal(rows['embed_dna']?.count, '33 / 3,300 sequences (1%)');
    assert.equal(rows['embed_protein']?.count, '0 / 3,300 sequences (0%)');
    assert.deepEqual([rows['merge']?.state, rows['classify']?.state], ['waiting', 'waiting']);
    // Not shown as good news.
    const color = await page.$eval('tr[data-stage=embed_dna] .stage-result', (el) => getComputedStyle(el).color);
    assert.notEqual(color, 'rgb(31, 122, 61)');
    const log = await page.$$eval('#log-tail li', (items) => items.map((li) => li.textContent ?? ''));
    assert.ok(log.some((line) => /^DNABERT-S embeddings stopped after \d+ s: 0 done, 0 reused, 0 failed$/.test(line)), log.join('\n'));
    assert.ok(!log.some((line) => line.startsWith('DNABERT-S embeddings finished')), log.join('\n'));

    await page.click('[data-screen=setup]');
    await waitForText(page, '#resume-text', 'earlier run (cancelled; finished: Prepare reads)');
  }));

test('cancelled while prepare streams: no share of an unknown total is claimed', () =>
  withApp({ lastSettings: VALID_SETTINGS, holdStage: 'prepare' }, async ({ page }) => {
    await page.waitForSelector('#run-button:enabled');
    await page.click('#run-button');
    await waitForText(page, 'tr[data-stage=prepare] td.num', /^[1-9][\d,]* reads$/);
    await page.click('#cancel-run');
    await waitForText(page, '#run-summary h3', 'Run cancelled');
    const rows = await stageRows(page);
    assert.equal(rows['prepare']?.state, 'stopped');
    assert.match(rows['prepare']?.count ?? '', /^[1-9][\d,]* reads$/);
    assert.equal(rows['prepare']?.value, 0);
    await page.click('[data-screen=setup]');
    await waitForText(page, '#resume-text', 'earlier run (cancelled; no stage finished yet)');
  }));
