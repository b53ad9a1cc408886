// The first start in the real window: with a fresh data folder (no presets saved, no last
// settings) the setup opens on the "Getting started" panel, which points to the Demo
// preset and says where the three models come from; what the run still needs is listed
// as things to do, not as errors; the panel's button loads the Demo and Run can start.
// Then the Demo runs, and loading it again right after finds the run with the same
// settings (the shell compares them as given: the Demo's batch budget "auto", not the
// budget the engine chose).
// Selectors are the "UI test hooks" of docs/desktop-api.md.
import { strict as assert } from 'node:assert';
import { afterEach, test } from 'node:test';
import { By, until } from 'selenium-webdriver';
import { click, freshHome, launch, screenshot, shown } from './driver.mjs';

const RUN_TIMEOUT = 300_000;
// Both tests share one home: the second runs the Demo the first one loaded.
const home = freshHome();
let app;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

const SOURCES = [
  'https://huggingface.co/zhihan1996/DNABERT-S',
  'https://dl.fbaipublicfiles.com/fair-esm/models/esm2_t36_3B_UR50D.pt',
  'https://github.com/Li-Jing-1997/VirNucPro',
];

test('a fresh start shows the guidance and the Demo pointer, and the Demo loads from it', { timeout: 120_000 }, async () => {
  app = await launch(home);
  const { driver } = app;
  const panel = await shown(driver, '#first-start');
  const text = await panel.getText();
  assert.match(text, /Try it first with the Demo preset/);
  for (const source of SOURCES) assert.ok(text.includes(source), `${source} in:\n${text}`);

  // The shell's validate_settings answers: five fields to fill in, none marked as an error.
  await driver.wait(async () => (await driver.findElement(By.css('#run-blockers')).getText()).includes('Classifier:'), 30_000);
  const needs = await driver.findElements(By.css('#run-blockers li'));
  assert.deepEqual(await Promise.all(needs.map((li) => li.getAttribute('class'))), ['todo', 'todo', 'todo', 'todo', 'todo']);
  assert.equal(await driver.findElement(By.css('#run-button')).isEnabled(), false);
  await screenshot(driver, 'first-start');

  await click(driver, '#first-start-demo');
  await driver.wait(until.elementIsNotVisible(panel), 10_000, 'the panel stays after loading the Demo');
  const run = await shown(driver, '#run-button');
  await driver.wait(until.elementIsEnabled(run), 30_000, 'Run stays disabled with the Demo loaded');
  assert.match(await driver.findElement(By.css('#status-bar')).getText(), /Loaded preset “Demo”/);
});

test('after the Demo has run, loading it again offers Resume with no difference', { timeout: RUN_TIMEOUT + 60_000 }, async () => {
  app = await launch(home);
  const { driver } = app;
  // Nothing ran yet, so nothing was remembered: the panel again, and its Demo.
  await click(driver, '#first-start-demo');
  await click(driver, '#run-button');
  await shown(driver, '#run-summary', RUN_TIMEOUT);
  await click(driver, 'button[data-screen="presets"]');
  await click(driver, 'tr[data-preset="Demo"] button[data-action="load"]');
  await shown(driver, '#resume-offer');
  assert.equal(await driver.findElement(By.css('#first-start')).isDisplayed(), false);
  assert.equal(await driver.findElement(By.css('#resume-differs')).getText(), '');
  assert.equal(await driver.findElement(By.css('#use-resume-settings')).isDisplayed(), false);
});
