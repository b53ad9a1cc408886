// A run's progress as the events describe it. Events only mutate this model (cheap, at any
// rate); the run screen reads it once per animation frame.
import type {
  ItemCounts,
  LogLevel,
  RunEvent,
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

export interface RunProgress {
  outDir: string;
  startedAt: number;
  finishedAt: number | null;
  stages: Record<Stage, StageProgress>;
  /** Keyed by `${stage} ${device}`, in the order devices first reported. */
  devices: Map<string, DeviceProgress>;
  log: LogLine[];
  nextLogSeq: number;
  failures: number;
  warnings: number;
  summary: RunSummary | null;
  /** Why start_run was rejected, when it was. */
  error: string | null;
  cancelling: boolean;
}

export function newRunProgress(outDir: string, now: number): RunProgress {
  const stages = Object.fromEntries(
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
  return {
    outDir,
    startedAt: now,
    finishedAt: null,
    stages,
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

/** Marks the run as ended with `summary` (once, whether from run_finished or start_run's answer). */
export function finishRun(progress: RunProgress, summary: RunSummary, now: number): void {
  if (progress.summary !== null) return;
  progress.summary = summary;
  progress.finishedAt = now;
  progress.cancelling = false;
  addLog(
    progress,
    summary.status === 'ok' ? 'info' : 'warn',
    `Run ${summary.status} after ${formatDuration(summary.seconds)}: ${formatCount(summary.virus_reads)} of ${formatCount(summary.reads)} reads called virus, ${formatCount(summary.failures)} failures`,
  );
}

export function applyEvent(progress: RunProgress, event: RunEvent, now: number): void {
  switch (event.event) {
    case 'run_started':
      progress.outDir = event.out_dir;
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
    case 'failure':
      progress.failures += 1;
      addLog(progress, 'error', `${STAGE_LABELS[event.stage]}: ${event.item} failed (${event.kind}): ${event.message}`);
      break;
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
      finishRun(progress, summary, now);
      break;
    }
    case 'log':
      addLog(progress, event.level, event.message);
      break;
  }
}
