// Read length, prepare and merge threads, paired reads, and under "Advanced" the precision,
// the batch budget and whether the run keeps its feature files.
import type { ChunkLength, PairMode, Precision, RunSettings } from '../api/types';
import type { AppContext } from '../app/context';
import { h } from '../ui/dom';
import { fieldMessage, problemsFor, showProblems, type Section } from './section';

const LENGTHS: readonly ChunkLength[] = [300, 500];
const PRECISIONS: readonly [Precision, string][] = [
  ['fp32', 'fp32 — matches the reference models'],
  ['bf16', 'bf16 — faster on recent GPUs, scores may differ slightly'],
  ['fp16', 'fp16 — faster on older GPUs, scores may differ slightly'],
];
const PAIR_MODES: readonly [PairMode, string][] = [
  ['auto', 'Detect R1/R2 pairs by name (default)'],
  ['off', 'Treat every file as single-end'],
];
// What the batch field starts from when the user turns off the per-device choice.
const DEFAULT_BATCH_TOKENS = 16384;

/** A whole number typed into `input`, or null while it holds something else. */
function wholeNumber(input: HTMLInputElement): number | null {
  const value = Number(input.value);
  return input.value.trim() !== '' && Number.isInteger(value) ? value : null;
}

/** Writes `value` into a number field unless the user is typing in it. */
function showNumber(input: HTMLInputElement, value: number | null): void {
  if (document.activeElement !== input && value !== null) input.value = String(value);
}

function lengthField(ctx: AppContext) {
  const message = fieldMessage('length');
  const radios = LENGTHS.map((length) =>
    h('input', {
      type: 'radio',
      name: 'length',
      id: `length-${length}`,
      value: length,
      onchange: () => ctx.updateSettings({ length }),
    }),
  );
  const element = h(
    'fieldset',
    { class: 'field inline', id: 'length-field', 'aria-describedby': message.element.id },
    h('legend', {}, 'Read chunk length'),
    LENGTHS.map((length, i) => h('span', { class: 'choice' }, radios[i], h('label', { for: `length-${length}` }, `${length} bp`))),
    message.element,
  );
  return {
    element,
    update(settings: RunSettings, problems: string[]) {
      radios.forEach((radio, i) => (radio.checked = LENGTHS[i] === settings.length));
      showProblems(message, problems);
    },
  };
}

/** Why the threads field's text is no thread count, in the engine's words
 *  (core::threads::ThreadsError::NotWhole); null for a whole number, which the shell
 *  checks against the cores. */
function notWholeThreads(text: string, cores: number | null): string | null {
  const value = Number(text);
  // Negative or beyond 2^53 would not even reach the shell (its count is unsigned).
  if (text.trim() !== '' && Number.isSafeInteger(value) && value >= 0) return null;
  const range = `must be a whole number from 1 to ${cores ?? 'the cores'} (the CPU cores of this machine)`;
  return text.trim() === '' ? `${range}, or choose Auto` : `${range}, not ${JSON.stringify(text)}`;
}

function threadsField(ctx: AppContext) {
  const message = fieldMessage('threads');
  // The field's text, not the settings: "1.5" or nothing must not run with the last value.
  const typed = () => {
    const state = ctx.store.get();
    const problem = notWholeThreads(number.value, state.system?.cores ?? null);
    if (problem === null) ctx.updateSettings({ threads: Number(number.value) });
    else {
      const others = state.draftProblems.filter((p) => p.field !== 'threads');
      ctx.store.set({ draftProblems: [...others, { field: 'threads', message: problem }] });
    }
  };
  const auto = h('input', { type: 'radio', name: 'threads', id: 'threads-auto', onchange: () => ctx.updateSettings({ threads: null }) });
  const number = h('input', {
    type: 'number',
    id: 'threads-count',
    min: 1,
    step: 1,
    'aria-label': 'Prepare and merge threads',
    'aria-describedby': message.element.id,
    oninput: typed,
  });
  const fixed = h('input', {
    type: 'radio',
    name: 'threads',
    id: 'threads-fixed',
    onchange: () => {
      ctx.updateSettings({ threads: wholeNumber(number) ?? 1 });
      number.focus();
    },
  });
  const autoLabel = h('label', { for: 'threads-auto' }, 'Auto');
  const element = h(
    'fieldset',
    { class: 'field inline', id: 'threads-field' },
    h('legend', {}, 'Prepare and merge threads'),
    h('span', { class: 'choice' }, auto, autoLabel),
    h('span', { class: 'choice' }, fixed, h('label', { for: 'threads-fixed' }, 'Fixed:'), number),
    message.element,
  );
  return {
    element,
    update(settings: RunSettings, problems: string[], cores: number | null) {
      autoLabel.textContent = cores === null ? 'Auto (all cores)' : `Auto (all ${cores} cores)`;
      if (cores !== null) number.max = String(cores);
      auto.checked = settings.threads === null;
      fixed.checked = settings.threads !== null;
      number.disabled = settings.threads === null;
      showNumber(number, settings.threads);
      showProblems(message, problems, { control: number });
    },
  };
}

/** Paired-end reads (`RunSettings.pairs`, the CLI's --pairs): files named as R1 and R2 of
 *  one pair are read as mates (auto), or every file on its own (off). */
function pairsField(ctx: AppContext) {
  const select = h(
    'select',
    {
      id: 'pairs',
      'aria-describedby': 'pairs-hint',
      onchange: () => ctx.updateSettings({ pairs: select.value as PairMode }),
    },
    PAIR_MODES.map(([value, label]) => h('option', { value }, label)),
  );
  const element = h(
    'div',
    { class: 'field', id: 'pairs-field' },
    h('label', { for: 'pairs' }, 'Paired reads'),
    select,
    h(
      'p',
      { class: 'hint', id: 'pairs-hint' },
      'Files named as R1 and R2 of a pair (_R1/_R2, _1/_2, .R1/.R2, _R1_001/_R2_001, in the same folder) are read together: each mate is classified as a read of its own, named /1 and /2, and pair_summary.tsv gives a call per pair (virus when either mate is).',
    ),
  );
  return {
    element,
    update(settings: RunSettings) {
      select.value = settings.pairs;
    },
  };
}

/** Keep the feature files (`RunSettings.keep_features`, the CLI's --keep-features): off, a
 *  shard's embeddings go from the encoders through the merge to the classifier in memory
 *  and only its scores file is written, which is all a resume needs. */
function keepFeaturesField(ctx: AppContext) {
  const checkbox = h('input', {
    type: 'checkbox',
    id: 'keep-features',
    'aria-describedby': 'keep-features-hint',
    onchange: () => ctx.updateSettings({ keep_features: checkbox.checked }),
  });
  const element = h(
    'div',
    { class: 'field', id: 'keep-features-field' },
    h(
      'span',
      { class: 'choice' },
      checkbox,
      h('label', { for: 'keep-features' }, 'Keep feature files (about 26 KB per frame: DNABERT-S, ESM-2 and merged embeddings)'),
    ),
    h(
      'p',
      { class: 'hint', id: 'keep-features-hint' },
      'Off: only each shard’s scores are written (scores/); the embeddings stay in memory, the reports are the same and an interrupted run still resumes. On: features/ and merged/ keep them too (10 million frames: about 260 GB).',
    ),
  );
  return {
    element,
    update(settings: RunSettings) {
      checkbox.checked = settings.keep_features;
    },
  };
}

function advancedFields(ctx: AppContext) {
  const precisionMessage = fieldMessage('precision');
  const batchMessage = fieldMessage('batch_tokens');
  const precision = h(
    'select',
    {
      id: 'precision',
      'aria-describedby': precisionMessage.element.id,
      onchange: () => ctx.updateSettings({ precision: precision.value as Precision }),
    },
    PRECISIONS.map(([value, label]) => h('option', { value }, label)),
  );
  const batchAuto = h('input', {
    type: 'checkbox',
    id: 'batch-auto',
    onchange: () => ctx.updateSettings({ batch_tokens: batchAuto.checked ? null : (wholeNumber(batch) ?? DEFAULT_BATCH_TOKENS) }),
  });
  const batch = h('input', {
    type: 'number',
    id: 'batch-tokens',
    min: 1,
    step: 1024,
    'aria-describedby': batchMessage.element.id,
    oninput: () => {
      const tokens = wholeNumber(batch);
      if (tokens !== null) ctx.updateSettings({ batch_tokens: tokens });
    },
  });
  const keepFeatures = keepFeaturesField(ctx);
  const element = h(
    'details',
    { class: 'advanced', id: 'advanced' },
    h('summary', {}, 'Advanced'),
    h('div', { class: 'field' }, h('label', { for: 'precision' }, 'Precision (GPUs)'), precision, precisionMessage.element),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'batch-tokens' }, 'Batch budget (tokens per batch)'),
      h('span', { class: 'choice' }, batchAuto, h('label', { for: 'batch-auto' }, 'Chosen per device from its memory')),
      batch,
      batchMessage.element,
    ),
    keepFeatures.element,
  );
  return {
    element,
    update(settings: RunSettings, precisionProblems: string[], batchProblems: string[]) {
      precision.value = settings.precision;
      batchAuto.checked = settings.batch_tokens === null;
      batch.disabled = settings.batch_tokens === null;
      showNumber(batch, settings.batch_tokens ?? DEFAULT_BATCH_TOKENS);
      showProblems(precisionMessage, precisionProblems, { control: precision });
      showProblems(batchMessage, batchProblems, { control: batch });
      keepFeatures.update(settings);
      // Problems hidden in a closed disclosure would block the run without a visible reason.
      if (precisionProblems.length + batchProblems.length > 0) element.open = true;
    },
  };
}

export function optionsSection(ctx: AppContext): Section {
  const length = lengthField(ctx);
  const threads = threadsField(ctx);
  const pairs = pairsField(ctx);
  const advanced = advancedFields(ctx);
  const element = h(
    'fieldset',
    { class: 'panel', id: 'options-section' },
    h('legend', {}, 'Options'),
    length.element,
    threads.element,
    pairs.element,
    advanced.element,
  );
  return {
    element,
    update(state) {
      const { settings } = state;
      length.update(settings, problemsFor(state, 'length'));
      threads.update(settings, problemsFor(state, 'threads'), state.system?.cores ?? null);
      pairs.update(settings);
      advanced.update(settings, problemsFor(state, 'precision'), problemsFor(state, 'batch_tokens'));
    },
  };
}
