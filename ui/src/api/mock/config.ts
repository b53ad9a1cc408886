// How the mock backend behaves. Tests set `window.__VIRNUCPRO_MOCK__` to a partial
// MockConfig before the app starts (a developer can change it in the console); every command
// the UI sends is appended to `window.__VIRNUCPRO_MOCK_CALLS__` so tests can check what
// reached the "shell".
import type { GpuRuntimeState, ModelState, Precision, RunSettings, Stage } from '../types';
import type { OldSettings } from './world';

export interface MockConfig {
  /** Milliseconds before each command answers (the real IPC is never instant). */
  latencyMs: number;
  /** Milliseconds between the progress steps of a run. */
  eventIntervalMs: number;
  /** stage_progress events per stage. */
  progressSteps: number;
  /** Extra stage_progress events sent back to back at each step, to flood the UI. */
  burst: number;
  /** A stage at whose start runs stop making progress until cancelled: a run in flight
   *  for as long as a test needs, whatever the machine's load. */
  holdStage: Stage | null;
  /** Extra log lines a run sends while preparing, to fill the log tail. */
  logLines: number;
  /** Reads in each run's results. */
  readCount: number;
  /** The runs' inputs hold R1/R2 pairs: a run that detects them (Paired reads auto) has
   *  pair_summary.tsv in its results. */
  pairedReads: boolean;
  /** GPUs in system_info (0 = a CPU-only machine without the CUDA backend). */
  gpus: number;
  /** When runs report failures: on a folder's first run only, on every run, or never. */
  failures: 'first' | 'always' | 'never';
  /** Output folders that already hold an earlier run, with its manifest state. */
  resumable: Record<string, string>;
  /** Run folders that ran the reads of the folder `of` again (another precision or
   *  devices): the same reads, scores moved a little and `flips` frames' labels changed
   *  (what compare_runs finds); `keepFeatures`: the run kept its feature files. */
  variants: Record<string, { of: string; precision: Precision; devices?: string[]; keepFeatures?: boolean; flips: number }>;
  /** The settings store's last settings; as a file written by an older version, it may
   *  lack fields added since (read as the shell's serde defaults). */
  lastSettings: RunSettings | OldSettings | null;
  /** Preset files import_preset can read besides those the app exported (an older
   *  version's, without the fields added since). */
  presetFiles: Record<string, { name: string; settings: OldSettings; updated: string }>;
  /** Files and folders that are gone (moved or deleted): list_presets names them. */
  gone: string[];
  /** The state of each catalogue model in the mock's caches (by id; others are missing).
   *  null: the mock's setup knows nothing of the caches and an empty model field only asks
   *  to choose it (the words the setup tests pin); with an object, it says "X is not
   *  installed: open Models …" as the shell does. */
  models: Partial<Record<string, ModelState>> | null;
  /** Progress events of one model download. */
  modelSteps: number;
  /** Models whose download fails part way with a checksum mismatch. */
  failModels: string[];
  /** A fraction of a model at which downloads stop making progress until cancelled. */
  holdDownloadAt: number | null;
  /** The GPU runtime on disk; null: installed (and loaded) when there are GPUs, else missing. */
  gpuRuntime: GpuRuntimeState | null;
  /** The NVIDIA driver version NVML reports (null: no driver). "575.57.08" is too old. */
  driver: string | null;
  /** A fraction of the GPU runtime at which its download stops until cancelled. */
  holdRuntimeAt: number | null;
  /** While true, the GPU runtime's download stops at its first "unpacking" event, so a test
   *  can read that state however slowly the page is drawn; set it false to go on. */
  holdRuntimeUnpacking: boolean;
  /** What the pickers answer, in order; when a queue is empty a default is made up. */
  answers: {
    pick_folders: string[][];
    pick_file: (string | null)[];
    pick_save_file: (string | null)[];
    /** import_models_dialog's pick (null: cancelled). */
    import_models: (string | null)[];
  };
}

export interface MockCall {
  cmd: string;
  args: unknown;
}

declare global {
  interface Window {
    __VIRNUCPRO_MOCK__?: Partial<MockConfig>;
    __VIRNUCPRO_MOCK_CALLS__?: MockCall[];
  }
}

const DEFAULTS: MockConfig = {
  latencyMs: 25,
  eventIntervalMs: 120,
  progressSteps: 12,
  burst: 0,
  logLines: 0,
  holdStage: null,
  readCount: 300,
  pairedReads: false,
  gpus: 2,
  failures: 'first',
  resumable: {},
  variants: { '/data/results/run41-bf16': { of: '/data/results/run41', precision: 'bf16', flips: 3 } },
  lastSettings: null,
  presetFiles: {},
  gone: [],
  models: null,
  modelSteps: 10,
  failModels: ['esm2-3b'],
  holdDownloadAt: null,
  gpuRuntime: null,
  driver: '580.95.05',
  holdRuntimeAt: null,
  holdRuntimeUnpacking: false,
  answers: { pick_folders: [], pick_file: [], pick_save_file: [], import_models: [] },
};

/** The configuration, also left on window: changing it there takes effect at once. */
export function readMockConfig(): MockConfig {
  const given = window.__VIRNUCPRO_MOCK__ ?? {};
  const config: MockConfig = { ...DEFAULTS, ...given, answers: { ...DEFAULTS.answers, ...given.answers } };
  window.__VIRNUCPRO_MOCK__ = config;
  return config;
}
