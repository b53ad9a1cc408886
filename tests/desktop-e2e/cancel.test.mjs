// Cancelling a run early in the real window (issue 19, B3): the stages it stopped must not
// look finished. A run was cancelled at about 2 % of DNABERT-S and the app showed
// DNABERT-S at "12,061 / 12,061 sequences (100%)", ESM-2 at "0 sequences (100%)" and, on
// Setup, "finished: Prepare reads, DNABERT-S embeddings, ESM-2 embeddings", while no
// feature file had been written.
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { By } from 'selenium-webdriver';
import { click, demoModelSettings, freshHome, launch, screenshot, shown, storePreset, writeOrfReads } from './driver.mjs';

const PRESET = 'Cancel early';
// Enough that DNABERT-S is still early when the test presses Cancel (the development
// machine embeds ~490 reads/s on two cores), small enough to write in a second.
const READS = 30_000;

let app;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});
const bulky = [];
after(() => bulky.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A home whose store holds the preset (the demo models, READS reads). */
async function home() {
  const dir = freshHome();
  const reads = join(dir, 'reads');
  const out = join(dir, 'out');
  mkdirSync(reads);
  bulky.push(reads, out);
  await writeOrfReads(join(reads, 'reads.fa'), READS, { seed: 7, prefix: 'read' });
  // keep_features: the test counts the feature files the stopped stage wrote (a run keeps
  // none by default).
  const settings = { ...demoModelSettings([reads], out), keep_features: true };
  storePreset(dir, { name: PRESET, settings, updated: '2026-12-02T00:00:00Z' });
  return { dir, out };
}

/** Each stage row: state, bar and the Done cell. */
async function stageRows(driver) {
  return driver.executeScript(`
    return [...document.querySelectorAll('#stage-table tbody tr')].map((row) => {
      const bar = row.querySelector('progress');
      return {
        stage: row.dataset.stage,
        state: row.dataset.state,
        value: bar.hasAttribute('value') ? bar.value : null,
        max: bar.max,
        count: row.querySelectorAll('td')[1].textContent,
        result: row.querySelectorAll('td')[4].textContent,
      };
    });`);
}

test('a run cancelled early in DNABERT-S does not show its stages finished, on Run or on Setup', { timeout: 300_000 }, async () => {
  const { dir, out } = await home();
  app = await launch(dir);
  const { driver } = app;
  await click(driver, 'button[data-screen="presets"]');
  await click(driver, `tr[data-preset="${PRESET}"] button[data-action="load"]`);
  await click(driver, '#run-button');
  // Early in DNABERT-S: its first sequences are embedded.
  await driver.wait(
    async () => Number((await driver.findElement(By.css('#stage-table tr[data-stage="embed_dna"] progress')).getAttribute('value')) ?? 0) > 0,
    180_000,
    'DNABERT-S never made progress',
  );
  await click(driver, '#cancel-run');
  await shown(driver, '#run-summary h3', 120_000);
  assert.equal(await driver.findElement(By.css('#run-summary h3')).getText(), 'Run cancelled');

  const rows = await stageRows(driver);
  const byStage = Object.fromEntries(rows.map((r) => [r.stage, r]));
  const dna = byStage.embed_dna;
  assert.equal(dna.state, 'stopped', JSON.stringify(dna));
  assert.ok(dna.value < dna.max, `the DNABERT-S bar is not full: ${JSON.stringify(dna)}`);
  assert.match(dna.result, /^stopped after/);
  // Prepare may have finished (it streams ahead of the embedding); no other stage has.
  for (const row of rows.filter((r) => !(r.stage === 'prepare' && r.state === 'done'))) {
    assert.doesNotMatch(row.count, /\(100%\)/, `${row.stage} claims 100 %: ${JSON.stringify(row)}`);
    assert.notEqual(row.state, 'done', `${row.stage}: ${JSON.stringify(row)}`);
  }
  await screenshot(driver, 'cancelled-run');

  // What the manifest says agrees: the embedding stages stopped; nothing they did not write.
  const manifest = JSON.parse(readFileSync(join(out, 'run-manifest.json'), 'utf8'));
  assert.equal(manifest.state, 'cancelled');
  const dnaRecord = manifest.stages.find((s) => s.stage === 'embed_dna');
  assert.equal(dnaRecord.outcome, 'stopped', JSON.stringify(manifest.stages));
  const features = readdirSync(join(out, 'features')).filter((f) => f.endsWith('.nucleotide.safetensors'));
  assert.equal(features.length, dnaRecord.counts.done, `features/ holds ${features.join(', ')}`);

  // Setup offers to resume, naming only the stages that finished.
  await click(driver, 'button[data-screen="setup"]');
  const resumeText = await (await shown(driver, '#resume-text', 60_000)).getText();
  assert.doesNotMatch(resumeText, /DNABERT-S|ESM-2/, resumeText);
  assert.match(resumeText, /cancelled; (finished: Prepare reads|no stage finished yet)/, resumeText);
});
