// The mock's model caches: the four catalogue models in a pretend home cache, downloads
// with progress through the real Channel path, cancel (the bytes are kept: Resume goes
// on from there), a model whose download fails, verify and import, as the shell does them
// (src-tauri/src/model_store.rs over virnucpro_models).
import type { Channel } from '@tauri-apps/api/core';
import type {
  CacheRoots,
  CommandErrorKind,
  CommandErrorPayload,
  FetchEvent,
  FileStatus,
  ImportReport,
  InstalledModels,
  ModelJob,
  ModelList,
  ModelState,
  ModelStatus,
  CatalogueRole,
} from '../types';
import type { MockConfig } from './config';

export const CACHES: CacheRoots = {
  hf_hub: '/home/user/.cache/huggingface/hub',
  torch_checkpoints: '/home/user/.cache/torch/hub/checkpoints',
  virnucpro: '/home/user/.cache/virnucpro',
};
const DNABERT_REV = '00e47f96cdea35e4b6f5df89e5419cbe47d490c6';
const DNABERT_DIR = `${CACHES.hf_hub}/models--zhihan1996--DNABERT-S/snapshots/${DNABERT_REV}`;

interface MockFile {
  name: string;
  size: number;
  url: string;
}
interface CatalogueModel {
  id: string;
  title: string;
  role: CatalogueRole;
  source: string;
  /** What a run is given. */
  path: string;
  /** The folder the files go into. */
  folder: string;
  files: MockFile[];
}

const hf = (name: string, size: number): MockFile => ({
  name,
  size,
  url: `https://huggingface.co/zhihan1996/DNABERT-S/resolve/${DNABERT_REV}/${name}`,
});
const RAW = 'https://raw.githubusercontent.com/Li-Jing-1997/VirNucPro/0b7e6f1f1c5972ce30aa1ced5977890406d3efe2';

export const CATALOGUE: CatalogueModel[] = [
  {
    id: 'dnabert-s',
    title: 'DNABERT-S (zhihan1996/DNABERT-S)',
    role: 'dnabert',
    source: 'hugging-face',
    path: DNABERT_DIR,
    folder: DNABERT_DIR,
    files: [hf('config.json', 1025), hf('tokenizer.json', 168_203), hf('pytorch_model.bin', 468_320_053)],
  },
  {
    id: 'esm2-3b',
    title: 'ESM-2 3B (esm2_t36_3B_UR50D)',
    role: 'esm',
    source: 'fair-esm',
    path: `${CACHES.torch_checkpoints}/esm2_t36_3B_UR50D.pt`,
    folder: CACHES.torch_checkpoints,
    files: [
      { name: 'esm2_t36_3B_UR50D.pt', size: 5_678_116_398, url: 'https://dl.fbaipublicfiles.com/fair-esm/models/esm2_t36_3B_UR50D.pt' },
      { name: 'esm2_t36_3B_UR50D-contact-regression.pt', size: 6759, url: 'https://dl.fbaipublicfiles.com/fair-esm/regression/esm2_t36_3B_UR50D-contact-regression.pt' },
    ],
  },
  ...([300, 500] as const).map(
    (length): CatalogueModel => ({
      id: `classifier-${length}`,
      title: `VirNucPro classifier for ${length} bp (${length}_model.pth)`,
      role: `classifier${length}`,
      source: 'github',
      path: `${CACHES.virnucpro}/classifiers/${length}_model.pth`,
      folder: `${CACHES.virnucpro}/classifiers`,
      files: [{ name: `${length}_model.pth`, size: 13_635_891, url: `${RAW}/${length}_model.pth` }],
    }),
  ),
];

/** Installed model paths the mock's check_model accepts, with their summaries. */
export const INSTALLED_MODEL_SUMMARIES: Record<string, { kind: 'dnabert' | 'esm' | 'classifier'; summary: string }> = {
  [DNABERT_DIR]: { kind: 'dnabert', summary: 'DNABERT-S, HF folder, 12 layers x 768' },
  [`${CACHES.torch_checkpoints}/esm2_t36_3B_UR50D.pt`]: { kind: 'esm', summary: 'ESM-2 3B, fair-esm checkpoint, 36 layers x 2560' },
  [`${CACHES.virnucpro}/classifiers/500_model.pth`]: { kind: 'classifier', summary: 'MLPClassifier 3328 → 512 → 2, for 500 bp reads' },
  [`${CACHES.virnucpro}/classifiers/300_model.pth`]: { kind: 'classifier', summary: 'MLPClassifier 3328 → 512 → 2, for 300 bp reads' },
};

/** Files a test can import: by path, the catalogue file each is (null: none). */
const IMPORTABLE: Record<string, { path: string; size: number; model: string | null }[]> = {
  '/media/usb/500_model.pth': [{ path: '/media/usb/500_model.pth', size: 13_635_891, model: 'classifier-500' }],
  '/media/usb/models': [
    { path: '/media/usb/models/300_model.pth', size: 13_635_891, model: 'classifier-300' },
    { path: '/media/usb/models/notes.txt', size: 812, model: null },
  ],
};

export const fail = (kind: CommandErrorKind, message: string): never => {
  throw { kind, message } satisfies CommandErrorPayload;
};
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ChannelInternals {
  runCallback: (id: number, data: unknown) => void;
}

/** Delivers events through the real Channel callback path, as the shell's IPC does. */
export function channelSender(channel: Channel<FetchEvent>) {
  const internals = (window as unknown as { __TAURI_INTERNALS__: ChannelInternals }).__TAURI_INTERNALS__;
  let index = 0;
  return {
    send(event: FetchEvent) {
      internals.runCallback(channel.id, { message: JSON.parse(JSON.stringify(event)) as unknown, index });
      index += 1;
    },
    end() {
      internals.runCallback(channel.id, { end: true, index });
    },
  };
}

export function createModelHandlers(config: MockConfig) {
  /** Bytes on disk per model; the state of complete models. */
  const present = new Map<string, number>();
  const complete = new Map<string, ModelState>();
  for (const [id, state] of Object.entries(config.models ?? {})) {
    const model = CATALOGUE.find((m) => m.id === id);
    if (model === undefined || state === undefined) continue;
    const size = total(model);
    if (state === 'partial') present.set(id, Math.round(size * 0.4));
    else if (state !== 'missing') {
      present.set(id, size);
      complete.set(id, state);
    }
  }
  const jobs = new Map<string, { kind: ModelJob['kind']; cancelled: boolean }>();

  function total(model: CatalogueModel): number {
    return model.files.reduce((n, f) => n + f.size, 0);
  }
  function model(id: string): CatalogueModel {
    return CATALOGUE.find((m) => m.id === id) ?? fail('not_found', `no model "${id}" in the catalogue; it has ${CATALOGUE.map((m) => m.id).join(', ')}`);
  }
  function stateOf(m: CatalogueModel): ModelState {
    const bytes = present.get(m.id) ?? 0;
    if (bytes === 0) return 'missing';
    return complete.get(m.id) ?? 'partial';
  }
  function status(m: CatalogueModel): ModelStatus {
    const state = stateOf(m);
    let left = present.get(m.id) ?? 0;
    const files = m.files.map((f): FileStatus => {
      const path = `${m.folder}/${f.name}`;
      const have = Math.min(left, f.size);
      left -= have;
      const base = { name: f.name, path, size: f.size };
      if (state === 'verified') return { ...base, state: 'verified' };
      if (state === 'installed') return { ...base, state: 'unchecked' };
      if (state === 'damaged') return { ...base, state: f === m.files.at(-1) ? 'damaged' : 'verified' };
      if (have === f.size) return { ...base, state: 'verified' };
      return have > 0 ? { ...base, state: 'partial', bytes: have } : { ...base, state: 'missing' };
    });
    return {
      id: m.id,
      title: m.title,
      role: m.role,
      state,
      source: m.source,
      path: m.path,
      size: total(m),
      bytes_present: present.get(m.id) ?? 0,
      files,
    };
  }
  const usable = (role: CatalogueRole | null): string | null => {
    const m = CATALOGUE.find((c) => c.role === role);
    return m !== undefined && ['verified', 'installed'].includes(stateOf(m)) ? m.path : null;
  };
  function begin(id: string, kind: ModelJob['kind']) {
    const going = jobs.get(id);
    if (going !== undefined) {
      fail('busy', `${id} is ${going.kind === 'fetch' ? 'being downloaded' : 'being verified'}; wait for it to end or cancel it first`);
    }
    const job = { kind, cancelled: false };
    jobs.set(id, job);
    return job;
  }

  return {
    list_models: (): ModelList => ({
      models: CATALOGUE.map(status),
      caches: CACHES,
      busy: [...jobs].map(([id, job]) => ({ id, kind: job.kind })),
    }),
    installed_models_defaults: ({ length }: { length: number }): InstalledModels => ({
      dnabert: usable('dnabert'),
      esm: usable('esm'),
      // As the shell: no classifier for a length none is trained for.
      classifier: usable(length === 300 ? 'classifier300' : length === 500 ? 'classifier500' : null),
    }),
    /** Whether an empty model field's model is installed (for validate_settings). */
    installed: (role: CatalogueRole | null): boolean => usable(role) !== null,

    async fetch_model({ id, on_event }: { id: string; on_event: Channel<FetchEvent> }): Promise<ModelStatus> {
      const m = model(id);
      const job = begin(id, 'fetch');
      const channel = channelSender(on_event);
      try {
        const size = total(m);
        if (stateOf(m) === 'verified') {
          channel.send({ event: 'finished', model: id, state: 'verified', path: m.path });
          return status(m);
        }
        if (stateOf(m) === 'damaged') present.set(id, size - (m.files.at(-1)?.size ?? 0));
        complete.delete(id);
        let done = present.get(id) ?? 0;
        channel.send({ event: 'started', model: id, source: m.source, files: m.files.length, bytes_total: size, bytes_to_get: size - done });
        const steps = config.modelSteps;
        const step = Math.ceil((size - done) / steps);
        const failing = config.failModels.includes(id);
        let fileIndex = -1;
        let fileEnd = 0;
        while (done < size) {
          // The file the next bytes belong to.
          while (done >= fileEnd && fileIndex < m.files.length - 1) {
            if (fileIndex >= 0) {
              const f = m.files[fileIndex];
              if (f !== undefined) channel.send({ event: 'file-installed', model: id, file: f.name, path: `${m.folder}/${f.name}`, verified: true });
            }
            fileIndex += 1;
            const f = m.files[fileIndex];
            fileEnd += f?.size ?? 0;
            if (f !== undefined && done < fileEnd) channel.send({ event: 'file-started', model: id, file: f.name, size: f.size, url: f.url });
          }
          const file = m.files[fileIndex] ?? m.files[0];
          // Held part way (for tests that cancel): no progress until cancelled.
          while (config.holdDownloadAt !== null && done >= size * config.holdDownloadAt && !job.cancelled) await sleep(5);
          if (job.cancelled) {
            present.set(id, done);
            return status(m);
          }
          await sleep(config.eventIntervalMs);
          done = Math.min(size, done + step);
          present.set(id, done);
          const rate = 48_000_000;
          channel.send({ event: 'progress', model: id, file: file?.name ?? '', done, total: size, bytes_per_second: rate, seconds_left: (size - done) / rate });
          if (failing && done >= size * 0.6 && file !== undefined) {
            // What a mismatch says (virnucpro_models::FetchError::ChecksumMismatch); the
            // bytes of that file are thrown away.
            present.set(id, Math.max(0, fileEnd - file.size));
            fail(
              'io',
              `${id}: ${file.name} from ${file.url} does not match the catalogue: expected sha256:7de8b4082ba15891959ab368b77ce3886697af1efb16d3c9e9e7b0c5d3f07500, got sha256:0c1f2bd0e4d3a1f4b7d05a0b8e3f1c2d9a6e4b7c8d1f2e3a4b5c6d7e8f9a0b1c; it was not installed`,
            );
          }
        }
        const last = m.files.at(-1);
        if (last !== undefined) channel.send({ event: 'file-installed', model: id, file: last.name, path: `${m.folder}/${last.name}`, verified: true });
        complete.set(id, 'verified');
        channel.send({ event: 'finished', model: id, state: 'verified', path: m.path });
        return status(m);
      } finally {
        channel.end();
        jobs.delete(id);
      }
    },
    cancel_fetch: ({ id }: { id: string }) => {
      const job = jobs.get(id);
      if (job !== undefined) job.cancelled = true;
      return null;
    },
    async verify_model({ id, on_event }: { id: string; on_event: Channel<FetchEvent> }): Promise<ModelStatus> {
      const m = model(id);
      const job = begin(id, 'verify');
      const channel = channelSender(on_event);
      try {
        const state = stateOf(m);
        if (state === 'missing' || state === 'partial') return status(m);
        for (const f of m.files) {
          if (job.cancelled) return status(m);
          channel.send({ event: 'verifying', model: id, file: f.name });
          await sleep(config.eventIntervalMs);
        }
        if (state === 'installed') complete.set(id, 'verified');
        return status(m);
      } finally {
        channel.end();
        jobs.delete(id);
      }
    },
    import_models: ({ path }: { path: string }): ImportReport => {
      const found = IMPORTABLE[path] ?? fail('not_found', `${path}: no such file or folder`);
      return {
        files: found.map((f) => {
          const m = CATALOGUE.find((c) => c.id === f.model);
          if (m === undefined) return { path: f.path, size: f.size, matched: null, installed: null };
          present.set(m.id, total(m));
          complete.set(m.id, 'verified');
          const file = m.files[0]?.name ?? '';
          return { path: f.path, size: f.size, matched: { model: m.id, file }, installed: `${m.folder}/${file}` };
        }),
      };
    },
    reveal_model: ({ id }: { id: string }) => {
      const m = model(id);
      if (stateOf(m) === 'missing') fail('not_found', `${m.title} is not installed: nothing of it is in ${m.path}`);
      return null;
    },
  };
}

export type ModelHandlers = ReturnType<typeof createModelHandlers>;
