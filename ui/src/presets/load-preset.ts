// Loading a preset into the setup, from the presets list or the first-start panel.
import type { Preset } from '../api/types';
import type { AppContext } from '../app/context';

/** The preset the shell always lists (unless its files are missing from the install). */
export const BUILT_IN_PRESET = 'Demo';

export function loadPreset(ctx: AppContext, preset: Preset): void {
  ctx.updateSettings(preset.settings);
  ctx.notify(`Loaded preset “${preset.name}”.`);
  ctx.navigate('setup');
}
