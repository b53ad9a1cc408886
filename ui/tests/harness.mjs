// @ts-check
// Shared by the UI tests: serves the mock build on localhost with the shell's CSP, drives
// Debian's Chromium through playwright-core, and opens the app with a mock configuration.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const DIST = fileURLToPath(new URL('../dist-mock/', import.meta.url));
const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
// From ../shared/docs/tauri.md: what keeps Debian's Chromium quiet and offline in tests.
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
// What src-tauri sets: nothing inline, nothing remote.
export const CSP = "default-src 'self'";
const TYPES = /** @type {Record<string, string>} */ ({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
});

/** Serves the mock build; resolves with its URL and a close function. */
export async function serveMockBuild() {
  if (!existsSync(join(DIST, 'index.html'))) {
    throw new Error(`${DIST} is missing: run \`npm run ui:build:mock\` (npm run ui:test does) first`);
  }
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(DIST, path.endsWith('/') ? 'index.html' : path);
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-security-policy': CSP });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup-desktop-ui.sh`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/**
 * @typedef {{ cmd: string, args: any }} Call
 * @typedef {{
 *   page: import('playwright-core').Page,
 *   calls: (cmd: string) => Promise<any[]>,
 *   status: () => Promise<string>,
 *   close: (check?: boolean) => Promise<void>,
 * }} App
 */

/**
 * A tab reused by the tests of a file: each test navigates it to a fresh document (a new
 * page per test would start a renderer each time, most of a short test's cost). The mock
 * configuration travels in the URL and an init script hands it to the mock.
 * @param {import('playwright-core').Browser} browser
 */
async function openTab(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  /** @type {string[]} */
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  await page.addInitScript(() => {
    const config = new URLSearchParams(location.search).get('mock');
    // @ts-ignore: the mock reads it at start-up
    if (config !== null) window.__VIRNUCPRO_MOCK__ = JSON.parse(config);
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  return { context, page, problems };
}

/**
 * Loads the app with `config` merged over fast test defaults (no latency, quick runs) and
 * waits until start-up finished. `close` fails the test on any page error, console error
 * or CSP violation seen meanwhile.
 * @param {Awaited<ReturnType<typeof openTab>>} tab
 * @param {string} url
 * @param {Record<string, unknown>} config
 * @returns {Promise<App>}
 */
async function openApp({ page, problems }, url, config) {
  problems.length = 0;
  const mock = JSON.stringify({ latencyMs: 0, eventIntervalMs: 3, progressSteps: 8, ...config });
  await page.goto(`${url}?mock=${encodeURIComponent(mock)}`);
  await page.waitForSelector('#app[data-ready]');
  return {
    page,
    // @ts-ignore: set by the mock backend
    calls: (cmd) => page.evaluate((name) => window.__VIRNUCPRO_MOCK_CALLS__.filter((c) => c.cmd === name).map((c) => c.args), cmd),
    status: async () => (await page.textContent('#status-bar')) ?? '',
    close: async (check = true) => {
      // Leave the app, so nothing of it (a run's timers) reaches the next test.
      await page.goto('about:blank');
      if (check) assert.deepEqual([...problems], [], 'the page reported errors');
    },
  };
}

/**
 * Runs the tests of one file against one browser, one tab and one server.
 * @param {import('node:test').before} before
 * @param {import('node:test').after} after
 */
export function useBrowser(before, after) {
  /** @type {{ browser: import('playwright-core').Browser, tab: Awaited<ReturnType<typeof openTab>>, url: string, close: () => Promise<unknown> }} */
  const env = /** @type {any} */ ({});
  before(async () => {
    const [server, browser] = await Promise.all([serveMockBuild(), launchBrowser()]);
    Object.assign(env, { browser, tab: await openTab(browser), url: server.url, close: server.close });
  });
  after(async () => {
    await env.browser?.close();
    await env.close?.();
  });
  /**
   * Loads the app, runs `body`, then checks for page errors unless body failed.
   * @param {Record<string, unknown>} config
   * @param {(app: App) => Promise<void>} body
   */
  return async (config, body) => {
    const app = await openApp(env.tab, env.url, config);
    try {
      await body(app);
    } catch (error) {
      // The test's own failure is the one to report; page errors would only hide it.
      await app.close(false);
      throw error;
    }
    await app.close();
  };
}

/** Settings the mock accepts as runnable, in a folder without an earlier run. */
export const VALID_SETTINGS = {
  ...JSON.parse(readFileSync(new URL('../src/api/mock/gpu-settings.json', import.meta.url), 'utf8')),
  inputs: ['/data/run42/reads'],
  out_dir: '/data/results/new',
};

/**
 * Waits until the text of `selector` matches `expected`; on timeout fails with the text
 * it had, which says more than "timeout".
 * @param {import('playwright-core').Page} page
 * @param {string} selector
 * @param {string | RegExp} expected a substring or a pattern
 */
export async function waitForText(page, selector, expected, timeout = 5000) {
  const pattern = typeof expected === 'string' ? { source: escapeRegExp(expected), flags: '' } : { source: expected.source, flags: expected.flags };
  try {
    await page.waitForFunction(
      ({ selector, source, flags }) => {
        const el = document.querySelector(selector);
        return el !== null && new RegExp(source, flags).test(el.textContent ?? '');
      },
      { selector, ...pattern },
      { timeout },
    );
  } catch {
    const actual = await page.textContent(selector).catch(() => null);
    assert.fail(`${selector}: expected ${String(expected)}, found ${JSON.stringify(actual)}`);
  }
}

/** @param {string} text */
function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The texts of every element matching `selector`.
 * @param {import('playwright-core').Page} page
 * @param {string} selector
 */
export function texts(page, selector) {
  return page.$$eval(selector, (els) => els.map((el) => (el.textContent ?? '').trim()));
}

/**
 * Starts a run from the setup screen and waits for its summary.
 * @param {import('playwright-core').Page} page
 * @param {string} [button] the button that starts it
 */
export async function runToEnd(page, button = '#run-button') {
  await page.click(button);
  await page.waitForSelector('#run-summary:not([hidden])', { timeout: 15000 });
}
