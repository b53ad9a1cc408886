// Samples: several samples in one run, each its own run folder (out/NAME/) with its own
// reports, and out/summary.tsv across them; the models load once for all. With no
// samples, the input reads above are one run.
import type { SampleSettings } from '../api/types';
import { reportFailure, type AppContext } from '../app/context';
import { h, replaceChildren } from '../ui/dom';
import { lastPart, validName } from '../samples/names';
import { FASTA_FILTER } from './inputs-section';
import { fieldMessage, problemsFor, showProblems, type Section } from './section';

/** One sample per path, named after it (names made valid and unique). */
export function samplesFromPaths(paths: readonly string[], taken: readonly string[] = []): SampleSettings[] {
  const names = [...taken];
  return paths.map((path) => {
    const name = validName(lastPart(path), names);
    names.push(name);
    return { name, inputs: [path] };
  });
}

function sampleItem(ctx: AppContext, sample: SampleSettings, index: number): HTMLElement {
  const samples = () => ctx.store.get().settings.samples;
  const change = (patch: Partial<SampleSettings>) =>
    ctx.updateSettings({ samples: samples().map((s, i) => (i === index ? { ...s, ...patch } : s)) });
  const addPaths = (paths: string[]) => {
    const added = paths.filter((p) => !sample.inputs.includes(p));
    if (added.length > 0) change({ inputs: [...sample.inputs, ...added] });
  };
  const label = `Sample ${index + 1}`;
  const name = h('input', {
    type: 'text',
    class: 'sample-name',
    value: sample.name,
    'aria-label': `${label} name`,
    spellcheck: 'false',
    // The shell checks the name (core's rules); a bad one is shown under the samples.
    onchange: () => change({ name: name.value.trim() }),
  });
  return h(
    'li',
    { class: 'sample', 'data-sample': String(index) },
    h(
      'div',
      { class: 'sample-head' },
      name,
      h('button', { type: 'button', class: 'link', 'data-action': 'remove-sample', 'aria-label': `Remove ${label} (${sample.name})`, onclick: () => ctx.updateSettings({ samples: samples().filter((_, i) => i !== index) }) }, 'Remove sample'),
    ),
    h(
      'ul',
      { class: 'path-list', 'aria-label': `${label} inputs` },
      sample.inputs.length === 0
        ? h('li', { class: 'empty' }, 'No files or folders yet.')
        : sample.inputs.map((path) =>
            h(
              'li',
              {},
              h('span', { class: 'path', title: path }, path),
              h('button', { type: 'button', class: 'link', 'aria-label': `Remove ${path} from ${sample.name}`, onclick: () => change({ inputs: sample.inputs.filter((p) => p !== path) }) }, 'Remove'),
            ),
          ),
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', 'data-action': 'add-folders', onclick: () => ctx.api.pickFolders(`Choose folders of reads for ${sample.name}`).then(addPaths, (e: unknown) => reportFailure(ctx, 'open the folder picker', e)) }, 'Add folders…'),
      h('button', { type: 'button', 'data-action': 'add-file', onclick: () => ctx.api.pickFile(`Choose a file of reads for ${sample.name}`, [FASTA_FILTER]).then((path) => path !== null && addPaths([path]), (e: unknown) => reportFailure(ctx, 'open the file picker', e)) }, 'Add a file…'),
    ),
  );
}

export function samplesSection(ctx: AppContext): Section {
  const list = h('ol', { class: 'sample-list', id: 'sample-list', 'aria-label': 'Samples' });
  const message = fieldMessage('samples');
  const settings = () => ctx.store.get().settings;

  // The chosen inputs become the samples, one each; without inputs, folders are picked.
  const eachFolder = h(
    'button',
    {
      type: 'button',
      id: 'samples-from-inputs',
      onclick: async () => {
        const { inputs, samples } = settings();
        try {
          const paths = inputs.length > 0 ? inputs : await ctx.api.pickFolders('Choose folders of reads: one sample each');
          if (paths.length === 0) return;
          const made = samplesFromPaths(paths, samples.map((s) => s.name));
          ctx.updateSettings({ samples: [...samples, ...made], inputs: [] });
        } catch (e) {
          reportFailure(ctx, 'open the folder picker', e);
        }
      },
    },
    'Each input folder is a sample',
  );
  const addSample = h(
    'button',
    {
      type: 'button',
      id: 'add-sample',
      onclick: () => {
        const { samples } = settings();
        const name = validName(`sample_${samples.length + 1}`, samples.map((s) => s.name));
        ctx.updateSettings({ samples: [...samples, { name, inputs: [] }] });
      },
    },
    'Add a sample',
  );
  const clear = h(
    'button',
    { type: 'button', class: 'link', id: 'clear-samples', onclick: () => ctx.updateSettings({ samples: [] }) },
    'Remove all samples',
  );

  const element = h(
    'fieldset',
    { class: 'panel', id: 'samples-section', 'aria-describedby': message.element.id },
    h('legend', {}, 'Samples'),
    h(
      'p',
      { class: 'hint' },
      'Optional: run several samples at once. Each sample gets its own reports in OUTPUT/NAME/, and OUTPUT/summary.tsv covers the run; the models load once for all samples. Names: letters, digits, ".", "_" and "-". Without samples, the input reads above are one run.',
    ),
    list,
    h('div', { class: 'actions' }, eachFolder, addSample, clear),
    message.element,
  );

  return {
    element,
    update(state, previous) {
      const { samples } = state.settings;
      if (samples !== previous?.settings.samples) {
        replaceChildren(list, samples.map((sample, i) => sampleItem(ctx, sample, i)));
        clear.hidden = samples.length === 0;
      }
      showProblems(message, problemsFor(state, 'samples'));
    },
  };
}
