// GPU support (a section of the Models screen): libtorch's CUDA libraries, fetched from the
// Python package index by the shell (docs/gpu-runtime.md). Shows the state, the versions,
// the sizes, the folder and the NVIDIA driver; Download (Resume when partial) with live
// progress, Cancel, Remove. The backend is loaded once when the app starts, so a runtime
// installed since is used after a restart: the panel says so.
import type { FetchEvent, GpuRuntimeStatus } from '../api/types';
import { errorText, type AppContext } from '../app/context';
import { followDownload, showProgress, type Progress } from '../models/models-screen';
import { h, setText } from '../ui/dom';
import { formatBytes } from '../ui/format';

const STATE_TEXT = { installed: 'installed', partial: 'partly downloaded', missing: 'not installed' } as const;

interface Job {
  progress: Progress | null;
  activity: string;
  cancelRequested: boolean;
  /** Started before this page was loaded: no progress reaches it. */
  detached: boolean;
}

/** The driver line: ok, too old (both versions), none. */
function driverLine(status: GpuRuntimeStatus): { tone: 'ok' | 'error' | 'warning'; text: string } {
  switch (status.driver.state) {
    case 'ok':
      return { tone: 'ok', text: `NVIDIA driver ${status.driver.found} (CUDA ${status.runtime.cuda} needs ${status.driver.required} or newer): ok` };
    case 'too-old':
      return { tone: 'error', text: status.driver_message };
    default:
      return { tone: 'warning', text: status.driver_message };
  }
}

function sizeText(status: GpuRuntimeStatus): string {
  const r = status.runtime;
  if (r.state === 'installed') return `${formatBytes(r.bytes_present)} installed`;
  const plan = `${formatBytes(r.download_bytes)} to download, ${formatBytes(r.unpacked_bytes)} unpacked`;
  return r.state === 'partial' ? `${formatBytes(r.bytes_present)} of ${formatBytes(r.download_bytes)} downloaded (${plan})` : plan;
}

export interface GpuPanel {
  element: HTMLElement;
  refresh(): Promise<void>;
}

export function gpuPanel(ctx: AppContext): GpuPanel {
  let status: GpuRuntimeStatus | null = null;
  let job: Job | null = null;
  let error: string | null = null;
  let note = '';

  const state = h('span', { class: 'gpu-state', id: 'gpu-state' });
  const versions = h('span', { id: 'gpu-versions' });
  const size = h('span', { id: 'gpu-size' });
  const folder = h('code', { class: 'path', id: 'gpu-folder' });
  const driver = h('p', { class: 'field-message', id: 'gpu-driver', 'data-tone': 'none' });
  const backend = h('p', { class: 'hint', id: 'gpu-backend' });
  const why = h('p', { class: 'hint', id: 'gpu-why-not' });
  const bar = h('progress', { id: 'gpu-bar', max: 1, value: 0, hidden: true, 'aria-label': 'GPU runtime: download' });
  const progressText = h('p', { class: 'model-progress', id: 'gpu-progress', 'aria-live': 'polite' });
  const restart = h('p', { class: 'field-message', id: 'gpu-restart', 'data-tone': 'warning', hidden: true }, 'Installed. Restart VirNucPro to use it: the GPU backend is loaded when the app starts.');
  const errorLine = h('p', { class: 'error-text', id: 'gpu-error', role: 'alert', hidden: true });
  const download = h('button', { type: 'button', id: 'gpu-download', onclick: () => void fetch() }, 'Download');
  const cancel = h('button', { type: 'button', id: 'gpu-cancel', hidden: true, onclick: () => void stop() }, 'Cancel');
  const remove = h('button', { type: 'button', id: 'gpu-remove', onclick: () => void removeRuntime() }, 'Remove');

  const element = h(
    'section',
    { class: 'panel', id: 'gpu-panel', 'aria-labelledby': 'gpu-panel-title' },
    h('h2', { id: 'gpu-panel-title' }, 'GPU support'),
    h('p', { class: 'hint' }, "libtorch's CUDA libraries, from the Python package index (no Python needed): runs then use the NVIDIA GPUs. Downloads resume where they stopped and are checked against their published checksums."),
    h(
      'table',
      { class: 'data', id: 'gpu-facts' },
      h(
        'tbody',
        {},
        ...([['State', state], ['Versions', versions], ['Size', size], ['Folder', folder]] as const).map(([name, value]) =>
          h('tr', {}, h('th', { scope: 'row' }, name), h('td', {}, value)),
        ),
      ),
    ),
    driver,
    backend,
    why,
    bar,
    progressText,
    restart,
    errorLine,
    h('div', { class: 'actions' }, download, cancel, remove),
  );

  const render = () => {
    if (status === null) {
      setText(state, 'Looking…');
      return;
    }
    const r = status.runtime;
    element.dataset['state'] = r.state;
    if (job === null) delete element.dataset['job'];
    else element.dataset['job'] = 'fetch';
    setText(state, job === null ? STATE_TEXT[r.state] : job.cancelRequested ? 'cancelling…' : 'downloading…');
    setText(versions, `libtorch ${r.libtorch} with CUDA ${r.cuda}`);
    setText(size, sizeText(status));
    setText(folder, r.path);
    folder.title = r.path;
    const line = driverLine(status);
    driver.dataset['tone'] = line.tone;
    driver.dataset['driver'] = status.driver.state;
    setText(driver, line.text);
    setText(backend, `This app: ${status.backend}`);
    why.hidden = status.why_not_cuda === null || status.restart_needed;
    setText(why, status.why_not_cuda === null ? '' : `Why CUDA is not used: ${status.why_not_cuda}`);

    showProgress(bar, progressText, job, note);
    restart.hidden = !status.restart_needed;
    errorLine.hidden = error === null;
    setText(errorLine, error ?? '');

    download.hidden = job !== null || r.state === 'installed';
    download.disabled = status.driver.state === 'too-old';
    setText(download, r.state === 'partial' ? 'Resume' : 'Download');
    cancel.hidden = job === null;
    cancel.disabled = job?.cancelRequested ?? false;
    remove.hidden = job !== null;
    remove.disabled = r.state === 'missing';
  };

  const refresh = async () => {
    try {
      status = await ctx.api.gpuRuntimeStatus();
      // A download this page did not start (before a reload): shown, with Cancel.
      if (status.busy && job === null) job = { progress: null, activity: '', cancelRequested: false, detached: true };
      if (!status.busy && job?.detached === true) job = null;
    } catch (reason) {
      error = `Could not read the GPU runtime's state: ${errorText(reason)}`;
    }
    render();
  };

  const onEvent = (event: FetchEvent) => {
    if (job === null) return;
    followDownload(job, event);
    render();
  };

  const fetch = async () => {
    if (job !== null) return;
    const current: Job = { progress: null, activity: '', cancelRequested: false, detached: false };
    job = current;
    error = null;
    note = '';
    render();
    try {
      status = await ctx.api.fetchGpuRuntime(onEvent);
      if (current.cancelRequested && status.runtime.state !== 'installed') {
        const kept = status.runtime.bytes_present > 0 ? `${formatBytes(status.runtime.bytes_present)} kept; Resume goes on from there.` : '';
        note = `Cancelled. ${kept}`.trim();
        ctx.notify('Download of the GPU runtime cancelled.');
      } else if (status.runtime.state === 'installed') {
        ctx.notify(status.restart_needed ? 'GPU runtime installed: restart VirNucPro to use it.' : 'GPU runtime installed.');
      }
    } catch (reason) {
      error = errorText(reason);
      ctx.notify('Could not download the GPU runtime.', 'error');
    } finally {
      job = null;
      render();
      await refresh();
    }
  };

  const stop = async () => {
    if (job === null) return;
    const current = job;
    current.cancelRequested = true;
    render();
    try {
      await ctx.api.cancelGpuRuntime();
      // A download of an earlier page: its end reaches no one here; look again.
      if (current.detached) setTimeout(() => void refresh(), 500);
    } catch (reason) {
      error = `Could not cancel: ${errorText(reason)}`;
      render();
    }
  };

  const removeRuntime = async () => {
    error = null;
    note = '';
    try {
      status = await ctx.api.removeGpuRuntime();
      ctx.notify('GPU runtime removed.');
    } catch (reason) {
      error = `Could not remove the GPU runtime: ${errorText(reason)}`;
    }
    render();
  };

  render();
  return { element, refresh };
}
