// A run of samples on the run screen: which sample runs now ("Sample 2 of 5: gut_1"), and
// a line per sample with its state and failures, leading to its failures and results once
// it has ended (each sample is its own run folder, out/NAME/).
import type { AppContext } from '../app/context';
import { h, numeric, replaceChildren, setText, tableHead, type Child } from '../ui/dom';
import { formatCount } from '../ui/format';
import { currentSample, type RunProgress, type SampleProgress } from './progress';

/** "Sample 2 of 5: gut_1" while a run of samples goes on; hidden for a single run. */
export function sampleLine(line: HTMLElement, progress: RunProgress): void {
  line.hidden = progress.sampleTotal === 0;
  const sample = currentSample(progress);
  if (line.hidden || sample === null) return setText(line, '');
  const running = progress.finishedAt === null;
  setText(
    line,
    running
      ? `Sample ${progress.samples.length} of ${progress.sampleTotal}: ${sample.name}`
      : `${formatCount(progress.samples.length)} of ${formatCount(progress.sampleTotal)} samples started`,
  );
}

function stateText(progress: RunProgress, sample: SampleProgress): string {
  if (sample.status !== null) return sample.status;
  return progress.finishedAt === null && currentSample(progress) === sample ? 'running' : 'stopped';
}

/** The table of samples; `update` rebuilds it only when a sample's line changed. */
export function samplesTable(ctx: AppContext): { element: HTMLElement; update: (progress: RunProgress) => void } {
  const body = h('tbody', {});
  const element = h(
    'section',
    { class: 'panel run-samples', id: 'run-samples', hidden: true },
    h(
      'table',
      { class: 'data', id: 'sample-table' },
      h('caption', {}, 'Samples'),
      tableHead('Sample', 'State', numeric('Reads'), numeric('Virus reads'), numeric('Failures'), ''),
      body,
    ),
  );
  let said = '';
  const show = (sample: SampleProgress, screen: 'results' | 'failures') => {
    ctx.store.set({ sampleDir: sample.outDir });
    ctx.navigate(screen);
  };
  const row = (progress: RunProgress, sample: SampleProgress): Child => {
    const ended = sample.status !== null && sample.status !== 'cancelled';
    return h(
      'tr',
      { 'data-sample': sample.name, 'data-state': stateText(progress, sample) },
      h('th', { scope: 'row', title: sample.outDir }, sample.name),
      h('td', {}, stateText(progress, sample)),
      h('td', { class: 'num' }, sample.summary === null ? '' : formatCount(sample.summary.reads)),
      h('td', { class: 'num' }, sample.summary === null ? '' : formatCount(sample.summary.virus_reads)),
      h('td', { class: 'num' }, formatCount(sample.failures)),
      h(
        'td',
        { class: 'actions' },
        ended && h('button', { type: 'button', class: 'link', 'data-action': 'results', onclick: () => show(sample, 'results') }, 'Results'),
        sample.failures > 0 &&
          h('button', { type: 'button', class: 'link', 'data-action': 'failures', onclick: () => show(sample, 'failures') }, `Failures (${formatCount(sample.failures)})`),
      ),
    );
  };
  const update = (progress: RunProgress) => {
    element.hidden = progress.sampleTotal === 0;
    const now = JSON.stringify(progress.samples.map((s) => [s.name, stateText(progress, s), s.failures, s.summary?.reads ?? null]));
    if (now === said) return;
    said = now;
    replaceChildren(body, progress.samples.map((sample) => row(progress, sample)));
  };
  return { element, update };
}

/** Where the table across samples is, in the run's summary. */
export function samplesSummary(progress: RunProgress): Child {
  const path = progress.summary?.summary_table ?? null;
  if (progress.sampleTotal === 0) return null;
  return h(
    'p',
    { id: 'run-samples-note' },
    path === null
      ? 'Each sample has its own reports in its folder; the table across samples was not written.'
      : `Each sample has its own reports in its folder; the table across samples is ${path}.`,
  );
}
