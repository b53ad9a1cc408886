// What every screen gets: the API, the shared store and a few app-wide actions.
import type { Api } from '../api/client';
import type { RunSettings } from '../api/types';
import type { RunController } from '../run/run-controller';
import type { AppState, ScreenName } from './state';
import type { Store } from './store';

export type Tone = 'info' | 'error';

export interface AppContext {
  api: Api;
  store: Store<AppState>;
  runs: RunController;
  /** A message in the status bar (announced to screen readers). */
  notify: (message: string, tone?: Tone) => void;
  navigate: (screen: ScreenName) => void;
  updateSettings: (patch: Partial<RunSettings>) => void;
}

export function errorText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/** Reports a failed action in the status bar: "Could not <action>: <reason>". */
export function reportFailure(ctx: Pick<AppContext, 'notify'>, action: string, reason: unknown): void {
  ctx.notify(`Could not ${action}: ${errorText(reason)}`, 'error');
}
