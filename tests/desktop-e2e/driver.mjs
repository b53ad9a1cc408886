// Starts the real app through tauri-driver (WebKitWebDriver underneath) and gives the tests
// a selenium session plus small helpers. Needs a display: run under `xvfb-run` (make test).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Builder, By, until } from 'selenium-webdriver';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '../..');
export const screenshots = join(repo, 'docs/screenshots');
const port = Number(process.env.TAURI_DRIVER_PORT ?? 4444);
// WebKitWebDriver's port under tauri-driver (its default).
const nativePort = port + 1;

/** The custom-protocol debug build (`make app-build`); VIRNUCPRO_DESKTOP_BIN overrides. */
export function appBinary() {
  const target = process.env.CARGO_TARGET_DIR ?? join(repo, 'target');
  const bin = process.env.VIRNUCPRO_DESKTOP_BIN ?? join(target, 'debug/virnucpro-desktop');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build it with \`make app-build\``);
  return bin;
}

async function waitForPort(child, deadline) {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`tauri-driver exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/status`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('tauri-driver did not start listening in time');
}

/** Until nothing answers on `port`: a driver of the previous launch that is still going
 * away would otherwise take the new session (and start an app nobody closes). */
async function waitForPortFree(port, deadline) {
  while (Date.now() < deadline) {
    try {
      await fetch(`http://127.0.0.1:${port}/status`);
    } catch {
      return; // refused: free
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`port ${port} is still taken by an earlier WebDriver server`);
}

/** `{ state, ppid }` of a process from /proc/PID/stat, or null when it is gone. */
function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid) };
  } catch {
    return null;
  }
}

/** Running: neither gone nor a zombie. */
function alive(pid) {
  const stat = procStat(pid);
  return stat !== null && stat.state !== 'Z';
}

/** Live processes below `pid` (Linux /proc; zombies count as gone). */
function descendants(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat === null) continue; // gone while we looked
    if (!children.has(stat.ppid)) children.set(stat.ppid, []);
    children.get(stat.ppid).push(Number(entry));
  }
  const found = [];
  const stack = [pid];
  while (stack.length > 0) {
    for (const child of children.get(stack.pop()) ?? []) {
      if (alive(child)) found.push(child);
      stack.push(child);
    }
  }
  return found;
}

/** A fresh home for the app's files (presets, demo output), never the user's. */
export function freshHome() {
  return mkdtempSync(join(tmpdir(), 'virnucpro-e2e-'));
}

/** Launch the app with its data in `home` (XDG folders), plus `extraEnv` (a model
 * catalogue, an HF endpoint). Returns { driver, dataHome, stop }. */
export async function launch(home, extraEnv = {}) {
  const dataHome = join(home, 'data');
  mkdirSync(dataHome, { recursive: true });
  const env = {
    ...process.env,
    XDG_DATA_HOME: dataHome,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CACHE_HOME: join(home, 'cache'),
    // The model caches follow XDG_CACHE_HOME only when these are unset (empty counts as
    // unset): never the user's own caches.
    HF_HUB_CACHE: '',
    HUGGINGFACE_HUB_CACHE: '',
    HF_HOME: '',
    TORCH_HOME: '',
    VIRNUCPRO_CACHE: '',
    // The GTK file chooser's dconf warnings otherwise (../shared/docs/tauri.md).
    GSETTINGS_BACKEND: 'memory',
    ...extraEnv,
  };
  for (const p of [port, nativePort]) await waitForPortFree(p, Date.now() + 15_000);
  const tauriDriver = spawn('tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitForPort(tauriDriver, Date.now() + 30_000);
  const driver = await new Builder()
    .usingServer(`http://127.0.0.1:${port}/`)
    .withCapabilities({ browserName: 'wry', 'tauri:options': { application: appBinary() } })
    .build();
  /** End the session and tauri-driver. `appClosed`: the app has already exited (its
   * window was closed), so the session cannot end cleanly and that is not an error. */
  async function stop({ appClosed = false } = {}) {
    // WebKitWebDriver, the app and its web processes. Ending the session sometimes ends
    // only the web process and leaves the app's (blank) window open; such an app would
    // outlive the test and keep the runner's output pipe open, so it is killed below.
    const tree = descendants(tauriDriver.pid);
    try {
      await withTimeout(driver.quit(), 15_000, 'closing the app').catch((e) => {
        if (!appClosed) throw e;
      });
    } finally {
      const exited = new Promise((r) => tauriDriver.once('exit', r));
      tauriDriver.kill('SIGTERM');
      await withTimeout(exited, 5_000, 'tauri-driver exit').catch(() => tauriDriver.kill('SIGKILL'));
      tauriDriver.unref();
      const deadline = Date.now() + 5_000;
      while (tree.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      for (const pid of tree.filter(alive)) {
        console.error(`driver.mjs: process ${pid} outlived the WebDriver session; killing it`);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }
    }
  }
  return { driver, dataHome, stop };
}

/** The element for a CSS selector, once it is there and shown. */
export async function shown(driver, css, timeout = 30_000) {
  const element = await driver.wait(until.elementLocated(By.css(css)), timeout, `${css} never appeared`);
  await driver.wait(until.elementIsVisible(element), timeout, `${css} never became visible`);
  return element;
}

/** Click `css` once it is enabled, scrolled to the middle of the window first (the
 * window is 1280x800; a button may sit below the fold or under the status bar). */
export async function click(driver, css, timeout = 30_000) {
  const element = await shown(driver, css, timeout);
  await driver.wait(until.elementIsEnabled(element), timeout, `${css} stayed disabled`);
  await driver.executeScript("arguments[0].scrollIntoView({ block: 'center' })", element);
  await element.click();
  return element;
}

/** `promise`, or a rejection naming `what` after `ms`. */
export async function withTimeout(promise, ms, what) {
  let timer;
  const guard = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A PNG of the window into docs/screenshots/NAME.png. Guarded by a timeout: WebKitWebDriver
 * screenshots can hang (tauri.md); a hung one fails the test instead of blocking it.
 */
export async function screenshot(driver, name, timeout = 20_000) {
  // Two animation frames: the page has painted what the DOM already says.
  await withTimeout(
    driver.executeAsyncScript('const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(done));'),
    timeout,
    `painting before screenshot ${name}`,
  );
  const png = await withTimeout(driver.takeScreenshot(), timeout, `screenshot ${name}`);
  mkdirSync(screenshots, { recursive: true });
  writeFileSync(join(screenshots, `${name}.png`), Buffer.from(png, 'base64'));
}

/** `count` reads of 500 bp, each 166 random sense codons (no stop) and two bases, so that
 * its first frame becomes a (DNA, protein) pair that is embedded; random bases alone give
 * stop codons in nearly every frame, and a run that embeds nothing ends in seconds.
 * `seed` fixes them; IDs are `${prefix}_N`. */
export async function writeOrfReads(path, count, { seed = 42, prefix = 'long' } = {}) {
  const bases = 'ACGT';
  const sense = [];
  for (const a of bases) for (const b of bases) for (const c of bases) if (!['TAA', 'TAG', 'TGA'].includes(a + b + c)) sense.push(a + b + c);
  const out = createWriteStream(path);
  let state = seed;
  const next = (n) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  for (let read = 0; read < count; read++) {
    const codons = [];
    for (let i = 0; i < 166; i++) codons.push(sense[next(sense.length)]);
    if (!out.write(`>${prefix}_${read}\n${codons.join('')}${bases[next(4)]}${bases[next(4)]}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Settings of a run of `inputs` into `outDir` with the demo models on the CPU. */
export function demoModelSettings(inputs, outDir) {
  const models = join(repo, 'demo/models');
  return {
    inputs,
    out_dir: outDir,
    dnabert: join(models, 'dnabert_s_tiny'),
    esm: join(models, 'esm2_tiny/esm2_t2_tiny_fixture.pt'),
    classifier: join(models, 'classifier_500_tiny.pth'),
    length: 500,
    devices: ['cpu'],
    threads: null,
    precision: 'fp32',
    batch_tokens: null,
  };
}

/** The app's store file (src-tauri/src/paths.rs) in `home`, holding `preset` as if saved earlier. */
export function storePreset(home, preset) {
  const dataDir = join(home, 'data/org.virnucpro.desktop');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ presets: { [preset.name]: preset } }));
}
