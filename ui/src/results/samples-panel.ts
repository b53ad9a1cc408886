// A run of samples on the results screen: the table across samples (the run's
// summary.tsv, through load_samples) and a picker of the sample whose results the screen
// shows (each sample's reports are in its folder, out/NAME/).
import type { SampleRow } from '../api/types';
import { reportFailure, type AppContext } from '../app/context';
import type { AppState } from '../app/state';
import { h, numeric, replaceChildren, tableHead } from '../ui/dom';
import { formatCount } from '../ui/format';

/** The run's top folder and whether it is a run of samples (the last run's, else the
 *  setup's). */
function samplesRun(state: AppState): string | null {
  const settings = state.lastRun?.settings ?? state.settings;
  const outDir = state.lastRun?.outDir ?? state.settings.out_dir;
  return settings.samples.length > 0 && outDir !== '' ? outDir : null;
}

export interface SamplesPanel {
  element: HTMLElement;
  /** Loads the table across samples; when no sample is picked yet, picks the first. */
  refresh(): Promise<void>;
}

/** `show`: called after the user picked another sample (the screen loads its results). */
export function samplesPanel(ctx: AppContext, show: () => void): SamplesPanel {
  const picker = h('select', { id: 'sample-picker' });
  const path = h('p', { class: 'muted', id: 'samples-table-path' });
  const body = h('tbody', {});
  const element = h(
    'section',
    { class: 'panel', id: 'samples-panel', 'aria-labelledby': 'samples-title', hidden: true },
    h('h3', { id: 'samples-title' }, 'Samples'),
    h('div', { class: 'filters' }, h('label', { for: 'sample-picker' }, 'Show the results of'), picker),
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'data', id: 'samples-table' },
        tableHead('Sample', numeric('Reads'), numeric('Virus reads'), numeric('Non-virus reads'), numeric('Unscored reads'), numeric('Chunks'), numeric('Virus chunks'), numeric('Frames')),
        body,
      ),
    ),
    path,
  );
  const pick = (outDir: string) => {
    ctx.store.set({ sampleDir: outDir });
    show();
  };
  picker.addEventListener('change', () => pick(picker.value));

  const render = (rows: SampleRow[], current: string | null) => {
    replaceChildren(
      picker,
      rows.map((row) => h('option', { value: row.out_dir, selected: row.out_dir === current }, row.sample)),
    );
    replaceChildren(
      body,
      rows.map((row) =>
        h(
          'tr',
          { 'data-sample': row.sample, 'aria-current': row.out_dir === current ? 'true' : null },
          h('th', { scope: 'row' }, h('button', { type: 'button', class: 'link', onclick: () => pick(row.out_dir) }, row.sample)),
          [row.reads, row.virus_reads, row.others_reads, row.unscored_reads, row.chunks, row.virus_chunks, row.frames].map((n) =>
            h('td', { class: 'num' }, formatCount(n)),
          ),
        ),
      ),
    );
  };

  return {
    element,
    async refresh() {
      const outDir = samplesRun(ctx.store.get());
      element.hidden = outDir === null;
      if (outDir === null) return;
      let rows: SampleRow[] = [];
      try {
        const table = await ctx.api.loadSamples(outDir);
        rows = table.samples;
        path.textContent = `The table across samples: ${table.path}`;
      } catch (reason) {
        path.textContent = 'No table across samples yet: the run has not written it.';
        reportFailure(ctx, 'load the table across samples', reason);
      }
      const current = ctx.store.get().sampleDir;
      const first = rows[0];
      if ((current === null || !rows.some((r) => r.out_dir === current)) && first !== undefined) {
        ctx.store.set({ sampleDir: first.out_dir });
      }
      render(rows, ctx.store.get().sampleDir);
    },
  };
}
