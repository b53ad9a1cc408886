// Results of a run: the score histogram, a sortable and filterable per-read table (paged,
// so 100k reads stay fast), and for the selected read its per-chunk track and frames,
// fetched for that read alone (every frame of a big run would be hundreds of MB of JSON).
import type { FrameRow, ReadRow, ReportsStatus, Results } from '../api/types';
import { reportFailure, type AppContext } from '../app/context';
import { folderFreshness, type Screen } from '../app/screen';
import { resultsFolder } from '../app/state';
import { h, replaceChildren, numeric, tableHead } from '../ui/dom';
import { folderHead } from '../ui/folder-head';
import { formatCount, formatScore } from '../ui/format';
import { messageLine } from '../ui/message-line';
import { histogramSvg } from './histogram';
import { comparePanel } from './compare-panel';
import { samplesPanel } from './samples-panel';
import {
  callClass,
  chunkScores,
  DEFAULT_QUERY,
  inChunkOrder,
  pageCount,
  pageOf,
  PAGE_SIZE,
  queryReads,
  type CallFilter,
  type ReadQuery,
  type SortKey,
} from './read-query';
import { trackSvg } from './track';

const COLUMNS: { key: SortKey; label: string; numeric: boolean }[] = [
  { key: 'read_id', label: 'Read', numeric: false },
  { key: 'chunks', label: 'Chunks', numeric: true },
  { key: 'frames', label: 'Frames', numeric: true },
  { key: 'virus_chunks', label: 'Virus chunks', numeric: true },
  { key: 'best_virus_score', label: 'Best virus score', numeric: true },
  { key: 'call', label: 'Call', numeric: false },
];
const CALL_LABELS: Record<Exclude<CallFilter, 'all'>, string> = { virus: 'virus', 'non-virus': 'non-virus', none: 'not scored' };
// Typing in the ID filter re-filters up to 100k reads: wait for a pause.
const FILTER_DELAY_MS = 150;

/** The "best score at least" bound typed: null for none, undefined when it is no score
 *  (outside 0–1, or not a number). */
function scoreBound(text: string): number | null | undefined {
  if (text.trim() === '') return null;
  const value = Number(text);
  return Number.isFinite(value) && value >= 0 && value <= 1 ? value : undefined;
}

function callBadge(call: string): HTMLElement {
  const cls = callClass(call);
  return h('span', { class: `badge call-${cls}` }, CALL_LABELS[cls]);
}

function framesTable(frames: FrameRow[]): HTMLElement {
  return h(
    'table',
    { class: 'data compact', id: 'read-frames' },
    h('caption', {}, 'Scored frames'),
    tableHead(numeric('Chunk'), 'Frame', 'Prediction', numeric('Score (others)'), numeric('Score (virus)')),
    h(
      'tbody',
      {},
      frames.map((f) =>
        h(
          'tr',
          { 'data-sequence': f.sequence_id },
          h('td', { class: 'num' }, f.chunk),
          h('td', {}, f.frame),
          h('td', {}, f.prediction),
          h('td', { class: 'num' }, formatScore(f.score_other)),
          h('td', { class: 'num' }, formatScore(f.score_virus)),
        ),
      ),
    ),
  );
}

/** What the user must know about the reports before trusting the numbers: nothing when
 * they are complete and current. */
function reportsNotice(status: ReportsStatus): string | null {
  const partial = status.partial_files.length > 0 ? ` Its own partial reports are beside them: ${status.partial_files.join(', ')}.` : '';
  switch (status.state) {
    case 'complete':
      return null;
    case 'partial':
      return 'Partial results: some items of the run failed, and their reads are missing here. See Failures.';
    case 'earlier':
      return status.last_run === 'running' || status.last_run === 'cancelled'
        ? `Out of date: these results are from an earlier run; the last run (${status.last_run}) did not finish.`
        : `Out of date: these results are from an earlier run, kept because the last run (${status.last_run ?? 'unknown'}) did not complete.${partial} See Failures.`;
    case 'missing':
      return 'No reports: the last run did not write any.';
  }
}

export function resultsScreen(ctx: AppContext): Screen {
  let loaded: Results | null = null;
  let query: ReadQuery = { ...DEFAULT_QUERY };
  let rows: ReadRow[] = [];
  let page = 0;
  let selected: string | null = null;
  const freshness = folderFreshness(ctx.store);
  // A run of samples: the table across them and the sample shown.
  const samples = samplesPanel(ctx, () => void load());
  // Another run of the same reads against the one shown.
  const comparison = comparePanel(ctx, () => loaded?.out_dir ?? '');

  const heading = h('p', { id: 'results-folder', class: 'muted' });
  const totals = h('p', { id: 'results-totals', 'aria-live': 'polite' });
  const notice = h('p', { id: 'reports-status', class: 'suggestion', role: 'status', hidden: true });
  const demoNotice = h(
    'p',
    { id: 'demo-notice', class: 'suggestion', role: 'note', hidden: true },
    h('strong', {}, 'Demo models: '),
    'these results come from the RANDOM tiny demo models, which show the app at work. The calls and scores say nothing about the reads; use the released models for real predictions.',
  );
  // Paired reads: the run's call per pair of mates is a file of its own.
  const pairSummaryPath = h('code', {});
  const pairSummary = h(
    'p',
    { id: 'pair-summary', role: 'note', hidden: true },
    h('strong', {}, 'Paired reads: '),
    'each mate is a read of its own below (/1, /2); ',
    pairSummaryPath,
    ' gives a call per pair (virus when either mate is). ',
    h('button', { type: 'button', class: 'link', id: 'open-pair-summary', onclick: () => void openPairSummary() }, 'Open pair_summary.tsv'),
  );
  const histogramArea = h('div', { class: 'chart-area' });
  const detail = h('div', { id: 'read-detail' });
  const countLine = h('p', { id: 'read-count', 'aria-live': 'polite' });
  const headRow = h('tr', {});
  const body = h('tbody', {});
  const pageLabel = h('span', { id: 'page-label' });
  const pager = {
    first: h('button', { type: 'button', 'aria-label': 'First page', onclick: () => goTo(0) }, '«'),
    prev: h('button', { type: 'button', id: 'page-prev', onclick: () => goTo(page - 1) }, 'Previous'),
    next: h('button', { type: 'button', id: 'page-next', onclick: () => goTo(page + 1) }, 'Next'),
    last: h('button', { type: 'button', 'aria-label': 'Last page', onclick: () => goTo(pageCount(rows.length) - 1) }, '»'),
  };
  const actionButtons = {
    open: h('button', { type: 'button', id: 'open-folder', onclick: () => void openFolder() }, 'Open output folder'),
    fasta: h('button', { type: 'button', id: 'export-fasta', onclick: () => void exportFasta() }, 'Export virus reads as FASTA…'),
  };

  // ---- filters ----
  const textFilter = h('input', { type: 'search', id: 'filter-text', placeholder: 'part of a read ID', autocomplete: 'off' });
  const callFilter = h(
    'select',
    { id: 'filter-call' },
    h('option', { value: 'all' }, 'all'),
    (Object.keys(CALL_LABELS) as (keyof typeof CALL_LABELS)[]).map((value) => h('option', { value }, CALL_LABELS[value])),
  );
  const scoreMessage = messageLine('filter-score-message');
  const scoreFilter = h('input', {
    type: 'number',
    id: 'filter-score',
    min: 0,
    max: 1,
    step: 0.05,
    placeholder: 'any',
    'aria-describedby': scoreMessage.element.id,
  });
  const resetButton = h('button', { type: 'button', class: 'link', id: 'reset-filters', onclick: () => resetFilters() }, 'Show all reads');
  const noMatches = h('p', { id: 'no-matches', role: 'status', hidden: true }, 'No read matches these filters. ', resetButton);
  let textTimer: ReturnType<typeof setTimeout> | undefined;
  const setQuery = (patch: Partial<ReadQuery>) => {
    query = { ...query, ...patch };
    page = 0;
    refreshRows();
  };
  textFilter.addEventListener('input', () => {
    clearTimeout(textTimer);
    textTimer = setTimeout(() => setQuery({ text: textFilter.value }), FILTER_DELAY_MS);
  });
  callFilter.addEventListener('change', () => setQuery({ call: callFilter.value as CallFilter }));
  scoreFilter.addEventListener('input', () => {
    const minScore = scoreBound(scoreFilter.value);
    // A score is a probability: 2 would hide every read, -1 none, and neither is meant.
    if (minScore === undefined) scoreFilter.setAttribute('aria-invalid', 'true');
    else scoreFilter.removeAttribute('aria-invalid');
    scoreMessage.show(minScore === undefined ? 'error' : 'none', minScore === undefined ? 'A score is from 0 to 1; this filter is not applied.' : '');
    setQuery({ minScore: minScore ?? null });
  });
  function resetFilters(): void {
    clearTimeout(textTimer);
    textFilter.value = '';
    callFilter.value = 'all';
    scoreFilter.value = '';
    scoreFilter.removeAttribute('aria-invalid');
    scoreMessage.show('none', '');
    setQuery({ text: '', call: 'all', minScore: null });
  }

  // ---- table ----
  // Header cells are made once and updated, so the sort button keeps the keyboard focus.
  const headCells = COLUMNS.map((column) => {
    const mark = h('span', { class: 'sort-mark', 'aria-hidden': 'true' });
    const sortBy = () =>
      setQuery(
        query.sort === column.key
          ? { descending: !query.descending }
          : // Numbers read best largest first; IDs and calls alphabetically.
            { sort: column.key, descending: column.numeric },
      );
    const cell = h(
      'th',
      { scope: 'col', class: column.numeric ? 'num' : null, 'data-column': column.key },
      h('button', { type: 'button', class: 'sort', onclick: sortBy }, column.label, mark),
    );
    return { column, cell, mark };
  });
  headRow.append(...headCells.map((c) => c.cell));

  function renderHead(): void {
    for (const { column, cell, mark } of headCells) {
      const sorted = query.sort === column.key;
      cell.setAttribute('aria-sort', sorted ? (query.descending ? 'descending' : 'ascending') : 'none');
      mark.textContent = sorted ? (query.descending ? '▼' : '▲') : '';
    }
  }

  function renderPage(): void {
    const pages = pageCount(rows.length);
    page = Math.min(Math.max(0, page), pages - 1);
    replaceChildren(
      body,
      pageOf(rows, page).map((read) =>
        h(
          'tr',
          { 'data-read': read.read_id, 'aria-current': read.read_id === selected ? 'true' : null },
          h('th', { scope: 'row' }, h('button', { type: 'button', class: 'link', onclick: () => select(read.read_id) }, read.read_id)),
          h('td', { class: 'num' }, formatCount(read.chunks)),
          h('td', { class: 'num' }, formatCount(read.frames)),
          h('td', { class: 'num' }, formatCount(read.virus_chunks)),
          h('td', { class: 'num' }, formatScore(read.best_virus_score)),
          h('td', {}, callBadge(read.call)),
        ),
      ),
    );
    const all = loaded?.reads.length ?? 0;
    const from = rows.length === 0 ? 0 : page * PAGE_SIZE + 1;
    const to = Math.min(rows.length, (page + 1) * PAGE_SIZE);
    countLine.textContent = `Showing ${formatCount(from)}–${formatCount(to)} of ${formatCount(rows.length)} reads${rows.length === all ? '' : ` (${formatCount(all)} in all)`}`;
    pageLabel.textContent = `Page ${page + 1} of ${pages}`;
    noMatches.hidden = rows.length > 0 || all === 0;
    pager.first.disabled = pager.prev.disabled = page === 0;
    pager.next.disabled = pager.last.disabled = page >= pages - 1;
  }

  function refreshRows(): void {
    rows = loaded === null ? [] : queryReads(loaded.reads, query);
    renderHead();
    renderPage();
  }

  function goTo(target: number): void {
    page = target;
    renderPage();
  }

  // ---- selected read ----
  // Counts selections, so frames that arrive after another read was chosen are dropped.
  let selection = 0;
  function select(readId: string | null): void {
    selected = readId;
    selection += 1;
    const read = loaded?.reads.find((r) => r.read_id === readId);
    if (loaded === null || read === undefined) {
      replaceChildren(detail, h('p', { class: 'muted' }, 'Choose a read in the table to see its score along the read.'));
    } else {
      const title = h('h4', { id: 'read-detail-title' }, read.read_id, ' ', callBadge(read.call));
      if (read.frames === 0) {
        showFrames(read, title, []);
      } else {
        replaceChildren(detail, title, h('p', { class: 'muted', id: 'read-frames-loading' }, 'Loading its frames…'));
        void fetchFrames(loaded.out_dir, read, title, selection);
      }
    }
    for (const row of body.querySelectorAll<HTMLElement>('tr[data-read]')) {
      if (row.dataset['read'] === readId) row.setAttribute('aria-current', 'true');
      else row.removeAttribute('aria-current');
    }
  }

  async function fetchFrames(outDir: string, read: ReadRow, title: HTMLElement, asked: number): Promise<void> {
    try {
      const frames = await ctx.api.loadReadFrames(outDir, read.read_id);
      if (asked === selection) showFrames(read, title, inChunkOrder(frames));
    } catch (reason) {
      if (asked !== selection) return;
      replaceChildren(detail, title, h('p', { class: 'muted' }, 'Its frames could not be loaded.'));
      reportFailure(ctx, `load the frames of ${read.read_id}`, reason);
    }
  }

  function showFrames(read: ReadRow, title: HTMLElement, frames: FrameRow[]): void {
    replaceChildren(
      detail,
      title,
      trackSvg(read.read_id, chunkScores(read.chunks, frames)),
      frames.length > 0 ? framesTable(frames) : h('p', { class: 'muted' }, 'No frame of this read was scored.'),
    );
  }

  // ---- loading and actions ----
  async function load(): Promise<void> {
    // First the samples: with none picked yet, the first sample's results are shown.
    await samples.refresh();
    freshness.markLoaded();
    const outDir = resultsFolder(ctx.store.get());
    heading.textContent = outDir === '' ? 'No output folder chosen yet.' : `Output folder: ${outDir}`;
    loaded = null;
    totals.textContent = outDir === '' ? '' : 'Loading…';
    notice.hidden = true;
    demoNotice.hidden = true;
    pairSummary.hidden = true;
    replaceChildren(histogramArea);
    actionButtons.open.disabled = actionButtons.fasta.disabled = outDir === '';
    if (outDir !== '') {
      try {
        loaded = await ctx.api.loadResults(outDir);
      } catch (reason) {
        totals.textContent = 'No results to show.';
        reportFailure(ctx, 'load the results', reason);
      }
    }
    if (loaded !== null) {
      const { reads } = loaded;
      const virus = reads.filter((r) => r.call === 'virus').length;
      totals.textContent = `${formatCount(reads.length)} reads, ${formatCount(virus)} called virus, ${formatCount(loaded.frames_scored)} frames scored`;
      replaceChildren(histogramArea, histogramSvg(loaded.histogram));
      const text = reportsNotice(loaded.reports);
      notice.textContent = text ?? '';
      notice.hidden = text === null;
      notice.setAttribute('data-state', loaded.reports.state);
      // The shell tells a demo run (src-tauri/src/demo.rs): "84 of 120 reads called virus"
      // must not read as a finding.
      demoNotice.hidden = !loaded.demo_models;
      pairSummary.hidden = loaded.pair_summary === null;
      pairSummaryPath.textContent = loaded.pair_summary ?? '';
    }
    actionButtons.fasta.disabled = loaded === null;
    comparison.reset();
    page = 0;
    refreshRows();
    select(selected);
  }

  async function openFolder(): Promise<void> {
    const outDir = resultsFolder(ctx.store.get());
    await ctx.api.openFolder(outDir).catch((reason: unknown) => reportFailure(ctx, 'open the folder', reason));
  }

  async function openPairSummary(): Promise<void> {
    const path = loaded?.pair_summary ?? null;
    if (path === null) return;
    await ctx.api.openFolder(path).catch((reason: unknown) => reportFailure(ctx, 'open pair_summary.tsv', reason));
  }

  async function exportFasta(): Promise<void> {
    const outDir = loaded?.out_dir;
    if (outDir === undefined) return;
    try {
      const dest = await ctx.api.pickSaveFile('Export virus reads as FASTA', 'virus_reads.fa', outDir);
      if (dest === null) return;
      const written = await ctx.api.exportVirusFasta(outDir, dest);
      ctx.notify(`Wrote ${formatCount(written)} virus ${written === 1 ? 'read' : 'reads'} to ${dest}.`);
    } catch (reason) {
      reportFailure(ctx, 'export the virus reads', reason);
    }
  }

  const element = h(
    'div',
    { class: 'results' },
    folderHead([heading, totals], 'reload-results', () => void load(), actionButtons.open, actionButtons.fasta),
    samples.element,
    demoNotice,
    notice,
    pairSummary,
    h(
      'div',
      { class: 'results-grid' },
      h('section', { class: 'panel', 'aria-labelledby': 'histogram-title' }, h('h3', { id: 'histogram-title' }, 'Score distribution'), histogramArea),
      h('section', { class: 'panel', 'aria-labelledby': 'track-title' }, h('h3', { id: 'track-title' }, 'Along the read'), detail),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'reads-title' },
      h('h3', { id: 'reads-title' }, 'Reads'),
      h(
        'div',
        { class: 'filters', role: 'search', 'aria-label': 'Filter reads' },
        h('label', { for: 'filter-text' }, 'Read ID contains'),
        textFilter,
        h('label', { for: 'filter-call' }, 'Call'),
        callFilter,
        h('label', { for: 'filter-score' }, 'Best score at least'),
        scoreFilter,
        scoreMessage.element,
      ),
      countLine,
      noMatches,
      h('div', { class: 'table-scroll' }, h('table', { class: 'data', id: 'read-table' }, h('thead', {}, headRow), body)),
      h('div', { class: 'pager', role: 'group', 'aria-label': 'Pages' }, pager.first, pager.prev, pageLabel, pager.next, pager.last),
    ),
    comparison.element,
  );

  select(null);
  return {
    element,
    onShow: () => {
      if (freshness.stale()) void load();
    },
  };
}
