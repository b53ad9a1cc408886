// @ts-check
// The results screen: paging, sorting, filtering, the histogram, the per-read track,
// open folder and FASTA export, and 100k reads.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runToEnd, texts, useBrowser, VALID_SETTINGS, waitForText } from './harness.mjs';

const withApp = useBrowser(before, after);
// The mock's folder with a finished run in it.
const FINISHED = { ...VALID_SETTINGS, out_dir: '/data/results/run41' };

/**
 * What the backend holds, to check the screen against.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<{ reads: any[], frames_scored: number, histogram: { edges: number[], counts: number[] } }>}
 */
function backendResults(page) {
  // @ts-ignore: the mock's IPC entry point
  return page.evaluate(() => window.__TAURI_INTERNALS__.invoke('load_results', { out_dir: '/data/results/run41' }));
}

/**
 * One read's frames as the backend holds them.
 * @param {import('playwright-core').Page} page @param {string} readId
 * @returns {Promise<any[]>}
 */
function backendFrames(page, readId) {
  return page.evaluate(
    // @ts-ignore: the mock's IPC entry point
    (id) => window.__TAURI_INTERNALS__.invoke('load_read_frames', { out_dir: '/data/results/run41', read_id: id }),
    readId,
  );
}

/**
 * The mock's read IDs (`read_<n>_<i>`) in natural order: by n, then by i, as numbers
 * (read_11_2 before read_11_10).
 * @param {string[]} ids
 */
function naturalOrder(ids) {
  /** @param {string} id */
  const numbers = (id) => id.split('_').slice(1).map(Number);
  return [...ids].sort((a, b) => {
    const [x, y] = [numbers(a), numbers(b)];
    return (x[0] ?? 0) - (y[0] ?? 0) || (x[1] ?? 0) - (y[1] ?? 0);
  });
}

/** @param {import('playwright-core').Page} page */
async function openResults(page) {
  await page.click('[data-screen=results]');
  await page.waitForSelector('#score-histogram');
}

/** @param {import('playwright-core').Page} page @param {string} column */
const columnTexts = (page, column) =>
  page.$$eval(`#read-table tbody tr`, (rows, i) => rows.map((r) => r.children[i]?.textContent ?? ''), column === 'score' ? 4 : 0);

test('300 reads are shown 100 to a page', () =>
  withApp({ lastSettings: FINISHED }, async ({ page, calls }) => {
    await openResults(page);
    assert.deepEqual(await calls('load_results'), [{ out_dir: '/data/results/run41' }]);
    const { reads } = await backendResults(page);
    const virus = reads.filter((r) => r.call === 'virus').length;
    await waitForText(page, '#results-totals', `300 reads, ${virus} called virus`);
    await waitForText(page, '#read-count', 'Showing 1–100 of 300 reads');
    assert.equal(await page.$$eval('#read-table tbody tr', (r) => r.length), 100);
    assert.equal(await page.isDisabled('#page-prev'), true);
    await page.click('#page-next');
    await waitForText(page, '#read-count', 'Showing 101–200 of 300 reads');
    await page.click('[aria-label="Last page"]');
    await waitForText(page, '#page-label', 'Page 3 of 3');
    assert.equal(await page.isDisabled('#page-next'), true);
    // Read-ID order by default, across pages: numbers in IDs by value (this assertion
    // used to expect code-unit order, read_11_10 before read_11_2).
    const ids = naturalOrder(reads.map((r) => r.read_id));
    assert.deepEqual(await columnTexts(page, 'read'), ids.slice(200));
    await page.click('[aria-label="First page"]');
    assert.deepEqual(await columnTexts(page, 'read'), ids.slice(0, 100));
    assert.notDeepEqual(ids, [...ids].sort(), 'the mock has IDs that code-unit order puts out of number order');
  }));

test('sorting by a column orders the rows and marks the header; reads without a score stay last', () =>
  withApp({ lastSettings: FINISHED }, async ({ page }) => {
    await openResults(page);
    const { reads } = await backendResults(page);
    const scored = reads.filter((r) => r.best_virus_score !== null).map((r) => r.best_virus_score);

    await page.click('th[data-column=best_virus_score] button');
    assert.equal(await page.getAttribute('th[data-column=best_virus_score]', 'aria-sort'), 'descending');
    assert.equal(await page.getAttribute('th[data-column=read_id]', 'aria-sort'), 'none');
    const descending = [...scored].sort((a, b) => b - a).slice(0, 100).map((s) => s.toFixed(4));
    assert.deepEqual(await columnTexts(page, 'score'), descending);

    // From the keyboard too, and the sort button keeps the focus.
    await page.focus('th[data-column=best_virus_score] button');
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('th[data-column=best_virus_score]', 'aria-sort'), 'ascending');
    assert.equal(await page.evaluate(() => document.activeElement?.closest('th')?.getAttribute('data-column')), 'best_virus_score');
    const ascending = [...scored].sort((a, b) => a - b).slice(0, 100).map((s) => s.toFixed(4));
    assert.deepEqual(await columnTexts(page, 'score'), ascending);
    await page.click('[aria-label="Last page"]');
    const unscored = reads.length - scored.length;
    assert.ok(unscored > 0, 'the mock has reads without a scored frame');
    assert.deepEqual((await columnTexts(page, 'score')).slice(-unscored), new Array(unscored).fill('—'));
  }));

test('filters narrow the rows by read ID, call and score', () =>
  withApp({ lastSettings: FINISHED }, async ({ page }) => {
    await openResults(page);
    const { reads } = await backendResults(page);

    await page.selectOption('#filter-call', 'virus');
    const virus = reads.filter((r) => r.call === 'virus');
    await waitForText(page, '#read-count', `of ${virus.length} reads (300 in all)`);
    assert.deepEqual(new Set(await texts(page, '#read-table tbody .badge')), new Set(['virus']));

    await page.selectOption('#filter-call', 'all');
    await page.fill('#filter-score', '0.9');
    const high = reads.filter((r) => r.best_virus_score !== null && r.best_virus_score >= 0.9);
    await waitForText(page, '#read-count', `of ${high.length} reads (300 in all)`);
    for (const score of await columnTexts(page, 'score')) assert.ok(Number(score) >= 0.9, score);

    await page.fill('#filter-score', '');
    await page.fill('#filter-text', '_1');
    const matching = reads.filter((r) => r.read_id.includes('_1'));
    await waitForText(page, '#read-count', `of ${matching.length} reads (300 in all)`);
    for (const id of await columnTexts(page, 'read')) assert.ok(id.includes('_1'), id);
  }));

test('a filter that matches no read says so, and one click shows every read again', () =>
  withApp({ lastSettings: FINISHED }, async ({ page }) => {
    await openResults(page);
    await waitForText(page, '#read-count', 'Showing 1–100 of 300 reads');
    assert.equal(await page.isVisible('#no-matches'), false);
    await page.selectOption('#filter-call', 'virus');
    await page.fill('#filter-text', 'no such read');
    await waitForText(page, '#read-count', 'of 0 reads (300 in all)');
    await waitForText(page, '#no-matches', 'No read matches these filters.');
    assert.equal(await page.isVisible('#no-matches'), true);
    await page.click('#reset-filters');
    await waitForText(page, '#read-count', 'Showing 1–100 of 300 reads');
    assert.equal(await page.isVisible('#no-matches'), false);
    assert.equal(await page.inputValue('#filter-text'), '');
    assert.equal(await page.inputValue('#filter-call'), 'all');
  }));

test('"Best score at least" takes a score from 0 to 1 only', () =>
  withApp({ lastSettings: FINISHED }, async ({ page }) => {
    await openResults(page);
    const { reads } = await backendResults(page);
    for (const outside of ['2', '-0.5', '1.01']) {
      await page.fill('#filter-score', outside);
      await waitForText(page, '#filter-score-message', 'A score is from 0 to 1; this filter is not applied.');
      assert.equal(await page.getAttribute('#filter-score', 'aria-invalid'), 'true');
      await waitForText(page, '#read-count', 'Showing 1–100 of 300 reads');
    }
    await page.fill('#filter-score', '1');
    const top = reads.filter((r) => r.best_virus_score !== null && r.best_virus_score >= 1).length;
    await waitForText(page, '#read-count', `of ${top} reads (300 in all)`);
    assert.equal(await page.getAttribute('#filter-score', 'aria-invalid'), null);
    assert.equal(await page.textContent('#filter-score-message'), '');
  }));

test('the page is the one scroll area: the read table does not scroll inside it', () =>
  withApp({ lastSettings: FINISHED }, async ({ page }) => {
    await openResults(page);
    await waitForText(page, '#read-count', 'Showing 1–100 of 300 reads');
    const sizes = await page.$eval('#read-table', (table) => {
      const box = /** @type {HTMLElement} */ (table.parentElement);
      const root = /** @type {HTMLElement} */ (document.scrollingElement);
      return { inner: box.scrollHeight - box.clientHeight, page: root.scrollHeight - root.clientHeight };
    });
    assert.ok(sizes.inner <= 1, `the table's box scrolls by ${sizes.inner} px`);
    assert.ok(sizes.page > 0, 'the page scrolls');
  }));

test('on the track, a chunk scored near 0 has a visible bar, unlike a chunk with no score', () =>
  withApp({ lastSettings: FINISHED }, async ({ page }) => {
    await openResults(page);
    const { reads } = await backendResults(page);
    /** @type {{ read: any, chunk: number } | undefined} */
    let found;
    for (const read of reads.filter((r) => r.frames > 0)) {
      const frames = await backendFrames(page, read.read_id);
      for (let chunk = 1; chunk <= read.chunks && found === undefined; chunk += 1) {
        const own = frames.filter((f) => f.chunk === chunk);
        if (own.length > 0 && Math.max(...own.map((f) => f.score_virus)) < 0.01) found = { read, chunk };
      }
      if (found !== undefined) break;
    }
    assert.ok(found, 'the mock has a chunk scored below 0.01');
    await page.fill('#filter-text', found.read.read_id);
    await page.click(`tr[data-read="${found.read.read_id}"] button`);
    await page.waitForSelector('#read-track');
    const bar = await page.$eval(`#read-track rect[data-chunk="${found.chunk}"]`, (r) => ({
      cls: r.getAttribute('class'),
      height: Number(r.getAttribute('height')),
      fill: getComputedStyle(r).fill,
    }));
    assert.equal(bar.cls, 'bar');
    assert.ok(bar.height >= 3, `a bar of ${bar.height} px`);
    assert.notEqual(bar.fill, 'none');
  }));

test("results of the Demo preset's random models say so; other results do not", async () => {
  await withApp({}, async ({ page }) => {
    await page.click('#first-start-demo');
    await page.waitForSelector('#run-button:enabled');
    await runToEnd(page);
    await page.click('#view-results');
    await page.waitForSelector('#score-histogram');
    await waitForText(page, '#demo-notice', 'Demo models: these results come from the RANDOM tiny demo models');
    assert.equal(await page.isVisible('#demo-notice'), true);
  });
  await withApp({ lastSettings: FINISHED }, async ({ page }) => {
    await openResults(page);
    await waitForText(page, '#read-count', 'Showing 1–100 of 300 reads');
    assert.equal(await page.isVisible('#demo-notice'), false);
  });
});

test("the histogram draws the shell's 20 bins, virus-side bins marked", () =>
  withApp({ lastSettings: FINISHED }, async ({ page }) => {
    await openResults(page);
    const { histogram } = await backendResults(page);
    const bars = await page.$$eval('#score-histogram rect', (rects) =>
      rects.map((r) => ({ count: Number(r.getAttribute('data-count')), cls: r.getAttribute('class'), height: Number(r.getAttribute('height')) })),
    );
    assert.deepEqual(bars.map((b) => b.count), histogram.counts);
    assert.deepEqual(bars.map((b) => b.cls), histogram.counts.map((_, i) => (i >= 10 ? 'bar virus' : 'bar')));
    // Heights are proportional to the counts.
    const max = Math.max(...histogram.counts);
    const tallest = Math.max(...bars.map((b) => b.height));
    for (const bar of bars) assert.ok(Math.abs(bar.height / tallest - bar.count / max) < 1e-6, JSON.stringify(bar));
    const total = histogram.counts.reduce((a, b) => a + b, 0);
    assert.match((await page.getAttribute('#score-histogram', 'aria-label')) ?? '', new RegExp(`of ${total} scored reads in 20 bins`));
  }));

test("choosing a read draws its virus score along its chunks and lists its frames", () =>
  withApp({ lastSettings: FINISHED }, async ({ page, calls }) => {
    await openResults(page);
    const { reads, frames_scored } = await backendResults(page);
    assert.equal(frames_scored, reads.reduce((n, r) => n + r.frames, 0));
    await waitForText(page, '#results-totals', `${frames_scored.toLocaleString('en-US')} frames scored`);
    // A read with several chunks, one of them without a scored frame, on the first page.
    const firstPage = new Set(naturalOrder(reads.map((r) => r.read_id)).slice(0, 100));
    /** @type {any} */
    let read;
    /** @type {any[]} */
    let own = [];
    for (const candidate of reads.filter((r) => firstPage.has(r.read_id) && r.chunks >= 3 && r.frames > 0)) {
      const frames = await backendFrames(page, candidate.read_id);
      if ([...Array(candidate.chunks).keys()].some((c) => !frames.some((f) => f.chunk === c + 1))) {
        [read, own] = [candidate, frames];
        break;
      }
    }
    assert.ok(read, 'the mock has such a read');
    assert.equal(own.length, read.frames);
    const asked = (await calls('load_read_frames')).length;

    await page.click(`tr[data-read="${read.read_id}"] button`);
    await waitForText(page, '#read-detail-title', read.read_id);
    await page.waitForSelector('#read-frames');
    // The screen asked for this read's frames only, once.
    assert.deepEqual((await calls('load_read_frames')).slice(asked), [{ out_dir: '/data/results/run41', read_id: read.read_id }]);
    assert.equal(await page.getAttribute(`tr[data-read="${read.read_id}"]`, 'aria-current'), 'true');
    const marks = await page.$$eval('#read-track rect', (rects) => rects.map((r) => ({ chunk: Number(r.getAttribute('data-chunk')), score: r.getAttribute('data-score'), cls: r.getAttribute('class') })));
    assert.deepEqual(marks.map((m) => m.chunk), [...Array(read.chunks).keys()].map((c) => c + 1));
    for (const mark of marks) {
      const chunkFrames = own.filter((f) => f.chunk === mark.chunk);
      if (chunkFrames.length === 0) {
        assert.equal(mark.cls, 'slot unscored');
        continue;
      }
      const best = Math.max(...chunkFrames.map((f) => f.score_virus));
      const isVirus = best >= Math.max(...chunkFrames.map((f) => f.score_other));
      assert.equal(mark.score, best.toFixed(4));
      assert.equal(mark.cls, isVirus ? 'bar virus' : 'bar');
    }
    assert.equal(await page.$$eval('#read-frames tbody tr', (r) => r.length), own.length);
    assert.deepEqual(
      (await page.$$eval('#read-frames tbody tr', (rows) => rows.map((r) => r.getAttribute('data-sequence')))).sort(),
      own.map((f) => f.sequence_id).sort(),
    );
  }));

test('Open output folder, and Export virus reads as FASTA to the chosen file', () =>
  withApp({ lastSettings: FINISHED, answers: { pick_save_file: ['/home/user/virus_run41.fa'] } }, async ({ page, calls }) => {
    await openResults(page);
    const { reads } = await backendResults(page);
    await page.click('#open-folder');
    await page.waitForFunction(() => /** @type {any} */ (window).__VIRNUCPRO_MOCK_CALLS__.some((/** @type {any} */ c) => c.cmd === 'open_folder'));
    assert.deepEqual(await calls('open_folder'), [{ path: '/data/results/run41' }]);

    await page.click('#export-fasta');
    const virus = reads.filter((r) => r.call === 'virus').length;
    await waitForText(page, '#status-bar', `Wrote ${virus} virus reads to /home/user/virus_run41.fa.`);
    // The dialog opens in the output folder.
    assert.deepEqual(await calls('pick_save_file'), [{ title: 'Export virus reads as FASTA', default_name: 'virus_reads.fa', directory: '/data/results/run41' }]);
    assert.deepEqual(await calls('export_virus_fasta'), [{ out_dir: '/data/results/run41', dest: '/home/user/virus_run41.fa' }]);
  }));

test('a folder without results says so', () =>
  withApp({ lastSettings: VALID_SETTINGS }, async ({ page }) => {
    await page.click('[data-screen=results]');
    await waitForText(page, '#results-totals', 'No results to show.');
    await waitForText(page, '#status-bar', 'Could not load the results: /data/results/new holds no VirNucPro run');
    assert.equal(await page.isDisabled('#export-fasta'), true);
  }));

test('100,000 reads stay fast: sorting and filtering redraw one page of 100 rows', (t) =>
  withApp({ lastSettings: FINISHED, readCount: 100_000 }, async ({ page }) => {
    const loadStart = Date.now();
    await page.click('[data-screen=results]');
    await waitForText(page, '#read-count', 'Showing 1–100 of 100,000 reads', 30000);
    const load = Date.now() - loadStart;
    // Timed in the page: the handlers sort or filter and redraw synchronously.
    const sort = await page.evaluate(() => {
      const start = performance.now();
      /** @type {HTMLButtonElement} */ (document.querySelector('th[data-column=best_virus_score] button')).click();
      return performance.now() - start;
    });
    assert.equal(await page.getAttribute('th[data-column=best_virus_score]', 'aria-sort'), 'descending');
    const filter = await page.evaluate(() => {
      const start = performance.now();
      const select = /** @type {HTMLSelectElement} */ (document.querySelector('#filter-call'));
      select.value = 'virus';
      select.dispatchEvent(new Event('change'));
      return performance.now() - start;
    });
    await waitForText(page, '#read-count', '(100,000 in all)');
    t.diagnostic(`100k reads: load ${load} ms (the mock making them included), sort ${Math.round(sort)} ms, filter ${Math.round(filter)} ms`);
    assert.equal(await page.$$eval('#read-table tbody tr', (r) => r.length), 100);
    // Generous bounds for a loaded 2-core machine; drawing all 100k rows would take far longer.
    assert.ok(sort < 5000, `sorting took ${sort} ms`);
    assert.ok(filter < 5000, `filtering took ${filter} ms`);
  }));
