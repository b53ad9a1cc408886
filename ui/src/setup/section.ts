// Building blocks of the setup form: a section renders once and updates from the state;
// a field message shows that field's problem (or its check) next to it.
import type { RunSettings } from '../api/types';
import type { AppState } from '../app/state';
import { h, setText } from '../ui/dom';

export interface Section {
  element: HTMLElement;
  update(state: AppState, previous: AppState | null): void;
}

export type MessageTone = 'error' | 'ok' | 'pending' | 'none';

export interface FieldMessage {
  element: HTMLElement;
  show(tone: MessageTone, text: string): void;
}

/** The line under a field; its id is what the field's aria-describedby points to. */
export function fieldMessage(field: keyof RunSettings): FieldMessage {
  const element = h('p', { class: 'field-message', id: `message-${field}`, 'data-tone': 'none' });
  return {
    element,
    show(tone, text) {
      element.dataset['tone'] = tone;
      setText(element, text);
    },
  };
}

export function problemsFor(state: AppState, field: keyof RunSettings): string[] {
  return (state.problems ?? []).filter((p) => p.field === field).map((p) => p.message);
}

/** Marks `control` invalid while its field has problems. */
export function markInvalid(control: HTMLElement, invalid: boolean): void {
  if (invalid) control.setAttribute('aria-invalid', 'true');
  else control.removeAttribute('aria-invalid');
}

/** Shows the field's validate_settings problems, or `otherwise` when there are none. */
export function showProblems(
  message: FieldMessage,
  control: HTMLElement,
  problems: string[],
  otherwise: [MessageTone, string] = ['none', ''],
): void {
  markInvalid(control, problems.length > 0);
  if (problems.length > 0) message.show('error', problems.join(' '));
  else message.show(...otherwise);
}
