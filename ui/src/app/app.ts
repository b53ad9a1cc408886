// The application frame: header, screen navigation, status bar, and start-up (system
// info, presets and the last-used settings, asked for together).
import type { Api } from '../api/client';
import type { RunSettings } from '../api/types';
import { failuresScreen } from '../failures/failures-screen';
import { modelsScreen } from '../models/models-screen';
import { presetsScreen } from '../presets/presets-screen';
import { resultsScreen } from '../results/results-screen';
import { createRunController } from '../run/run-controller';
import { runScreen } from '../run/run-screen';
import { fillModelDefaults } from '../setup/model-defaults';
import { syncSettings } from '../setup/settings-sync';
import { setupScreen } from '../setup/setup-screen';
import { h } from '../ui/dom';
import { errorText, reportFailure, type AppContext, type Tone } from './context';
import type { Screen } from './screen';
import { createAppStore, defaultSettings, type ScreenName } from './state';

const SCREENS: { name: ScreenName; title: string }[] = [
  { name: 'setup', title: 'Setup' },
  { name: 'presets', title: 'Presets' },
  { name: 'models', title: 'Models' },
  { name: 'run', title: 'Run' },
  { name: 'failures', title: 'Failures' },
  { name: 'results', title: 'Results' },
];

export async function startApp(root: HTMLElement, api: Api): Promise<void> {
  const store = createAppStore();
  const runs = createRunController(api, store);
  const statusBar = h('p', { class: 'status-bar', id: 'status-bar', role: 'status', 'data-tone': 'info' });
  const systemLine = h('p', { class: 'system-line', id: 'system-line' });
  let lastNotice = { message: '', fresh: false };
  // What the status bar said when the run started, when the action that started it said
  // it ("Moved 4 files …; retrying."), and what the run put there.
  let runNotice = { kept: '', shown: '' };

  const ctx: AppContext = {
    api,
    store,
    runs,
    notify(message: string, tone: Tone = 'info') {
      statusBar.dataset['tone'] = tone;
      statusBar.textContent = message;
      // Fresh until the current task ends: a run started in the same task (Set aside and
      // retry) was started by the action that said it.
      lastNotice = { message, fresh: true };
      setTimeout(() => (lastNotice.fresh = false), 0);
    },
    navigate: (screen) => show(screen, true),
    updateSettings(patch: Partial<RunSettings>) {
      const { settings, draftProblems } = store.get();
      // A new value for a field replaces whatever unfinished text it held.
      store.set({ settings: { ...settings, ...patch }, draftProblems: draftProblems.filter((p) => !(p.field in patch)) });
    },
  };

  const build: Record<ScreenName, () => Screen> = {
    setup: () => ({ element: setupScreen(ctx) }),
    presets: () => ({ element: presetsScreen(ctx) }),
    models: () => modelsScreen(ctx),
    run: () => ({ element: runScreen(ctx) }),
    failures: () => failuresScreen(ctx),
    results: () => resultsScreen(ctx),
  };
  const screens = new Map(
    SCREENS.map(({ name, title }) => {
      const screen = build[name]();
      const headingId = `screen-${name}-title`;
      const section = h(
        'section',
        { class: 'screen', id: `screen-${name}`, 'aria-labelledby': headingId, hidden: true },
        h('h2', { id: headingId, tabindex: -1 }, title),
        screen.element,
      );
      return [name, { ...screen, section }];
    }),
  );
  const navButtons = new Map(
    SCREENS.map(({ name, title }) => [
      name,
      h('button', { type: 'button', 'data-screen': name, onclick: () => show(name, false) }, title),
    ]),
  );

  function show(name: ScreenName, moveFocus: boolean): void {
    for (const [other, screen] of screens) screen.section.hidden = other !== name;
    for (const [other, button] of navButtons) {
      if (other === name) button.setAttribute('aria-current', 'page');
      else button.removeAttribute('aria-current');
    }
    const screen = screens.get(name);
    screen?.onShow?.();
    // After an action elsewhere switched screens, land the keyboard on the new heading.
    if (moveFocus) screen?.section.querySelector<HTMLElement>('h2')?.focus();
  }

  store.subscribe((state, previous) => {
    if (state.running !== previous.running) {
      navButtons.get('run')?.toggleAttribute('data-running', state.running);
      // The status bar says what is going on now, not what was done before the run
      // ("Loaded preset …" for a whole run); what the action that started the run said
      // stays in front.
      if (state.running) {
        runNotice.kept = lastNotice.fresh ? `${lastNotice.message} ` : '';
      }
      const said = runMessage(ctx, state.running);
      // At the end, only what the run put there is replaced: a later notice stays.
      if (said !== null && (state.running || statusBar.textContent === runNotice.shown)) {
        ctx.notify(runNotice.kept + said.message, said.tone);
        runNotice = { ...runNotice, shown: runNotice.kept + said.message };
      }
    }
  });

  root.replaceChildren(
    h(
      'header',
      { class: 'app-header' },
      h('h1', {}, 'VirNucPro ', h('span', { class: 'muted' }, 'Desktop')),
      systemLine,
    ),
    h('nav', { class: 'app-nav', 'aria-label': 'Screens' }, h('ul', {}, [...navButtons.values()].map((b) => h('li', {}, b)))),
    h('main', { class: 'app-main' }, [...screens.values()].map((s) => s.section)),
    h('footer', { class: 'app-footer' }, statusBar),
  );
  show('setup', false);

  const [system, presets, last] = await Promise.all([
    api.systemInfo().catch((reason: unknown) => {
      reportFailure(ctx, 'read the devices', reason);
      return null;
    }),
    api.listPresets().catch((reason: unknown) => {
      reportFailure(ctx, 'list the presets', reason);
      return [];
    }),
    api.lastSettings().catch(() => null),
  ]);
  systemLine.textContent =
    system === null
      ? 'Devices unknown'
      : `app ${system.app_version} · libtorch ${system.libtorch_version} · ${system.cuda_loaded ? 'CUDA backend loaded' : 'CPU only'} · ${system.cores} cores`;
  store.set({ system, presets, settings: last ?? defaultSettings(system), started: true });
  if (last !== null) ctx.notify('Restored the settings of the last run.');
  syncSettings(api, store);
  fillModelDefaults(api, store);
  root.dataset['ready'] = 'true';
}

/** What the status bar says as a run starts or ends. */
function runMessage(ctx: AppContext, running: boolean): { message: string; tone: Tone } | null {
  const progress = ctx.runs.progress();
  if (progress === null) return null;
  if (running) return { message: `Running in ${progress.outDir}.`, tone: 'info' };
  const summary = progress.summary;
  if (summary === null) return { message: `The run stopped: ${progress.error ?? 'no summary'}.`, tone: 'error' };
  const ended = summary.status === 'cancelled' ? 'Run cancelled; it can be resumed' : `Run finished: ${summary.status}`;
  const good = summary.status === 'ok' || summary.status === 'cancelled';
  return { message: `${ended} (${progress.outDir}).`, tone: good ? 'info' : 'error' };
}

export function showStartupError(root: HTMLElement, reason: unknown): void {
  root.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, `VirNucPro could not start: ${errorText(reason)}`));
}
