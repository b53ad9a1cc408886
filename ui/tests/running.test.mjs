// @ts-check
// The running view: stages to 100%, per-GPU throughput, the log tail, the summary, Cancel
// and resume, and rendering that keeps up with a flood of events.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runToEnd, texts, useBrowser, VALID_SETTINGS, waitForText } from './harness.mjs';

const withApp = useBrowser(before, after);
const STAGES = ['prepare', 'embed_dna', 'embed_protein', 'merge', 'classify'];

test('a run fills every stage to 100%, shows per-GPU throughput, the log tail and the summary', () =>
  withApp({ lastSettings: VALID_SETTINGS }, async ({ page, calls }) => {
    await page.waitForSelector('#run-button:enabled');
    await runToEnd(page);

    const stages = await page.$$eval('#stage-table tbody tr', (rows) =>
      rows.map((row) => {
        const bar = /** @type {HTMLProgressElement} */ (row.querySelector('progress'));
        return { stage: row.getAttribute('data-stage'), state: row.getAttribute('data-state'), full: bar.value === bar.max, text: row.textContent };
      }),
    );
    assert.deepEqual(stages.map((s) => s.stage), STAGES);
    for (const stage of stages) {
      assert.equal(stage.state, 'done', stage.text ?? '');
      assert.equal(stage.full, true, stage.text ?? '');
      assert.match(stage.text ?? '', /\(100%\)/);
    }
    await waitForText(page, 'tr[data-stage=embed_dna]', '3,300 / 3,300 sequences (100%)');
    await waitForText(page, 'tr[data-stage=merge]', '5 done, 0 reused, 3 failed');

    const devices = await page.$$eval('#device-table tbody tr', (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
    assert.deepEqual(devices.map((d) => d.slice(0, 2)), [
      ['cuda:0', 'DNABERT-S embeddings'],
      ['cuda:1', 'DNABERT-S embeddings'],
      ['cuda:0', 'ESM-2 embeddings'],
      ['cuda:1', 'ESM-2 embeddings'],
    ]);
    assert.deepEqual(devices.map((d) => d[2]), ['1,650', '1,650', '1,650', '1,650']);
    assert.deepEqual(devices.map((d) => d[4]), ['180,000', '167,400', '180,000', '167,400']);
    for (const device of devices) assert.match(device[5] ?? '', /^\d+ s$/);

    const log = await page.$$eval('#log-tail li', (items) => items.map((li) => [li.getAttribute('data-level'), li.textContent]));
    assert.deepEqual(log[0], ['info', 'Run started in /data/results/new']);
    assert.ok(log.some(([level, text]) => level === 'warn' && text === 'Prepare reads: 3 reads are shorter than one chunk and were skipped'));
    assert.equal(log.filter(([level]) => level === 'error').length, 3);
    assert.ok(log.some(([, text]) => text?.startsWith('Merge features: output_2 failed (corrupt): truncated')));
    assert.match(log.at(-1)?.[1] ?? '', /^Run partial after \d+ s: \d+ of 300 reads called virus, 3 failures$/);

    await waitForText(page, '#run-summary h3', 'Run finished: partial');
    assert.equal(await page.textContent('dd[data-fact=Reads]'), '300');
    assert.equal(await page.textContent('dd[data-fact=Failures]'), '3');
    await waitForText(page, '#view-failures', 'View failures (3)');
    assert.equal(await page.isHidden('#cancel-run'), true);

    const [start] = await calls('start_run');
    assert.deepEqual(start.settings, VALID_SETTINGS);
    assert.equal(start.restart, false);
    assert.match(start.on_event, /^__CHANNEL__:\d+$/);
    assert.deepEqual(await calls('remember_settings'), [{ settings: VALID_SETTINGS }]);
  }));

test('a flood of progress events is drawn at most once per animation frame', () =>
  withApp({ lastSettings: VALID_SETTINGS, burst: 400, progressSteps: 5, eventIntervalMs: 20 }, async ({ page }) => {
    await page.waitForSelector('#run-button:enabled');
    // Count the DOM writes to the prepare stage's counter and the animation frames.
    await page.evaluate(() => {
      const w = /** @type {any} */ (window);
      w.counterWrites = 0;
      w.frames = 0;
      const tick = () => {
        w.frames += 1;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      const cell = document.querySelector('tr[data-stage=prepare] td.num');
      new MutationObserver((records) => (w.counterWrites += records.length)).observe(/** @type {Node} */ (cell), {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    await runToEnd(page);
    await waitForText(page, 'tr[data-stage=prepare]', '1,200 reads (100%)');
    const { counterWrites, frames } = await page.evaluate(() => {
      const w = /** @type {any} */ (window);
      return { counterWrites: w.counterWrites, frames: w.frames };
    });
    // 5 steps x 401 events reached the prepare stage; one write per step (plus start and end).
    assert.ok(counterWrites <= 10, `${counterWrites} writes for 2,005 progress events`);
    assert.ok(counterWrites <= frames, `${counterWrites} writes in ${frames} frames`);
  }));

test('a stage with no known total shows its count and an indeterminate bar, not 0%', () =>
  withApp({ lastSettings: VALID_SETTINGS, holdStage: 'prepare' }, async ({ page }) => {
    await page.waitForSelector('#run-button:enabled');
    await page.click('#run-button');
    // The mock's prepare streams like the engine's: `total: null` until it ends.
    await page.waitForSelector('tr[data-stage=prepare][data-state=running]');
    await waitForText(page, 'tr[data-stage=prepare] td.num', /^[1-9][\d,]* reads$/);
    const bar = await page.$eval('tr[data-stage=prepare] progress', (p) => ({ value: p.getAttribute('value'), max: p.getAttribute('max') }));
    assert.deepEqual(bar, { value: null, max: '1' });
    await page.click('#cancel-run');
    await page.waitForSelector('#run-summary:not([hidden])');
  }));

test('Cancel stops the run at the next step; it can then be resumed from the summary or Setup', () =>
  withApp({ lastSettings: VALID_SETTINGS, holdStage: 'embed_dna' }, async ({ page, calls }) => {
    await page.waitForSelector('#run-button:enabled');
    await page.click('#run-button');
    // The mock holds the run in the DNABERT-S stage, after Prepare completed.
    await page.waitForSelector('tr[data-stage=embed_dna][data-state=running]');
    await waitForText(page, '#cancel-run', 'Cancel');
    await page.click('#cancel-run');
    await page.waitForSelector('#run-summary:not([hidden])');
    await waitForText(page, '#run-summary h3', 'Run cancelled');
    await waitForText(page, '#run-summary', 'resuming continues where the run stopped');
    await waitForText(page, '#run-status', /^Cancelled · \/data\/results\/new/);
    assert.equal((await calls('cancel_run')).length, 1);
    assert.equal(await page.getAttribute('tr[data-stage=prepare]', 'data-state'), 'done');
    // As the engine's: both embedding stages start with the first shard, and a cancel
    // ends them stopped (issue 19, B3: they were shown done).
    assert.deepEqual(
      await page.$$eval('#stage-table tbody tr', (rows) => rows.slice(1).map((r) => r.getAttribute('data-state'))),
      ['stopped', 'stopped', 'waiting', 'waiting'],
    );
    assert.ok((await texts(page, '#log-tail li')).includes('Cancelling: the run stops at the next batch and stays resumable'));

    await page.click('[data-screen=setup]');
    await waitForText(page, '#resume-text', 'earlier run (cancelled; finished: Prepare reads)');

    await page.click('[data-screen=run]');
    await page.evaluate(() => {
      // @ts-ignore: the resumed run goes through without holding
      window.__VIRNUCPRO_MOCK__.holdStage = null;
    });
    await page.click('#resume-now');
    await page.waitForSelector('#run-summary h3:has-text("Run finished")');
    assert.deepEqual((await calls('start_run')).map((a) => a.restart), [false, false]);
    await waitForText(page, 'tr[data-stage=prepare]', '0 done, 8 reused, 0 failed');
  }));

test('the log tail keeps the latest 200 lines', () =>
  withApp({ lastSettings: VALID_SETTINGS, logLines: 500 }, async ({ page }) => {
    await page.waitForSelector('#run-button:enabled');
    await runToEnd(page);
    const lines = await texts(page, '#log-tail li');
    assert.equal(lines.length, 200);
    assert.match(lines.at(-1) ?? '', /^Run partial after/);
    assert.ok(!lines.includes('read batch 1 of 500'));
  }));
