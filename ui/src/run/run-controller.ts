// Starts, follows and cancels runs. Events land in a RunProgress model; whoever displays
// it subscribes and decides how often to render.
import type { Api } from '../api/client';
import type { RunSettings } from '../api/types';
import { errorText } from '../app/context';
import type { AppState } from '../app/state';
import type { Store } from '../app/store';
import { addLog, applyEvent, finishRun, newRunProgress, type RunProgress } from './progress';

export interface RunController {
  /** The current or last run, null before the first. */
  progress(): RunProgress | null;
  start(settings: RunSettings, restart: boolean): Promise<void>;
  cancel(): Promise<void>;
  /** Called after every change to the progress (possibly many times per frame). */
  onChange(listener: () => void): void;
}

export function createRunController(api: Api, store: Store<AppState>): RunController {
  let current: RunProgress | null = null;
  const listeners: (() => void)[] = [];
  const changed = () => listeners.forEach((listener) => listener());

  return {
    progress: () => current,
    onChange: (listener) => listeners.push(listener),

    async start(settings, restart) {
      if (store.get().running) return;
      const progress = newRunProgress(settings.out_dir, Date.now(), settings.samples.length);
      current = progress;
      store.set({ running: true, lastRun: { settings, outDir: settings.out_dir }, sampleDir: null });
      changed();
      // Remembered as the run starts, so the next start-up restores what was last run.
      api.rememberSettings(settings).catch((reason: unknown) =>
        addLog(progress, 'warn', `Settings not remembered: ${errorText(reason)}`),
      );
      try {
        const summary = await api.startRun(settings, restart, (event) => {
          applyEvent(progress, event, Date.now());
          changed();
        });
        finishRun(progress, summary, Date.now());
        // After a run of samples, Failures and Results show the first sample's folder
        // (the results screen picks another).
        const first = summary.samples[0];
        if (first !== undefined) store.set({ sampleDir: first.out_dir });
      } catch (reason) {
        progress.error = errorText(reason);
        progress.finishedAt = Date.now();
        progress.cancelling = false;
        addLog(progress, 'error', `The run could not go on: ${progress.error}`);
      } finally {
        store.set({ running: false });
        changed();
      }
    },

    async cancel() {
      if (current === null || !store.get().running || current.cancelling) return;
      const progress = current;
      progress.cancelling = true;
      addLog(progress, 'info', 'Cancelling: the run stops at the next batch and stays resumable');
      changed();
      try {
        await api.cancelRun();
      } catch (reason) {
        progress.cancelling = false;
        addLog(progress, 'error', `Could not cancel: ${errorText(reason)}`);
        changed();
      }
    },
  };
}
