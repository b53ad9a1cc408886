// The running view: per-stage bars with counts, rate and ETA, per-device throughput, the
// log tail, Cancel, and the summary when the run ends. Built once per run and updated in
// place, at most once per animation frame however fast events arrive.
import type { RunResult, Stage, StageAction } from '../api/types';
import { STAGES } from '../api/types';
import type { AppContext } from '../app/context';
import { h, replaceChildren, setText, numeric, tableHead, type Child } from '../ui/dom';
import { formatCount, formatDuration, formatRate } from '../ui/format';
import { frameScheduler } from './frame-scheduler';
import { BUILT_IN_PRESET } from '../presets/load-preset';
import { deviceElapsed, LOG_CAPACITY, STAGE_LABELS, type DeviceProgress, type RunProgress, type StageProgress } from './progress';
import { sampleLine, samplesSummary, samplesTable } from './samples-view';

const ACTION_LABELS: Record<StageAction, string> = { run: 'to do', resume: 'resumed', redo: 'redone' };

interface StageRow {
  row: HTMLTableRowElement;
  bar: HTMLProgressElement;
  reason: HTMLElement;
  count: HTMLElement;
  rate: HTMLElement;
  eta: HTMLElement;
  result: HTMLElement;
}

interface DeviceRow {
  row: HTMLTableRowElement;
  cells: HTMLElement[];
}

function stageRow(stage: Stage): StageRow {
  const cell = () => h('td', { class: 'num' });
  const parts = {
    bar: h('progress', { 'aria-label': `${STAGE_LABELS[stage]} progress`, max: 1 }),
    reason: h('span', { class: 'hint' }),
    count: cell(),
    rate: cell(),
    eta: cell(),
    result: h('td', { class: 'stage-result' }),
  };
  const row = h(
    'tr',
    { 'data-stage': stage, 'data-state': 'waiting' },
    h('th', { scope: 'row' }, STAGE_LABELS[stage], h('br'), parts.reason),
    h('td', {}, parts.bar),
    parts.count,
    parts.rate,
    parts.eta,
    parts.result,
  );
  return { row, ...parts };
}

/** What the stage's result says, and whether it is good news (only then shown green). */
function stageResult(stage: StageProgress): { text: string; tone: 'ok' | 'failed' | 'stopped' | null } {
  const counts = stage.counts;
  if (stage.state === 'running') return { text: 'running', tone: null };
  if (counts === null || (stage.state !== 'done' && stage.state !== 'stopped')) return { text: 'waiting', tone: null };
  const tally = `${formatCount(counts.done)} done, ${formatCount(counts.reused)} reused, ${formatCount(counts.failed)} failed`;
  const time = formatDuration(stage.seconds ?? 0);
  if (stage.state === 'stopped') return { text: `stopped after ${time}: ${tally}`, tone: 'stopped' };
  return { text: `${tally} · ${time}`, tone: counts.failed > 0 ? 'failed' : 'ok' };
}

function updateStage(view: StageRow, stage: StageProgress): void {
  view.row.dataset['state'] = stage.state;
  setText(view.reason, stage.action === null ? '' : `${ACTION_LABELS[stage.action]}: ${stage.reason}`);
  const { bar } = view;
  if (stage.total === null) {
    // Indeterminate while running with no known total; full once done.
    if (stage.state === 'running') bar.removeAttribute('value');
    else bar.value = stage.state === 'done' ? 1 : 0;
    bar.max = 1;
  } else {
    bar.max = Math.max(stage.total, 1);
    bar.value = stage.total === 0 && stage.state === 'done' ? 1 : stage.done;
  }
  // No share of an unknown total while running (a streaming prepare counts reads as it
  // goes): "176,128 reads", not "176,128 reads (0%)".
  const percent = stage.total
    ? Math.floor((100 * stage.done) / stage.total)
    : stage.state === 'done'
      ? 100
      : stage.total === null
        ? null
        : 0;
  setText(
    view.count,
    stage.state === 'waiting'
      ? ''
      : `${formatCount(stage.done)}${stage.total === null ? '' : ` / ${formatCount(stage.total)}`} ${stage.unit}${percent === null ? '' : ` (${percent}%)`}`,
  );
  setText(view.rate, stage.state === 'running' && stage.rate > 0 ? `${formatRate(stage.rate)} ${stage.unit}/s` : '');
  setText(view.eta, stage.state === 'running' && stage.etaSeconds !== null ? formatDuration(stage.etaSeconds) : '');
  const result = stageResult(stage);
  setText(view.result, result.text);
  if (result.tone === null) delete view.row.dataset['result'];
  else view.row.dataset['result'] = result.tone;
}

function deviceRow(device: DeviceProgress): DeviceRow {
  const cells = [0, 1, 2, 3].map(() => h('td', { class: 'num' }));
  const row = h(
    'tr',
    { 'data-device': device.device, 'data-stage': device.stage },
    h('th', { scope: 'row' }, device.device),
    h('td', {}, STAGE_LABELS[device.stage]),
    cells,
  );
  return { row, cells };
}

function updateDevice(view: DeviceRow, device: DeviceProgress, elapsed: number): void {
  const texts = [
    formatCount(device.sequences),
    formatCount(device.tokens),
    formatRate(device.tokensPerSecond),
    formatDuration(elapsed),
  ];
  view.cells.forEach((cell, i) => setText(cell, texts[i] ?? ''));
}

/** Whether the last run used the Demo preset's models, whose weights are random. */
function ranDemoModels(ctx: AppContext): boolean {
  const { lastRun, presets } = ctx.store.get();
  const demo = presets.find((p) => p.name === BUILT_IN_PRESET)?.settings;
  if (lastRun === null || demo === undefined) return false;
  const ran = lastRun.settings;
  return ran.dnabert === demo.dnabert || ran.esm === demo.esm || ran.classifier === demo.classifier;
}

function summaryView(ctx: AppContext, progress: RunProgress): Child[] {
  const toSetup = h('button', { type: 'button', onclick: () => ctx.navigate('setup') }, 'Back to setup');
  if (progress.summary === null) {
    return [h('h3', {}, 'The run stopped'), h('p', { class: 'error-text' }, progress.error ?? ''), h('div', { class: 'actions' }, toSetup)];
  }
  const summary: RunResult = progress.summary;
  const facts: [string, string][] = [
    ['Reads', formatCount(summary.reads)],
    ['Chunks', formatCount(summary.chunks)],
    ['Frames scored', formatCount(summary.frames_scored)],
    ['Virus reads', formatCount(summary.virus_reads)],
    ['Virus chunks', formatCount(summary.virus_chunks)],
    ['Failures', formatCount(summary.failures)],
    ['Time', formatDuration(summary.seconds)],
  ];
  const cancelled = summary.status === 'cancelled';
  const demo = ranDemoModels(ctx);
  // A run with failures leads to its failures, not to results that may be partial or
  // an earlier run's.
  const incomplete = summary.status === 'failed' || summary.status === 'partial';
  const lastRun = ctx.store.get().lastRun;
  return [
    h('h3', {}, cancelled ? 'Run cancelled' : `Run finished: ${summary.status}`),
    cancelled && h('p', {}, 'Everything finished so far is kept: resuming continues where the run stopped.'),
    demo && !cancelled &&
      h(
        'p',
        { class: 'suggestion', id: 'run-demo-note' },
        'Demo models: tiny models with random weights, there to show the pipeline working. Their calls say nothing about these reads; for real predictions choose the released models on Setup.',
      ),
    incomplete &&
      h(
        'p',
        { class: 'suggestion', id: 'run-incomplete' },
        'Some items failed, so this run’s reports are incomplete. Reports of an earlier run are never replaced by an incomplete one: Results says which you see.',
      ),
    h('dl', { class: 'facts' }, facts.map(([term, value]) => [h('dt', {}, term), h('dd', { 'data-fact': term }, value)])),
    samplesSummary(progress),
    h(
      'div',
      { class: 'actions' },
      cancelled && lastRun !== null &&
        h('button', { type: 'button', class: 'primary', id: 'resume-now', onclick: () => void ctx.runs.start(lastRun.settings, false) }, 'Resume'),
      // A run of samples leads to each sample's failures from its line above.
      summary.failures > 0 && summary.samples.length === 0 &&
        h(
          'button',
          { type: 'button', class: incomplete ? 'primary' : null, id: 'view-failures', onclick: () => ctx.navigate('failures') },
          `View failures (${formatCount(summary.failures)})`,
        ),
      !cancelled && h('button', { type: 'button', class: incomplete ? null : 'primary', id: 'view-results', onclick: () => ctx.navigate('results') }, 'View results'),
      toSetup,
    ),
  ];
}

export function runScreen(ctx: AppContext): HTMLElement {
  const status = h('p', { class: 'run-status', id: 'run-status' }, 'No run yet: start one from Setup.');
  const sample = h('p', { class: 'run-sample', id: 'run-sample', hidden: true, 'aria-live': 'polite' });
  const samples = samplesTable(ctx);
  const cancel = h('button', { type: 'button', class: 'danger', id: 'cancel-run', hidden: true, onclick: () => void ctx.runs.cancel() }, 'Cancel');
  const summary = h('section', { class: 'panel run-summary', id: 'run-summary', hidden: true, 'aria-live': 'polite' });
  const stageRows = new Map(STAGES.map((stage) => [stage, stageRow(stage)]));
  const deviceBody = h('tbody', {});
  const deviceRows = new Map<string, DeviceRow>();
  const log = h('ol', { class: 'log', id: 'log-tail', role: 'log', 'aria-label': 'Run log' });
  const details = h(
    'div',
    { class: 'run-details', hidden: true },
    h(
      'table',
      { class: 'data', id: 'stage-table' },
      h('caption', {}, 'Stages'),
      tableHead('Stage', 'Progress', numeric('Done'), numeric('Rate'), numeric('Time left'), 'Result'),
      h('tbody', {}, [...stageRows.values()].map((s) => s.row)),
    ),
    h(
      'table',
      { class: 'data', id: 'device-table' },
      h('caption', {}, 'Devices'),
      tableHead('Device', 'Stage', numeric('Sequences'), numeric('Tokens'), numeric('Tokens/s'), numeric('Elapsed')),
      deviceBody,
    ),
    h('h3', {}, 'Log'),
    log,
  );

  let shown: RunProgress | null = null;
  let shownDevices: RunProgress['devices'] | null = null;
  let lastLogSeq = -1;
  let summaryShown = false;

  const resetFor = (progress: RunProgress) => {
    shown = progress;
    lastLogSeq = -1;
    summaryShown = false;
    replaceChildren(log);
    details.hidden = false;
  };

  const renderLog = (progress: RunProgress) => {
    const fresh = progress.log.filter((line) => line.seq > lastLogSeq);
    if (fresh.length === 0) return;
    const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(...fresh.slice(-LOG_CAPACITY).map((line) => h('li', { 'data-level': line.level }, line.text)));
    while (log.childElementCount > LOG_CAPACITY) log.firstElementChild?.remove();
    lastLogSeq = fresh[fresh.length - 1]?.seq ?? lastLogSeq;
    // Follow the tail unless the user scrolled up to read.
    if (stick) log.scrollTop = log.scrollHeight;
  };

  const render = () => {
    const progress = ctx.runs.progress();
    if (progress === null) return;
    if (progress !== shown) resetFor(progress);
    const now = Date.now();
    const running = progress.finishedAt === null;
    const elapsed = formatDuration(((progress.finishedAt ?? now) - progress.startedAt) / 1000);
    setText(
      status,
      running
        ? `${progress.cancelling ? 'Cancelling' : 'Running'} in ${progress.outDir} · ${elapsed}`
        : `${progress.summary?.status === 'cancelled' ? 'Cancelled' : 'Ended'} · ${progress.outDir} · ${elapsed}`,
    );
    cancel.hidden = !running;
    cancel.disabled = progress.cancelling;
    setText(cancel, progress.cancelling ? 'Cancelling…' : 'Cancel');
    for (const stage of STAGES) {
      const row = stageRows.get(stage);
      if (row) updateStage(row, progress.stages[stage]);
    }
    // Each sample starts with no devices (its own stages): the rows start again.
    if (progress.devices !== shownDevices) {
      shownDevices = progress.devices;
      deviceRows.clear();
      replaceChildren(deviceBody);
    }
    sampleLine(sample, progress);
    samples.update(progress);
    for (const [key, device] of progress.devices) {
      let view = deviceRows.get(key);
      if (view === undefined) {
        view = deviceRow(device);
        deviceRows.set(key, view);
        deviceBody.append(view.row);
      }
      updateDevice(view, device, deviceElapsed(progress, device, now));
    }
    renderLog(progress);
    if (!running && !summaryShown) {
      summaryShown = true;
      replaceChildren(summary, summaryView(ctx, progress));
    }
    summary.hidden = running;
  };

  const scheduler = frameScheduler(render);
  ctx.runs.onChange(scheduler.request);
  // The elapsed times move on between events too.
  setInterval(() => {
    if (ctx.store.get().running) scheduler.request();
  }, 1000);

  return h('div', { class: 'run' }, h('div', { class: 'run-head panel' }, status, sample, cancel), summary, samples.element, details);
}
