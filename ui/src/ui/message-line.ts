import { h, setText } from './dom';

/** `required`: the field is empty, which blocks the run but is not a mistake yet;
 *  `warning`: may be a mistake, but does not block the run. */
export type MessageTone = 'error' | 'ok' | 'pending' | 'required' | 'warning' | 'none';

/** A line under a field for its problem or status; `element.id` is for aria-describedby. */
export interface MessageLine {
  element: HTMLElement;
  show(tone: MessageTone, text: string): void;
}

export function messageLine(id: string): MessageLine {
  const element = h('p', { class: 'field-message', id, 'data-tone': 'none' });
  return {
    element,
    show(tone, text) {
      element.dataset['tone'] = tone;
      setText(element, text);
    },
  };
}
