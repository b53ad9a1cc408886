// Keeps the setup's derived facts in step with the settings: the input scan, one check per
// model path, the output folder's resumable run and validate_settings' problems. Each
// query is asked again only when the fields it depends on change, and only the answer to
// the latest question is kept (an older answer can arrive after a newer one).
import type { Api } from '../api/client';
import type { ModelCheck, ModelKind, RunSettings } from '../api/types';
import { errorText } from '../app/context';
import type { AppState } from '../app/state';
import type { Store } from '../app/store';

const MODEL_KINDS: readonly ModelKind[] = ['dnabert', 'esm', 'classifier'];
// Typing in the threads or batch fields should not send a request per keystroke.
const VALIDATE_DELAY_MS = 120;

/** A query whose answer is applied only if no newer question was asked (or it was dropped). */
class LatestQuery<A, R> {
  private generation = 0;

  constructor(
    private readonly ask: (arg: A) => Promise<R>,
    private readonly apply: (answer: R) => void,
    private readonly fail: (reason: unknown) => void,
  ) {}

  run(arg: A): void {
    this.generation += 1;
    const mine = this.generation;
    this.ask(arg).then(
      (answer) => mine === this.generation && this.apply(answer),
      (reason: unknown) => mine === this.generation && this.fail(reason),
    );
  }

  drop(): void {
    this.generation += 1;
  }
}

const sampleNames = (settings: RunSettings) => settings.samples.map((sample) => sample.name);

export function syncSettings(api: Api, store: Store<AppState>): void {
  const setCheck = (kind: ModelKind, check: ModelCheck | null) =>
    store.set({ modelChecks: { ...store.get().modelChecks, [kind]: check } });

  const scan = new LatestQuery(
    (inputs: string[]) => api.scanInputs(inputs),
    (result) => store.set({ scan: result }),
    (reason) => store.set({ scan: { files: [], total_bytes: 0, problems: [errorText(reason)] } }),
  );
  const checks = new Map(
    MODEL_KINDS.map((kind) => [
      kind,
      new LatestQuery(
        (path: string) => api.checkModel(kind, path),
        (check) => setCheck(kind, check),
        (reason) => setCheck(kind, { ok: false, kind, summary: '', message: errorText(reason) }),
      ),
    ]),
  );
  const resumable = new LatestQuery(
    (folder: { outDir: string; samples: string[] }) => api.findResumable(folder.outDir, folder.samples),
    (info) => store.set({ resumable: info }),
    () => store.set({ resumable: null }),
  );
  const validate = new LatestQuery(
    (settings: RunSettings) => api.validateSettings(settings),
    (check) => store.set({ problems: check.problems, warnings: check.warnings }),
    // The run must stay blocked when the shell cannot say whether the settings are good.
    (reason) =>
      store.set({ problems: [{ field: 'inputs', message: `Settings could not be checked: ${errorText(reason)}` }], warnings: [] }),
  );
  let validateTimer: ReturnType<typeof setTimeout> | undefined;

  // A run of samples is found by its samples' folders: asked again when their names change.
  const askResumable = (settings: RunSettings) => resumable.run({ outDir: settings.out_dir, samples: sampleNames(settings) });

  const refresh = (settings: RunSettings, previous: RunSettings | null) => {
    const changed = (field: keyof RunSettings) =>
      previous === null || JSON.stringify(previous[field]) !== JSON.stringify(settings[field]);

    if (changed('inputs')) {
      scan.drop();
      store.set({ scan: null });
      if (settings.inputs.length > 0) scan.run(settings.inputs);
    }
    for (const [kind, check] of checks) {
      if (!changed(kind)) continue;
      check.drop();
      setCheck(kind, null);
      if (settings[kind] !== '') check.run(settings[kind]);
    }
    const namesChanged = previous === null || JSON.stringify(sampleNames(previous)) !== JSON.stringify(sampleNames(settings));
    if (changed('out_dir') || namesChanged) {
      resumable.drop();
      store.set({ resumable: null });
      if (settings.out_dir !== '') askResumable(settings);
    }
    clearTimeout(validateTimer);
    validate.drop();
    store.set({ problems: null });
    validateTimer = setTimeout(() => validate.run(settings), VALIDATE_DELAY_MS);
  };

  refresh(store.get().settings, null);
  store.subscribe((state, previous) => {
    if (state.settings !== previous.settings) refresh(state.settings, previous.settings);
    // A run that just ended may have left a resumable (or a finished) run in the folder.
    if (previous.running && !state.running && state.settings.out_dir !== '') askResumable(state.settings);
  });
}
