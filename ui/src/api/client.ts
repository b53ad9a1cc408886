// The only place the UI talks to the shell: typed wrappers over `invoke` and one
// `Channel` per run (docs/desktop-api.md).
import { Channel, invoke } from '@tauri-apps/api/core';
import type { CommandArgs, CommandName, CommandResult } from './commands';
import type {
  CommandErrorKind,
  FetchEvent,
  FileFilter,
  ModelKind,
  RunEvent,
  RunSettings,
} from './types';

/**
 * A rejected command. `kind` is the contract's CommandError kind, or `ipc` when the shell
 * rejected the call itself (unknown command, arguments it could not read) with a bare string.
 */
export class CommandError extends Error {
  constructor(
    readonly kind: CommandErrorKind | 'ipc',
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

function toCommandError(cmd: string, reason: unknown): CommandError {
  if (typeof reason === 'object' && reason !== null && 'kind' in reason && 'message' in reason) {
    const { kind, message } = reason as { kind: CommandErrorKind; message: unknown };
    return new CommandError(kind, String(message));
  }
  return new CommandError('ipc', `${cmd}: ${String(reason)}`);
}

async function call<K extends CommandName>(cmd: K, args: CommandArgs<K>): Promise<CommandResult<K>> {
  try {
    return await invoke<CommandResult<K>>(cmd, args);
  } catch (reason) {
    throw toCommandError(cmd, reason);
  }
}

const none = {} as Record<string, never>;

export const api = {
  systemInfo: () => call('system_info', none),
  pickFolders: (title: string) => call('pick_folders', { title }),
  pickFile: (title: string, filters: FileFilter[]) => call('pick_file', { title, filters }),
  /** `directory`: where the dialog opens (an output folder), when the user chose it. */
  pickSaveFile: (title: string, defaultName: string, directory?: string) =>
    call('pick_save_file', directory === undefined ? { title, default_name: defaultName } : { title, default_name: defaultName, directory }),
  scanInputs: (inputs: string[]) => call('scan_inputs', { inputs }),
  checkModel: (kind: ModelKind, path: string) => call('check_model', { kind, path }),
  validateSettings: (settings: RunSettings) => call('validate_settings', { settings }),
  /** Resolves with the result (each sample's, for a run of samples) when the run ends;
   *  `onEvent` gets every event before that. */
  startRun: (settings: RunSettings, restart: boolean, onEvent: (event: RunEvent) => void) =>
    call('start_run', { settings, restart, on_event: new Channel<RunEvent>(onEvent) }),
  cancelRun: () => call('cancel_run', none),
  /** The earlier run in `outDir`; `samples`, the names of the setup's samples, are looked
   *  for in `outDir/NAME/` first (a run of samples has a manifest per sample). */
  findResumable: (outDir: string, samples: string[]) => call('find_resumable', { out_dir: outDir, samples }),
  loadFailures: (outDir: string) => call('load_failures', { out_dir: outDir }),
  setAsideDamaged: (outDir: string) => call('set_aside_damaged', { out_dir: outDir }),
  exportFailures: (outDir: string, dest: string) => call('export_failures', { out_dir: outDir, dest }),
  loadResults: (outDir: string) => call('load_results', { out_dir: outDir }),
  /** The table across the samples of a run of samples (its summary.tsv). */
  loadSamples: (outDir: string) => call('load_samples', { out_dir: outDir }),
  /** Two runs of the same reads compared report by report (`virnucpro compare A B`). */
  compareRuns: (a: string, b: string) => call('compare_runs', { a, b }),
  /** One read's scored frames (prediction_results.txt rows), in chunk then frame order. */
  loadReadFrames: (outDir: string, readId: string) => call('load_read_frames', { out_dir: outDir, read_id: readId }),
  exportVirusFasta: (outDir: string, dest: string) =>
    call('export_virus_fasta', { out_dir: outDir, dest }),
  openFolder: (path: string) => call('open_folder', { path }),
  listPresets: () => call('list_presets', none),
  savePreset: (name: string, settings: RunSettings) => call('save_preset', { name, settings }),
  renamePreset: (from: string, to: string) => call('rename_preset', { from, to }),
  duplicatePreset: (name: string, asName: string) => call('duplicate_preset', { name, as_name: asName }),
  deletePreset: (name: string) => call('delete_preset', { name }),
  exportPreset: (name: string, dest: string) => call('export_preset', { name, dest }),
  importPreset: (path: string) => call('import_preset', { path }),
  lastSettings: () => call('last_settings', none),
  rememberSettings: (settings: RunSettings) => call('remember_settings', { settings }),
  listModels: () => call('list_models', none),
  installedModelsDefaults: (length: number) => call('installed_models_defaults', { length }),
  /** Resolves with the model's state when the download ends (also when cancelled: partial). */
  fetchModel: (id: string, onEvent: (event: FetchEvent) => void) =>
    call('fetch_model', { id, on_event: new Channel<FetchEvent>(onEvent) }),
  cancelFetch: (id: string) => call('cancel_fetch', { id }),
  verifyModel: (id: string, onEvent: (event: FetchEvent) => void) =>
    call('verify_model', { id, on_event: new Channel<FetchEvent>(onEvent) }),
  importModels: (path: string) => call('import_models', { path }),
  /** Picks a file (or a folder) and imports it; null when the picker was cancelled. */
  importModelsDialog: (folder: boolean) => call('import_models_dialog', { folder }),
  revealModel: (id: string) => call('reveal_model', { id }),
  gpuRuntimeStatus: () => call('gpu_runtime_status', none),
  /** Resolves with the runtime's state when the download ends (also when cancelled: partial). */
  fetchGpuRuntime: (onEvent: (event: FetchEvent) => void) =>
    call('fetch_gpu_runtime', { on_event: new Channel<FetchEvent>(onEvent) }),
  cancelGpuRuntime: () => call('cancel_gpu_runtime', none),
  removeGpuRuntime: () => call('remove_gpu_runtime', none),
};

export type Api = typeof api;
