// The payloads of docs/desktop-api.md, mirroring src-tauri/src/api.rs and
// virnucpro_core::events. Field names are the Rust ones (serde, snake_case): change the
// three together.

export type Precision = 'fp32' | 'bf16' | 'fp16';
export type ChunkLength = 300 | 500;

/** What the setup screen edits; also the body of a preset. */
export interface RunSettings {
  /** Folders or files. */
  inputs: string[];
  out_dir: string;
  /** DNABERT-S folder. */
  dnabert: string;
  /** ESM-2 folder or .pt. */
  esm: string;
  /** Classifier .pth. */
  classifier: string;
  length: ChunkLength;
  /** DeviceInfo.id values, e.g. ["cuda:0", "cuda:1"] or ["cpu"]. */
  devices: string[];
  /** Merge threads; null = auto (all cores). */
  threads: number | null;
  precision: Precision;
  /** null = chosen per device. */
  batch_tokens: number | null;
}

export interface DeviceInfo {
  /** "cpu" | "cuda:N" */
  id: string;
  name: string;
  /** Bytes. */
  total_memory: number | null;
  free_memory: number | null;
  utilization_percent: number | null;
  /** True for the CPU. */
  slow: boolean;
}

export interface SystemInfo {
  /** Upper bound of the merge-threads field. */
  cores: number;
  /** libtorch's CUDA backend. */
  cuda_loaded: boolean;
  devices: DeviceInfo[];
  app_version: string;
  libtorch_version: string;
  /** Why CUDA is not used and what fixes it (the GPU support panel); null when it is. */
  why_not_cuda: string | null;
}

export interface FastaFile {
  path: string;
  bytes: number;
  records: number | null;
}

export interface InputScan {
  /** Every FASTA/FASTQ found (one level of folders, as the CLI). */
  files: FastaFile[];
  total_bytes: number;
  /** Unreadable folder, no FASTA files in X, ... */
  problems: string[];
}

/** One field's problem, for live validation next to the field. */
export interface FieldProblem {
  field: keyof RunSettings;
  message: string;
}

/** validate_settings' answer. */
export interface SettingsCheck {
  /** What stops the run; empty when it can start. */
  problems: FieldProblem[];
  /** What may be a mistake but can run (a classifier named for the other read length). */
  warnings: FieldProblem[];
}

export type ModelKind = 'dnabert' | 'esm' | 'classifier';

export interface ModelCheck {
  ok: boolean;
  kind: ModelKind;
  /** e.g. "DNABERT-S, HF folder, 12 layers x 768" when ok. */
  summary: string;
  /** The problem when not ok. */
  message: string | null;
}

export interface Preset {
  name: string;
  settings: RunSettings;
  /** RFC 3339. */
  updated: string;
}

/** A preset as list_presets lists it. */
export interface ListedPreset extends Preset {
  /** Its inputs and models that no longer exist (the output folder is made by the run). */
  missing: string[];
}

export interface ResumeInfo {
  out_dir: string;
  /** Manifest state: "running", "cancelled", "failed", "partial", "ok". */
  state: string;
  /** From the manifest. */
  settings: RunSettings;
  /** Stage names already complete. */
  stages_done: string[];
}

export interface FailureEntry {
  /** core::events::Stage as_str. */
  stage: string;
  /** The shard or file. */
  item: string;
  /** failures.tsv kind. */
  kind: string;
  message: string;
  /** The files involved (inputs/feature files of the item). */
  files: string[];
  /** The files are damaged or foreign: `set_aside_damaged` moves them out of the way. */
  damaged: boolean;
  /** What to do about this kind. */
  suggestion: string;
}

export interface FailureGroup {
  kind: string;
  count: number;
  entries: FailureEntry[];
}

/** One line of read_summary.tsv. */
export interface ReadRow {
  read_id: string;
  chunks: number;
  frames: number;
  virus_chunks: number;
  best_virus_score: number | null;
  call: 'virus' | 'non-virus' | 'none';
}

/** One line of prediction_results.txt. */
export interface FrameRow {
  sequence_id: string;
  read_id: string;
  chunk: number;
  frame: string;
  prediction: 'virus' | 'others';
  score_other: number;
  score_virus: number;
}

/** What the reports shown are (engine ReportsState): `earlier` = kept from an earlier run
 * because the last run did not complete its own. */
export type ReportsState = 'complete' | 'partial' | 'earlier' | 'missing';

export interface ReportsStatus {
  state: ReportsState;
  /** The last run's partial reports, beside the kept ones (state `earlier`). */
  partial_files: string[];
  /** How the last run ended (manifest state), null without a manifest. */
  last_run: string | null;
}

/** What `set_aside_damaged` moved, and the folder it moved them to. */
export interface SetAside {
  moved: string[];
  folder: string;
}

export interface Results {
  out_dir: string;
  /** Whether the reports are complete and current, partial, or an earlier run's. */
  reports: ReportsStatus;
  reads: ReadRow[];
  /** Frames scored in all; a read's frames come from `load_read_frames`. */
  frames_scored: number;
  /** Best virus score per read, 20 bins on [0, 1]. */
  histogram: { edges: number[]; counts: number[] };
  /** The run used a model of the Demo preset (random weights): its calls mean nothing. */
  demo_models: boolean;
}

export interface FileFilter {
  name: string;
  extensions: string[];
}

/** How a command rejects (CommandError in Rust). */
export type CommandErrorKind = 'invalid' | 'not_allowed' | 'not_found' | 'io' | 'busy' | 'engine';

export interface CommandErrorPayload {
  kind: CommandErrorKind;
  message: string;
}

// ---- virnucpro_core::events ----

export type Stage = 'prepare' | 'embed_dna' | 'embed_protein' | 'merge' | 'classify';
export type StageAction = 'run' | 'resume' | 'redo';
export type RunStatus = 'ok' | 'partial' | 'failed' | 'cancelled';
/** How a stage ended: `stopped` when the run stopped (a cancel) before it had all its work. */
export type StageOutcome = 'complete' | 'stopped';

export interface StagePlan {
  stage: Stage;
  action: StageAction;
  reason: string;
}

export interface ItemCounts {
  done: number;
  reused: number;
  failed: number;
}

export interface ItemFailure {
  stage: Stage;
  item: string;
  kind: string;
  message: string;
}

export interface RunSummary {
  status: RunStatus;
  reads: number;
  chunks: number;
  frames_scored: number;
  virus_chunks: number;
  virus_reads: number;
  failures: number;
  seconds: number;
  out_dir: string;
}

export type LogLevel = 'info' | 'warn' | 'error';

export type RunEvent =
  | { event: 'run_started'; out_dir: string; plan: StagePlan[] }
  | { event: 'stage_started'; stage: Stage; total: number | null; unit: string }
  | {
      event: 'stage_progress';
      stage: Stage;
      done: number;
      total: number | null;
      unit: string;
      /** Units per second since the stage started. */
      rate: number;
      eta_seconds: number | null;
    }
  | {
      event: 'device_throughput';
      stage: Stage;
      device: string;
      sequences: number;
      tokens: number;
      /** Tokens per second of forward-pass time. */
      tokens_per_second: number;
      /** Seconds since the stage started; the stage's last report comes at its end. */
      elapsed_seconds: number;
    }
  | { event: 'warning'; stage: Stage | null; message: string }
  | ({ event: 'failure' } & ItemFailure)
  | { event: 'stage_finished'; stage: Stage; counts: ItemCounts; seconds: number; outcome: StageOutcome }
  | ({ event: 'run_finished' } & RunSummary)
  /** Shell-only: a line for the log tail. */
  | { event: 'log'; level: LogLevel; message: string };

export const STAGES: readonly Stage[] = ['prepare', 'embed_dna', 'embed_protein', 'merge', 'classify'];

// ---- Models (the Models screen; virnucpro_models, serialized as the shell sends it) ----

/** verified: every file there and hashed to the catalogue's checksum; installed: there,
 *  not all hashed yet; partial: some files (partly) downloaded, a download resumes it;
 *  damaged: a file hashed to something else; missing: nothing of it here. */
export type ModelState = 'verified' | 'installed' | 'partial' | 'damaged' | 'missing';
/** What a model is for: the catalogue's roles (one per classifier length). */
export type CatalogueRole = 'dnabert' | 'esm' | 'classifier300' | 'classifier500';

export type FileState =
  | { state: 'verified' }
  | { state: 'unchecked' }
  | { state: 'unpinned' }
  | { state: 'partial'; bytes: number }
  | { state: 'damaged' }
  | { state: 'missing' };

export type FileStatus = {
  name: string;
  /** Where it is (or will be) installed. */
  path: string;
  /** The catalogue's size, else the installed file's. */
  size: number | null;
} & FileState;

export interface ModelStatus {
  /** dnabert-s, esm2-3b, classifier-300, classifier-500 */
  id: string;
  title: string;
  role: CatalogueRole;
  state: ModelState;
  /** The source looked at: hugging-face, fair-esm, github. */
  source: string;
  /** What a run is given: a snapshot folder or a file. */
  path: string;
  /** Bytes of the whole model, when every size is known. */
  size: number | null;
  /** Bytes on disk now (installed and partial files). */
  bytes_present: number;
  files: FileStatus[];
}

/** The folders models are installed in (the Python tools' caches). */
export interface CacheRoots {
  hf_hub: string;
  torch_checkpoints: string;
  virnucpro: string;
}

export interface ModelJob {
  id: string;
  kind: 'fetch' | 'verify';
}

/** list_models */
export interface ModelList {
  models: ModelStatus[];
  caches: CacheRoots;
  /** Models being downloaded or verified now. */
  busy: ModelJob[];
}

/** installed_models_defaults: the installed model for each model field (null: none). */
export interface InstalledModels {
  dnabert: string | null;
  esm: string | null;
  classifier: string | null;
}

/** What a fetch_model, verify_model or fetch_gpu_runtime Channel carries (virnucpro_models::FetchEvent). */
export type FetchEvent =
  | { event: 'started'; model: string; source: string; files: number; bytes_total: number | null; bytes_to_get: number }
  | { event: 'verifying'; model: string; file: string }
  /** A downloaded wheel of the GPU runtime is being unpacked. */
  | { event: 'unpacking'; model: string; file: string }
  | { event: 'file-started'; model: string; file: string; size: number | null; url: string }
  | {
      event: 'progress';
      model: string;
      file: string;
      /** Bytes of the model on disk, resumed and finished files included. */
      done: number;
      total: number | null;
      bytes_per_second: number;
      seconds_left: number | null;
    }
  | { event: 'retrying'; model: string; file: string; attempt: number; attempts: number; delay_seconds: number; reason: string }
  | { event: 'restarted'; model: string; file: string; reason: string }
  | { event: 'file-installed'; model: string; file: string; path: string; verified: boolean }
  | { event: 'falling-back'; model: string; from: string; to: string; reason: string }
  | { event: 'finished'; model: string; state: ModelState; path: string };

export interface ImportedFile {
  path: string;
  size: number;
  /** The catalogue file it is, byte for byte; null: it matches none. */
  matched: { model: string; file: string } | null;
  /** Where it was installed. */
  installed: string | null;
}

/** import_models */
export interface ImportReport {
  files: ImportedFile[];
}

// ---- GPU support (libtorch's CUDA libraries: virnucpro_models::runtime) ----

export type GpuRuntimeState = 'installed' | 'partial' | 'missing';

export interface RuntimeStatus {
  libtorch: string;
  cuda: string;
  /** The oldest NVIDIA driver (major version) this CUDA needs. */
  min_driver: number;
  state: GpuRuntimeState;
  /** The runtime's folder (there once installed). */
  path: string;
  /** Bytes on disk: the unpacked libraries, or the wheels downloaded so far. */
  bytes_present: number;
  download_bytes: number;
  unpacked_bytes: number;
}

export type DriverCheck =
  | { state: 'ok'; found: string; required: number }
  | { state: 'too-old'; found: string; required: number }
  | { state: 'no-driver'; required: number }
  | { state: 'unreadable'; found: string; required: number };

/** gpu_runtime_status, and what fetch_gpu_runtime and remove_gpu_runtime resolve with. */
export interface GpuRuntimeStatus {
  runtime: RuntimeStatus;
  driver: DriverCheck;
  /** The driver check in words (both versions when too old). */
  driver_message: string;
  /** This process's tensor backend in one line. */
  backend: string;
  why_not_cuda: string | null;
  /** Installed, but the app started without it: restart to use it. */
  restart_needed: boolean;
  /** A download is going (also one started before the page was reloaded). */
  busy: boolean;
}
