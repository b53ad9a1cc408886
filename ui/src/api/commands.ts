// Every command of docs/desktop-api.md with its arguments and result, in one map: the
// client calls through it and the mock backend must implement all of it, so the
// compiler catches a command that one side misses or spells differently.
import type { Channel } from '@tauri-apps/api/core';
import type {
  Comparison,
  FailureGroup,
  FetchEvent,
  ImportReport,
  InstalledModels,
  ModelList,
  ModelStatus,
  FileFilter,
  FrameRow,
  GpuRuntimeStatus,
  InputScan,
  ModelCheck,
  ModelKind,
  ListedPreset,
  Preset,
  Results,
  ResumeInfo,
  RunEvent,
  SetAside,
  SettingsCheck,
  RunSettings,
  RunResult,
  SamplesTable,
  SystemInfo,
} from './types';

type NoArgs = Record<string, never>;

export interface Commands {
  system_info: { args: NoArgs; result: SystemInfo };
  pick_folders: { args: { title: string }; result: string[] };
  pick_file: { args: { title: string; filters: FileFilter[] }; result: string | null };
  pick_save_file: { args: { title: string; default_name: string; directory?: string }; result: string | null };
  scan_inputs: { args: { inputs: string[] }; result: InputScan };
  check_model: { args: { kind: ModelKind; path: string }; result: ModelCheck };
  validate_settings: { args: { settings: RunSettings }; result: SettingsCheck };
  start_run: {
    args: { settings: RunSettings; restart: boolean; on_event: Channel<RunEvent> };
    result: RunResult;
  };
  cancel_run: { args: NoArgs; result: null };
  find_resumable: { args: { out_dir: string; samples?: string[] }; result: ResumeInfo | null };
  load_failures: { args: { out_dir: string }; result: FailureGroup[] };
  export_failures: { args: { out_dir: string; dest: string }; result: null };
  set_aside_damaged: { args: { out_dir: string }; result: SetAside };
  load_results: { args: { out_dir: string }; result: Results };
  load_samples: { args: { out_dir: string }; result: SamplesTable };
  compare_runs: { args: { a: string; b: string }; result: Comparison };
  load_read_frames: { args: { out_dir: string; read_id: string }; result: FrameRow[] };
  export_virus_fasta: { args: { out_dir: string; dest: string }; result: number };
  open_folder: { args: { path: string }; result: null };
  list_presets: { args: NoArgs; result: ListedPreset[] };
  save_preset: { args: { name: string; settings: RunSettings }; result: Preset };
  rename_preset: { args: { from: string; to: string }; result: Preset };
  duplicate_preset: { args: { name: string; as_name: string }; result: Preset };
  delete_preset: { args: { name: string }; result: null };
  export_preset: { args: { name: string; dest: string }; result: null };
  import_preset: { args: { path: string }; result: Preset };
  last_settings: { args: NoArgs; result: RunSettings | null };
  remember_settings: { args: { settings: RunSettings }; result: null };
  list_models: { args: NoArgs; result: ModelList };
  installed_models_defaults: { args: { length: number }; result: InstalledModels };
  fetch_model: { args: { id: string; on_event: Channel<FetchEvent> }; result: ModelStatus };
  cancel_fetch: { args: { id: string }; result: null };
  verify_model: { args: { id: string; on_event: Channel<FetchEvent> }; result: ModelStatus };
  import_models: { args: { path: string }; result: ImportReport };
  import_models_dialog: { args: { folder: boolean }; result: ImportReport | null };
  reveal_model: { args: { id: string }; result: null };
  gpu_runtime_status: { args: NoArgs; result: GpuRuntimeStatus };
  fetch_gpu_runtime: { args: { on_event: Channel<FetchEvent> }; result: GpuRuntimeStatus };
  cancel_gpu_runtime: { args: NoArgs; result: null };
  remove_gpu_runtime: { args: NoArgs; result: GpuRuntimeStatus };
}

export type CommandName = keyof Commands;
export type CommandArgs<K extends CommandName> = Commands[K]['args'];
export type CommandResult<K extends CommandName> = Commands[K]['result'];
