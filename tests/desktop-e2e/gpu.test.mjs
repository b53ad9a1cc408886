// GPU support in the real window, against a package index on 127.0.0.1: a runtime
// manifest (VIRNUCPRO_RUNTIME_MANIFEST) pins one stand-in torch wheel (a zip archive whose
// "libtorch_cuda.so" is not a real library), served with its PEP 691 index page. Download
// it from the Models screen's GPU support panel, see it installed where the backend loader
// looks (VIRNUCPRO_RUNTIME_DIR) with "Restart VirNucPro to use it", then remove it.
// Selectors are the "UI test hooks" of docs/desktop-api.md.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { By } from 'selenium-webdriver';
import { click, freshHome, launch, repo, shown } from './driver.mjs';

const WHEEL = 'torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl';
const LIBRARY = Buffer.alloc(3_000_000, 0x7f);

/** The libtorch the app is built against (torch/version.py, as build.rs reads it). */
function libtorchVersion() {
  const text = readFileSync(join(repo, '.deps/libtorch/torch/version.py'), 'utf8');
  const found = /__version__ = '([^']+)'/.exec(text);
  assert.ok(found, 'a libtorch version in .deps/libtorch/torch/version.py');
  return found[1];
}

/** A zip archive of `members` ([name, bytes]), stored without compression. */
function zip(members) {
  const locals = [];
  const central = [];
  let offset = 0;
  for (const [name, data] of members) {
    const nameBytes = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    locals.push(local, nameBytes, data);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(0x21, 14);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBytes.length, 28);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const home = freshHome();
const wheel = zip([
  ['torch/lib/libtorch_cuda.so', LIBRARY],
  ['torch/__init__.py', Buffer.from('# python\n')],
]);
const sha256 = createHash('sha256').update(wheel).digest('hex');
const requests = [];
let server;
let index;
let app;

before(async () => {
  // The index page (PEP 691 JSON) and the wheel, with byte ranges.
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`.trim());
    if (req.url === '/simple/torch/') {
      const page = { files: [{ filename: WHEEL, url: `/files/${WHEEL}`, hashes: { sha256 }, size: wheel.length }] };
      return res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' }).end(JSON.stringify(page));
    }
    if (req.url !== `/files/${WHEEL}`) return res.writeHead(404).end('not found');
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const part = wheel.subarray(start);
    const headers = { 'content-length': part.length, etag: `"${sha256}"`, 'accept-ranges': 'bytes' };
    if (range) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${wheel.length - 1}/${wheel.length}` });
    else res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : part);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  index = `http://127.0.0.1:${server.address().port}/simple`;
});
after(() => new Promise((r) => server?.close(r)));
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

test('the GPU runtime downloads from the GPU support panel, asks for a restart, and is removed', { timeout: 240_000 }, async () => {
  const libtorch = libtorchVersion();
  const manifest = {
    libtorch,
    cuda: '13.0',
    min_driver: 580,
    index,
    wheels: [{ project: 'torch', version: '2.13.0', filename: WHEEL, size: wheel.length, sha256, unpacked: LIBRARY.length, extract: ['torch/lib/libtorch_cuda.so'] }],
  };
  const manifestPath = join(home, 'runtime.json');
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  const runtimeDir = join(home, 'runtime');
  app = await launch(home, {
    VIRNUCPRO_RUNTIME_MANIFEST: manifestPath,
    VIRNUCPRO_RUNTIME_DIR: runtimeDir,
    PIP_INDEX_URL: '',
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  });
  const { driver } = app;

  await click(driver, 'button[data-screen="models"]');
  await shown(driver, '#gpu-panel[data-state="missing"]');
  await click(driver, '#gpu-download');
  await shown(driver, '#gpu-panel[data-state="installed"]:not([data-job])', 120_000);
  await shown(driver, '#gpu-restart');
  const error = await driver.findElement(By.css('#gpu-error'));
  assert.equal(await error.isDisplayed(), false, `no error: ${await error.getAttribute('textContent')}`);
  assert.match(await driver.findElement(By.css('#gpu-restart')).getText(), /Restart VirNucPro to use it/);

  // Where the backend loader looks for it, byte for byte; the wheel is gone.
  const library = join(runtimeDir, `libtorch-${libtorch}`, 'torch/lib/libtorch_cuda.so');
  assert.deepEqual(readFileSync(library), LIBRARY);
  assert.ok(requests.some((r) => r.startsWith(`GET /files/${WHEEL}`)), requests.join('\n'));

  await click(driver, '#gpu-remove');
  await shown(driver, '#gpu-panel[data-state="missing"]:not([data-job])', 30_000);
  assert.equal(existsSync(library), false, 'removed');
});
