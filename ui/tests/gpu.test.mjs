// @ts-check
// GPU support against the mock backend: the Setup screen says why CUDA is not used on a
// CPU-only machine and leads to the panel; the panel's state, versions, sizes, folder and
// driver line; a download with live progress and unpacking to "installed" with "Restart
// VirNucPro to use it"; cancel (Resume goes on from the bytes kept); remove; a too-old
// driver named with both versions, and Download refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { useBrowser, waitForText } from './harness.mjs';

const withApp = useBrowser(before, after);
const FOLDER = '/home/user/.local/share/virnucpro/runtime/libtorch-2.13.0+cu130';

/** @param {import('playwright-core').Page} page */
async function openPanel(page) {
  await page.click('button[data-screen="models"]');
  await page.waitForSelector('#gpu-panel[data-state]');
}

/** @param {import('playwright-core').Page} page @param {string} state */
const waitForState = (page, state, timeout = 5000) => page.waitForSelector(`#gpu-panel[data-state="${state}"]:not([data-job])`, { timeout });

test('on a CPU-only machine Setup says why CUDA is not used and leads to the GPU support panel', () =>
  withApp({ gpus: 0 }, async ({ page }) => {
    await page.waitForSelector('#cuda-why:not([hidden])');
    await waitForText(page, '#why-not-cuda', /GPU runtime .* is not installed/);
    await page.click('#open-gpu-support');
    await page.waitForSelector('#gpu-panel[data-state="missing"]');
    assert.equal(await page.isVisible('#gpu-panel'), true);
    await waitForText(page, '#gpu-state', 'not installed');
    await waitForText(page, '#gpu-versions', 'libtorch 2.13.0+cu130 with CUDA 13.0');
    await waitForText(page, '#gpu-size', '2.58 GB to download, 3.33 GB unpacked');
    await waitForText(page, '#gpu-folder', FOLDER);
    await waitForText(page, '#gpu-driver', 'NVIDIA driver 580.95.05 (CUDA 13.0 needs 580 or newer): ok');
    await waitForText(page, '#gpu-why-not', /Why CUDA is not used: the GPU runtime/);
    assert.equal((await page.textContent('#gpu-download'))?.trim(), 'Download');
    assert.equal(await page.isDisabled('#gpu-remove'), true, 'nothing to remove');
  }));

test('with GPUs, Setup shows no reason and the panel shows the runtime installed and in use', () =>
  withApp({}, async ({ page }) => {
    await page.waitForSelector('#device-list li[data-device="cuda:0"]');
    assert.equal(await page.isHidden('#cuda-why'), true);
    await openPanel(page);
    await waitForState(page, 'installed');
    await waitForText(page, '#gpu-size', '3.33 GB installed');
    assert.equal(await page.isHidden('#gpu-download'), true);
    assert.equal(await page.isHidden('#gpu-restart'), true, 'in use: no restart needed');
    assert.equal(await page.isHidden('#gpu-why-not'), true);
  }));

test('a download shows bytes, percent, rate, time left and unpacking, then asks for a restart', () =>
  withApp({ gpus: 0, modelSteps: 20, eventIntervalMs: 30, holdRuntimeUnpacking: true }, async ({ page, calls }) => {
    await openPanel(page);
    await page.click('#gpu-download');
    await page.waitForSelector('#gpu-panel[data-job="fetch"]');
    await waitForText(page, '#gpu-progress', /GB of 2\.58 GB · \d+ % · 96\.0 MB\/s · \d+ s left/);
    assert.equal(await page.isVisible('#gpu-cancel'), true);
    assert.equal(await page.isHidden('#gpu-download'), true);
    const value = await page.$eval('#gpu-bar', (p) => /** @type {HTMLProgressElement} */ (p).value);
    assert.ok(value > 0, 'the bar moves');
    // The mock holds at the first wheel's unpacking: a page drawn slowly under load would
    // otherwise miss a step that lasts one event interval.
    await waitForText(page, '#gpu-progress', /unpacking torch-2\.13\.0.*\.whl…/);
    await page.evaluate(() => {
      /** @type {any} */ (window).__VIRNUCPRO_MOCK__.holdRuntimeUnpacking = false;
    });
    await waitForState(page, 'installed');
    await page.waitForSelector('#gpu-restart:not([hidden])');
    await waitForText(page, '#gpu-restart', 'Restart VirNucPro to use it');
    await waitForText(page, '#status-bar', 'GPU runtime installed: restart VirNucPro to use it.');
    assert.equal((await calls('fetch_gpu_runtime')).length, 1);
    // Remove takes it away again.
    await page.click('#gpu-remove');
    await waitForState(page, 'missing');
    assert.equal(await page.isHidden('#gpu-restart'), true);
    assert.equal((await calls('remove_gpu_runtime')).length, 1);
  }));

test('cancel keeps what was downloaded and Resume goes on from there', () =>
  withApp({ gpus: 0, holdRuntimeAt: 0.4 }, async ({ page, calls }) => {
    await openPanel(page);
    await page.click('#gpu-download');
    await waitForText(page, '#gpu-progress', / %/);
    await page.click('#gpu-cancel');
    await waitForState(page, 'partial');
    await waitForText(page, '#gpu-progress', /Cancelled\. .*GB kept; Resume goes on from there\./);
    await waitForText(page, '#gpu-size', /GB of 2\.58 GB downloaded/);
    assert.equal((await page.textContent('#gpu-download'))?.trim(), 'Resume');
    assert.equal((await calls('cancel_gpu_runtime')).length, 1);
    await page.evaluate(() => {
      /** @type {any} */ (window).__VIRNUCPRO_MOCK__.holdRuntimeAt = null;
    });
    await page.click('#gpu-download');
    await waitForState(page, 'installed', 15000);
  }));

test('a driver too old for CUDA 13 is named with both versions, and a download is refused', () =>
  withApp({ gpus: 0, driver: '575.57.08' }, async ({ page }) => {
    await openPanel(page);
    await page.waitForSelector('#gpu-driver[data-driver="too-old"]');
    await waitForText(page, '#gpu-driver', /575\.57\.08 is too old for CUDA 13\.0, which needs driver 580 or newer/);
    assert.equal(await page.isDisabled('#gpu-download'), true);
  }));

test('without a driver the runtime can still be installed, and the panel says a GPU needs one', () =>
  withApp({ gpus: 0, driver: null, gpuRuntime: 'partial' }, async ({ page }) => {
    await openPanel(page);
    await page.waitForSelector('#gpu-driver[data-driver="no-driver"]');
    await waitForText(page, '#gpu-driver', /no NVIDIA driver found: .*needs driver 580 or newer/);
    assert.equal((await page.textContent('#gpu-download'))?.trim(), 'Resume');
    assert.equal(await page.isEnabled('#gpu-download'), true);
  }));
