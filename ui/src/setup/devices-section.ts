// The device checklist from system_info: each GPU with its memory and current load, the
// CPU marked slow; when only the CPU is offered, why CUDA is not used and a way to the GPU
// support panel (Models screen).
import type { DeviceInfo, SystemInfo } from '../api/types';
import type { AppContext } from '../app/context';
import { h, replaceChildren, setText } from '../ui/dom';
import { formatGiB } from '../ui/format';
import { fieldMessage, problemsFor, showProblems, type Section } from './section';

function deviceDetails(device: DeviceInfo): string {
  if (device.slow) return 'Much slower than a GPU: for small inputs and trial runs.';
  const parts: string[] = [];
  if (device.free_memory !== null && device.total_memory !== null) {
    parts.push(`${formatGiB(device.free_memory)} free of ${formatGiB(device.total_memory)}`);
  } else if (device.total_memory !== null) {
    parts.push(`${formatGiB(device.total_memory)}`);
  }
  if (device.utilization_percent !== null) parts.push(`${device.utilization_percent}% busy now`);
  return parts.join(' · ');
}

function deviceItem(ctx: AppContext, device: DeviceInfo): HTMLElement {
  const id = `device-${device.id.replace(/[^a-z0-9]/gi, '-')}`;
  const toggle = (event: Event) => {
    const checked = (event.target as HTMLInputElement).checked;
    const devices = ctx.store.get().settings.devices.filter((d) => d !== device.id);
    if (checked) devices.push(device.id);
    ctx.updateSettings({ devices });
  };
  return h(
    'li',
    { class: device.slow ? 'device slow' : 'device', 'data-device': device.id },
    h('input', { type: 'checkbox', id, value: device.id, onchange: toggle, 'aria-describedby': `${id}-details` }),
    h(
      'label',
      { for: id },
      h('span', { class: 'device-name' }, device.name),
      ' ',
      h('span', { class: 'device-id' }, device.id),
      device.slow && h('span', { class: 'badge warn' }, 'slow'),
    ),
    h('span', { class: 'device-details', id: `${id}-details` }, deviceDetails(device)),
  );
}

export function devicesSection(ctx: AppContext): Section {
  const list = h('ul', { class: 'device-list', id: 'device-list' });
  const note = h('p', { class: 'hint', id: 'cuda-note' });
  const whyText = h('span', { id: 'why-not-cuda' });
  const openGpu = () => {
    ctx.navigate('models');
    // The Models screen is shown now; bring its GPU support section into view.
    requestAnimationFrame(() => document.getElementById('gpu-panel')?.scrollIntoView({ block: 'start' }));
  };
  const why = h(
    'p',
    { class: 'hint', id: 'cuda-why', hidden: true },
    'Why CUDA is not used: ',
    whyText,
    ' ',
    h('button', { type: 'button', id: 'open-gpu-support', onclick: openGpu }, 'GPU support…'),
  );
  const message = fieldMessage('devices');
  const element = h(
    'fieldset',
    { class: 'panel', id: 'devices-section', 'aria-describedby': message.element.id },
    h('legend', {}, 'Devices'),
    note,
    why,
    list,
    message.element,
  );
  let shown: SystemInfo | null = null;

  return {
    element,
    update(state) {
      if (state.system !== shown) {
        shown = state.system;
        replaceChildren(list, (shown?.devices ?? []).map((d) => deviceItem(ctx, d)));
        note.textContent =
          shown === null
            ? 'Looking for devices…'
            : shown.cuda_loaded
              ? 'Embeddings run on every checked device at once.'
              : 'The CUDA backend of libtorch is not loaded: only the CPU can be used.';
        // Only the CPU: say why, and where to fix it.
        const onlyCpu = shown !== null && shown.devices.every((d) => d.id === 'cpu');
        why.hidden = !onlyCpu || shown?.why_not_cuda == null;
        setText(whyText, shown?.why_not_cuda ?? '');
      }
      for (const box of list.querySelectorAll<HTMLInputElement>('input[type=checkbox]')) {
        box.checked = state.settings.devices.includes(box.value);
      }
      showProblems(message, problemsFor(state, 'devices'), { empty: state.settings.devices.length === 0 });
    },
  };
}
