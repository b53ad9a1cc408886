import type { AppState } from './state';
import { resultsFolder } from './state';
import type { Store } from './store';

/** A screen's root element and what it does each time it is shown. */
export interface Screen {
  element: HTMLElement;
  onShow?: () => void;
}

/**
 * Whether what a screen loaded from the output folder is out of date: the folder changed,
 * or a run ended since (it may have written new results or failures).
 */
export function folderFreshness(store: Store<AppState>) {
  let runsEnded = 0;
  let loaded: string | null = null;
  const key = () => `${runsEnded} ${resultsFolder(store.get())}`;
  store.subscribe((state, previous) => {
    if (previous.running && !state.running) runsEnded += 1;
  });
  return {
    stale: () => loaded !== key(),
    markLoaded: () => {
      loaded = key();
    },
  };
}
