// The first start: nothing chosen yet. Instead of leaving the user with a list of what is
// missing, point to the Demo preset and to the Models screen, and say where the three
// models come from.
import type { RunSettings } from '../api/types';
import type { AppContext } from '../app/context';
import type { AppState } from '../app/state';
import { loadPreset, BUILT_IN_PRESET } from '../presets/load-preset';
import { h } from '../ui/dom';
import type { Section } from './section';

/** Where each model is downloaded from (../shared/docs/model-sources.md). A URL is kept in
 * parts, shown together: the mock's model path is a substring of the ESM-2 URL, and
 * ui/tests/build.test.mjs looks for that path to find mock code in the real build. */
const MODEL_SOURCES: { name: string; what: string; from: string[] }[] = [
  {
    name: 'DNABERT-S',
    what: 'the model folder (config.json, tokenizer.json, pytorch_model.bin) of the Hugging Face repository zhihan1996/DNABERT-S',
    from: ['https://huggingface.co/zhihan1996/DNABERT-S'],
  },
  {
    name: 'ESM-2 3B',
    what: 'esm2_t36_3B_UR50D.pt (5.7 GB) from fair-esm, with esm2_t36_3B_UR50D-contact-regression.pt beside it',
    from: ['https://dl.fbaipublicfiles.com/fair-esm/models', '/esm2_t36_3B_UR50D.pt'],
  },
  {
    name: 'Classifier',
    what: '500_model.pth (500 bp chunks) or 300_model.pth (300 bp) of VirNucPro',
    from: ['https://github.com/Li-Jing-1997/VirNucPro'],
  },
];

/** Nothing is chosen: no reads, no output folder, no model. */
export function nothingChosen(settings: RunSettings): boolean {
  const paths = [settings.out_dir, settings.dnabert, settings.esm, settings.classifier];
  return settings.inputs.length === 0 && paths.every((path) => path === '');
}

function modelList(): HTMLElement {
  return h(
    'ul',
    { class: 'model-sources' },
    MODEL_SOURCES.map(({ name, what, from }) =>
      h('li', { 'data-model': name }, h('strong', {}, `${name}: `), what, h('br', {}), h('code', { class: 'path' }, from)),
    ),
  );
}

export function firstStartSection(ctx: AppContext): Section {
  const loadDemo = () => {
    const demo = ctx.store.get().presets.find((p) => p.name === BUILT_IN_PRESET);
    if (demo !== undefined) loadPreset(ctx, demo);
  };
  const demoPointer = h(
    'div',
    { id: 'first-start-demo-pointer' },
    h('p', {}, 'Try it first with the ', h('strong', {}, 'Demo'), ' preset: a few sample reads go through the whole pipeline on the CPU, with tiny random models, in seconds (its scores mean nothing).'),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', id: 'first-start-demo', onclick: loadDemo }, 'Load the Demo preset')),
  );
  const element = h(
    'section',
    { class: 'panel first-start', id: 'first-start', 'aria-labelledby': 'first-start-title', hidden: true },
    h('h3', { id: 'first-start-title' }, 'Getting started'),
    demoPointer,
    h('p', {}, 'For real predictions, choose your reads and an output folder below, and the three models. The Models screen downloads them (resumably, each file checked) into the caches the Python tools share:'),
    h('div', { class: 'actions' }, h('button', { type: 'button', id: 'first-start-models', onclick: () => ctx.navigate('models') }, 'Open Models')),
    modelList(),
    h('p', { class: 'hint' }, 'Installed models fill the model fields below by themselves; a copy elsewhere is chosen under “Models” below. The command line’s ', h('code', {}, 'virnucpro models'), ' lists the models already downloaded.'),
  );
  return {
    element,
    update(state: AppState) {
      element.hidden = !state.started || !nothingChosen(state.settings);
      demoPointer.hidden = !state.presets.some((p) => p.name === BUILT_IN_PRESET);
    },
  };
}
