// Closing the real window during a run (issue 6: "asks first, then cancels cleanly"). The
// close request and the answers to the native GTK dialog go through X11 (x11.py), the way a
// window manager's close button and a user's keys would; WebDriver cannot reach either.
// "Keep running" must leave the run going; "Stop and close" must stop it at a batch
// boundary, close the app, and leave a run that the next launch offers to resume.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { By } from 'selenium-webdriver';
import { click, demoModelSettings, freshHome, launch, repo, screenshots, shown, storePreset, writeOrfReads } from './driver.mjs';

const WINDOW = 'VirNucPro';
const DIALOG = 'Stop the run?';
const PRESET = 'Long run';
// Far more work than a run gets through while the test talks to the dialog: every read
// has an open reading frame (below), so each is embedded; the development machine embeds
// ~490 reads/s on two cores, and the run must still be going on a much faster one.
const READS = 200_000;

let app;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});
// The reads and the run's files take a few hundred MB; the rest of the home is small and
// may still be written by an app that is shutting down (WebKit's caches), so it stays.
const bulky = [];
after(() => bulky.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function x11(...args) {
  execFileSync('/usr/bin/python3', [join(repo, 'tests/desktop-e2e/x11.py'), ...args], { stdio: 'inherit' });
}

/** A home whose store holds the "Long run" preset (the demo models, READS reads with open
 * reading frames, so every read is embedded). */
async function longRunHome() {
  const home = freshHome();
  const reads = join(home, 'reads');
  const out = join(home, 'out');
  mkdirSync(reads);
  bulky.push(reads, out);
  await writeOrfReads(join(reads, 'long.fa'), READS);
  const settings = demoModelSettings([reads], out);
  storePreset(home, { name: PRESET, settings, updated: '2026-11-29T00:00:00Z' });
  return { home, out };
}

async function loadPreset(driver) {
  await click(driver, 'button[data-screen="presets"]');
  await click(driver, `tr[data-preset="${PRESET}"] button[data-action="load"]`);
}

/** Every file below `dir`, as paths relative to it. */
function filesBelow(dir, prefix = '') {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesBelow(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

test('closing the window during a run asks first; Keep running keeps it, Stop and close leaves it resumable', { timeout: 300_000 }, async () => {
  const { home, out } = await longRunHome();
  app = await launch(home);
  const { driver } = app;
  await loadPreset(driver);
  await click(driver, '#run-button');
  await shown(driver, '#stage-table tr[data-stage="embed_dna"][data-state="running"]', 120_000);

  // Close → the question; Escape is "Keep running": the dialog goes, the run goes on.
  x11('ask', WINDOW, DIALOG);
  // The whole screen: the dialog is a native window, outside what WebDriver can capture.
  execFileSync('import', ['-window', 'root', join(screenshots, 'close-dialog.png')]);
  x11('keys', DIALOG, 'Escape');
  x11('gone', DIALOG, '20');
  x11('wait', WINDOW, '5');
  const summary = await driver.findElements(By.css('#run-summary'));
  assert.ok(summary.length === 0 || !(await summary[0].isDisplayed()), 'the run did not end');
  const embed = await driver.findElement(By.css('#stage-table tr[data-stage="embed_dna"]'));
  assert.equal(await embed.getAttribute('data-state'), 'running', 'the run keeps running');

  // Close again → Alt+S, "Stop and close": the run stops, then the app closes.
  x11('ask', WINDOW, DIALOG);
  x11('keys', DIALOG, 'alt+s');
  x11('gone', WINDOW, '120');
  await app.stop({ appClosed: true });
  app = undefined;

  const manifest = JSON.parse(readFileSync(join(out, 'run-manifest.json'), 'utf8'));
  assert.equal(manifest.state, 'cancelled', `the manifest says ${manifest.state}`);
  const leftovers = filesBelow(out).filter((f) => f.endsWith('.tmp'));
  assert.deepEqual(leftovers, [], 'no half-written files');
  assert.ok(!filesBelow(out).includes('prediction_results.txt'), 'no report from a stopped run');

  // The next launch finds the stopped run and offers to resume it.
  app = await launch(home);
  await loadPreset(app.driver);
  await shown(app.driver, '#resume-button', 60_000);
});
