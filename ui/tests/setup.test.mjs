// @ts-check
// The run setup screen: devices, input scan, live validation next to the fields, the Run
// button's reasons, restored settings and the resume offer.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { texts, useBrowser, VALID_SETTINGS, waitForText } from './harness.mjs';

const withApp = useBrowser(before, after);

test('the device list shows each GPU with memory and load, the CPU marked slow, GPUs checked', () =>
  withApp({}, async ({ page }) => {
    const devices = await page.$$eval('#device-list li', (items) =>
      items.map((li) => ({
        id: li.getAttribute('data-device'),
        text: li.textContent,
        checked: /** @type {HTMLInputElement} */ (li.querySelector('input')).checked,
        badge: li.querySelector('.badge')?.textContent ?? null,
      })),
    );
    assert.deepEqual(devices.map((d) => d.id), ['cuda:0', 'cuda:1', 'cpu']);
    assert.match(devices[0]?.text ?? '', /NVIDIA RTX A6000.*45\.2 GiB free of 48\.0 GiB · 3% busy now/);
    assert.match(devices[1]?.text ?? '', /19\.6 GiB free of 48\.0 GiB · 61% busy now/);
    assert.deepEqual(devices.map((d) => d.badge), [null, null, 'slow']);
    assert.match(devices[2]?.text ?? '', /Much slower than a GPU/);
    assert.deepEqual(devices.map((d) => d.checked), [true, true, false]);
    await waitForText(page, '#system-line', 'CUDA backend loaded · 32 cores');
  }));

test('on a machine without GPUs the CPU is chosen and the missing CUDA backend is said', () =>
  withApp({ gpus: 0 }, async ({ page }) => {
    assert.deepEqual(await page.$$eval('#device-list li', (items) => items.map((li) => li.getAttribute('data-device'))), ['cpu']);
    assert.equal(await page.isChecked('#device-cpu'), true);
    await waitForText(page, '#cuda-note', 'CUDA backend of libtorch is not loaded');
  }));

test('with nothing chosen Run is disabled and each field says what it needs', () =>
  withApp({}, async ({ page }) => {
    await waitForText(page, '#run-blockers', 'Output folder: Choose an output folder.');
    assert.equal(await page.isDisabled('#run-button'), true);
    assert.deepEqual(await texts(page, '#run-blockers li'), [
      'Input reads: Add at least one folder or file of reads.',
      'Output folder: Choose an output folder.',
      'DNABERT-S model: Choose the DNABERT-S model folder.',
      'ESM-2 model: Choose the ESM-2 model.',
      'Classifier: Choose the classifier.',
    ]);
    // Empty fields say what they need without being marked as mistakes.
    assert.equal(await page.textContent('#message-out_dir'), 'Choose an output folder.');
    assert.equal(await page.getAttribute('#message-out_dir', 'data-tone'), 'required');
    assert.equal(await page.getAttribute('#path-out_dir', 'aria-invalid'), null);
  }));

test('input folders are scanned: files, size and problems show, and removing a folder clears its problem', () =>
  withApp({ answers: { pick_folders: [['/data/run42/reads'], ['/data/empty']] } }, async ({ page, calls }) => {
    await page.click('#add-input-folders');
    await waitForText(page, '[data-testid=scan-summary]', '3 FASTA files, 1.60 GB in all');
    await page.click('.scan-files summary');
    const rows = await texts(page, '.scan-files tbody tr');
    assert.deepEqual(rows, ['sample_A_R1.fastq.gz1.21 GB—', 'sample_B.fa88.4 MB412,000', 'sample_C.fa.zst301 MB—']);

    await page.click('#add-input-folders');
    await waitForText(page, '[data-testid=scan-problems]', 'no FASTA/FASTQ files in /data/empty');
    await waitForText(page, '#message-inputs', 'no FASTA/FASTQ files in /data/empty');
    assert.deepEqual(await texts(page, '#input-list .path'), ['/data/run42/reads', '/data/empty']);

    await page.click('button[aria-label="Remove /data/empty"]');
    await waitForText(page, '[data-testid=scan-summary]', '3 FASTA files');
    await page.waitForSelector('[data-testid=scan-problems]', { state: 'detached' });
    await waitForText(page, '#message-inputs', /^$/);
    assert.deepEqual((await calls('scan_inputs')).at(-1), { inputs: ['/data/run42/reads'] });
  }));

test('model paths are checked as they are chosen, the problem shown next to the field', () =>
  withApp(
    { answers: { pick_folders: [['/models/DNABERT-S']], pick_file: ['/models/broken.pth', '/models/300_model.pth'] } },
    async ({ page, calls }) => {
      await page.click('[aria-label="DNABERT-S model: Folder"]');
      await waitForText(page, '#message-dnabert', 'DNABERT-S, HF folder, 12 layers x 768');
      assert.equal(await page.getAttribute('#message-dnabert', 'data-tone'), 'ok');

      await page.click('[aria-label="Classifier: File"]');
      await waitForText(page, '#message-classifier', '/models/broken.pth is truncated');
      assert.equal(await page.getAttribute('#message-classifier', 'data-tone'), 'error');
      assert.equal(await page.getAttribute('#path-classifier', 'aria-invalid'), 'true');

      // A usable classifier replaces the problem with its summary. (Its read length against
      // the chosen one is a warning of the shell's, not an error: see the next test; this
      // used to expect a mock-only error that the shell never gave.)
      await page.click('[aria-label="Classifier: File"]');
      await waitForText(page, '#message-classifier', 'MLPClassifier 3328 → 512 → 2, for 300 bp reads');
      assert.equal(await page.getAttribute('#message-classifier', 'data-tone'), 'ok');
      assert.equal(await page.getAttribute('#path-classifier', 'aria-invalid'), null);
      assert.deepEqual((await calls('check_model')).map((a) => a.path), ['/models/DNABERT-S', '/models/broken.pth', '/models/300_model.pth']);
    },
  ));

test('a classifier named for the other read length is a warning at the field that does not block Run', () =>
  withApp({ lastSettings: { ...VALID_SETTINGS, classifier: '/models/300_model.pth' } }, async ({ page }) => {
    await waitForText(
      page,
      '#message-classifier',
      '/models/300_model.pth looks like the classifier for 300 bp reads, but the read length is 500 bp; check that the two belong together',
    );
    assert.equal(await page.getAttribute('#message-classifier', 'data-tone'), 'warning');
    assert.equal(await page.getAttribute('#path-classifier', 'aria-invalid'), null);
    await page.waitForSelector('#run-button:enabled');
    assert.deepEqual(await texts(page, '#run-blockers li'), []);

    // It does not wait for the other settings to be right.
    await page.check('#threads-fixed');
    await page.fill('#threads-count', '64');
    await waitForText(page, '#message-threads', 'must be between 1 and 32');
    await waitForText(page, '#message-classifier', 'looks like the classifier for 300 bp reads');
    assert.equal(await page.getAttribute('#message-classifier', 'data-tone'), 'warning');
    await page.check('#threads-auto');

    await page.click('#length-300');
    await waitForText(page, '#message-classifier', 'MLPClassifier 3328 → 512 → 2, for 300 bp reads');
    assert.equal(await page.getAttribute('#message-classifier', 'data-tone'), 'ok');
    await page.waitForSelector('#run-button:enabled');
  }));

test('valid settings enable Run; an out-of-range thread count blocks it with the reason', () =>
  withApp({ lastSettings: VALID_SETTINGS }, async ({ page, calls }) => {
    await page.waitForSelector('#run-button:enabled');
    assert.deepEqual(await texts(page, '#run-blockers li'), []);

    await page.check('#threads-fixed');
    await page.fill('#threads-count', '64');
    // The engine's words (core::threads), which the mock reproduces.
    await waitForText(page, '#message-threads', 'must be between 1 and 32, the CPU cores of this machine (got 64)');
    await waitForText(page, '#run-blockers', 'Prepare and merge threads: must be between 1 and 32, the CPU cores of this machine (got 64)');
    assert.equal(await page.isDisabled('#run-button'), true);

    await page.fill('#threads-count', '8');
    await page.waitForSelector('#run-button:enabled');
    assert.equal((await calls('validate_settings')).at(-1).settings.threads, 8);
    await page.check('#threads-auto');
    await page.waitForSelector('#run-button:enabled');
    assert.equal((await calls('validate_settings')).at(-1).settings.threads, null);
  }));

test('a thread count that is not a whole number, or none, is said at the field and blocks Run', () =>
  withApp({ lastSettings: VALID_SETTINGS }, async ({ page, calls }) => {
    await page.waitForSelector('#run-button:enabled');
    await page.check('#threads-fixed');
    await page.fill('#threads-count', '4');
    await page.waitForSelector('#run-button:enabled');

    await page.fill('#threads-count', '1.5');
    await waitForText(page, '#message-threads', 'must be a whole number from 1 to 32 (the CPU cores of this machine), not "1.5"');
    await waitForText(page, '#run-blockers', 'Prepare and merge threads: must be a whole number from 1 to 32');
    assert.equal(await page.getAttribute('#threads-count', 'aria-invalid'), 'true');
    assert.equal(await page.isDisabled('#run-button'), true);
    // The shell is never asked with the half-typed value: the settings keep the last count.
    assert.equal((await calls('validate_settings')).at(-1).settings.threads, 4);

    await page.fill('#threads-count', '');
    await waitForText(page, '#message-threads', 'must be a whole number from 1 to 32 (the CPU cores of this machine), or choose Auto');
    assert.equal(await page.isDisabled('#run-button'), true);

    await page.fill('#threads-count', '3');
    await page.waitForSelector('#run-button:enabled');
    assert.deepEqual(await texts(page, '#run-blockers li'), []);
    assert.equal(await page.textContent('#message-threads'), '');
    assert.equal((await calls('validate_settings')).at(-1).settings.threads, 3);

    // Auto replaces whatever the field held.
    await page.fill('#threads-count', '2.5');
    await waitForText(page, '#message-threads', 'not "2.5"');
    await page.check('#threads-auto');
    await page.waitForSelector('#run-button:enabled');
    assert.equal(await page.textContent('#message-threads'), '');
  }));

test('a DNABERT-S folder chosen as ESM-2 is refused at the ESM-2 field, by its kind, and the classifier is fine', () =>
  withApp({ lastSettings: { ...VALID_SETTINGS, esm: '/models/DNABERT-S' } }, async ({ page }) => {
    await waitForText(page, '#message-esm', 'not an ESM-2 checkpoint: /models/DNABERT-S/config.json says model_type "bert"');
    assert.equal(await page.getAttribute('#path-esm', 'aria-invalid'), 'true');
    await waitForText(page, '#message-classifier', 'MLPClassifier 3328 → 512 → 2');
    assert.equal(await page.getAttribute('#path-classifier', 'aria-invalid'), null);
    await waitForText(page, '#run-blockers', 'ESM-2 model: ESM-2 model /models/DNABERT-S: not an ESM-2 checkpoint');
    assert.deepEqual((await texts(page, '#run-blockers li')).map((t) => t.split(':')[0]), ['ESM-2 model']);
  }));

test('Advanced opens by itself when one of its fields has a problem', () =>
  withApp({ lastSettings: { ...VALID_SETTINGS, devices: ['cpu'], precision: 'bf16' } }, async ({ page }) => {
    await waitForText(page, '#message-precision', 'precision bf16 needs a CUDA device; use fp32 on the CPU');
    assert.equal(await page.$eval('#advanced', (d) => /** @type {HTMLDetailsElement} */ (d).open), true);
    await page.selectOption('#precision', 'fp32');
    await page.waitForSelector('#run-button:enabled');
  }));

test('the last-used settings are restored at start-up', () =>
  withApp({ lastSettings: { ...VALID_SETTINGS, length: 300, classifier: '/models/300_model.pth', threads: 12 } }, async ({ page }) => {
    assert.equal(await page.inputValue('#path-out_dir'), '/data/results/new');
    assert.equal(await page.inputValue('#path-classifier'), '/models/300_model.pth');
    assert.deepEqual(await texts(page, '#input-list .path'), ['/data/run42/reads']);
    assert.equal(await page.isChecked('#length-300'), true);
    assert.equal(await page.inputValue('#threads-count'), '12');
    await waitForText(page, '#status-bar', 'Restored the settings of the last run.');
    await page.waitForSelector('#run-button:enabled');
  }));

test('an output folder holding an earlier run offers Resume and Start over instead of Run', () =>
  withApp({ resumable: { '/data/results/new': 'cancelled' }, lastSettings: VALID_SETTINGS }, async ({ page, calls }) => {
    await waitForText(page, '#resume-text', 'This output folder holds an earlier run (cancelled; finished: Prepare reads, DNABERT-S embeddings).');
    assert.equal(await page.isHidden('#run-button'), true);
    assert.equal(await page.isHidden('#use-resume-settings'), true, 'same settings: nothing to adopt');
    assert.deepEqual(await calls('find_resumable'), [{ out_dir: '/data/results/new', samples: [] }]);

    await page.click('#resume-button');
    await page.waitForSelector('#run-summary:not([hidden])');
    assert.equal((await calls('start_run'))[0].restart, false);
    await waitForText(page, 'tr[data-stage=prepare] th', 'resumed: finished earlier');
    await waitForText(page, 'tr[data-stage=merge] th', 'to do: not done yet');
  }));

test('Start over restarts every stage, and other settings in the folder can be adopted', () =>
  withApp({ resumable: { '/data/results/new': 'failed' }, lastSettings: { ...VALID_SETTINGS, devices: ['cuda:0'] } }, async ({ page, calls }) => {
    await waitForText(page, '#resume-differs', 'Its settings differ from the ones above');
    await page.click('#use-resume-settings');
    await page.waitForSelector('#use-resume-settings', { state: 'hidden' });
    assert.equal(await page.isChecked('#device-cuda-1'), true);

    await page.click('#restart-button');
    await page.waitForSelector('#run-summary:not([hidden])');
    const [start] = await calls('start_run');
    assert.equal(start.restart, true);
    assert.deepEqual(start.settings.devices, ['cuda:0', 'cuda:1']);
    await waitForText(page, 'tr[data-stage=prepare] th', 'redone: starting over');
  }));

test('the setup works from the keyboard: Tab reaches the controls, Enter and Space use them', () =>
  withApp({}, async ({ page, calls }) => {
    /** Presses Tab until the element matching `selector` has the focus. @param {string} selector */
    const tabTo = async (selector) => {
      for (let i = 0; i < 40; i += 1) {
        await page.keyboard.press('Tab');
        if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
      }
      assert.fail(`Tab never reached ${selector}`);
    };
    await tabTo('#add-input-folders');
    await page.keyboard.press('Enter');
    await waitForText(page, '#input-list', '/data/run42/reads');
    await tabTo('#device-cpu');
    await page.keyboard.press('Space');
    assert.equal(await page.isChecked('#device-cpu'), true);
    await page.waitForFunction(() =>
      // @ts-ignore: the mock's call log
      window.__VIRNUCPRO_MOCK_CALLS__.some((c) => c.cmd === 'validate_settings' && c.args.settings.devices.includes('cpu')),
    );
    await tabTo('#advanced summary');
    await page.keyboard.press('Enter');
    assert.equal(await page.$eval('#advanced', (d) => /** @type {HTMLDetailsElement} */ (d).open), true);
    assert.ok((await calls('pick_folders')).length === 1);
  }));
