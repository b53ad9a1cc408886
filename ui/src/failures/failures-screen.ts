// Failures of the last run grouped by kind, each with its files, message and suggested fix;
// export as TSV and retry (a resume redoes exactly the failed items).
import type { FailureEntry, FailureGroup, Stage } from '../api/types';
import { reportFailure, type AppContext } from '../app/context';
import { resultsFolder } from '../app/state';
import { STAGE_LABELS } from '../run/progress';
import { h, replaceChildren } from '../ui/dom';
import { folderHead } from '../ui/folder-head';
import { formatCount } from '../ui/format';
import { folderFreshness, type Screen } from '../app/screen';

/** Entries shown per group before "Show all": a bad input can fail thousands of items. */
const ENTRIES_SHOWN = 50;

function kindLabel(kind: string): string {
  return kind.replace(/_/g, ' ');
}

function entryView(entry: FailureEntry, withSuggestion: boolean): HTMLElement {
  return h(
    'li',
    { class: 'failure-entry' },
    h('p', {}, h('strong', { class: 'path' }, entry.item), ' · ', STAGE_LABELS[entry.stage as Stage] ?? entry.stage),
    h('p', { class: 'failure-message' }, entry.message),
    entry.files.length > 0 && h('ul', { class: 'files', 'aria-label': 'Files' }, entry.files.map((f) => h('li', { class: 'path' }, f))),
    withSuggestion && h('p', { class: 'suggestion' }, 'Fix: ', entry.suggestion),
  );
}

function groupView(group: FailureGroup): HTMLElement {
  const suggestions = new Set(group.entries.map((e) => e.suggestion));
  const shared = suggestions.size === 1 ? group.entries[0]?.suggestion ?? null : null;
  const list = h('ul', { class: 'failure-entries' });
  const showEntries = (count: number) => {
    replaceChildren(list, group.entries.slice(0, count).map((e) => entryView(e, shared === null)));
    more.hidden = count >= group.entries.length;
  };
  const more = h(
    'button',
    { type: 'button', class: 'link', onclick: () => showEntries(group.entries.length) },
    `Show all ${formatCount(group.entries.length)}`,
  );
  showEntries(ENTRIES_SHOWN);
  const headingId = `failure-kind-${group.kind}`;
  return h(
    'section',
    { class: 'panel failure-group', 'data-kind': group.kind, 'aria-labelledby': headingId },
    h('h3', { id: headingId }, kindLabel(group.kind), ' ', h('span', { class: 'count', 'data-testid': 'count' }, formatCount(group.count))),
    shared !== null && h('p', { class: 'suggestion' }, 'Fix: ', shared),
    list,
    more,
  );
}

export function failuresScreen(ctx: AppContext): Screen {
  const folder = h('p', { class: 'muted', id: 'failures-folder' });
  const total = h('p', { id: 'failure-total', 'aria-live': 'polite' });
  const groups = h('div', { class: 'failure-groups' });
  let loaded: FailureGroup[] = [];
  let loadedFor: string | null = null;
  const freshness = folderFreshness(ctx.store);

  const exportButton = h('button', { type: 'button', id: 'export-failures', disabled: true, onclick: () => void exportTsv() }, 'Export TSV…');
  const retryButton = h('button', { type: 'button', class: 'primary', id: 'retry-failed', disabled: true, onclick: () => retry() }, 'Retry failed');
  // Retrying alone fails again on a damaged file: this moves such files aside first.
  const setAsideButton = h(
    'button',
    { type: 'button', class: 'primary', id: 'set-aside-retry', hidden: true, onclick: () => void setAsideAndRetry() },
    'Set aside and retry',
  );
  const openButton = h('button', { type: 'button', id: 'open-run-folder', disabled: true, onclick: () => void openFolder() }, 'Open folder');

  const updateButtons = () => {
    const none = loaded.length === 0;
    const damaged = loaded.some((g) => g.entries.some((e) => e.damaged));
    exportButton.disabled = none;
    retryButton.disabled = none || ctx.store.get().running;
    setAsideButton.hidden = !damaged;
    setAsideButton.disabled = !damaged || ctx.store.get().running;
    retryButton.classList.toggle('primary', !damaged);
    openButton.disabled = loadedFor === null || loadedFor === '';
  };

  async function load(): Promise<void> {
    freshness.markLoaded();
    const outDir = resultsFolder(ctx.store.get());
    loadedFor = outDir;
    folder.textContent = outDir === '' ? 'No output folder chosen yet.' : `Output folder: ${outDir}`;
    loaded = [];
    replaceChildren(groups);
    total.textContent = outDir === '' ? '' : 'Loading…';
    updateButtons();
    if (outDir === '') return;
    try {
      loaded = await ctx.api.loadFailures(outDir);
    } catch (reason) {
      total.textContent = '';
      reportFailure(ctx, 'load the failures', reason);
      return;
    }
    const count = loaded.reduce((sum, g) => sum + g.count, 0);
    total.textContent =
      count === 0
        ? 'No failures: every item went through.'
        : `${formatCount(count)} ${count === 1 ? 'failure' : 'failures'} of ${loaded.length} ${loaded.length === 1 ? 'kind' : 'kinds'}`;
    replaceChildren(groups, loaded.map(groupView));
    updateButtons();
  }

  async function exportTsv(): Promise<void> {
    const outDir = loadedFor;
    if (outDir === null) return;
    try {
      // The dialog opens in the run's output folder, where the user looks for its files.
      const dest = await ctx.api.pickSaveFile('Export failures', 'failures.tsv', outDir === '' ? undefined : outDir);
      if (dest === null) return;
      await ctx.api.exportFailures(outDir, dest);
      ctx.notify(`Exported the failures to ${dest}.`);
    } catch (reason) {
      reportFailure(ctx, 'export the failures', reason);
    }
  }

  async function setAsideAndRetry(): Promise<void> {
    const outDir = loadedFor;
    if (outDir === null || outDir === '') return;
    try {
      const set = await ctx.api.setAsideDamaged(outDir);
      ctx.notify(`Moved ${formatCount(set.moved.length)} ${set.moved.length === 1 ? 'file' : 'files'} to ${set.folder}; retrying.`);
    } catch (reason) {
      reportFailure(ctx, 'set the damaged files aside', reason);
      return;
    }
    retry();
  }

  async function openFolder(): Promise<void> {
    if (loadedFor === null || loadedFor === '') return;
    await ctx.api.openFolder(loadedFor).catch((reason: unknown) => reportFailure(ctx, 'open the folder', reason));
  }

  function retry(): void {
    const state = ctx.store.get();
    void ctx.runs.start(state.lastRun?.settings ?? state.settings, false);
    ctx.navigate('run');
  }

  ctx.store.subscribe((state, previous) => {
    if (state.running !== previous.running) updateButtons();
  });

  const element = h(
    'div',
    { class: 'failures' },
    folderHead([folder, total], 'reload-failures', () => void load(), openButton, exportButton, setAsideButton, retryButton),
    groups,
  );
  return {
    element,
    onShow: () => {
      if (freshness.stale()) void load();
    },
  };
}
