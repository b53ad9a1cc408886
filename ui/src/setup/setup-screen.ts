// The run setup: inputs (or samples), output, models, devices, options, and the run controls.
import type { AppContext } from '../app/context';
import { h } from '../ui/dom';
import { devicesSection } from './devices-section';
import { firstStartSection } from './first-start';
import { inputsSection } from './inputs-section';
import { optionsSection } from './options-section';
import { modelsSection, outputSection } from './paths-section';
import { runSection } from './run-section';
import { samplesSection } from './samples-section';

export function setupScreen(ctx: AppContext): HTMLElement {
  const sections = [
    firstStartSection(ctx),
    inputsSection(ctx),
    samplesSection(ctx),
    outputSection(ctx),
    modelsSection(ctx),
    devicesSection(ctx),
    optionsSection(ctx),
    runSection(ctx),
  ];
  const render = () => sections.forEach((section) => section.update(ctx.store.get(), null));
  ctx.store.subscribe((state, previous) => sections.forEach((section) => section.update(state, previous)));
  render();
  return h('div', { class: 'setup-grid' }, sections.map((section) => section.element));
}
