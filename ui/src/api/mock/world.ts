// The mock's pretend workstation: devices, folders of reads, model files, and what the
// shell's checks say about them. Paths are invented but shaped like real ones.
import { INSTALLED_MODEL_SUMMARIES } from './models';
import { samplesProblems } from './samples';
import type { DeviceInfo, FastaFile, FieldProblem, InputScan, ModelCheck, ModelKind, RunSettings, SettingsCheck, SystemInfo } from '../types';

const GiB = 2 ** 30;
export const CORES = 32;
export const DEMO_DIR = '/opt/virnucpro/demo';

const GPUS: DeviceInfo[] = [
  { id: 'cuda:0', name: 'NVIDIA RTX A6000', total_memory: 48 * GiB, free_memory: 45.2 * GiB, utilization_percent: 3, slow: false },
  { id: 'cuda:1', name: 'NVIDIA RTX A6000', total_memory: 48 * GiB, free_memory: 19.6 * GiB, utilization_percent: 61, slow: false },
];
const CPU: DeviceInfo = {
  id: 'cpu',
  name: `AMD EPYC 7543 (${CORES} cores)`,
  total_memory: null,
  free_memory: null,
  utilization_percent: null,
  slow: true,
};

/** What the engine says (CudaBackend::why_not) on a machine without the GPU runtime. */
export const WHY_NOT_CUDA =
  'the GPU runtime (libtorch\'s CUDA libraries) is not installed, so only the CPU can be used: `virnucpro runtime fetch` (or the app\'s GPU support panel) installs it (libtorch_cuda.so: cannot open shared object file: No such file or directory)';

export function systemInfo(gpus: number): SystemInfo {
  return {
    cores: CORES,
    cuda_loaded: gpus > 0,
    devices: [...GPUS.slice(0, gpus), CPU],
    app_version: '0.1.0-mock',
    libtorch_version: '2.13.0',
    why_not_cuda: gpus > 0 ? null : WHY_NOT_CUDA,
  };
}

const file = (path: string, bytes: number, records: number | null): FastaFile => ({ path, bytes, records });

/** Folders by path: their FASTA files, or the reason they cannot be read. */
const FOLDERS: Record<string, FastaFile[] | string> = {
  '/data/run42/reads': [
    file('/data/run42/reads/sample_A_R1.fastq.gz', 1_210_000_000, null),
    file('/data/run42/reads/sample_B.fa', 88_400_000, 412_000),
    file('/data/run42/reads/sample_C.fa.zst', 301_000_000, null),
  ],
  '/data/run43/reads': [
    file('/data/run43/reads/gut_1.fq.gz', 640_000_000, null),
    file('/data/run43/reads/gut_2.fq.gz', 655_000_000, null),
  ],
  '/data/empty': [],
  '/data/locked': 'cannot read /data/locked: permission denied',
};
const FILES: Record<string, FastaFile> = {
  '/data/single/sample_D.fq.gz': file('/data/single/sample_D.fq.gz', 52_000_000, null),
  [`${DEMO_DIR}/sample_reads.fa`]: file(`${DEMO_DIR}/sample_reads.fa`, 161_000, 120),
};

/** A folder of reads the mock's disk has (not a run folder). */
export function isReadsFolder(path: string): boolean {
  return path in FOLDERS;
}

export function scanInputs(inputs: string[]): InputScan {
  const files: FastaFile[] = [];
  const problems: string[] = [];
  for (const input of inputs) {
    const folder = FOLDERS[input];
    const single = FILES[input];
    if (typeof folder === 'string') problems.push(folder);
    else if (folder !== undefined && folder.length === 0) problems.push(`no FASTA/FASTQ files in ${input}`);
    else if (folder !== undefined) files.push(...folder);
    else if (single !== undefined) files.push(single);
    else problems.push(`${input}: no such file or folder`);
  }
  return { files, total_bytes: files.reduce((sum, f) => sum + f.bytes, 0), problems };
}

interface KnownModel {
  kind: ModelKind;
  summary: string;
}

const MODELS: Record<string, KnownModel> = {
  '/models/DNABERT-S': { kind: 'dnabert', summary: 'DNABERT-S, HF folder, 12 layers x 768' },
  '/models/esm2_t36_3B_UR50D.pt': { kind: 'esm', summary: 'ESM-2 3B, fair-esm checkpoint, 36 layers x 2560' },
  '/models/esm2_t36_3B_UR50D': { kind: 'esm', summary: 'ESM-2 3B, HF folder, 36 layers x 2560' },
  '/models/500_model.pth': { kind: 'classifier', summary: 'MLPClassifier 3328 → 512 → 2, for 500 bp reads' },
  '/models/300_model.pth': { kind: 'classifier', summary: 'MLPClassifier 3328 → 512 → 2, for 300 bp reads' },
  [`${DEMO_DIR}/models/dnabert_s_tiny`]: { kind: 'dnabert', summary: 'DNABERT-S, HF folder, 2 layers x 32 (random demo weights)' },
  [`${DEMO_DIR}/models/esm2_tiny/esm2_t2_tiny_fixture.pt`]: { kind: 'esm', summary: 'ESM-2, fair-esm checkpoint, 2 layers x 32 (random demo weights)' },
  [`${DEMO_DIR}/models/classifier_500_tiny.pth`]: { kind: 'classifier', summary: 'MLPClassifier 160 → 16 → 2 (random demo weights)' },
  ...INSTALLED_MODEL_SUMMARIES,
};
const BROKEN: Record<string, string> = {
  '/models/broken.pth': '/models/broken.pth is truncated: it ends after 1,024 of 13,635,891 bytes',
};
const KIND_NAMES: Record<ModelKind, string> = { dnabert: 'a DNABERT-S model', esm: 'an ESM-2 model', classifier: 'a classifier' };

export function checkModel(kind: ModelKind, path: string): ModelCheck {
  const known = MODELS[path];
  const fail = (message: string): ModelCheck => ({ ok: false, kind, summary: '', message });
  if (BROKEN[path] !== undefined) return fail(BROKEN[path]);
  if (known === undefined) return fail(`${path}: no such file or folder`);
  // The engine's words for a DNABERT-S folder given as ESM-2 (its config.json's model_type).
  if (known.kind === 'dnabert' && kind === 'esm') {
    return fail(`ESM-2 model ${path}: not an ESM-2 checkpoint: ${path}/config.json says model_type "bert", but ESM-2 has "esm"`);
  }
  if (known.kind !== kind) return fail(`${path} is ${KIND_NAMES[known.kind]}, not ${KIND_NAMES[kind]}`);
  return { ok: true, kind, summary: known.summary, message: null };
}

/** The one read length (300 or 500) a file name names as a separate number, if exactly one
 *  (the engine's rule: crates/engine/src/run/spec.rs `length_in_name`). */
function lengthInName(path: string): number | null {
  const name = path.split('/').pop() ?? '';
  const named = (name.match(/\d+/g) ?? []).map(Number).filter((n) => n === 300 || n === 500);
  return named.length > 0 && named.every((n) => n === named[0]) ? (named[0] ?? null) : null;
}

/** The engine's warnings (`spec_warnings`) for settings that can run. */
function specWarnings(settings: RunSettings): FieldProblem[] {
  const named = lengthInName(settings.classifier);
  if (named === null || named === settings.length) return [];
  const message = `${settings.classifier} looks like the classifier for ${named} bp reads, but the read length is ${settings.length} bp; check that the two belong together`;
  return [{ field: 'classifier', message }];
}

/** What an empty model field says when its model is not installed (as the shell's
 *  settings.rs), or null when it is (or the mock knows nothing of the caches). */
export type MissingModel = (kind: ModelKind, length: number) => string | null;

export function validateSettings(settings: RunSettings, gpus: number, missing: MissingModel = () => null): SettingsCheck {
  const problems = settingsProblems(settings, gpus, missing);
  // As the shell: the engine's warnings, except on a field that already has a problem.
  const warnings = specWarnings(settings).filter((w) => problems.every((p) => p.field !== w.field));
  return { problems, warnings };
}

function settingsProblems(settings: RunSettings, gpus: number, missing: MissingModel): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const add = (field: FieldProblem['field'], message: string) => problems.push({ field, message });
  // With samples, the samples are the inputs (shell: settings.rs, core's check_samples).
  if (settings.samples.length > 0) for (const problem of samplesProblems(settings.samples, scanInputs)) add('samples', problem);
  else if (settings.inputs.length === 0) add('inputs', 'Add at least one folder or file of reads.');
  else {
    const scan = scanInputs(settings.inputs);
    for (const problem of scan.problems) add('inputs', problem);
    if (scan.problems.length === 0 && scan.files.length === 0) add('inputs', 'The inputs hold no reads.');
  }
  if (settings.out_dir === '') add('out_dir', 'Choose an output folder.');
  const models: [ModelKind, string][] = [
    ['dnabert', 'Choose the DNABERT-S model folder.'],
    ['esm', 'Choose the ESM-2 model.'],
    ['classifier', 'Choose the classifier.'],
  ];
  const notInstalled = missing;
  for (const [kind, choose] of models) {
    if (settings[kind] === '') add(kind, notInstalled(kind, settings.length) ?? choose);
    else {
      const check = checkModel(kind, settings[kind]);
      if (!check.ok) add(kind, check.message ?? 'not usable');
    }
  }
  if (settings.devices.length === 0) add('devices', 'Check at least one device.');
  else {
    const devices = deviceProblem(settings.devices, gpus);
    if (devices !== null) add('devices', devices);
  }
  // The engine's rules and words from here on (engine/src/run/spec.rs `validate`).
  if (settings.threads !== null && (settings.threads < 1 || settings.threads > CORES)) {
    // core::threads::ThreadsError::OutOfRange.
    add('threads', `must be between 1 and ${CORES}, the CPU cores of this machine (got ${settings.threads})`);
  }
  if (settings.batch_tokens !== null && settings.batch_tokens < 1) add('batch_tokens', 'must be at least 1');
  // Precision::check_device: half precision on any CPU device (one problem).
  if (settings.precision !== 'fp32' && settings.devices.includes('cpu')) {
    add('precision', `precision ${settings.precision} needs a CUDA device; use fp32 on the CPU`);
  }
  return problems;
}

/** The engine's device rules and words (engine/src/devices/spec.rs): each id `cpu` or
 *  `cuda:N`, named once, and a CUDA device this machine has; the first problem only. */
function deviceProblem(devices: string[], gpus: number): string | null {
  const forms = 'use cpu, auto, a CUDA index such as 0, cuda:N, or a list such as 0,1';
  const seen = new Set<string>();
  for (const device of devices) {
    if (device !== 'cpu' && !/^cuda:[0-9]+$/.test(device)) return `'${device}' is not a device: ${forms}`;
    if (seen.has(device)) return `${device} is named more than once`;
    seen.add(device);
  }
  for (const device of devices) {
    if (device === 'cpu' || Number(device.slice('cuda:'.length)) < gpus) continue;
    const available =
      gpus === 0
        ? 'no CUDA device is available here'
        : gpus === 1
          ? 'this machine has 1 CUDA device (cuda:0)'
          : `this machine has ${gpus} CUDA devices (cuda:0 to cuda:${gpus - 1})`;
    return `${device} does not exist: ${available}`;
  }
  return null;
}

export const DEMO_SETTINGS: RunSettings = {
  inputs: [`${DEMO_DIR}/sample_reads.fa`],
  out_dir: '/home/user/virnucpro-demo-output',
  dnabert: `${DEMO_DIR}/models/dnabert_s_tiny`,
  esm: `${DEMO_DIR}/models/esm2_tiny/esm2_t2_tiny_fixture.pt`,
  classifier: `${DEMO_DIR}/models/classifier_500_tiny.pth`,
  length: 500,
  devices: ['cpu'],
  threads: null,
  precision: 'fp32',
  batch_tokens: null,
  keep_features: false,
  pairs: 'auto',
  samples: [],
};

/** Settings as an older version wrote them: without the fields added since. */
export type OldSettings = Omit<RunSettings, 'keep_features' | 'pairs' | 'samples'>;

/** Settings as the shell reads them from a file (a preset, its settings store): serde's
 *  `#[serde(default)]` makes a `keep_features` that an older version did not write false,
 *  `pairs` auto and `samples` none. */
export function readSettings(stored: RunSettings | OldSettings): RunSettings {
  return { keep_features: false, pairs: 'auto', samples: [], ...stored };
}

/** Whether a run with `settings` used any of the Demo preset's random models, as the
 *  shell tells it (src-tauri/src/demo.rs `uses_demo_models`). */
export function usesDemoModels(settings: RunSettings): boolean {
  const demo = [DEMO_SETTINGS.dnabert, DEMO_SETTINGS.esm, DEMO_SETTINGS.classifier];
  return [settings.dnabert, settings.esm, settings.classifier].some((path) => demo.includes(path));
}

/** Default picker answers when a test queued none: plausible paths by the dialog's title. */
export function defaultFolderPick(title: string): string[] {
  if (/output/i.test(title)) return ['/data/results/run42'];
  if (/dnabert/i.test(title)) return ['/models/DNABERT-S'];
  if (/esm/i.test(title)) return ['/models/esm2_t36_3B_UR50D'];
  return ['/data/run42/reads'];
}

export function defaultFilePick(title: string): string {
  if (/classifier/i.test(title)) return '/models/500_model.pth';
  if (/esm/i.test(title)) return '/models/esm2_t36_3B_UR50D.pt';
  if (/preset/i.test(title)) return '/home/user/presets/gpu-box.json';
  return '/data/single/sample_D.fq.gz';
}
