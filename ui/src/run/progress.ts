// A run's progress as the events describe it. Events only mutate this model (cheap, at any
// rate); the run screen reads it once per animation frame.
import type {
  ItemCounts,
  LogLevel,
  RunEvent,
  RunResult,
  RunStatus,
  RunSummary,
  Stage,
  StageAction,
} from '../api/types';
import { STAGES } from '../api/types';
import { formatCount, formatDuration } from '../ui/format';

export const STAGE_LABELS: Record<Stage, string> = {
  prepare: 'Prepare reads',
  embed_dna: 'DNABERT-S embeddings',
  embed_protein: 'ESM-2 embeddings',
  merge: 'Merge features',
  classify: 'Classify',
};

/** How many log lines the tail keeps; older ones are dropped. */
export const LOG_CAPACITY = 200;

/** `stopped`: the run stopped (a cancel) before the stage had all its work. */
export type StageState = 'waiting' | 'running' | 'done' | 'stopped';

export interface StageProgress {
  stage: Stage;
  /** From the plan: what this run does with the stage. */
  action: StageAction | null;
  reason: string;
  state: StageState;
  done: number;
  total: number | null;
  unit: string;
  rate: number;
  etaSeconds: number | null;
  counts: ItemCounts | null;
  seconds: number | null;
}

export interface DeviceProgress {
  stage: Stage;
  device: string;
  sequences: number;
  tokens: number;
  tokensPerSecond: number;
  /** Seconds since its stage started, at the latest report (the engine's clock). */
  elapsedSeconds: number;
  /** ms timestamp of the latest report: while the stage runs, the time since is added. */
  lastSeen: number;
}

/** A device's elapsed time on its stage: the engine's, moving on between reports while the
 * stage runs, and stopped with the stage (its last report carries the stage's time). */
export function deviceElapsed(progress: RunProgress, device: DeviceProgress, now: number): number {
  const running = progress.finishedAt === null && progress.stages[device.stage].state === 'running';
  return device.elapsedSeconds + (running ? Math.max(0, now - device.lastSeen) / 1000 : 0);
}

export interface LogLine {
  /** Increasing; lets the screen append only the lines it has not shown. */
  seq: number;
  level: LogLevel;
  text: string;
}

/** One sample of a run of samples, as its events tell it. */
export interface SampleProgress {
  name: string;
  /** Its run folder, `out/NAME/`. */
  outDir: string;
  /** null while it runs (or when it stopped without its run_finished). */
  status: RunStatus | null;
  failures: number;
  summary: RunSummary | null;
}

export interface RunProgress {
  /** The run's folder; for samples, the top folder (each sample's is in `samples`). */
  outDir: string;
  /** The samples started so far, in order (empty for a single run). */
  samples: SampleProgress[];
  /** How many samples the run has (0: a single run). */
  sampleTotal: number;
  startedAt: number;
  finishedAt: number | null;
  stages: Record<Stage, StageProgress>;
  /** Keyed by `${stage} ${device}`, in the order devices first reported. */
  devices: Map<string, DeviceProgress>;
  log: LogLine[];
  nextLogSeq: number;
  failures: number;
  warnings: number;
  summary: RunResult | null;
  /** Why start_run was rejected, when it was. */
  error: string | null;
  cancelling: boolean;
}

function newStages(): Record<Stage, StageProgress> {
  return Object.fromEntries(
    STAGES.map((stage): [Stage, StageProgress] => [
      stage,
      {
        stage,
        action: null,
        reason: '',
        state: 'waiting',
        done: 0,
        total: null,
        unit: '',
        rate: 0,
        etaSeconds: null,
        counts: null,
        seconds: null,
      },
    ]),
  ) as Record<Stage, StageProgress>;
}

export function newRunProgress(outDir: string, now: number, sampleTotal = 0): RunProgress {
  return {
    outDir,
    samples: [],
    sampleTotal,
    startedAt: now,
    finishedAt: null,
    stages: newStages(),
    devices: new Map(),
    log: [],
    nextLogSeq: 0,
    failures: 0,
    warnings: 0,
    summary: null,
    error: null,
    cancelling: false,
  };
}

export function addLog(progress: RunProgress, level: LogLevel, text: string): void {
  progress.log.push({ seq: progress.nextLogSeq, level, text });
  progress.nextLogSeq += 1;
  if (progress.log.length > LOG_CAPACITY) progress.log.splice(0, progress.log.length - LOG_CAPACITY);
}

function describeCounts(counts: ItemCounts): string {
  return `${formatCount(counts.done)} done, ${formatCount(counts.reused)} reused, ${formatCount(counts.failed)} failed`;
}

/** The sample whose events arrive now; null in a single run. */
export function currentSample(progress: RunProgress): SampleProgress | null {
  return progress.samples[progress.samples.length - 1] ?? null;
}

function describeEnd(summary: RunSummary): string {
  return `${summary.status} after ${formatDuration(summary.seconds)}: ${formatCount(summary.virus_reads)} of ${formatCount(summary.reads)} reads called virus, ${formatCount(summary.failures)} failures`;
}

/** Marks the run as ended with `result` (once, whether from a single run's run_finished or
 * start_run's answer, which is the only end of a run of samples). The samples take their
 * status from it (a sample that could not run sent no run_finished). */
export function finishRun(progress: RunProgress, result: RunResult, now: number): void {
  if (progress.summary !== null) return;
  progress.summary = result;
  progress.finishedAt = now;
  progress.cancelling = false;
  for (const sample of result.samples) {
    const known = progress.samples.find((s) => s.name === sample.name);
    if (known === undefined) continue;
    known.status = sample.status;
    known.summary = sample.summary ?? known.summary;
    if (sample.error !== null) addLog(progress, 'error', `Sample ${sample.name} could not run: ${sample.error}`);
  }
  addLog(progress, result.status === 'ok' ? 'info' : 'warn', `Run ${describeEnd(result)}`);
}

/** A new sample: its own stages and devices from zero. */
function startSample(progress: RunProgress, event: Extract<RunEvent, { event: 'sample_started' }>): void {
  progress.sampleTotal = event.total;
  progress.samples.push({ name: event.sample, outDir: event.out_dir, status: null, failures: 0, summary: null });
  progress.stages = newStages();
  progress.devices = new Map();
  addLog(progress, 'info', `Sample ${event.index + 1} of ${event.total}: ${event.sample}, in ${event.out_dir}`);
}

export function applyEvent(progress: RunProgress, event: RunEvent, now: number): void {
  switch (event.event) {
    case 'sample_started':
      startSample(progress, event);
      break;
    case 'run_started':
      // A sample's run is in its own folder; the run's stays the top one.
      if (progress.sampleTotal === 0) progress.outDir = event.out_dir;
      for (const plan of event.plan) {
        const stage = progress.stages[plan.stage];
        stage.action = plan.action;
        stage.reason = plan.reason;
      }
      addLog(progress, 'info', `Run started in ${event.out_dir}`);
      break;
    case 'stage_started': {
      const stage = progress.stages[event.stage];
      Object.assign(stage, { state: 'running', total: event.total, unit: event.unit, done: 0 });
      const of = event.total === null ? '' : `: ${formatCount(event.total)} ${event.unit}`;
      addLog(progress, 'info', `${STAGE_LABELS[event.stage]} started${of}`);
      break;
    }
    case 'stage_progress':
      Object.assign(progress.stages[event.stage], {
        state: 'running',
        done: event.done,
        total: event.total,
        unit: event.unit,
        rate: event.rate,
        etaSeconds: event.eta_seconds,
      });
      break;
    case 'device_throughput': {
      const key = `${event.stage} ${event.device}`;
      progress.devices.set(key, {
        stage: event.stage,
        device: event.device,
        sequences: event.sequences,
        tokens: event.tokens,
        tokensPerSecond: event.tokens_per_second,
        elapsedSeconds: event.elapsed_seconds,
        lastSeen: now,
      });
      break;
    }
    case 'warning':
      progress.warnings += 1;
      addLog(progress, 'warn', event.stage === null ? event.message : `${STAGE_LABELS[event.stage]}: ${event.message}`);
      break;
    case 'failure': {
      progress.failures += 1;
      const sample = currentSample(progress);
      if (sample !== null) sample.failures += 1;
      addLog(progress, 'error', `${STAGE_LABELS[event.stage]}: ${event.item} failed (${event.kind}): ${event.message}`);
      break;
    }
    case 'stage_finished': {
      const stage = progress.stages[event.stage];
      const complete = event.outcome === 'complete';
      stage.state = complete ? 'done' : 'stopped';
      stage.counts = event.counts;
      stage.seconds = event.seconds;
      stage.etaSeconds = complete ? 0 : null;
      // A complete stage's bar ends full even when the last throttled progress update was
      // dropped; a stopped one keeps the count it reached (the engine sent it last).
      if (complete && stage.total !== null) stage.done = stage.total;
      addLog(progress, !complete || event.counts.failed > 0 ? 'warn' : 'info',
        `${STAGE_LABELS[event.stage]} ${complete ? 'finished in' : 'stopped after'} ${formatDuration(event.seconds)}: ${describeCounts(event.counts)}`);
      break;
    }
    case 'run_finished': {
      const { event: _tag, ...summary } = event;
      const sample = currentSample(progress);
      if (progress.sampleTotal === 0 || sample === null) {
        finishRun(progress, { ...summary, samples: [], summary_table: null }, now);
      } else {
        // One sample ended; the run goes on with the next (start_run's answer ends it).
        sample.status = summary.status;
        sample.summary = summary;
        addLog(progress, summary.status === 'ok' ? 'info' : 'warn', `Sample ${sample.name} ${describeEnd(summary)}`);
      }
      break;
    }
    case 'log':
      addLog(progress, event.level, event.message);
      break;
  }
}
