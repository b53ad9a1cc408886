// Input reads: the chosen folders and files, and what scan_inputs found in them.
import type { InputScan } from '../api/types';
import { reportFailure, type AppContext } from '../app/context';
import { h, replaceChildren, numeric, tableHead, type Child } from '../ui/dom';
import { baseName, formatBytes, formatCount } from '../ui/format';
import { fieldMessage, showProblems, problemsFor, type Section } from './section';

/** The engine's list (core::fasta's FASTA_EXTENSIONS, then COMPRESSION_SUFFIXES);
 * src-tauri/tests/ui_lists.rs fails when the two differ. */
export const FASTA_FILTER = {
  name: 'FASTA/FASTQ reads',
  extensions: ['fa', 'fasta', 'fna', 'faa', 'fas', 'ffn', 'frn', 'fsa', 'fq', 'fastq', 'gz', 'bgz', 'bz2', 'xz', 'zst', 'zstd'],
};

/** `said`: the field's own problems, shown above; the scan's list leaves them out (a
 * missing input was said twice, once by validation and once by the scan). */
function scanView(scan: InputScan | null, inputs: string[], said: readonly string[]): Child[] {
  if (inputs.length === 0) return [];
  if (scan === null) return [h('p', { class: 'muted' }, 'Looking for FASTA files…')];
  const files = scan.files.length;
  const problems = scan.problems.filter((p) => !said.includes(p));
  return [
    h(
      'p',
      { class: 'scan-summary', 'data-testid': 'scan-summary' },
      `${formatCount(files)} FASTA ${files === 1 ? 'file' : 'files'}, ${formatBytes(scan.total_bytes)} in all`,
    ),
    problems.length > 0 &&
      h('ul', { class: 'problems', 'data-testid': 'scan-problems' }, problems.map((p) => h('li', {}, p))),
    files > 0 &&
      h(
        'details',
        { class: 'scan-files' },
        h('summary', {}, 'Files found'),
        h(
          'table',
          { class: 'data compact' },
          tableHead('File', numeric('Size'), numeric('Records')),
          h(
            'tbody',
            {},
            scan.files.map((f) =>
              h(
                'tr',
                {},
                h('td', { class: 'path', title: f.path }, baseName(f.path)),
                h('td', { class: 'num' }, formatBytes(f.bytes)),
                h('td', { class: 'num' }, f.records === null ? '—' : formatCount(f.records)),
              ),
            ),
          ),
        ),
      ),
  ];
}

export function inputsSection(ctx: AppContext): Section {
  const list = h('ul', { class: 'path-list', id: 'input-list', 'aria-label': 'Chosen inputs' });
  const scanArea = h('div', { class: 'scan', id: 'input-scan', 'aria-live': 'polite' });
  const message = fieldMessage('inputs');

  const addPaths = (paths: string[]) => {
    const inputs = ctx.store.get().settings.inputs;
    const added = paths.filter((p) => !inputs.includes(p));
    if (added.length > 0) ctx.updateSettings({ inputs: [...inputs, ...added] });
  };
  const addFolders = h(
    'button',
    {
      type: 'button',
      id: 'add-input-folders',
      onclick: () =>
        ctx.api.pickFolders('Choose folders of reads').then(addPaths, (e: unknown) => reportFailure(ctx, 'open the folder picker', e)),
    },
    'Add folders…',
  );
  const addFile = h(
    'button',
    {
      type: 'button',
      id: 'add-input-file',
      onclick: () =>
        ctx.api
          .pickFile('Choose a file of reads', [FASTA_FILTER])
          .then((path) => path !== null && addPaths([path]), (e: unknown) => reportFailure(ctx, 'open the file picker', e)),
    },
    'Add a file…',
  );

  const remove = (path: string) => {
    ctx.updateSettings({ inputs: ctx.store.get().settings.inputs.filter((p) => p !== path) });
    // The removed row took the focus with it; keep the keyboard user in this section.
    addFolders.focus();
  };

  const element = h(
    'fieldset',
    { class: 'panel', id: 'inputs-section', 'aria-describedby': message.element.id },
    h('legend', {}, 'Input reads'),
    h('p', { class: 'hint' }, 'Folders of FASTA/FASTQ files (plain or compressed), or single files.'),
    list,
    h('div', { class: 'actions' }, addFolders, addFile),
    message.element,
    scanArea,
  );

  return {
    element,
    update(state, previous) {
      const { inputs, samples } = state.settings;
      if (inputs !== previous?.settings.inputs || samples.length !== previous.settings.samples.length) {
        // With samples, the samples are the run's inputs (settings.rs).
        const unused = samples.length > 0 && h('li', { class: 'empty', id: 'inputs-unused' }, inputs.length === 0 ? 'The samples below are the run’s inputs.' : 'Not used: the samples below are the run’s inputs.');
        replaceChildren(
          list,
          unused,
          inputs.length === 0
            ? !unused && h('li', { class: 'empty' }, 'No inputs chosen yet.')
            : inputs.map((path) =>
                h(
                  'li',
                  {},
                  h('span', { class: 'path', title: path }, path),
                  h('button', { type: 'button', class: 'link', 'aria-label': `Remove ${path}`, onclick: () => remove(path) }, 'Remove'),
                ),
              ),
        );
      }
      const problems = problemsFor(state, 'inputs');
      const said = previous ? problemsFor(previous, 'inputs').join('\n') : null;
      if (state.scan !== previous?.scan || inputs !== previous?.settings.inputs || problems.join('\n') !== said) {
        replaceChildren(scanArea, scanView(state.scan, inputs, problems));
      }
      showProblems(message, problems, { empty: inputs.length === 0 });
    },
  };
}
