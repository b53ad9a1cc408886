// Building blocks of the setup form: a section renders once and updates from the state;
// a field message shows that field's problem (or its check) next to it.
import type { RunSettings } from '../api/types';
import type { AppState } from '../app/state';
import { messageLine, type MessageLine, type MessageTone } from '../ui/message-line';

export interface Section {
  element: HTMLElement;
  update(state: AppState, previous: AppState | null): void;
}

/** The line under a settings field, where validate_settings' problems for it appear. */
export function fieldMessage(field: keyof RunSettings): MessageLine {
  return messageLine(`message-${field}`);
}

/** The field's problems: what it holds that is no value yet, then validate_settings'. */
export function problemsFor(state: AppState, field: keyof RunSettings): string[] {
  return [...state.draftProblems, ...(state.problems ?? [])].filter((p) => p.field === field).map((p) => p.message);
}

/** validate_settings' warnings for the field: may be a mistake, but the run can start. */
export function warningsFor(state: AppState, field: keyof RunSettings): string[] {
  return state.warnings.filter((w) => w.field === field).map((w) => w.message);
}

/** Marks `control` invalid while its field has problems. */
function markInvalid(control: HTMLElement, invalid: boolean): void {
  if (invalid) control.setAttribute('aria-invalid', 'true');
  else control.removeAttribute('aria-invalid');
}

export interface ShowOptions {
  /** The form control to mark aria-invalid; groups (fieldsets) are tied to their message
   *  through aria-describedby instead. */
  control?: HTMLElement;
  /** The field has nothing chosen yet: its problems say what is required, muted. */
  empty?: boolean;
  /** What the line says when there is no problem. */
  otherwise?: [MessageTone, string];
}

/** Shows the field's validate_settings problems next to it. */
export function showProblems(message: MessageLine, problems: string[], options: ShowOptions = {}): void {
  const { control, empty = false, otherwise = ['none', ''] } = options;
  const wrong = problems.length > 0 && !empty;
  if (control !== undefined) markInvalid(control, wrong);
  if (problems.length === 0) message.show(...otherwise);
  else message.show(wrong ? 'error' : 'required', problems.join(' '));
}
