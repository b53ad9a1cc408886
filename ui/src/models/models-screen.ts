// Models: the catalogue's models and their state in the caches the Python tools share,
// with Download (Resume when partial), Cancel, Verify and Reveal per model, and Import of
// files copied in by hand; below them, GPU support (../gpu/gpu-panel.ts). A download's
// progress comes through its Channel; each row is built once and updated in place, so
// buttons stay put while progress arrives.
import type { FetchEvent, ImportReport, ModelList, ModelState, ModelStatus } from '../api/types';
import { errorText, reportFailure, type AppContext } from '../app/context';
import type { Screen } from '../app/screen';
import { h, replaceChildren, setText, tableHead } from '../ui/dom';
import { baseName, formatBytes, formatDuration } from '../ui/format';
import { messageLine } from '../ui/message-line';
import { gpuPanel } from '../gpu/gpu-panel';

export interface Progress {
  done: number;
  total: number | null;
  bytesPerSecond: number;
  secondsLeft: number | null;
}

/** A download or verification going on a model. */
interface Job {
  kind: 'fetch' | 'verify';
  progress: Progress | null;
  /** What it is doing now: the file, a retry. */
  activity: string;
  cancelRequested: boolean;
  /** Started before this page was loaded: no progress reaches it. */
  detached: boolean;
}

const STATE_TEXT: Record<ModelState, string> = {
  verified: 'verified',
  installed: 'installed',
  partial: 'partial',
  damaged: 'damaged',
  missing: 'missing',
};

/** "120 MB of 468 MB · 26 % · 48.0 MB/s · 8 s left" */
export function describeProgress(p: Progress): string {
  const parts = [p.total === null ? formatBytes(p.done) : `${formatBytes(p.done)} of ${formatBytes(p.total)}`];
  if (p.total !== null && p.total > 0) parts.push(`${Math.floor((100 * p.done) / p.total)} %`);
  if (p.bytesPerSecond > 0) parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
  if (p.secondsLeft !== null) parts.push(`${formatDuration(p.secondsLeft)} left`);
  return parts.join(' · ');
}

/** A job's bar (hidden without a known total) and its line: progress, what it does now,
 *  and once it ended, `note` (a cancel's). */
export function showProgress(
  bar: HTMLProgressElement,
  line: HTMLElement,
  job: { progress: Progress | null; activity: string } | null,
  note: string,
): void {
  const progress = job?.progress ?? null;
  bar.hidden = progress === null || progress.total === null;
  if (progress !== null && progress.total !== null) {
    bar.max = Math.max(1, progress.total);
    bar.value = Math.min(progress.done, progress.total);
  }
  const lines = [progress === null ? '' : describeProgress(progress), job?.activity ?? '', job === null ? note : ''];
  setText(line, lines.filter((l) => l !== '').join(' — '));
}

/** What a download's or verification's event changes in its progress line (also the GPU
 *  runtime's, ../gpu/gpu-panel.ts). */
export function followDownload(job: { progress: Progress | null; activity: string }, event: FetchEvent): void {
  switch (event.event) {
    case 'started':
      job.progress = { done: (event.bytes_total ?? 0) - event.bytes_to_get, total: event.bytes_total, bytesPerSecond: 0, secondsLeft: null };
      break;
    case 'file-started':
      job.activity = `getting ${event.file}`;
      break;
    case 'verifying':
      job.activity = `checking ${event.file}`;
      break;
    case 'unpacking':
      job.activity = `unpacking ${event.file}…`;
      break;
    case 'progress':
      job.progress = { done: event.done, total: event.total, bytesPerSecond: event.bytes_per_second, secondsLeft: event.seconds_left };
      break;
    case 'retrying':
      job.activity = `${event.file}: ${event.reason}; trying again in ${formatDuration(event.delay_seconds)} (${event.attempt} of ${event.attempts})`;
      break;
    case 'restarted':
      job.activity = `${event.file}: starting it again (${event.reason})`;
      break;
    case 'falling-back':
      job.activity = `${event.from} failed (${event.reason}); trying ${event.to}`;
      break;
    case 'file-installed':
      job.activity = `installed ${event.file}`;
      break;
    case 'finished':
      break;
  }
}

function describeImport(report: ImportReport): string {
  const matched = report.files.filter((f) => f.matched !== null);
  const other = report.files.filter((f) => f.matched === null);
  const parts: string[] = [];
  if (matched.length > 0) {
    parts.push(`Imported ${matched.map((f) => `${baseName(f.path)} (${f.matched?.model ?? ''})`).join(', ')}.`);
  }
  if (other.length > 0) {
    parts.push(`${other.length === 1 ? '1 file matches' : `${other.length} files match`} no model of the catalogue: ${other.map((f) => baseName(f.path)).join(', ')}.`);
  }
  return parts.join(' ') || 'No files found there.';
}

interface Row {
  element: HTMLTableRowElement;
  update(status: ModelStatus, job: Job | null, error: string | null, note: string): void;
}

function modelRow(status: ModelStatus, actions: {
  download: () => void;
  cancel: () => void;
  verify: () => void;
  reveal: () => void;
}): Row {
  const id = status.id;
  const title = h('div', { class: 'model-title' });
  const source = h('div', { class: 'hint' });
  const state = h('span', { class: 'model-state' });
  const bar = h('progress', { class: 'model-bar', max: 1, value: 0, hidden: true, 'aria-label': `${status.title}: download` });
  const progressText = h('div', { class: 'model-progress', 'aria-live': 'polite' });
  const error = h('div', { class: 'model-error error-text', role: 'alert', hidden: true });
  const size = h('td', { class: 'num' });
  const location = h('code', { class: 'path' });
  const download = h('button', { type: 'button', 'data-action': 'download', onclick: actions.download }, 'Download');
  const cancel = h('button', { type: 'button', 'data-action': 'cancel', hidden: true, onclick: actions.cancel }, 'Cancel');
  const verify = h('button', { type: 'button', 'data-action': 'verify', onclick: actions.verify }, 'Verify');
  const reveal = h('button', { type: 'button', 'data-action': 'reveal', onclick: actions.reveal }, 'Reveal in folder');
  const element = h(
    'tr',
    { 'data-model': id },
    h('td', {}, title, source),
    h('td', {}, state, bar, progressText, error),
    size,
    h('td', {}, location),
    h('td', {}, h('div', { class: 'actions' }, download, cancel, verify, reveal)),
  );
  return {
    element,
    update(model, job, problem, note) {
      element.dataset['state'] = model.state;
      if (job === null) delete element.dataset['job'];
      else element.dataset['job'] = job.kind;
      setText(title, model.title);
      setText(source, `${model.id} · from ${model.source}`);
      const going = job === null ? '' : job.kind === 'fetch' ? (job.cancelRequested ? 'cancelling…' : 'downloading…') : 'verifying…';
      setText(state, going === '' ? STATE_TEXT[model.state] : `${STATE_TEXT[model.state]}, ${going}`);
      state.dataset['state'] = model.state;

      showProgress(bar, progressText, job, note);
      error.hidden = problem === null;
      setText(error, problem ?? '');

      const sizeText =
        model.size === null
          ? model.bytes_present > 0 ? formatBytes(model.bytes_present) : '—'
          : model.state === 'partial' ? `${formatBytes(model.bytes_present)} of ${formatBytes(model.size)}` : formatBytes(model.size);
      setText(size, sizeText);
      setText(location, model.path);
      location.title = model.path;

      download.hidden = job !== null || model.state === 'verified' || model.state === 'installed';
      setText(download, model.state === 'partial' ? 'Resume' : model.state === 'damaged' ? 'Download again' : 'Download');
      cancel.hidden = job === null;
      cancel.disabled = job?.cancelRequested ?? false;
      verify.hidden = job !== null;
      verify.disabled = model.state === 'missing' || model.state === 'partial';
      reveal.disabled = model.state === 'missing';
    },
  };
}

export function modelsScreen(ctx: AppContext): Screen {
  const statuses = new Map<string, ModelStatus>();
  const jobs = new Map<string, Job>();
  const errors = new Map<string, string>();
  const notes = new Map<string, string>();
  const rows = new Map<string, Row>();

  const body = h('tbody');
  const caches = h('p', { class: 'hint', id: 'models-caches' });
  const message = messageLine('models-message');
  const table = h(
    'table',
    { class: 'data', id: 'model-table' },
    tableHead('Model', 'State', { numeric: 'Size' }, 'Location', 'Actions'),
    body,
  );

  const render = (id: string) => {
    const status = statuses.get(id);
    const row = rows.get(id);
    if (status !== undefined && row !== undefined) {
      row.update(status, jobs.get(id) ?? null, errors.get(id) ?? null, notes.get(id) ?? '');
    }
  };

  const apply = (list: ModelList) => {
    for (const model of list.models) statuses.set(model.id, model);
    // A job this page did not start (before a reload): shown, with Cancel, but no progress.
    for (const busy of list.busy) {
      if (!jobs.has(busy.id)) jobs.set(busy.id, { kind: busy.kind, progress: null, activity: '', cancelRequested: false, detached: true });
    }
    for (const [id, job] of jobs) if (job.detached && !list.busy.some((b) => b.id === id)) jobs.delete(id);
    const known = list.models.map((m) => m.id);
    if (known.join() !== [...rows.keys()].join()) {
      rows.clear();
      for (const model of list.models) {
        rows.set(
          model.id,
          modelRow(model, {
            download: () => void download(model.id),
            cancel: () => void cancel(model.id),
            verify: () => void verify(model.id),
            reveal: () => void reveal(model.id),
          }),
        );
      }
      replaceChildren(body, [...rows.values()].map((r) => r.element));
    }
    known.forEach(render);
    setText(caches, `Models are kept in ${list.caches.hf_hub}, ${list.caches.torch_checkpoints} and ${list.caches.virnucpro}, where the Python tools find them too.`);
  };

  const refresh = async () => {
    try {
      apply(await ctx.api.listModels());
    } catch (reason) {
      reportFailure(ctx, 'list the models', reason);
    }
  };

  const changed = () => ctx.store.set({ modelsChanged: ctx.store.get().modelsChanged + 1 });

  const onEvent = (id: string) => (event: FetchEvent) => {
    const job = jobs.get(id);
    if (job === undefined) return;
    followDownload(job, event);
    render(id);
  };

  const runJob = async (id: string, kind: Job['kind']) => {
    if (jobs.has(id)) return;
    const title = statuses.get(id)?.title ?? id;
    const job: Job = { kind, progress: null, activity: '', cancelRequested: false, detached: false };
    jobs.set(id, job);
    errors.delete(id);
    notes.delete(id);
    render(id);
    try {
      const status =
        kind === 'fetch' ? await ctx.api.fetchModel(id, onEvent(id)) : await ctx.api.verifyModel(id, onEvent(id));
      statuses.set(id, status);
      if (job.cancelRequested && !['verified', 'installed'].includes(status.state)) {
        const kept = status.bytes_present > 0 ? `${formatBytes(status.bytes_present)} kept; Resume goes on from there.` : '';
        notes.set(id, `Cancelled. ${kept}`.trim());
        ctx.notify(`${kind === 'fetch' ? 'Download' : 'Verification'} of ${title} cancelled.`);
      } else if (status.state === 'damaged') {
        errors.set(id, `${title}: a file does not match the catalogue's checksum; download it again.`);
      } else {
        ctx.notify(`${title} is ${status.state}.`);
      }
    } catch (reason) {
      errors.set(id, errorText(reason));
      ctx.notify(`Could not ${kind === 'fetch' ? 'download' : 'verify'} ${title}.`, 'error');
    } finally {
      jobs.delete(id);
      render(id);
      changed();
      await refresh();
    }
  };

  const download = (id: string) => runJob(id, 'fetch');
  const verify = (id: string) => runJob(id, 'verify');
  const cancel = async (id: string) => {
    const job = jobs.get(id);
    if (job === undefined) return;
    job.cancelRequested = true;
    render(id);
    try {
      await ctx.api.cancelFetch(id);
      // A job of an earlier page: its end reaches no one here; look again.
      if (job.detached) setTimeout(() => void refresh(), 500);
    } catch (reason) {
      reportFailure(ctx, 'cancel', reason);
    }
  };
  const reveal = async (id: string) => {
    try {
      await ctx.api.revealModel(id);
    } catch (reason) {
      errors.set(id, errorText(reason));
      render(id);
    }
  };
  const importFrom = async (folder: boolean) => {
    try {
      const report = await ctx.api.importModelsDialog(folder);
      if (report === null) return;
      message.show(report.files.some((f) => f.matched !== null) ? 'ok' : 'warning', describeImport(report));
      changed();
      await refresh();
    } catch (reason) {
      message.show('error', `Could not import: ${errorText(reason)}`);
    }
  };

  const element = h(
    'div',
    { class: 'models-screen panel' },
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', id: 'import-model-file', onclick: () => void importFrom(false) }, 'Import from file…'),
      h('button', { type: 'button', id: 'import-model-folder', onclick: () => void importFrom(true) }, 'Import from folder…'),
    ),
    message.element,
    h('p', { class: 'hint' }, 'A run uses the installed models by default. Downloads resume where they stopped; every file is checked against its published checksum before it is installed.'),
    table,
    caches,
  );
  const gpu = gpuPanel(ctx);
  const screen = h('div', { class: 'models-page' }, element, gpu.element);
  return {
    element: screen,
    onShow: () => {
      void refresh();
      void gpu.refresh();
    },
  };
}
