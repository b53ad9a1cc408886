// @ts-check
// The real build: no mock backend in it, and nothing inline that the shell's CSP would block.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const CONFIG = fileURLToPath(new URL('../vite.config.ts', import.meta.url));
const MOCK_DIST = fileURLToPath(new URL('../dist-mock/', import.meta.url));
// Strings only the mock backend contains.
const MOCK_MARKERS = ['__VIRNUCPRO_MOCK__', 'Gut metagenomes', '/models/esm2_t36_3B_UR50D.pt'];

/** @param {string} dir */
async function filesIn(dir) {
  /** @type {Map<string, string>} */
  const files = new Map();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files.set(path.slice(dir.length), await readFile(path, 'utf8'));
    }
  }
  return files;
}

test('the production build holds no mock code and no inline script or style', async () => {
  const outDir = await mkdtemp(join(tmpdir(), 'virnucpro-ui-'));
  try {
    await build({ configFile: CONFIG, mode: 'production', logLevel: 'silent', build: { outDir, emptyOutDir: true } });
    const files = await filesIn(outDir);
    assert.ok([...files.keys()].some((f) => f.endsWith('.js')), 'the build wrote scripts');
    for (const [name, text] of files) {
      for (const marker of MOCK_MARKERS) assert.ok(!text.includes(marker), `${name} contains ${marker}`);
    }
    const html = files.get('/index.html') ?? '';
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'inline script');
    assert.doesNotMatch(html, /<style|\sstyle=/, 'inline style');
    assert.doesNotMatch(html, /https?:\/\//, 'remote content');
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
});

test('the mock build does hold the mock (so the check above can fail)', async () => {
  const text = [...(await filesIn(MOCK_DIST)).values()].join('\n');
  for (const marker of MOCK_MARKERS) assert.ok(text.includes(marker), marker);
});
