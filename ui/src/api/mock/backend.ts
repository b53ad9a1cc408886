// The mock backend (mock builds only): every command of docs/desktop-api.md answered in
// the page through @tauri-apps/api/mocks, with in-memory presets and runs, and run events
// delivered through the real Channel callback path, as the shell delivers them.
import type { Channel } from '@tauri-apps/api/core';
import { mockIPC } from '@tauri-apps/api/mocks';
import type { CommandArgs, CommandName, CommandResult } from '../commands';
import type {
  CommandErrorKind,
  CommandErrorPayload,
  FailureGroup,
  ModelKind,
  Preset,
  ReportsStatus,
  ResumeInfo,
  RunEvent,
  RunSettings,
  RunSummary,
  SampleResume,
  SampleRow,
  SamplesTable,
} from '../types';
import { STAGES } from '../types';
import { readMockConfig, type MockConfig } from './config';
import gpuSettings from './gpu-settings.json';
import { compareMockRuns, type MockRun } from './compare';
import { makeFailures, makeResults, makeVariant, type MockResults } from './results';
import { createGpuHandlers } from './gpu';
import { createModelHandlers } from './models';
import { mockRun } from './run';
import { runSamples, sampleDir } from './samples';
import {
  checkModel,
  DEMO_SETTINGS,
  defaultFilePick,
  defaultFolderPick,
  isReadsFolder,
  readSettings,
  scanInputs,
  systemInfo,
  usesDemoModels,
  validateSettings,
} from './world';

type Handlers = {
  [K in CommandName]: (args: CommandArgs<K>) => CommandResult<K> | Promise<CommandResult<K>>;
};

/** What an output folder holds in the mock. */
interface Folder {
  state: string;
  settings: RunSettings;
  stagesDone: string[];
  failures: FailureGroup[];
  /** Made when first asked for: a 100k-read folder should not slow every start-up. */
  results: (() => MockResults) | null;
  /** Runs in it that went to the end (not cancelled). */
  finishedRuns: number;
  /** What its reports are, as the engine's manifest records it. */
  reports: ReportsStatus;
}

const COMPLETE: ReportsStatus = { state: 'complete', partial_files: [], last_run: 'ok' };
const PARTIAL_NAMES = ['prediction_results.partial.txt', 'prediction_results_highestscore.partial.csv', 'read_summary.partial.tsv'];

/** As the engine decides (crates/engine/src/run/publish.rs): a run with failures keeps the
 * earlier reports, when there are any, and writes its own beside them (with its pair
 * summary when the reads were pairs). */
function reportsAfter(outDir: string, status: string, failed: boolean, hadResults: boolean, paired: boolean): ReportsStatus {
  if (status === 'cancelled') return { state: hadResults ? 'earlier' : 'missing', partial_files: [], last_run: status };
  if (!failed) return { ...COMPLETE, last_run: status };
  if (!hadResults) return { state: 'partial', partial_files: [], last_run: status };
  const names = paired ? [...PARTIAL_NAMES, 'pair_summary.partial.tsv'] : PARTIAL_NAMES;
  return { state: 'earlier', partial_files: names.map((n) => `${outDir}/${n}`), last_run: status };
}

/** The stages of `folder` a run with `settings` resumes. As the engine: a run that keeps
 * the feature files embeds again every shard whose merged file is missing, and one that
 * kept none left only scores, so only prepare is resumed; the other way round the shards
 * are resumed from their scores. Another pairing prepares the reads again, and so redoes
 * every stage. */
function reusableStages(folder: Folder, settings: RunSettings): string[] {
  if (settings.pairs !== folder.settings.pairs) return [];
  const keptNone = settings.keep_features && !folder.settings.keep_features;
  return keptNone ? folder.stagesDone.filter((stage) => stage === 'prepare') : folder.stagesDone;
}

interface ChannelInternals {
  runCallback: (id: number, data: unknown) => void;
}

const BUILT_IN = 'Demo';
// Runnable settings on the mock's two-GPU machine; the UI tests start from them too.
const GPU_SETTINGS = gpuSettings as RunSettings;

const fail = (kind: CommandErrorKind, message: string): never => {
  // Rejected as a plain object, like serde's CommandError on the real IPC.
  throw { kind, message } satisfies CommandErrorPayload;
};
/** What list_presets checks: the inputs, the samples' too, and models (a run makes the
 *  output folder). */
const modelAndInputPaths = (s: RunSettings) =>
  [...s.inputs, ...s.samples.flatMap((sample) => sample.inputs), s.dnabert, s.esm, s.classifier].filter((path) => path !== '');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const clone = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));
const now = () => new Date().toISOString();
const once = <T>(make: () => T): (() => T) => {
  let made: T | undefined;
  return () => (made ??= make());
};

function seedFolders(config: MockConfig): Map<string, Folder> {
  const folders = new Map<string, Folder>();
  folders.set(GPU_SETTINGS.out_dir, {
    state: 'ok',
    settings: GPU_SETTINGS,
    stagesDone: [...STAGES],
    failures: [],
    results: once(() => makeResults(GPU_SETTINGS.out_dir, config.readCount)),
    finishedRuns: 1,
    reports: COMPLETE,
  });
  for (const [outDir, variant] of Object.entries(config.variants)) {
    const base = folders.get(variant.of);
    if (base?.results == null) continue;
    const baseResults = base.results;
    folders.set(outDir, {
      ...base,
      settings: {
        ...base.settings,
        out_dir: outDir,
        precision: variant.precision,
        devices: variant.devices ?? base.settings.devices,
        keep_features: variant.keepFeatures ?? base.settings.keep_features,
      },
      results: once(() => makeVariant(baseResults(), outDir, variant.precision, variant.flips)),
    });
  }
  for (const [outDir, state] of Object.entries(config.resumable)) {
    folders.set(outDir, {
      state,
      settings: { ...GPU_SETTINGS, inputs: ['/data/run42/reads'], out_dir: outDir },
      stagesDone: ['prepare', 'embed_dna'],
      failures: [],
      results: null,
      finishedRuns: 0,
      reports: { state: 'missing', partial_files: [], last_run: state },
    });
  }
  return folders;
}

function seedPresets(): Map<string, Preset> {
  const presets = new Map<string, Preset>();
  presets.set(BUILT_IN, { name: BUILT_IN, settings: DEMO_SETTINGS, updated: '2026-11-01T09:00:00Z' });
  const gut = { ...GPU_SETTINGS, out_dir: '/data/results/gut' };
  presets.set('Gut metagenomes', { name: 'Gut metagenomes', settings: gut, updated: '2026-11-20T14:32:00Z' });
  return presets;
}

function createHandlers(config: MockConfig): Handlers {
  const folders = seedFolders(config);
  const presets = seedPresets();
  const writtenFiles = new Map<string, string>();
  const importable = new Map<string, Preset>([
    ['/home/user/presets/gpu-box.json', { name: 'GPU box', settings: { ...GPU_SETTINGS, out_dir: '/data/results/gpu-box' }, updated: now() }],
  ]);
  let lastSettings = config.lastSettings === null ? null : readSettings(config.lastSettings);
  const models = createModelHandlers(config);
  const gpu = createGpuHandlers(config);
  // As settings.rs: an empty model field whose model is not installed points to Models.
  const missingModel = (kind: ModelKind, length: number): string | null => {
    if (config.models === null) return null;
    const role = kind === 'classifier' ? (length === 300 ? 'classifier300' : length === 500 ? 'classifier500' : null) : kind;
    if (role === null || models.installed(role)) return null;
    const name = { dnabert: 'DNABERT-S', esm: 'ESM-2', classifier: `The ${length} bp classifier` }[kind];
    return `${name} is not installed: open Models to download it, or choose it here.`;
  };
  const validate = (settings: RunSettings) => validateSettings(settings, config.gpus, missingModel);
  let activeRun: { cancelled: boolean } | null = null;

  const preset = (name: string) => presets.get(name) ?? fail('not_found', `no preset named “${name}”`);
  const notBuiltIn = (name: string) => name === BUILT_IN && fail('not_allowed', 'the built-in Demo preset cannot be changed');
  const freeName = (name: string) => {
    if (name.trim() === '') fail('invalid', 'a preset needs a name');
    // As the shell's check_name: the built-in name is refused whatever its case.
    if (name.trim().toLowerCase() === BUILT_IN.toLowerCase()) fail('invalid', `"${BUILT_IN}" is the built-in preset; choose another name`);
    if (presets.has(name)) fail('invalid', `a preset named “${name}” exists already`);
  };
  const folder = (outDir: string) => folders.get(outDir) ?? fail('not_found', `${outDir} holds no VirNucPro run`);
  const finishedResults = (outDir: string): MockResults =>
    folder(outDir).results?.() ?? fail('not_found', `no read_summary.tsv in ${outDir}: the run did not finish`);
  /** A folder compare_runs reads, with the errors of core's ComparedRun::open. */
  const comparedRun = (path: string): MockRun => {
    const found = folders.get(path);
    if (found === undefined) {
      return isReadsFolder(path)
        ? fail('invalid', `${path}: not a run folder: it holds neither run-manifest.json nor prediction_results.txt`)
        : fail('not_found', `${path}: no such folder`);
    }
    const results = found.results?.() ?? fail('not_found', `${path}: the run folder has no prediction_results.txt (the run ended ${found.state})`);
    return { path, state: found.state, reportsState: found.reports.state, settings: found.settings, results };
  };
  const put = (p: Preset) => {
    presets.set(p.name, p);
    return p;
  };

  /** One run in one folder (a whole run, or one sample's), sending its events. */
  const runFolder = async (settings: RunSettings, restart: boolean, run: { cancelled: boolean }, send: (event: RunEvent) => void): Promise<RunSummary> => {
    const known = folders.get(settings.out_dir);
    const withFailures = config.failures === 'always' || (config.failures === 'first' && (known?.finishedRuns ?? 0) === 0);
    const failures = withFailures ? makeFailures(settings.out_dir, settings.keep_features) : [];
    const made = makeResults(settings.out_dir, config.readCount, usesDemoModels(settings));
    const { results } = made;
    const reusable = known && !restart ? reusableStages(known, settings) : [];
    folders.set(settings.out_dir, {
      state: 'running',
      settings,
      stagesDone: reusable,
      failures: known?.failures ?? [],
      results: known?.results ?? null,
      finishedRuns: known?.finishedRuns ?? 0,
      reports: known?.reports ?? { state: 'missing', partial_files: [], last_run: 'running' },
    });
    const { summary, stagesDone } = await mockRun(
      {
        config,
        settings,
        stagesDone: reusable,
        failures,
        totals: {
          reads: results.reads.length,
          chunks: results.reads.reduce((n, r) => n + r.chunks, 0),
          frames_scored: results.frames_scored,
          virus_chunks: results.reads.reduce((n, r) => n + r.virus_chunks, 0),
          virus_reads: results.reads.filter((r) => r.call === 'virus').length,
        },
        cancelled: () => run.cancelled,
        send,
      },
      restart,
    );
    const finished = summary.status !== 'cancelled';
    const hadResults = (known?.results ?? null) !== null;
    const keptOrNew = () => {
      const paired = config.pairedReads && settings.pairs === 'auto';
      const reports = reportsAfter(settings.out_dir, summary.status, failures.length > 0, hadResults, paired);
      const results = finished && reports.state !== 'earlier' ? () => made : (known?.results ?? null);
      return { reports, results };
    };
    // A stage with failed items is not done: resuming redoes exactly those items.
    const firstFailing = STAGES.findIndex((s) => failures.some((g) => g.entries.some((e) => e.stage === s)));
    folders.set(settings.out_dir, {
      state: summary.status,
      settings,
      stagesDone: firstFailing < 0 ? stagesDone : stagesDone.filter((s) => STAGES.indexOf(s) < firstFailing),
      failures: finished ? failures : (known?.failures ?? []),
      ...keptOrNew(),
      finishedRuns: (known?.finishedRuns ?? 0) + (finished ? 1 : 0),
    });
    return summary;
  };
  /** A sample folder's line of summary.tsv, from its reports (none: no line). */
  const sampleTotals = (outDir: string): SampleRow | null => {
    const results = folders.get(outDir)?.results?.().results;
    if (results === undefined) return null;
    const { reads } = results;
    const virus = reads.filter((r) => r.call === 'virus').length;
    const unscored = reads.filter((r) => r.call === 'none').length;
    const sum = (key: 'chunks' | 'virus_chunks' | 'frames') => reads.reduce((n, r) => n + r[key], 0);
    return {
      sample: outDir.slice(outDir.lastIndexOf('/') + 1),
      out_dir: outDir,
      reads: reads.length,
      virus_reads: virus,
      others_reads: reads.length - virus - unscored,
      unscored_reads: unscored,
      chunks: sum('chunks'),
      virus_chunks: sum('virus_chunks'),
      frames: sum('frames'),
    };
  };
  /** The tables across samples the runs of samples wrote, by output folder. */
  const tables = new Map<string, SamplesTable>();
  /** The settings each run was started with, by output folder (the shell's record_given). */
  const given = new Map<string, RunSettings>();
  /** A run of the samples `names` in `outDir`, as the shell finds one (src-tauri/src/resume.rs):
   *  null when none of their folders holds a run. */
  const samplesResume = (outDir: string, names: string[]): ResumeInfo | null => {
    const found = names.map((name) => ({ name, out_dir: sampleDir(outDir, name), folder: folders.get(sampleDir(outDir, name)) }));
    const started = found.filter((f) => f.folder !== undefined);
    const first = started[0]?.folder;
    if (first === undefined) return null;
    const samples: SampleResume[] = found.map((f) => ({ name: f.name, out_dir: f.out_dir, state: f.folder?.state ?? null, stages_done: f.folder?.stagesDone ?? [] }));
    const states = samples.map((s) => s.state);
    const state = states.every((s) => s === 'ok')
      ? 'ok'
      : states.includes('running')
        ? 'running'
        : states.some((s) => s === null || s === 'cancelled')
          ? 'cancelled'
          : states.every((s) => s === 'failed')
            ? 'failed'
            : 'partial';
    // The settings given when every sample that ran is one of theirs; else the samples' own.
    const kept = given.get(outDir);
    const describes = kept !== undefined && started.every((f) => kept.samples.some((s) => s.name === f.name && JSON.stringify(s.inputs) === JSON.stringify(f.folder?.settings.inputs)));
    const settings: RunSettings = describes
      ? kept
      : { ...first.settings, inputs: [], out_dir: outDir, samples: started.map((f) => ({ name: f.name, inputs: f.folder?.settings.inputs ?? [] })) };
    const stagesDone = samples.map((s) => s.stages_done).reduce((all, some) => all.filter((stage) => some.includes(stage)));
    return { out_dir: outDir, state, settings: clone(settings), stages_done: stagesDone, samples };
  };
  /** The sample folders in `outDir` that hold a run. */
  const sampleFolders = (outDir: string): string[] =>
    [...folders.keys()]
      .filter((dir) => dir.startsWith(`${outDir}/`) && !dir.slice(outDir.length + 1).includes('/'))
      .map((dir) => dir.slice(outDir.length + 1))
      .sort();

  return {
    system_info: () => systemInfo(config.gpus),
    pick_folders: ({ title }) => config.answers.pick_folders.shift() ?? defaultFolderPick(title),
    pick_file: ({ title }) => {
      const queued = config.answers.pick_file.shift();
      return queued === undefined ? defaultFilePick(title) : queued;
    },
    pick_save_file: ({ default_name, directory }) => {
      const queued = config.answers.pick_save_file.shift();
      return queued === undefined ? `${directory ?? '/home/user/Exports'}/${default_name}` : queued;
    },
    scan_inputs: ({ inputs }) => scanInputs(inputs),
    check_model: ({ kind, path }) => checkModel(kind, path),
    validate_settings: ({ settings }) => validate(settings),

    async start_run({ settings, restart, on_event }) {
      if (activeRun !== null) fail('busy', 'a run is going already');
      const { problems } = validate(settings);
      if (problems.length > 0) fail('invalid', problems.map((p) => p.message).join('; '));
      const run = { cancelled: false };
      activeRun = run;
      given.set(settings.out_dir, clone(settings));
      const channel = on_event as Channel<RunEvent>;
      const internals = (window as unknown as { __TAURI_INTERNALS__: ChannelInternals }).__TAURI_INTERNALS__;
      let index = 0;
      const send = (event: RunEvent) => {
        internals.runCallback(channel.id, { message: clone(event), index });
        index += 1;
      };
      try {
        if (settings.samples.length === 0) {
          const summary = await runFolder(settings, restart, run, send);
          return { ...summary, samples: [], summary_table: null };
        }
        // As the shell: each sample an ordinary run in its folder, then summary.tsv.
        const { result, table } = await runSamples({
          settings,
          runOne: (sample) => runFolder(sample, restart, run, send),
          totals: sampleTotals,
          cancelled: () => run.cancelled,
          send,
        });
        tables.set(settings.out_dir, table);
        return result;
      } finally {
        internals.runCallback(channel.id, { end: true, index });
        activeRun = null;
      }
    },
    cancel_run: () => {
      if (activeRun !== null) activeRun.cancelled = true;
      return null;
    },
    // As the shell: the setup's samples first, then the folder's own run, then the samples
    // the run was started with or the sample folders found.
    find_resumable: ({ out_dir, samples = [] }) => {
      const ofSamples = samples.length > 0 ? samplesResume(out_dir, samples) : null;
      if (ofSamples !== null) return ofSamples;
      const known = folders.get(out_dir);
      if (known !== undefined) return { out_dir, state: known.state, settings: known.settings, stages_done: known.stagesDone, samples: [] };
      const names = given.get(out_dir)?.samples.map((s) => s.name) ?? [];
      return samplesResume(out_dir, names.length > 0 ? names : sampleFolders(out_dir));
    },
    load_failures: ({ out_dir }) => [...folder(out_dir).failures].sort((a, b) => b.count - a.count),
    export_failures: ({ out_dir, dest }) => {
      writtenFiles.set(dest, folder(out_dir).failures.map((g) => g.kind).join('\n'));
      return null;
    },
    load_samples: ({ out_dir }) => tables.get(out_dir) ?? fail('not_found', `${out_dir}: no table across samples (no summary.tsv)`),
    compare_runs: ({ a, b }) => compareMockRuns(comparedRun(a), comparedRun(b)),
    load_results: ({ out_dir }) => {
      // As the engine: a run that found pairs (Paired reads detected) writes pair_summary.tsv.
      const paired = config.pairedReads && folder(out_dir).settings.pairs === 'auto';
      return { ...finishedResults(out_dir).results, reports: clone(folder(out_dir).reports), pair_summary: paired ? `${out_dir}/pair_summary.tsv` : null };
    },
    set_aside_damaged: ({ out_dir }) => {
      const moved = folder(out_dir).failures.flatMap((g) => g.entries.filter((e) => e.damaged).flatMap((e) => e.files));
      return { moved: [...new Set(moved)], folder: `${out_dir}/set-aside/2026-11-28T19-06-00Z` };
    },
    load_read_frames: ({ out_dir, read_id }) => finishedResults(out_dir).frames.get(read_id) ?? [],
    export_virus_fasta: ({ out_dir, dest }) => {
      const { results } = finishedResults(out_dir);
      const virus = results.reads.filter((r) => r.call === 'virus');
      writtenFiles.set(dest, virus.map((r) => `>${r.read_id}`).join('\n'));
      return virus.length;
    },
    open_folder: () => null,

    list_presets: () =>
      [...presets.values()]
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((p) => ({ ...p, missing: modelAndInputPaths(p.settings).filter((path) => config.gone.includes(path)) })),
    save_preset: ({ name, settings }) => {
      notBuiltIn(name);
      if (name.trim() === '') fail('invalid', 'a preset needs a name');
      return put({ name, settings, updated: now() });
    },
    rename_preset: ({ from, to }) => {
      notBuiltIn(from);
      const old = preset(from);
      freeName(to);
      presets.delete(from);
      return put({ ...old, name: to, updated: now() });
    },
    duplicate_preset: ({ name, as_name }) => {
      const old = preset(name);
      freeName(as_name);
      return put({ ...old, name: as_name, updated: now() });
    },
    delete_preset: ({ name }) => {
      notBuiltIn(name);
      preset(name);
      presets.delete(name);
      return null;
    },
    export_preset: ({ name, dest }) => {
      writtenFiles.set(dest, JSON.stringify(preset(name)));
      return null;
    },
    import_preset: ({ path }) => {
      const written = writtenFiles.get(path);
      const found = written !== undefined ? (JSON.parse(written) as Preset) : (config.presetFiles[path] ?? importable.get(path));
      if (found === undefined) return fail('invalid', `${path} is not a VirNucPro preset`);
      notBuiltIn(found.name);
      return put({ ...found, settings: readSettings(found.settings), updated: now() });
    },
    last_settings: () => lastSettings,
    remember_settings: ({ settings }) => {
      lastSettings = settings;
      return null;
    },
    list_models: () => models.list_models(),
    installed_models_defaults: (args) => models.installed_models_defaults(args),
    fetch_model: (args) => models.fetch_model(args),
    cancel_fetch: (args) => models.cancel_fetch(args),
    verify_model: (args) => models.verify_model(args),
    import_models: (args) => models.import_models(args),
    import_models_dialog: ({ folder }) => {
      const queued = config.answers.import_models.shift();
      const path = queued === undefined ? (folder ? '/media/usb/models' : '/media/usb/500_model.pth') : queued;
      return path === null ? null : models.import_models({ path });
    },
    reveal_model: (args) => models.reveal_model(args),
    gpu_runtime_status: () => gpu.gpu_runtime_status(),
    fetch_gpu_runtime: (args) => gpu.fetch_gpu_runtime(args),
    cancel_gpu_runtime: () => gpu.cancel_gpu_runtime(),
    remove_gpu_runtime: () => gpu.remove_gpu_runtime(),
  };
}

export function installMockBackend(): void {
  const config = readMockConfig();
  const handlers = createHandlers(config);
  const calls = (window.__VIRNUCPRO_MOCK_CALLS__ = [] as { cmd: string; args: unknown }[]);
  mockIPC(async (cmd, args) => {
    calls.push({ cmd, args: clone(args) });
    const handler = handlers[cmd as CommandName] as ((a: unknown) => unknown) | undefined;
    if (handler === undefined) return fail('invalid', `unknown command ${cmd}`);
    if (cmd !== 'start_run' && cmd !== 'fetch_model' && cmd !== 'verify_model') await sleep(config.latencyMs);
    const answer = await handler(args);
    // Answers are copied as the IPC would, except results: the UI only reads them, and
    // copying 100k reads would only slow the tests.
    return cmd === 'load_results' ? answer : clone(answer);
  });
}
