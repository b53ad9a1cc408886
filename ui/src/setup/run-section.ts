// The run controls: Run (or Resume / Start over when the output folder holds an earlier
// run), disabled with the reasons listed while anything blocks it.
import type { ResumeInfo, RunSettings, Stage } from '../api/types';
import type { AppContext } from '../app/context';
import type { AppState } from '../app/state';
import { h, replaceChildren } from '../ui/dom';
import { STAGE_LABELS } from '../run/progress';
import type { Section } from './section';

const FIELD_LABELS: Record<keyof RunSettings, string> = {
  inputs: 'Input reads',
  out_dir: 'Output folder',
  dnabert: 'DNABERT-S model',
  esm: 'ESM-2 model',
  classifier: 'Classifier',
  length: 'Read chunk length',
  devices: 'Devices',
  threads: 'Prepare and merge threads',
  precision: 'Precision',
  batch_tokens: 'Batch budget',
  keep_features: 'Keep feature files',
  pairs: 'Paired reads',
  samples: 'Samples',
};

/** One reason the run cannot start; `todo`: a field not filled in yet, which is no mistake
 * (shown muted, like the field's own message, not as an error). */
interface Blocker {
  text: string;
  todo: boolean;
}

function isEmpty(settings: RunSettings, field: keyof RunSettings): boolean {
  const value = settings[field];
  return value === '' || (Array.isArray(value) && value.length === 0);
}

/** Why the run cannot start now; empty when it can. */
function runBlockers(state: AppState): Blocker[] {
  if (state.running) return [{ text: 'A run is going: see the Run screen.', todo: false }];
  if (state.problems === null) return [{ text: 'Checking the settings…', todo: true }];
  return [...state.draftProblems, ...state.problems].map((p) => ({ text: `${FIELD_LABELS[p.field]}: ${p.message}`, todo: isEmpty(state.settings, p.field) }));
}

function stageNames(stages: string[]): string {
  return stages.map((s) => STAGE_LABELS[s as Stage] ?? s).join(', ');
}

/** The fields whose values differ, as the user gave them (the shell answers with the
 * settings the run was started with: the folder, not its files; "auto", not the budget it
 * chose). With samples on both sides, the inputs are not used and not compared. */
function differingFields(a: RunSettings, b: RunSettings): (keyof RunSettings)[] {
  const bothSamples = a.samples.length > 0 && b.samples.length > 0;
  return (Object.keys(FIELD_LABELS) as (keyof RunSettings)[])
    .filter((field) => !(bothSamples && field === 'inputs'))
    .filter((field) => JSON.stringify(a[field]) !== JSON.stringify(b[field]));
}

/** What resuming with `settings` does to the earlier run `info` when they differ; empty
 * when they do not. Keeping feature files or not changes no result, so it is told apart
 * from the settings that make stages run again (the engine's resume rules, docs/cli.md). */
function differsText(info: ResumeInfo, settings: RunSettings): string {
  const fields = differingFields(info.settings, settings);
  // Samples of a run of samples are told apart from the settings of each sample's run.
  const samplesOnly = info.samples.length > 0 && settings.samples.length > 0;
  const others = fields.filter((field) => field !== 'keep_features' && !(samplesOnly && field === 'samples'));
  const lines: string[] = [];
  if (samplesOnly && fields.includes('samples')) {
    lines.push('Its samples differ from the ones above: resuming runs the samples above, each in its own folder; one that ran before resumes there.');
  }
  if (others.length > 0) {
    const names = others.map((field) => FIELD_LABELS[field]).join(', ');
    lines.push(`Its settings differ from the ones above (${names}): resuming redoes the stages they affect.`);
  }
  if (fields.includes('keep_features')) {
    lines.push(
      settings.keep_features
        ? 'It kept no feature files: resuming with Keep feature files embeds its shards again to write them (the results are the same).'
        : 'It kept its feature files: resuming without Keep feature files reuses the shards it scored, from their scores; the files it wrote stay in features/ and merged/.',
    );
  }
  return lines.join(' ');
}

function resumeText(info: ResumeInfo): string {
  if (info.samples.length > 0) return samplesResumeText(info);
  const done = info.stages_done.length === 0 ? 'no stage finished yet' : `finished: ${stageNames(info.stages_done)}`;
  return `This output folder holds an earlier run (${info.state}; ${done}).`;
}

/** A run of samples: which samples finished (`ok`) and how far each other one got;
 * resuming reuses the finished ones and resumes each other one in its folder. */
function samplesResumeText(info: ResumeInfo): string {
  const finished = info.samples.filter((s) => s.state === 'ok');
  const unfinished = info.samples.filter((s) => s.state !== 'ok');
  const howFar = (sample: ResumeInfo['samples'][number]): string => {
    if (sample.state === null) return `${sample.name} (not started)`;
    const done = sample.stages_done.length === 0 ? 'no stage finished' : `finished: ${stageNames(sample.stages_done)}`;
    return `${sample.name} (${sample.state}; ${done})`;
  };
  const lines = [`This output folder holds an earlier run of ${info.samples.length} samples (${info.state}).`];
  if (finished.length > 0) lines.push(`Finished: ${finished.map((s) => s.name).join(', ')}.`);
  if (unfinished.length > 0) {
    lines.push(`Not finished: ${unfinished.map(howFar).join(', ')}.`);
    lines.push(finished.length > 0 ? 'Resume reuses the finished samples and goes on with the others.' : 'Resume goes on with each sample where it stopped.');
  }
  return lines.join(' ');
}

export function runSection(ctx: AppContext): Section {
  const start = (restart: boolean) => {
    void ctx.runs.start(ctx.store.get().settings, restart);
    ctx.navigate('run');
  };
  const blockers = h('ul', { class: 'problems', id: 'run-blockers', 'aria-live': 'polite' });
  const runButton = h('button', { type: 'button', class: 'primary', id: 'run-button', 'aria-describedby': 'run-blockers', onclick: () => start(false) }, 'Run');
  const resumeButton = h('button', { type: 'button', class: 'primary', id: 'resume-button', 'aria-describedby': 'run-blockers resume-text', onclick: () => start(false) }, 'Resume');
  const restartButton = h('button', { type: 'button', id: 'restart-button', 'aria-describedby': 'run-blockers resume-text', onclick: () => start(true) }, 'Start over');
  const resumeLine = h('p', { id: 'resume-text' });
  const differs = h('p', { class: 'hint', id: 'resume-differs' });
  const useItsSettings = h(
    'button',
    {
      type: 'button',
      class: 'link',
      id: 'use-resume-settings',
      onclick: () => {
        const info = ctx.store.get().resumable;
        if (info !== null) ctx.updateSettings(info.settings);
      },
    },
    'Use its settings',
  );
  const resumeOffer = h(
    'div',
    { class: 'resume-offer', id: 'resume-offer', hidden: true },
    resumeLine,
    differs,
    h('div', { class: 'actions' }, resumeButton, restartButton, useItsSettings),
  );
  const element = h(
    'section',
    { class: 'panel run-panel', 'aria-label': 'Start' },
    resumeOffer,
    h('div', { class: 'actions' }, runButton),
    blockers,
  );

  return {
    element,
    update(state) {
      const reasons = runBlockers(state);
      const info = state.resumable;
      resumeOffer.hidden = info === null;
      runButton.hidden = info !== null;
      if (info !== null) {
        resumeLine.textContent = resumeText(info);
        differs.textContent = differsText(info, state.settings);
        useItsSettings.hidden = differs.textContent === '';
      }
      for (const button of [runButton, resumeButton, restartButton]) button.disabled = reasons.length > 0;
      replaceChildren(blockers, reasons.map((reason) => h('li', { class: reason.todo ? 'todo' : null }, reason.text)));
    },
  };
}
