// A pretend run: the events a real one sends, in the real order and shapes, paced by a
// timer; resumes reuse finished stages, cancellation stops at the next step.
import type { FailureGroup, RunEvent, RunSettings, RunStatus, RunSummary, Stage, StagePlan } from '../types';
import { STAGES } from '../types';
import type { MockConfig } from './config';

interface StageShape {
  unit: string;
  total: number;
  /** Items (shards, files) counted at the end of the stage. */
  items: number;
  /** Announced with `total: null`, as the engine's streaming prepare is: it counts reads
   * as it reads them and cannot know how many are coming. */
  streamed?: boolean;
}

const SHAPES: Record<Stage, StageShape> = {
  prepare: { unit: 'reads', total: 1200, items: 8, streamed: true },
  embed_dna: { unit: 'sequences', total: 3300, items: 8 },
  embed_protein: { unit: 'sequences', total: 3300, items: 8 },
  merge: { unit: 'shards', total: 8, items: 8 },
  classify: { unit: 'frames', total: 3300, items: 8 },
};
const EMBED_STAGES: readonly Stage[] = ['embed_dna', 'embed_protein'];
// Tokens per sequence and per second of one GPU, so throughput looks plausible.
const TOKENS_PER_SEQUENCE = { embed_dna: 128, embed_protein: 170 } as Record<Stage, number>;
const GPU_TOKENS_PER_SECOND = 180_000;
const CPU_TOKENS_PER_SECOND = 9_000;

export interface RunOptions {
  config: MockConfig;
  settings: RunSettings;
  /** Stages an earlier run in the folder finished (empty when restarting). */
  stagesDone: readonly string[];
  failures: FailureGroup[];
  /** What the results of this run hold, for the summary. */
  totals: Pick<RunSummary, 'reads' | 'chunks' | 'frames_scored' | 'virus_chunks' | 'virus_reads'>;
  cancelled: () => boolean;
  send: (event: RunEvent) => void;
}

export interface RunOutcome {
  summary: RunSummary;
  stagesDone: Stage[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function plan(stagesDone: readonly string[], restart: boolean): StagePlan[] {
  return STAGES.map((stage) =>
    stagesDone.includes(stage)
      ? { stage, action: 'resume', reason: 'finished earlier; verified by checksum' }
      : { stage, action: restart ? 'redo' : 'run', reason: restart ? 'starting over' : 'not done yet' },
  );
}

/** A cancel ends every stage that started and did not end, in stage order, as the engine
 * does: `stopped`, with the count it reached and no items claimed. */
function stopStarted(started: Map<Stage, number>, reached: Map<Stage, number>, done: readonly Stage[], send: (event: RunEvent) => void): void {
  for (const stage of STAGES) {
    const at = started.get(stage);
    if (at === undefined || done.includes(stage)) continue;
    const shape = SHAPES[stage];
    const count = reached.get(stage) ?? 0;
    if (count > 0) {
      send({ event: 'stage_progress', stage, done: count, total: shape.streamed ? null : shape.total, unit: shape.unit, rate: 0, eta_seconds: null });
    }
    send({ event: 'stage_finished', stage, counts: { done: 0, reused: 0, failed: 0 }, seconds: (performance.now() - at) / 1000, outcome: 'stopped' });
  }
}

export async function mockRun(options: RunOptions, restart: boolean): Promise<RunOutcome> {
  const { config, settings, send, cancelled } = options;
  const started = performance.now();
  const done: Stage[] = [];
  const seconds = () => (performance.now() - started) / 1000;
  const failureEntries = options.failures.flatMap((g) => g.entries);
  let status: RunStatus = failureEntries.length > 0 ? 'partial' : 'ok';

  // As the engine's: a stage starts once, and both embedding stages start with the first
  // shard (ESM-2 then waits while the devices embed DNA).
  const stagesStarted = new Map<Stage, number>();
  const reached = new Map<Stage, number>();
  const start = (stage: Stage) => {
    if (stagesStarted.has(stage)) return;
    stagesStarted.set(stage, performance.now());
    send({ event: 'stage_started', stage, total: SHAPES[stage].streamed ? null : SHAPES[stage].total, unit: SHAPES[stage].unit });
  };
  send({ event: 'run_started', out_dir: settings.out_dir, plan: plan(options.stagesDone, restart) });
  for (const stage of STAGES) {
    const shape = SHAPES[stage];
    start(stage);
    if (stage === 'embed_dna') start('embed_protein');
    const stageStart = stagesStarted.get(stage) ?? performance.now();
    const announced = shape.streamed ? null : shape.total;
    if (options.stagesDone.includes(stage)) {
      // A reused stage counts what it reused: "1,200 / 1,200 reads", not "0 reads".
      send({ event: 'stage_progress', stage, done: shape.total, total: shape.total, unit: shape.unit, rate: 0, eta_seconds: 0 });
      send({ event: 'stage_finished', stage, counts: { done: 0, reused: shape.items, failed: 0 }, seconds: 0.01, outcome: 'complete' });
      done.push(stage);
      continue;
    }
    if (stage === 'prepare') {
      send({ event: 'warning', stage, message: '3 reads are shorter than one chunk and were skipped' });
      for (let line = 1; line <= config.logLines; line += 1) send({ event: 'log', level: 'info', message: `read batch ${line} of ${config.logLines}` });
    }
    if (EMBED_STAGES.includes(stage)) {
      for (const device of settings.devices) send({ event: 'log', level: 'info', message: `${stage === 'embed_dna' ? 'DNABERT-S' : 'ESM-2'} loaded on ${device}` });
    }
    // The engine's time left is from the tokens left at the devices' speed on the stage,
    // not from the stage's average since it started (ESM-2 starts long before its turn).
    const workStart = performance.now();
    for (let step = 1; step <= config.progressSteps; step += 1) {
      await sleep(config.eventIntervalMs);
      while (stage === config.holdStage && step > 1 && !cancelled()) await sleep(config.eventIntervalMs);
      if (cancelled()) {
        status = 'cancelled';
        break;
      }
      const elapsed = Math.max(0.001, (performance.now() - workStart) / 1000);
      // The burst floods the channel with intermediate values; the last one is the step's.
      for (let b = config.burst; b >= 0; b -= 1) {
        const fraction = (step - b / (config.burst + 1)) / config.progressSteps;
        const value = Math.round(shape.total * fraction);
        const rate = value / elapsed;
        const eta = rate > 0 && announced !== null ? (announced - value) / rate : null;
        send({ event: 'stage_progress', stage, done: value, total: announced, unit: shape.unit, rate, eta_seconds: eta });
        reached.set(stage, value);
      }
      if (EMBED_STAGES.includes(stage)) {
        settings.devices.forEach((device, i) => {
          const share = Math.round((shape.total * step) / config.progressSteps / settings.devices.length);
          const speed = (device === 'cpu' ? CPU_TOKENS_PER_SECOND : GPU_TOKENS_PER_SECOND) * (1 - 0.07 * i);
          send({
            event: 'device_throughput',
            stage,
            device,
            sequences: share,
            tokens: share * (TOKENS_PER_SEQUENCE[stage] ?? 100),
            tokens_per_second: speed,
            elapsed_seconds: (performance.now() - stageStart) / 1000,
          });
        });
      }
    }
    if (status === 'cancelled') {
      stopStarted(stagesStarted, reached, done, send);
      break;
    }
    const failed = failureEntries.filter((f) => f.stage === stage);
    for (const failure of failed) {
      send({ event: 'failure', stage, item: failure.item, kind: failure.kind, message: failure.message });
    }
    const stageSeconds = (performance.now() - stageStart) / 1000;
    if (EMBED_STAGES.includes(stage)) {
      // The engine's last report of each device comes at the stage's end, with its time.
      settings.devices.forEach((device, i) => {
        const speed = (device === 'cpu' ? CPU_TOKENS_PER_SECOND : GPU_TOKENS_PER_SECOND) * (1 - 0.07 * i);
        const share = Math.round(shape.total / settings.devices.length);
        const tokens = share * (TOKENS_PER_SEQUENCE[stage] ?? 100);
        send({ event: 'device_throughput', stage, device, sequences: share, tokens, tokens_per_second: speed, elapsed_seconds: stageSeconds });
      });
    }
    send({
      event: 'stage_finished',
      stage,
      counts: { done: shape.items - failed.length, reused: 0, failed: failed.length },
      seconds: stageSeconds,
      outcome: 'complete',
    });
    done.push(stage);
  }

  const finished = status !== 'cancelled';
  const none = { reads: 0, chunks: 0, frames_scored: 0, virus_chunks: 0, virus_reads: 0 };
  const summary: RunSummary = {
    status,
    ...(finished ? options.totals : none),
    failures: finished ? failureEntries.length : 0,
    seconds: seconds(),
    out_dir: settings.out_dir,
  };
  send({ event: 'run_finished', ...summary });
  return { summary, stagesDone: done };
}
