// @ts-check
// Samples in the app (issue 16, item 5): the setup screen's samples editor, a run of two
// samples on the run screen (a line per sample, the stage bars starting again with each
// sample, its failures and results), and the results screen's sample picker with the table
// across samples. The mock runs samples as the shell does (sample_started, then each
// sample's own run ending with its run_finished).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { texts, useBrowser, VALID_SETTINGS, waitForText } from './harness.mjs';

const withApp = useBrowser(before, after);

const TWO_SAMPLES = {
  ...VALID_SETTINGS,
  inputs: [],
  out_dir: '/data/results/multi',
  samples: [
    { name: 'gut', inputs: ['/data/run43/reads'] },
    { name: 'soil', inputs: ['/data/run42/reads'] },
  ],
};

/**
 * The names in the samples editor.
 * @param {import('playwright-core').Page} page
 */
function names(page) {
  return page.$$eval('#sample-list input.sample-name', (inputs) => inputs.map((i) => /** @type {HTMLInputElement} */ (i).value));
}

test('each input folder becomes a sample; names are checked; samples are edited', () =>
  withApp(
    {
      lastSettings: { ...VALID_SETTINGS, inputs: ['/data/run42/reads', '/data/run43/reads'] },
      answers: { pick_file: ['/data/single/sample_D.fq.gz'] },
    },
    async ({ page, calls }) => {
      await page.waitForSelector('#run-button:enabled');
      await page.click('#samples-from-inputs');
      // Both folders are called "reads": the second name is made unique.
      await page.waitForFunction(() => document.querySelectorAll('#sample-list li.sample').length === 2);
      assert.deepEqual(await names(page), ['reads', 'reads-2']);
      await waitForText(page, '#input-list', 'The samples below are the run’s inputs.');
      // The settings are checked after the change (validate_settings may still be on its way).
      let sent = (await calls('validate_settings')).at(-1).settings;
      for (let tries = 0; sent.samples.length === 0 && tries < 50; tries += 1) {
        await page.waitForTimeout(100);
        sent = (await calls('validate_settings')).at(-1).settings;
      }
      assert.deepEqual(sent.inputs, []);
      assert.deepEqual(sent.samples, [
        { name: 'reads', inputs: ['/data/run42/reads'] },
        { name: 'reads-2', inputs: ['/data/run43/reads'] },
      ]);

      // A name that is no folder name is the samples' problem, in core's words, and stops Run.
      await page.fill('#sample-list li.sample:nth-child(2) input.sample-name', 'gut 2');
      await page.press('#sample-list li.sample:nth-child(2) input.sample-name', 'Tab');
      await waitForText(page, '#message-samples', `sample name "gut 2": ' ' is not allowed`);
      await page.waitForSelector('#run-button:disabled');
      await page.fill('#sample-list li.sample:nth-child(2) input.sample-name', 'gut_2');
      await page.press('#sample-list li.sample:nth-child(2) input.sample-name', 'Tab');
      await page.waitForSelector('#run-button:enabled');

      // A new sample has no files yet: said until a file is added.
      await page.click('#add-sample');
      await waitForText(page, '#message-samples', 'sample "sample_3" has no input files');
      await page.click('#sample-list li.sample:nth-child(3) button[data-action=add-file]');
      await waitForText(page, '#sample-list li.sample:nth-child(3)', '/data/single/sample_D.fq.gz');
      await page.waitForSelector('#run-button:enabled');
      assert.equal(await page.textContent('#message-samples'), '');

      await page.click('#sample-list li.sample:nth-child(1) button[data-action=remove-sample]');
      await page.waitForFunction(() => document.querySelectorAll('#sample-list li.sample').length === 2);
      assert.deepEqual(await names(page), ['gut_2', 'sample_3']);
      await page.click('#clear-samples');
      await page.waitForFunction(() => document.querySelectorAll('#sample-list li.sample').length === 0);
      // Without samples and inputs, the inputs are asked for again.
      await page.waitForSelector('#run-button:disabled');
    },
  ));

test('a run of two samples: a line per sample, stages again from zero, each sample\'s failures and results', () =>
  withApp({ lastSettings: TWO_SAMPLES, eventIntervalMs: 15 }, async ({ page, calls }) => {
    await page.waitForSelector('#run-button:enabled');
    await page.click('#run-button');
    await waitForText(page, '#run-sample', 'Sample 1 of 2: gut');
    // The second sample starts with its own stages: classify, done for gut, waits again.
    await page.waitForFunction(
      () =>
        document.querySelector('#run-sample')?.textContent === 'Sample 2 of 2: soil' &&
        document.querySelector('tr[data-stage=classify]')?.getAttribute('data-state') === 'waiting',
    );
    await page.waitForSelector('#run-summary:not([hidden])');
    // The mock's first run in a folder has failures: each sample is partial, with its own.
    const rows = await page.$$eval('#sample-table tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-sample'), tr.getAttribute('data-state')]));
    assert.deepEqual(rows, [
      ['gut', 'partial'],
      ['soil', 'partial'],
    ]);
    await waitForText(page, '#run-samples-note', '/data/results/multi/summary.tsv');
    const result = await page.evaluate(() => document.querySelector('#run-summary h3')?.textContent);
    assert.equal(result, 'Run finished: partial');
    const log = (await texts(page, '#log-tail li')).join('\n');
    assert.match(log, /Sample 2 of 2: soil, in \/data\/results\/multi\/soil/);
    assert.match(log, /Sample gut partial after/);

    await page.click('#sample-table tr[data-sample=soil] button[data-action=failures]');
    await waitForText(page, '#failures-folder', 'Output folder: /data/results/multi/soil');
    assert.equal((await calls('load_failures')).at(-1).out_dir, '/data/results/multi/soil');

    await page.click('[data-screen=run]');
    await page.click('#sample-table tr[data-sample=gut] button[data-action=results]');
    await waitForText(page, '#results-folder', 'Output folder: /data/results/multi/gut');
    assert.equal((await calls('load_results')).at(-1).out_dir, '/data/results/multi/gut');
    assert.deepEqual(await texts(page, '#samples-table tbody th'), ['gut', 'soil']);
    assert.equal(await page.inputValue('#sample-picker'), '/data/results/multi/gut');
    await waitForText(page, '#samples-table-path', '/data/results/multi/summary.tsv');

    // The picker shows another sample's results; the totals match its line of the table.
    await page.selectOption('#sample-picker', '/data/results/multi/soil');
    await waitForText(page, '#results-folder', 'Output folder: /data/results/multi/soil');
    const reads = await page.textContent('#samples-table tr[data-sample=soil] td:nth-of-type(1)');
    await waitForText(page, '#results-totals', `${reads} reads`);
    assert.equal((await calls('load_samples')).at(-1).out_dir, '/data/results/multi');
  }));

/**
 * Sets the mock's stage at whose start runs stop making progress (null: none).
 * @param {import('playwright-core').Page} page
 * @param {string | null} stage
 */
const holdAt = (page, stage) =>
  page.evaluate((s) => {
    /** @type {any} */ (window).__VIRNUCPRO_MOCK__.holdStage = s;
  }, stage);

test('a cancelled run of samples is offered for resume, saying which samples finished; resuming reuses them', () =>
  withApp({ lastSettings: TWO_SAMPLES, eventIntervalMs: 60, failures: 'never' }, async ({ page, calls }) => {
    await page.waitForSelector('#run-button:enabled');
    assert.deepEqual((await calls('find_resumable')).at(-1), { out_dir: '/data/results/multi', samples: ['gut', 'soil'] });
    await page.click('#run-button');
    // Soil is held once its reads are prepared (gut, before it, ran to its end), then cancelled.
    await waitForText(page, '#run-sample', 'Sample 2 of 2: soil', 15000);
    await holdAt(page, 'embed_dna');
    await page.waitForSelector('tr[data-stage=embed_dna][data-state=running]');
    await page.click('#cancel-run');
    await page.waitForSelector('#run-summary:not([hidden])');

    await page.click('[data-screen=setup]');
    await waitForText(
      page,
      '#resume-text',
      'This output folder holds an earlier run of 2 samples (cancelled). Finished: gut. Not finished: soil (cancelled; finished: Prepare reads). Resume reuses the finished samples and goes on with the others.',
    );
    assert.equal(await page.isHidden('#run-button'), true);
    assert.equal(await page.isHidden('#use-resume-settings'), true, 'the settings it was started with');

    // Held at DNABERT-S again: gut gets past it only by reusing its finished run.
    await page.click('#resume-button');
    await page.waitForFunction(() => document.querySelector('#sample-table tr[data-sample=gut]')?.getAttribute('data-state') === 'ok');
    await waitForText(page, '#run-sample', 'Sample 2 of 2: soil');
    await waitForText(page, 'tr[data-stage=prepare] th', 'resumed: finished earlier');
    await holdAt(page, null);
    await page.waitForSelector('#run-summary:not([hidden])', { timeout: 15000 });
    const rows = await page.$$eval('#sample-table tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-sample'), tr.getAttribute('data-state')]));
    assert.deepEqual(rows, [
      ['gut', 'ok'],
      ['soil', 'ok'],
    ]);
    assert.deepEqual((await calls('start_run')).map((c) => c.restart), [false, false]);
    await page.click('[data-screen=setup]');
    await waitForText(page, '#resume-text', 'This output folder holds an earlier run of 2 samples (ok). Finished: gut, soil.');
  }));

test('a run of samples whose samples differ from the ones above says so, without counting the unused inputs', () =>
  withApp({ lastSettings: TWO_SAMPLES, eventIntervalMs: 5, failures: 'never' }, async ({ page }) => {
    await page.waitForSelector('#run-button:enabled');
    await page.click('#run-button');
    await page.waitForSelector('#run-summary:not([hidden])', { timeout: 15000 });
    await page.click('[data-screen=setup]');
    await waitForText(page, '#resume-text', 'earlier run of 2 samples (ok)');
    assert.equal(await page.textContent('#resume-differs'), '');

    // A third sample: not started; the offer lists it and says the samples differ.
    await page.click('#add-sample');
    await page.click('#sample-list li.sample:nth-child(3) button[data-action=add-file]');
    await waitForText(page, '#resume-text', 'Not finished: sample_3 (not started).');
    await waitForText(page, '#resume-differs', 'Its samples differ from the ones above');
    assert.doesNotMatch((await page.textContent('#resume-differs')) ?? '', /Its settings differ|Input reads/);
  }));
