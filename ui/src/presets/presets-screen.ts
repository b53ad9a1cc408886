// Presets: save the current settings under a name; load, rename, duplicate, export, delete
// and import them. Rename and delete are confirmed in the row itself (no native dialogs).
import type { ListedPreset, Preset, RunSettings } from '../api/types';
import { errorText, reportFailure, type AppContext } from '../app/context';
import { h, replaceChildren, tableHead } from '../ui/dom';
import { baseName } from '../ui/format';
import { messageLine } from '../ui/message-line';
import { BUILT_IN_PRESET, loadPreset } from './load-preset';
const PRESET_FILTER = { name: 'VirNucPro preset', extensions: ['json'] };

type RowMode = { name: string; mode: 'rename' | 'delete' } | null;

async function refreshPresets(ctx: AppContext): Promise<void> {
  try {
    ctx.store.set({ presets: await ctx.api.listPresets() });
  } catch (reason) {
    reportFailure(ctx, 'list the presets', reason);
  }
}

/** `base`, or `base 2`, `base 3`, … whichever no preset has yet. */
function unusedName(base: string, presets: Preset[]): string {
  const taken = new Set(presets.map((p) => p.name));
  if (!taken.has(base)) return base;
  let n = 2;
  while (taken.has(`${base} ${n}`)) n += 1;
  return `${base} ${n}`;
}

/** The folder and name of a path (`run43/reads`): two presets' `reads` folders differ. */
function shortPath(path: string): string {
  const parent = baseName(path.slice(0, path.length - baseName(path).length).replace(/[\\/]+$/, ''));
  return parent === '' ? baseName(path) : `${parent}/${baseName(path)}`;
}

function listOf(paths: string[], most: number): string {
  const shown = paths.slice(0, most).map(shortPath).join(', ');
  return paths.length > most ? `${shown} and ${paths.length - most} more` : shown || 'none chosen';
}

function describeDevices(devices: string[]): string {
  if (devices.length === 0) return 'no device';
  const gpus = devices.filter((d) => d !== 'cpu');
  const cpu = devices.includes('cpu') ? ['CPU'] : [];
  const gpuText = gpus.length === 0 ? [] : [`${gpus.length === 1 ? 'GPU' : `${gpus.length} GPUs`} (${gpus.join(', ')})`];
  return [...gpuText, ...cpu].join(' + ');
}

/** What a preset reads: its inputs, or with samples (which are then the inputs) their
 * names, each sample's files in the title. */
function describeReads(s: RunSettings): HTMLElement {
  if (s.samples.length === 0) return h('div', { title: s.inputs.join('\n') }, h('span', { class: 'label' }, 'Reads: '), listOf(s.inputs, 2));
  const names = s.samples.map((sample) => sample.name);
  const shown = names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
  const title = s.samples.map((sample) => `${sample.name}: ${sample.inputs.join(', ')}`).join('\n');
  return h('div', { title }, h('span', { class: 'label' }, s.samples.length === 1 ? '1 sample: ' : `${s.samples.length} samples: `), shown);
}

/** What tells presets apart: their reads, models and devices, each path's full form in
 * its title. */
function describe(preset: ListedPreset): HTMLElement {
  const s: RunSettings = preset.settings;
  const models = [s.dnabert, s.esm, s.classifier].filter((p) => p !== '');
  return h(
    'div',
    { class: 'preset-summary' },
    describeReads(s),
    h('div', { title: models.join('\n') }, h('span', { class: 'label' }, 'Models: '), models.map(baseName).join(' · ') || 'none chosen'),
    h('div', {}, `${s.length} bp · ${describeDevices(s.devices)}`),
    preset.missing.length > 0 &&
      h('div', { class: 'error-text', title: preset.missing.join('\n') }, h('span', { class: 'label' }, 'Gone: '), listOf(preset.missing, 2)),
  );
}

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function formatUpdated(rfc3339: string): string {
  const date = new Date(rfc3339);
  return Number.isNaN(date.getTime()) ? rfc3339 : DATE_TIME.format(date);
}

export function presetsScreen(ctx: AppContext): HTMLElement {
  let rowMode: RowMode = null;
  // The name waiting for "Replace" when Save would overwrite an existing preset.
  let overwriting: string | null = null;

  const act = async (action: string, work: () => Promise<string>) => {
    try {
      const done = await work();
      rowMode = null;
      await refreshPresets(ctx);
      ctx.notify(done);
    } catch (reason) {
      reportFailure(ctx, action, reason);
    }
  };

  // ---- save ----
  const nameInput = h('input', { type: 'text', id: 'preset-name', autocomplete: 'off', 'aria-describedby': 'preset-save-message' });
  const saveMessage = messageLine('preset-save-message');
  const replaceButton = h('button', { type: 'submit', class: 'danger', id: 'preset-replace', hidden: true }, 'Replace');
  function forgetReplace() {
    overwriting = null;
    replaceButton.hidden = true;
    saveMessage.show('none', '');
  }
  const save = (event: Event) => {
    event.preventDefault();
    const name = nameInput.value.trim();
    if (name === '') {
      forgetReplace();
      return saveMessage.show('error', 'Enter a name for the preset.');
    }
    const exists = ctx.store.get().presets.some((p) => p.name === name);
    if (exists && overwriting !== name) {
      overwriting = name;
      saveMessage.show('error', `A preset named “${name}” exists. Replace it?`);
      replaceButton.hidden = false;
      replaceButton.focus();
      return;
    }
    forgetReplace();
    void act('save the preset', async () => {
      await ctx.api.savePreset(name, ctx.store.get().settings);
      nameInput.value = '';
      return `Saved preset “${name}”.`;
    });
  };
  nameInput.addEventListener('input', forgetReplace);
  // A field cleared without typing (WebDriver's Element Clear, some input methods) sends
  // only `change`: Replace stays only while the name is still the one asked about.
  nameInput.addEventListener('change', () => {
    if (nameInput.value.trim() !== overwriting) forgetReplace();
  });
  const saveForm = h(
    'form',
    { class: 'panel', id: 'preset-save', onsubmit: save },
    h('label', { for: 'preset-name' }, 'Save the current settings as'),
    h('div', { class: 'path-row' }, nameInput, h('button', { type: 'submit', class: 'primary', id: 'preset-save-button' }, 'Save preset'), replaceButton),
    saveMessage.element,
  );

  const importPreset = () =>
    act('import the preset', async () => {
      const path = await ctx.api.pickFile('Import a preset', [PRESET_FILTER]);
      if (path === null) return 'Import cancelled.';
      const preset = await ctx.api.importPreset(path);
      return `Imported preset “${preset.name}”.`;
    });
  const exportPreset = (name: string) =>
    act('export the preset', async () => {
      const dest = await ctx.api.pickSaveFile(`Export preset “${name}”`, `${name}.json`);
      if (dest === null) return 'Export cancelled.';
      await ctx.api.exportPreset(name, dest);
      return `Exported preset “${name}” to ${dest}.`;
    });

  // ---- list ----
  const body = h('tbody', {});
  // Redrawing the rows would drop the keyboard focus: it goes back to the same action of
  // the same preset, or to the first row's Load when that row is gone (deleted, renamed).
  const render = () => {
    const focused = document.activeElement instanceof HTMLElement && body.contains(document.activeElement) ? document.activeElement : null;
    const preset = focused?.closest('tr')?.dataset['preset'];
    const action = focused?.dataset['action'];
    replaceChildren(body, ctx.store.get().presets.map(row));
    if (focused === null) return;
    const same = body.querySelector<HTMLElement>(`tr[data-preset="${CSS.escape(preset ?? '')}"] [data-action="${action ?? ''}"]`);
    (same && !same.matches(':disabled') ? same : body.querySelector<HTMLElement>('[data-action=load]'))?.focus();
  };

  const setMode = (mode: RowMode) => {
    rowMode = mode;
    render();
    body.querySelector<HTMLElement>('[data-autofocus]')?.focus();
  };

  // A name that cannot be used is said under the rename field, which keeps the focus.
  function renameCell(preset: Preset): HTMLElement {
    const message = messageLine('rename-message');
    const input = h('input', {
      type: 'text',
      value: preset.name,
      'aria-label': `New name for ${preset.name}`,
      'aria-describedby': 'rename-message',
      'data-autofocus': true,
      onkeydown: (event: Event) => {
        if ((event as KeyboardEvent).key === 'Escape') setMode(null);
      },
      oninput: () => {
        input.removeAttribute('aria-invalid');
        message.show('none', '');
      },
    });
    const refuse = (text: string) => {
      input.setAttribute('aria-invalid', 'true');
      message.show('error', text);
      input.focus();
    };
    const submit = async (event: Event) => {
      event.preventDefault();
      const to = input.value.trim();
      if (to === '' || to === preset.name) return setMode(null);
      if (ctx.store.get().presets.some((p) => p.name === to)) return refuse(`A preset named “${to}” exists already.`);
      try {
        await ctx.api.renamePreset(preset.name, to);
      } catch (reason) {
        return refuse(errorText(reason));
      }
      rowMode = null;
      await refreshPresets(ctx);
      ctx.notify(`Renamed “${preset.name}” to “${to}”.`);
    };
    return h(
      'form',
      { class: 'inline-form', onsubmit: (event: Event) => void submit(event) },
      h(
        'div',
        { class: 'path-row' },
        input,
        h('button', { type: 'submit', class: 'primary' }, 'Rename'),
        h('button', { type: 'button', onclick: () => setMode(null) }, 'Cancel'),
      ),
      message.element,
    );
  }

  function actions(preset: Preset): HTMLElement {
    const { name } = preset;
    const builtIn = name === BUILT_IN_PRESET;
    if (rowMode?.name === name && rowMode.mode === 'delete') {
      return h(
        'div',
        { class: 'actions', role: 'group', 'aria-label': `Delete ${name}?` },
        h('span', {}, 'Delete this preset?'),
        h('button', { type: 'button', class: 'danger', 'data-autofocus': true, onclick: () => act('delete the preset', async () => {
          await ctx.api.deletePreset(name);
          return `Deleted preset “${name}”.`;
        }) }, 'Delete'),
        h('button', { type: 'button', onclick: () => setMode(null) }, 'Keep'),
      );
    }
    const builtInNote = builtIn ? 'The built-in preset cannot be renamed or deleted' : null;
    return h(
      'div',
      { class: 'actions', role: 'group', 'aria-label': `Preset ${name}` },
      h('button', { type: 'button', 'data-action': 'load', onclick: () => load(preset) }, 'Load'),
      h('button', { type: 'button', 'data-action': 'rename', disabled: builtIn, title: builtInNote, onclick: () => setMode({ name, mode: 'rename' }) }, 'Rename'),
      h('button', { type: 'button', 'data-action': 'duplicate', onclick: () => act('duplicate the preset', async () => {
        const copy = await ctx.api.duplicatePreset(name, unusedName(`${name} copy`, ctx.store.get().presets));
        return `Duplicated “${name}” as “${copy.name}”.`;
      }) }, 'Duplicate'),
      h('button', { type: 'button', 'data-action': 'export', onclick: () => exportPreset(name) }, 'Export…'),
      h('button', { type: 'button', 'data-action': 'delete', class: 'danger-text', disabled: builtIn, title: builtInNote, onclick: () => setMode({ name, mode: 'delete' }) }, 'Delete'),
    );
  }

  function row(preset: ListedPreset): HTMLElement {
    const renaming = rowMode?.name === preset.name && rowMode.mode === 'rename';
    const gone = preset.missing.length > 0;
    return h(
      'tr',
      { 'data-preset': preset.name, 'data-missing': gone },
      h(
        'th',
        { scope: 'row' },
        renaming ? renameCell(preset) : preset.name,
        preset.name === BUILT_IN_PRESET && h('span', { class: 'badge' }, 'built-in'),
        gone && h('span', { class: 'badge warn', title: `Gone: ${preset.missing.join(', ')}` }, 'files missing'),
      ),
      h('td', { class: 'muted' }, describe(preset)),
      h('td', { class: 'muted' }, formatUpdated(preset.updated)),
      h('td', {}, actions(preset)),
    );
  }

  const load = (preset: Preset) => loadPreset(ctx, preset);

  ctx.store.subscribe((state, previous) => {
    if (state.presets !== previous.presets) render();
  });
  render();

  return h(
    'div',
    { class: 'presets' },
    saveForm,
    h(
      'div',
      { class: 'panel' },
      h('div', { class: 'panel-head' }, h('h3', {}, 'Saved presets'), h('button', { type: 'button', id: 'preset-import', onclick: importPreset }, 'Import…')),
      h(
        'table',
        { class: 'data presets-table', id: 'preset-table' },
        // Fixed widths: the rename field in a row must not move the columns.
        h('colgroup', {}, ['name', 'settings', 'updated', 'actions'].map((column) => h('col', { class: `col-${column}` }))),
        tableHead('Name', 'Settings', 'Updated', 'Actions'),
        body,
      ),
    ),
  );
}
