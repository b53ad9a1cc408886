// Empty model fields take the installed models (installed_models_defaults): on a machine
// where the Models screen downloaded them, the setup needs only reads and an output
// folder. Asked again when the read length changes (the classifier is per length) and
// when the Models screen changed what is installed. A value the user chose is never
// replaced; one filled in here is, when the installed model for it changes.
import type { Api } from '../api/client';
import type { ModelKind, RunSettings } from '../api/types';
import type { AppState } from '../app/state';
import type { Store } from '../app/store';

const KINDS: readonly ModelKind[] = ['dnabert', 'esm', 'classifier'];

export function fillModelDefaults(api: Api, store: Store<AppState>): void {
  /** What this filled in, per field. */
  const filled: Partial<Record<ModelKind, string>> = {};
  let generation = 0;

  /** Fills the fields this may fill from `installed`. */
  const fill = () => {
    const { settings, installedModels: installed } = store.get();
    if (installed === null) return;
    const patch: Partial<RunSettings> = {};
    for (const kind of KINDS) {
      const value = installed[kind];
      const current = settings[kind];
      const ours = current === '' || current === filled[kind];
      if (value !== null && ours && current !== value) {
        patch[kind] = value;
        filled[kind] = value;
      }
    }
    if (Object.keys(patch).length > 0) store.set({ settings: { ...settings, ...patch } });
  };

  const ask = () => {
    generation += 1;
    const mine = generation;
    api.installedModelsDefaults(store.get().settings.length).then(
      (installed) => {
        if (mine !== generation) return;
        store.set({ installedModels: installed });
        fill();
      },
      // No model caches (the shell could not place them): the fields stay as they are.
      () => mine === generation && store.set({ installedModels: null }),
    );
  };

  ask();
  store.subscribe((state, previous) => {
    if (state.settings.length !== previous.settings.length || state.modelsChanged !== previous.modelsChanged) ask();
    // Settings loaded with an empty model field (a preset saved without one) take the
    // installed model at once.
    else if (state.settings !== previous.settings && KINDS.some((kind) => state.settings[kind] === '')) fill();
  });
}
