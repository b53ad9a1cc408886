// The output folder and the three model paths. Paths come only from the pickers: the shell
// allows access only to paths the user chose there, so the fields are read-only.
import type { ModelKind, RunSettings } from '../api/types';
import { reportFailure, type AppContext } from '../app/context';
import type { AppState } from '../app/state';
import { h } from '../ui/dom';
import type { MessageTone } from '../ui/message-line';
import { fieldMessage, problemsFor, showProblems, warningsFor, type Section } from './section';

type PathField = 'out_dir' | ModelKind;

interface Picker {
  label: string;
  /** Asks the shell for a path; null when the user cancelled. */
  pick: (ctx: AppContext) => Promise<string | null>;
}

interface PathFieldSpec {
  field: PathField;
  label: string;
  hint: string;
  pickers: Picker[];
}

const firstFolder = (title: string) => (ctx: AppContext) =>
  ctx.api.pickFolders(title).then((paths) => paths[0] ?? null);
const oneFile = (title: string, name: string, extensions: string[]) => (ctx: AppContext) =>
  ctx.api.pickFile(title, [{ name, extensions }]);

const OUTPUT: PathFieldSpec = {
  field: 'out_dir',
  label: 'Output folder',
  hint: 'Reports, features and the run manifest go here; an earlier run in it can be resumed.',
  pickers: [{ label: 'Choose…', pick: firstFolder('Choose the output folder') }],
};

const MODELS: PathFieldSpec[] = [
  {
    field: 'dnabert',
    label: 'DNABERT-S model',
    hint: 'The Hugging Face folder (config.json, weights, tokenizer.json).',
    pickers: [{ label: 'Folder…', pick: firstFolder('Choose the DNABERT-S folder') }],
  },
  {
    field: 'esm',
    label: 'ESM-2 model',
    hint: 'A fair-esm checkpoint (.pt) or a Hugging Face folder.',
    pickers: [
      { label: 'File…', pick: oneFile('Choose the ESM-2 checkpoint', 'ESM-2 checkpoint', ['pt']) },
      { label: 'Folder…', pick: firstFolder('Choose the ESM-2 folder') },
    ],
  },
  {
    field: 'classifier',
    label: 'Classifier',
    hint: 'The VirNucPro classifier for the chosen read length (300_model.pth or 500_model.pth).',
    pickers: [{ label: 'File…', pick: oneFile('Choose the classifier', 'PyTorch model', ['pth', 'pt']) }],
  },
];

function isModel(field: PathField): field is ModelKind {
  return field !== 'out_dir';
}

/** What the line under a path says when validate_settings found nothing wrong with it. */
function statusWithoutProblems(state: AppState, field: PathField): [MessageTone, string] {
  const path = state.settings[field];
  if (path === '') return ['none', ''];
  if (!isModel(field)) return state.problems === null ? ['pending', 'Checking…'] : ['none', ''];
  const check = state.modelChecks[field];
  if (check === null) return ['pending', 'Checking the model…'];
  return check.ok ? ['ok', check.summary] : ['error', check.message ?? 'Not a usable model.'];
}

function pathField(ctx: AppContext, spec: PathFieldSpec): Section {
  const inputId = `path-${spec.field}`;
  const message = fieldMessage(spec.field);
  const input = h('input', {
    type: 'text',
    id: inputId,
    class: 'path-input',
    readonly: true,
    placeholder: 'Not chosen',
    'aria-describedby': `${message.element.id} hint-${spec.field}`,
  });
  const buttons = spec.pickers.map((picker) =>
    h(
      'button',
      {
        type: 'button',
        'aria-label': `${spec.label}: ${picker.label.replace('…', '')}`,
        onclick: () =>
          picker.pick(ctx).then(
            (path) => path !== null && ctx.updateSettings({ [spec.field]: path } as Partial<RunSettings>),
            (e: unknown) => reportFailure(ctx, 'open the picker', e),
          ),
      },
      picker.label,
    ),
  );
  // Model fields: the installed model (Models screen) when another is chosen, and the
  // way to the Models screen while the field is empty and nothing is installed for it.
  const useInstalled = h(
    'button',
    {
      type: 'button',
      class: 'link',
      'data-action': 'use-installed',
      hidden: true,
      onclick: () => {
        const installed = isModel(spec.field) ? ctx.store.get().installedModels?.[spec.field] : null;
        if (installed) ctx.updateSettings({ [spec.field]: installed } as Partial<RunSettings>);
      },
    },
    'Use the installed model',
  );
  const openModels = h(
    'button',
    { type: 'button', class: 'link', 'data-action': 'open-models', hidden: true, onclick: () => ctx.navigate('models') },
    'Open Models to download it',
  );
  const element = h(
    'div',
    { class: 'field', 'data-field': spec.field },
    h('label', { for: inputId }, spec.label),
    h('div', { class: 'path-row' }, input, buttons),
    h('p', { class: 'hint', id: `hint-${spec.field}` }, spec.hint, isModel(spec.field) && [' ', useInstalled, openModels]),
    message.element,
  );
  return {
    element,
    update(state) {
      const path = state.settings[spec.field];
      if (input.value !== path) {
        input.value = path;
        input.title = path;
      }
      if (isModel(spec.field)) {
        const installed = state.installedModels?.[spec.field];
        useInstalled.hidden = !installed || installed === path;
        useInstalled.title = installed ?? '';
        openModels.hidden = !(path === '' && state.installedModels !== null && installed === null);
      }
      // A failed model check and validate_settings' problems (which also know cross-field
      // ones, e.g. classifier vs read length) are shown together, each once.
      const problems = problemsFor(state, spec.field);
      const warnings = warningsFor(state, spec.field);
      // A warning (the classifier's name says the other read length) replaces the model's
      // summary, but is no problem: the field is not marked invalid and Run stays enabled.
      const checked = statusWithoutProblems(state, spec.field);
      const status: [MessageTone, string] = warnings.length > 0 && checked[0] !== 'error' ? ['warning', warnings.join(' ')] : checked;
      if (status[0] === 'error' && !problems.includes(status[1])) problems.unshift(status[1]);
      showProblems(message, problems, { control: input, empty: path === '', otherwise: status });
    },
  };
}

export function outputSection(ctx: AppContext): Section {
  const field = pathField(ctx, OUTPUT);
  const element = h('fieldset', { class: 'panel', id: 'output-section' }, h('legend', {}, 'Output'), field.element);
  return { element, update: field.update };
}

export function modelsSection(ctx: AppContext): Section {
  const fields = MODELS.map((spec) => pathField(ctx, spec));
  const element = h(
    'fieldset',
    { class: 'panel', id: 'models-section' },
    h('legend', {}, 'Models'),
    fields.map((f) => f.element),
  );
  return { element, update: (state, previous) => fields.forEach((f) => f.update(state, previous)) };
}
