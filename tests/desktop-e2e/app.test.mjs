// The real app in a real window (Xvfb + tauri-driver + WebKitWebDriver): load the Demo
// preset, run it on the CPU, see every stage reach 100 %, the results table fill and a
// read's frames load; then
// damage one feature file of the run, resume, and find it computed again and the results
// the same; then make a resume fail (a feature file of another run's IDs), find the
// earlier results kept and marked out of date, and complete the run with Set aside and retry.
// Selectors are the "UI test hooks" of docs/desktop-api.md.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { By } from 'selenium-webdriver';
import { click, freshHome, launch, screenshot, shown } from './driver.mjs';

const RUN_TIMEOUT = 300_000;
const STAGES = ['prepare', 'embed_dna', 'embed_protein', 'merge', 'classify'];

// Both tests share one home: the second resumes the first one's demo run in a new app.
const home = freshHome();
let app;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

/** Load the Demo preset, turn on Keep feature files (the later tests damage a feature
 * file; a run keeps none by default), start it with `button` (#run-button, or
 * #resume-button when the output folder holds a run) and wait for the run's summary. */
async function runDemo(driver, button) {
  await click(driver, 'button[data-screen="presets"]');
  await click(driver, 'tr[data-preset="Demo"] button[data-action="load"]');
  await keepFeatures(driver);
  await click(driver, button);
  await shown(driver, '#run-summary', RUN_TIMEOUT);
}

/** Open Setup's Advanced and tick Keep feature files, through the real controls. */
async function keepFeatures(driver) {
  const advanced = await driver.findElement(By.css('#advanced'));
  if ((await advanced.getAttribute('open')) === null) await click(driver, '#advanced > summary');
  const checkbox = await shown(driver, '#keep-features');
  if (!(await checkbox.isSelected())) await click(driver, '#keep-features');
  assert.equal(await checkbox.isSelected(), true, 'Keep feature files is on');
}

async function stageStates(driver) {
  const states = {};
  for (const stage of STAGES) {
    const row = await driver.findElement(By.css(`#stage-table tr[data-stage="${stage}"]`));
    const bar = await row.findElement(By.css('progress'));
    states[stage] = {
      state: await row.getAttribute('data-state'),
      value: Number(await bar.getAttribute('value')),
      max: Number(await bar.getAttribute('max')),
    };
  }
  return states;
}

test('the Demo preset runs to 100 % and fills the results table', { timeout: RUN_TIMEOUT + 60_000 }, async () => {
  app = await launch(home);
  const { driver } = app;
  await shown(driver, 'button[data-screen="presets"]');
  await screenshot(driver, 'setup');
  await runDemo(driver, '#run-button');
  const states = await stageStates(driver);
  for (const stage of STAGES) {
    assert.equal(states[stage].state, 'done', `${stage}: ${JSON.stringify(states[stage])}`);
    assert.ok(states[stage].max > 0 && states[stage].value === states[stage].max, `${stage} at 100 %: ${JSON.stringify(states[stage])}`);
  }
  await screenshot(driver, 'run-finished');
  await click(driver, '#view-results');
  await shown(driver, '#read-table tbody tr');
  const rows = await driver.findElements(By.css('#read-table tbody tr'));
  assert.ok(rows.length > 0, 'the results table has rows');
  // A read with several chunks and scored frames: its track and frames come from the
  // shell's load_read_frames through the real IPC.
  const read = await driver.executeScript(() => {
    for (const row of document.querySelectorAll('#read-table tbody tr[data-read]')) {
      const [chunks, frames] = [1, 2].map((i) => Number(row.children[i].textContent.replace(/,/g, '')));
      if (chunks >= 3 && frames > 0) return { id: row.getAttribute('data-read'), chunks, frames };
    }
    return null;
  });
  assert.ok(read, 'the first page has a read with 3+ chunks and scored frames');
  await click(driver, `tr[data-read="${read.id}"] button`);
  await shown(driver, '#read-frames tbody tr');
  assert.equal((await driver.findElements(By.css('#read-frames tbody tr'))).length, read.frames, `frames of ${read.id}`);
  assert.equal((await driver.findElements(By.css('#read-track rect'))).length, read.chunks, `chunks of ${read.id}`);
  // The click scrolled the table into view; the screenshot shows the page from its top.
  await driver.executeScript(() => window.scrollTo(0, 0));
  await screenshot(driver, 'results');
});

const runFolder = (dataHome) => join(dataHome, 'org.virnucpro.desktop/demo-output');

/** The stage table's text for `stage` ("… 1 done, 2 reused, 0 failed"). */
async function stageText(driver, stage) {
  return driver.findElement(By.css(`#stage-table tr[data-stage="${stage}"]`)).getText();
}

test('a feature file damaged after the run is computed again on resume; the results stay', { timeout: RUN_TIMEOUT + 60_000 }, async () => {
  app = await launch(home);
  const { driver, dataHome } = app;
  const folder = runFolder(dataHome);
  const results = readFileSync(join(folder, 'prediction_results.txt'));
  // A NaN over one value of a feature file: its header stays valid, its data checksum
  // (data_xxh3) does not match any more.
  const victim = join(folder, 'features/output_1.protein.safetensors');
  const bytes = readFileSync(victim);
  bytes.writeFloatLE(Number.NaN, bytes.length - 4);
  writeFileSync(victim, bytes);
  await runDemo(driver, '#resume-button');
  assert.match(await driver.findElement(By.css('#run-summary h3')).getText(), /Run finished: ok/);
  assert.match(await stageText(driver, 'embed_protein'), /\b1 done\b/, 'the damaged shard is embedded again');
  assert.deepEqual(readFileSync(join(folder, 'prediction_results.txt')), results, 'the results are the same');
  await click(driver, '#view-results');
  await shown(driver, '#read-table tbody tr');
  assert.equal(await driver.findElement(By.css('#reports-status')).isDisplayed(), false, 'complete, current results');
});

/** Rewrite a feature file as an older version would have written it (no data checksum),
 * with its first ID changed: it passes embed's checks, and merge finds that its IDs do not
 * match the protein side's. */
function foreignIds(path) {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  const meta = header.__metadata__;
  delete meta.data_xxh3;
  const ids = JSON.parse(meta.ids);
  ids[0] = `${ids[0]}_foreign`;
  meta.ids = JSON.stringify(ids);
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileSync(path, Buffer.concat([length, Buffer.from(json), bytes.subarray(8 + n)]));
}

test('a failed resume keeps the earlier results; Set aside and retry completes the run', { timeout: 2 * RUN_TIMEOUT + 60_000 }, async () => {
  app = await launch(home);
  const { driver, dataHome } = app;
  const folder = runFolder(dataHome);
  const results = readFileSync(join(folder, 'prediction_results.txt'));
  foreignIds(join(folder, 'features/output_1.nucleotide.safetensors'));
  await runDemo(driver, '#resume-button');
  assert.match(await driver.findElement(By.css('#run-summary h3')).getText(), /Run finished: (partial|failed)/);
  assert.match(await driver.findElement(By.css('#view-failures')).getAttribute('class'), /\bprimary\b/);
  await screenshot(driver, 'failed-resume');
  // The earlier reports are kept; this run's are beside them.
  assert.deepEqual(readFileSync(join(folder, 'prediction_results.txt')), results, 'the earlier results are intact');
  assert.ok(existsSync(join(folder, 'prediction_results.partial.txt')), 'the partial reports are beside them');
  await click(driver, '#view-results');
  const notice = await shown(driver, '#reports-status');
  assert.match(await notice.getText(), /Out of date: these results are from an earlier run/);
  await shown(driver, '#read-table tbody tr');
  await screenshot(driver, 'failed-resume-results');

  await click(driver, 'button[data-screen="failures"]');
  const group = await shown(driver, '.failure-group[data-kind="id_mismatch"]');
  assert.match(await group.getText(), /output_1/);
  await shown(driver, '#set-aside-retry');
  await screenshot(driver, 'failures');
  await click(driver, '#set-aside-retry');
  // The summary of the failed run is on screen until the retry replaces it.
  const finished = await driver.wait(async () => {
    const [heading] = await driver.findElements(By.css('#run-summary:not([hidden]) h3'));
    const text = heading === undefined ? '' : await heading.getText().catch(() => '');
    return /Run finished: ok/.test(text) ? text : null;
  }, RUN_TIMEOUT);
  assert.match(finished, /Run finished: ok/);
  const setAside = join(folder, 'set-aside');
  const [moment] = readdirSync(setAside);
  assert.deepEqual(readdirSync(join(setAside, moment, 'features')).sort(), ['output_1.nucleotide.safetensors', 'output_1.protein.safetensors']);
  assert.deepEqual(readFileSync(join(folder, 'prediction_results.txt')), results, 'the recomputed results are the same');
  assert.ok(!existsSync(join(folder, 'prediction_results.partial.txt')), 'the partial reports are gone');
});
