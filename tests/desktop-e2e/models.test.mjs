// The Models screen in the real window, against a model server on 127.0.0.1: a catalogue
// file (VIRNUCPRO_CATALOGUE) lists one DNABERT-S made of the tiny fixture files, served
// under the hub's /{repo}/resolve/{revision}/{file} (HF_ENDPOINT points here, with Range
// support). Download it from the Models screen, see it verified and laid out as
// huggingface_hub lays out its cache (snapshot links into blobs/), then run the Demo with
// the downloaded DNABERT-S instead of the Demo's own and get results.
// Selectors are the "UI test hooks" of docs/desktop-api.md.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { By } from 'selenium-webdriver';
import { click, freshHome, launch, repo, screenshot, shown } from './driver.mjs';

const RUN_TIMEOUT = 300_000;
const REPO = 'zhihan1996/DNABERT-S';
const REV = '00e47f96cdea35e4b6f5df89e5419cbe47d490c6';
const FIXTURE = resolve(repo, '../shared/fixtures/models/dnabert_s_tiny');
// What a run needs, and two files only the Python tools read (fetched so they can share it).
const FILES = [
  { name: 'config.json' },
  { name: 'tokenizer.json' },
  { name: 'pytorch_model.bin', lfs: true },
  { name: 'tokenizer_config.json', python_only: true },
  { name: 'special_tokens_map.json', python_only: true },
];

const home = freshHome();
const bodies = new Map(FILES.map((f) => [f.name, readFileSync(join(FIXTURE, f.name))]));
const requests = [];
let server;
let endpoint;
let app;

before(async () => {
  // The hub's resolve URLs, with byte ranges (a resumed download asks for the rest).
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`.trim());
    const prefix = `/${REPO}/resolve/${REV}/`;
    const body = req.url?.startsWith(prefix) ? bodies.get(decodeURIComponent(req.url.slice(prefix.length))) : undefined;
    if (body === undefined) return res.writeHead(404).end('not found');
    const etag = `"${createHash('sha256').update(body).digest('hex')}"`;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start > body.length) return res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
    const part = body.subarray(start);
    const headers = { 'content-length': part.length, etag, 'accept-ranges': 'bytes' };
    if (range) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    else res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : part);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${server.address().port}`;
});
after(() => new Promise((r) => server?.close(r)));
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

/** A catalogue of the same shape as crates/models/src/catalogue.json: the tiny DNABERT-S. */
function writeCatalogue() {
  const files = FILES.map(({ name, ...flags }) => {
    const body = bodies.get(name);
    return { name, size: body.length, checksum: `sha256:${createHash('sha256').update(body).digest('hex')}`, ...flags };
  });
  const catalogue = {
    entries: [
      {
        id: 'dnabert-s',
        title: 'DNABERT-S (tiny test model)',
        role: 'dnabert',
        sources: [{ name: 'hugging-face', store: { kind: 'hf-repo', repo: REPO, revision: REV }, files }],
      },
    ],
  };
  const path = join(home, 'catalogue.json');
  writeFileSync(path, JSON.stringify(catalogue, null, 2));
  return { path, files };
}

test('DNABERT-S downloads from the Models screen into the hub cache and a run uses it', { timeout: RUN_TIMEOUT + 180_000 }, async () => {
  const catalogue = writeCatalogue();
  app = await launch(home, {
    VIRNUCPRO_CATALOGUE: catalogue.path,
    HF_ENDPOINT: endpoint,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  });
  const { driver } = app;
  const cache = join(home, 'cache');

  await click(driver, 'button[data-screen="models"]');
  const row = 'tr[data-model="dnabert-s"]';
  await shown(driver, `${row}[data-state="missing"]`);
  await click(driver, `${row} button[data-action="download"]`);
  await shown(driver, `${row}[data-state="verified"]:not([data-job])`, 120_000);
  const error = await driver.findElement(By.css(`${row} .model-error`));
  assert.equal(await error.isDisplayed(), false, `no error in the row: ${await error.getAttribute('textContent')}`);
  assert.match(await driver.findElement(By.css('#status-bar')).getText(), /DNABERT-S \(tiny test model\) is verified/);
  await screenshot(driver, 'models');

  // huggingface_hub's layout: the snapshot's files are relative links into blobs/, the
  // weights' blob named by its SHA-256; refs/main holds the revision.
  const repoDir = join(cache, 'huggingface/hub/models--zhihan1996--DNABERT-S');
  const snapshot = join(repoDir, 'snapshots', REV);
  const weights = join(snapshot, 'pytorch_model.bin');
  assert.ok(lstatSync(weights).isSymbolicLink(), `${weights} is a link`);
  assert.match(readlinkSync(weights), /^\.\.\/\.\.\/blobs\//);
  const sha = catalogue.files.find((f) => f.name === 'pytorch_model.bin').checksum.slice('sha256:'.length);
  assert.equal(realpathSync(weights), join(realpathSync(repoDir), 'blobs', sha));
  assert.deepEqual(readFileSync(weights), bodies.get('pytorch_model.bin'));
  for (const { name } of FILES) assert.deepEqual(readFileSync(join(snapshot, name)), bodies.get(name), name);
  assert.equal(readFileSync(join(repoDir, 'refs/main'), 'utf8').trim(), REV);
  assert.ok(requests.some((r) => r.includes('/pytorch_model.bin')), requests.join('\n'));
  await driver.wait(async () => (await driver.findElement(By.css(`${row} td:nth-child(4)`)).getText()).includes(snapshot), 10_000);

  // The Demo with the downloaded DNABERT-S: the field's "Use the installed model".
  await click(driver, 'button[data-screen="presets"]');
  await click(driver, 'tr[data-preset="Demo"] button[data-action="load"]');
  await click(driver, '[data-field="dnabert"] button[data-action="use-installed"]');
  await driver.wait(async () => (await driver.findElement(By.css('#path-dnabert')).getAttribute('value')) === snapshot, 10_000, 'the DNABERT-S field takes the snapshot');
  await click(driver, '#run-button');
  await shown(driver, '#run-summary', RUN_TIMEOUT);
  const summary = await driver.findElement(By.css('#run-summary')).getText();
  await click(driver, '#view-results');
  await shown(driver, '#read-table tbody tr');
  assert.ok((await driver.findElements(By.css('#read-table tbody tr'))).length > 0, `results after: ${summary}`);
  // The run's manifest names the downloaded snapshot as its DNABERT-S.
  const manifest = readFileSync(join(home, 'data/org.virnucpro.desktop/demo-output/run-manifest.json'), 'utf8');
  assert.ok(manifest.includes('models--zhihan1996--DNABERT-S'), 'the manifest records the downloaded DNABERT-S');
});
