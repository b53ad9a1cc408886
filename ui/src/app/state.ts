// What the screens share. Run progress is not here: it changes many times a second and
// has its own controller (run/run-controller.ts) that renders once per animation frame.
import type {
  FieldProblem,
  InputScan,
  InstalledModels,
  ListedPreset,
  ModelCheck,
  ModelKind,
  ResumeInfo,
  RunSettings,
  SystemInfo,
} from '../api/types';
import { Store } from './store';

export type ScreenName = 'setup' | 'presets' | 'models' | 'run' | 'failures' | 'results';

export interface AppState {
  system: SystemInfo | null;
  settings: RunSettings;
  /** null while nothing is chosen or the scan is on its way. */
  scan: InputScan | null;
  modelChecks: Record<ModelKind, ModelCheck | null>;
  /** validate_settings' answer for the current settings; null while it is being asked. */
  problems: FieldProblem[] | null;
  /** What a field holds that is no value yet ("1.5" in the threads field): the settings
   *  keep the last value, so the shell never sees it; the field and Run say it instead.
   *  A settings change to that field drops it. */
  draftProblems: FieldProblem[];
  /** validate_settings' warnings: may be a mistake, but the run can start. Kept while the
   *  next answer is on its way, so they do not blink while the user types. */
  warnings: FieldProblem[];
  resumable: ResumeInfo | null;
  presets: ListedPreset[];
  running: boolean;
  /** The folder the Failures and Results screens show: the last run's, else the setup's. */
  lastRun: { settings: RunSettings; outDir: string } | null;
  /** In a run of samples, the sample the Failures and Results screens show: its folder
   *  (`out/NAME/`, as the shell names it); null: the run's own folder. */
  sampleDir: string | null;
  /** Start-up has asked for the system, the presets and the last settings. */
  started: boolean;
  /** The installed model for each model field (installed_models_defaults, for the read
   *  length of the settings); null until known, or when the shell has no model caches. */
  installedModels: InstalledModels | null;
  /** Bumped when the Models screen changed what is installed (download, import, verify). */
  modelsChanged: number;
}

export function defaultSettings(system: SystemInfo | null): RunSettings {
  const gpus = system?.devices.filter((d) => !d.slow).map((d) => d.id) ?? [];
  return {
    inputs: [],
    out_dir: '',
    dnabert: '',
    esm: '',
    classifier: '',
    length: 500,
    // Every GPU by default; the CPU only when there is no GPU (it is much slower).
    devices: gpus.length > 0 ? gpus : ['cpu'],
    threads: null,
    precision: 'fp32',
    batch_tokens: null,
    // Only each shard's scores are written unless the user asks for the features too.
    keep_features: false,
    // Files named as R1 and R2 of a pair are read as mates, as the command line does.
    pairs: 'auto',
    // One run of the inputs; samples run several in one go.
    samples: [],
  };
}

export function createAppStore(): Store<AppState> {
  return new Store<AppState>({
    system: null,
    settings: defaultSettings(null),
    scan: null,
    modelChecks: { dnabert: null, esm: null, classifier: null },
    problems: null,
    draftProblems: [],
    warnings: [],
    resumable: null,
    presets: [],
    running: false,
    lastRun: null,
    sampleDir: null,
    started: false,
    installedModels: null,
    modelsChanged: 0,
  });
}

export function resultsFolder(state: AppState): string {
  return state.sampleDir ?? state.lastRun?.outDir ?? state.settings.out_dir;
}
