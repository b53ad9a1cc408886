// @ts-check
// The results screen's "Compare with another run…": the run shown against a folder the
// user picks (compare_runs), with itself, with a run of the same reads in bf16, and with
// folders that are not runs.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { texts, useBrowser, VALID_SETTINGS, waitForText } from './harness.mjs';

const withApp = useBrowser(before, after);
const RUN = '/data/results/run41';
// The mock's run of the same reads in bf16 (mock/config.ts `variants`).
const BF16 = '/data/results/run41-bf16';
const FINISHED = { ...VALID_SETTINGS, out_dir: RUN };

/**
 * What the backend's compare_runs answers, to check the screen against.
 * @param {import('playwright-core').Page} page @param {string} a @param {string} b
 * @returns {Promise<any>}
 */
function backendComparison(page, a, b) {
  // @ts-ignore: the mock's IPC entry point
  return page.evaluate(([a, b]) => window.__TAURI_INTERNALS__.invoke('compare_runs', { a, b }), [a, b]);
}

/** @param {import('playwright-core').Page} page */
async function compareWithPicked(page) {
  await page.click('[data-screen=results]');
  await waitForText(page, '#results-totals', 'reads');
  await page.click('#compare-button');
}

/** As the panel writes a small difference: scientific below 0.001. @param {number} x */
const small = (x) => (x === 0 ? '0' : x < 1e-3 ? x.toExponential(2) : x.toFixed(4));

/** @param {import('playwright-core').Page} page @param {string} report */
const reportRow = (page, report) => texts(page, `#compare-reports tr[data-report=${report}] > *`);

test('a run compared with itself agrees fully and is byte-identical', () =>
  withApp({ lastSettings: FINISHED, answers: { pick_folders: [[RUN]] } }, async ({ page, calls }) => {
    await compareWithPicked(page);
    await waitForText(page, '#compare-headline', 'Every report is byte for byte the same.');
    assert.deepEqual(await calls('compare_runs'), [{ a: RUN, b: RUN }]);
    assert.deepEqual(await calls('pick_folders'), [{ title: 'Choose the run folder to compare with' }]);
    const { reports } = await backendComparison(page, RUN, RUN);
    assert.deepEqual(
      await texts(page, '#compare-reports tbody th'),
      ['prediction_results.txt', 'prediction_results_highestscore.csv', 'read_summary.tsv'],
    );
    for (const report of reports) {
      const row = await reportRow(page, report.report);
      assert.equal(row[4], row[3], 'every matched row agrees');
      assert.equal(row[5], '100.00 %');
      assert.equal(row[7], 'yes');
      assert.equal(row[8], 'yes', 'reaches the default minimum');
    }
    await waitForText(page, '#compare-verdict', 'Every report reaches the minimum of 99.9 % label agreement.');
    assert.equal(await page.getAttribute('#compare-verdict', 'data-tone'), 'ok');
    assert.equal((await reportRow(page, 'frames'))[6], '0');
    await waitForText(page, '#compare-no-disagreements', 'No row’s label differs');
    assert.equal(await page.$('#compare-warnings'), null);
    assert.deepEqual(await texts(page, '#compare-runs li'), [
      `Run A: ${RUN} — a run, ok; precision fp32; devices cuda:0, cuda:1`,
      `Run B: ${RUN} — a run, ok; precision fp32; devices cuda:0, cuda:1`,
    ]);
  }));

test('a bf16 run of the same reads shows its disagreements and score differences', () =>
  withApp({ lastSettings: FINISHED, answers: { pick_folders: [[BF16]] } }, async ({ page }) => {
    await compareWithPicked(page);
    await waitForText(page, '#compare-headline', 'Lowest label agreement:');
    const cmp = await backendComparison(page, RUN, BF16);
    const frames = cmp.reports.find((/** @type {any} */ r) => r.report === 'frames');
    assert.equal(frames.rows_a, frames.rows_b);
    assert.equal(frames.matched, frames.rows_a, 'the same reads: every frame is matched');
    assert.equal(frames.rows_a - frames.labels_agree, 3, 'the variant flipped 3 frames');
    assert.ok(frames.scores.max > 0 && frames.scores.max < 1);
    const row = await reportRow(page, 'frames');
    assert.equal(row[3], frames.matched.toLocaleString('en-US'));
    assert.equal(row[4], frames.labels_agree.toLocaleString('en-US'));
    assert.equal(row[5], `${frames.agreement_percent.toFixed(2)} %`);
    assert.notEqual(row[5], '100.00 %');
    assert.equal(row[7], 'no');
    // The frames' disagreements come first, each with both runs' label and score.
    const rows = await page.$$eval('#compare-disagreements tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent ?? '')));
    const flipped = frames.disagreements.map((/** @type {any} */ d) => ['prediction_results.txt', d.id, d.label_a, d.score_a.toFixed(4), d.label_b, d.score_b.toFixed(4)]);
    assert.equal(flipped.length, 3);
    assert.deepEqual(rows.slice(0, 3), flipped);
    assert.notEqual(flipped[0][2], flipped[0][4], 'the labels differ');
    await waitForText(page, '#compare-runs li[data-side=b]', 'precision bf16');
  }));

test('a folder that is not a run, and one that is not there, are clear errors', () =>
  withApp({ lastSettings: FINISHED, answers: { pick_folders: [['/data/run42/reads'], ['/data/results/gone']] } }, async ({ page }) => {
    await compareWithPicked(page);
    await waitForText(page, '#compare-status', 'Could not compare the runs: /data/run42/reads: not a run folder');
    assert.equal(await page.getAttribute('#compare-status', 'data-tone'), 'error');
    assert.equal(await page.$('#compare-reports'), null, 'no table for a failed comparison');
    await page.click('#compare-button');
    await waitForText(page, '#compare-status', 'Could not compare the runs: /data/results/gone: no such folder');
    const kinds = await page.evaluate(async () => {
      /** @param {string} b */
      const kind = (b) =>
        // @ts-ignore: the mock's IPC entry point
        window.__TAURI_INTERNALS__.invoke('compare_runs', { a: '/data/results/run41', b }).then(
          () => 'resolved',
          (/** @type {{ kind: string }} */ e) => e.kind,
        );
      return [await kind('/data/run42/reads'), await kind('/data/results/gone')];
    });
    assert.deepEqual(kinds, ['invalid', 'not_found'], 'the shell’s kinds (src-tauri/src/compare.rs)');
  }));

test('runs that kept their features show each kind’s differences and cosines', () =>
  withApp(
    {
      lastSettings: { ...FINISHED, out_dir: '/data/results/kept-fp32' },
      variants: {
        '/data/results/kept-fp32': { of: RUN, precision: 'fp32', keepFeatures: true, flips: 0 },
        '/data/results/kept-bf16': { of: RUN, precision: 'bf16', keepFeatures: true, flips: 1 },
      },
      answers: { pick_folders: [['/data/results/kept-bf16'], [RUN]] },
    },
    async ({ page }) => {
      await compareWithPicked(page);
      await page.waitForSelector('#compare-features');
      const { features } = await backendComparison(page, '/data/results/kept-fp32', '/data/results/kept-bf16');
      assert.deepEqual(features.map((/** @type {any} */ f) => f.kind), ['nucleotide', 'protein', 'merged']);
      const rows = await page.$$eval('#compare-features tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent ?? '')));
      assert.deepEqual(
        rows,
        features.map((/** @type {any} */ f) => [f.kind, f.rows.toLocaleString('en-US'), small(f.stats.max_abs_diff), f.stats.min_cosine.toFixed(6), f.stats.mean_cosine.toFixed(6)]),
      );
      for (const f of features) {
        assert.ok(f.rows > 0 && f.stats.max_abs_diff > 0, `${f.kind} rows differ a little`);
        assert.ok(f.stats.min_cosine < 1 && f.stats.min_cosine > 0.99, `${f.kind}: ${f.stats.min_cosine}`);
      }
      // Against a run that kept none: no feature table, and which run kept them.
      await page.click('#compare-button');
      await waitForText(page, '#compare-status', `with ${RUN} (B)`);
      assert.equal(await page.$('#compare-features'), null);
      assert.deepEqual((await texts(page, '#compare-panel p.muted')).slice(-3), [
        'Only run A kept nucleotide features.',
        'Only run A kept protein features.',
        'Only run A kept merged features.',
      ]);
    },
  ));

test('the minimum label agreement is checked as `compare --min-agreement` checks it, and can be changed', () =>
  withApp({ lastSettings: FINISHED, answers: { pick_folders: [[BF16]] } }, async ({ page, calls }) => {
    await compareWithPicked(page);
    await page.waitForSelector('#compare-verdict');
    assert.equal(await page.inputValue('#compare-min'), '99.9');
    const { reports } = await backendComparison(page, RUN, BF16);
    const compared = (await calls('compare_runs')).length;
    /** @param {number} min */
    const expectedBelow = (min) => reports.filter((/** @type {any} */ r) => r.agreement_percent < min);
    /** @param {number} min */
    const columnAt = async (min) => {
      for (const r of reports) {
        assert.equal((await reportRow(page, r.report))[8], r.agreement_percent >= min ? 'yes' : 'no', `${r.file} at ${min}`);
      }
    };
    // The variant flipped frames, so the default minimum fails, naming each report below it.
    const low = expectedBelow(99.9);
    assert.ok(low.length > 0 && low.length < reports.length, 'some reports are below 99.9 %, not all');
    const named = low.map((/** @type {any} */ r) => `${r.file} (${r.agreement_percent.toFixed(3)} %)`).join(', ');
    await waitForText(page, '#compare-verdict', `Below the minimum of 99.9 % label agreement: ${named}.`);
    assert.equal(await page.getAttribute('#compare-verdict', 'data-tone'), 'error');
    await columnAt(99.9);
    // Exactly the lowest agreement passes (below means strictly below); a hair above fails.
    const lowest = Math.min(...reports.map((/** @type {any} */ r) => r.agreement_percent));
    await page.fill('#compare-min', String(lowest));
    await waitForText(page, '#compare-verdict', `Every report reaches the minimum of ${lowest} %`);
    await columnAt(lowest);
    await page.fill('#compare-min', `${(lowest + 0.001).toFixed(3)} %`);
    await waitForText(page, '#compare-verdict', 'Below the minimum of');
    await columnAt(Number((lowest + 0.001).toFixed(3)));
    // Not a percentage: said, and no row judged.
    for (const bad of ['', 'abc', '101', '-1']) {
      await page.fill('#compare-min', bad);
      await waitForText(page, '#compare-verdict', 'Give the minimum label agreement as a percentage from 0 to 100.');
      assert.deepEqual(
        await page.$$eval('#compare-reports tbody td.verdict', (tds) => tds.map((td) => td.textContent)),
        reports.map(() => '—'),
        `nothing judged for ${JSON.stringify(bad)}`,
      );
    }
    assert.equal((await calls('compare_runs')).length, compared, 'changing the minimum does not compare again');
  }));

