// The real app in a real window (Xvfb + tauri-driver + WebKitWebDriver): load the Demo
// preset, run it on the CPU, see every stage reach 100 %, the results table fill and a
// read's frames load; then
// damage one feature file of the run, resume, and see the shard under its failure kind.
// Selectors are the "UI test hooks" of docs/desktop-api.md.
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
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

/** Load the Demo preset, start it with `button` (#run-button, or #resume-button when the
 * output folder holds a run) and wait for the run's summary. */
async function runDemo(driver, button) {
  await click(driver, 'button[data-screen="presets"]');
  await click(driver, 'tr[data-preset="Demo"] button[data-action="load"]');
  await click(driver, button);
  await shown(driver, '#run-summary', RUN_TIMEOUT);
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

test('a corrupt feature file shows up under its failure kind after a resume', { timeout: RUN_TIMEOUT + 60_000 }, async () => {
  app = await launch(home);
  const { driver, dataHome } = app;
  // NaNs in the data of one feature file: the header stays valid, only the merge sees it.
  const victim = join(dataHome, 'org.virnucpro.desktop/demo-output/features/output_1.protein.safetensors');
  const bytes = readFileSync(victim);
  bytes.fill(0xff, bytes.length - 64);
  writeFileSync(victim, bytes);
  await runDemo(driver, '#resume-button');
  await click(driver, '#view-failures');
  const group = await shown(driver, '.failure-group[data-kind="corrupt"]');
  assert.match(await group.getText(), /output_1/);
  await screenshot(driver, 'failures');
});
