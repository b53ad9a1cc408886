import { h } from './dom';

/**
 * The head of a screen that shows one output folder (Failures, Results): what is shown on
 * the left; Reload and the screen's own actions on the right.
 */
export function folderHead(lines: HTMLElement[], reloadId: string, reload: () => void, ...actions: HTMLElement[]): HTMLElement {
  return h(
    'div',
    { class: 'panel panel-head' },
    h('div', {}, lines),
    h('div', { class: 'actions' }, h('button', { type: 'button', id: reloadId, onclick: reload }, 'Reload'), actions),
  );
}
