// A run of two samples in the real window (issue 16, item 5): a preset whose samples are
// the demo reads twice runs on the CPU with the demo's tiny models; the run screen lists
// both samples as ok, each sample has its own reports in out/NAME/ and out/summary.tsv has
// a line per sample; Results shows the table across samples and the first sample's reads.
// Selectors are the "UI test hooks" of docs/desktop-api.md and the samples' own ids.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { By } from 'selenium-webdriver';
import { click, demoModelSettings, freshHome, launch, shown, storePreset } from './driver.mjs';

const RUN_TIMEOUT = 300_000;
const PRESET = 'Two samples';
const READS = join(new URL('../../demo', import.meta.url).pathname, 'sample_reads.fa');

let app;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

test('two samples run in one go, each with its own reports, and the table across them', { timeout: RUN_TIMEOUT + 60_000 }, async () => {
  const home = freshHome();
  const out = join(home, 'out');
  const settings = {
    ...demoModelSettings([], out),
    samples: [
      { name: 'first', inputs: [READS] },
      { name: 'second', inputs: [READS] },
    ],
  };
  storePreset(home, { name: PRESET, settings, updated: '2026-12-02T00:00:00Z' });
  app = await launch(home);
  const { driver } = app;
  await click(driver, 'button[data-screen="presets"]');
  await click(driver, `tr[data-preset="${PRESET}"] button[data-action="load"]`);
  await shown(driver, '#sample-list li.sample');
  await click(driver, '#run-button');
  await shown(driver, '#run-summary', RUN_TIMEOUT);

  const rows = await driver.findElements(By.css('#sample-table tbody tr'));
  const states = await Promise.all(rows.map(async (r) => [await r.getAttribute('data-sample'), await r.getAttribute('data-state')]));
  assert.deepEqual(states, [
    ['first', 'ok'],
    ['second', 'ok'],
  ]);
  for (const name of ['first', 'second']) {
    assert.ok(existsSync(join(out, name, 'read_summary.tsv')), `${name}/read_summary.tsv`);
    assert.ok(existsSync(join(out, name, 'run-manifest.json')), `${name}/run-manifest.json`);
  }
  const summary = readFileSync(join(out, 'summary.tsv'), 'utf8').trim().split('\n');
  assert.deepEqual(
    summary.map((line) => line.split('\t')[0]),
    ['sample', 'first', 'second'],
  );
  // The same reads: the same line but for the name.
  assert.equal(summary[1]?.split('\t').slice(1).join('\t'), summary[2]?.split('\t').slice(1).join('\t'));

  await click(driver, '#view-results');
  await shown(driver, '#samples-table tbody tr[data-sample="second"]');
  const folder = await shown(driver, '#results-folder');
  await driver.wait(async () => (await folder.getText()).endsWith(join('out', 'first')), 30_000, 'the first sample\'s results');
  const reads = summary[1]?.split('\t')[1] ?? '?';
  const totals = await shown(driver, '#results-totals');
  await driver.wait(async () => (await totals.getText()).startsWith(`${reads} reads`), 30_000, `${reads} reads`);
});
