// The mock's GPU runtime (libtorch's CUDA libraries), as src-tauri/src/gpu_runtime.rs
// serves it: status with the driver check, a download with progress and unpacking through
// the real Channel path, cancel (the bytes are kept: Resume goes on from there), a
// too-old driver refused before the first byte, and removal.
import type { Channel } from '@tauri-apps/api/core';
import type { DriverCheck, FetchEvent, GpuRuntimeState, GpuRuntimeStatus } from '../types';
import type { MockConfig } from './config';
import { channelSender, fail, sleep } from './models';
import { WHY_NOT_CUDA } from './world';

const LIBTORCH = '2.13.0+cu130';
const CUDA = '13.0';
const MIN_DRIVER = 580;
const DOWNLOAD = 2_579_000_000;
const UNPACKED = 3_330_000_000;
const PATH = `/home/user/.local/share/virnucpro/runtime/libtorch-${LIBTORCH}`;
const WHEELS: [string, number][] = [
  ['torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl', 1_021_000_000],
  ['nvidia_cublas-13.1.0.3-py3-none-manylinux_2_27_x86_64.whl', 612_000_000],
  ['nvidia_cudnn_cu13-9.13.0.50-py3-none-manylinux_2_27_x86_64.whl', 946_000_000],
];

function driverCheck(found: string | null): DriverCheck {
  if (found === null) return { state: 'no-driver', required: MIN_DRIVER };
  const major = Number.parseInt(found, 10);
  if (Number.isNaN(major)) return { state: 'unreadable', found, required: MIN_DRIVER };
  return major >= MIN_DRIVER ? { state: 'ok', found, required: MIN_DRIVER } : { state: 'too-old', found, required: MIN_DRIVER };
}

/** As virnucpro_models::runtime::DriverCheck::message. */
function driverMessage(check: DriverCheck): string {
  switch (check.state) {
    case 'ok':
      return `NVIDIA driver ${check.found}: new enough for CUDA ${CUDA}`;
    case 'too-old':
      return `NVIDIA driver ${check.found} is too old for CUDA ${CUDA}, which needs driver ${check.required} or newer: update the driver first`;
    case 'no-driver':
      return `no NVIDIA driver found: the GPU runtime can be installed, but CUDA ${CUDA} needs driver ${check.required} or newer to use a GPU`;
    case 'unreadable':
      return `cannot read the NVIDIA driver version "${check.found}"; CUDA ${CUDA} needs driver ${check.required} or newer`;
  }
}

export function createGpuHandlers(config: MockConfig) {
  const loaded = config.gpus > 0;
  const initial = config.gpuRuntime ?? (loaded ? 'installed' : 'missing');
  let present = initial === 'installed' ? UNPACKED : initial === 'partial' ? Math.round(DOWNLOAD * 0.35) : 0;
  let state: GpuRuntimeState = initial;
  let job: { cancelled: boolean } | null = null;

  const status = (): GpuRuntimeStatus => {
    const driver = driverCheck(config.driver);
    return {
      runtime: {
        libtorch: LIBTORCH,
        cuda: CUDA,
        min_driver: MIN_DRIVER,
        state,
        path: PATH,
        bytes_present: present,
        download_bytes: DOWNLOAD,
        unpacked_bytes: UNPACKED,
      },
      driver,
      driver_message: driverMessage(driver),
      backend: loaded ? `libtorch ${LIBTORCH}, CUDA backend loaded, ${config.gpus} device(s)` : 'libtorch 2.13.0, CPU only (CUDA backend not installed: `virnucpro runtime fetch`)',
      why_not_cuda: loaded ? null : WHY_NOT_CUDA,
      restart_needed: state === 'installed' && !loaded,
      busy: job !== null,
    };
  };

  return {
    gpu_runtime_status: status,
    async fetch_gpu_runtime({ on_event }: { on_event: Channel<FetchEvent> }): Promise<GpuRuntimeStatus> {
      if (job !== null) fail('busy', 'the GPU runtime is being downloaded; wait for it to end or cancel it first');
      const driver = driverCheck(config.driver);
      if (driver.state === 'too-old') fail('invalid', `${driverMessage(driver)}; nothing was downloaded`);
      if (state === 'installed') return status();
      const current = { cancelled: false };
      job = current;
      const channel = channelSender(on_event);
      const model = 'gpu-runtime';
      try {
        let done = present;
        channel.send({ event: 'started', model, source: 'https://pypi.org/simple', files: WHEELS.length, bytes_total: DOWNLOAD, bytes_to_get: DOWNLOAD - done });
        state = 'partial';
        const step = Math.ceil(DOWNLOAD / config.modelSteps);
        let fileEnd = 0;
        for (const [file, size] of WHEELS) {
          fileEnd += size;
          if (done >= fileEnd) continue;
          channel.send({ event: 'file-started', model, file, size, url: `https://files.pythonhosted.org/packages/${file}` });
          while (done < fileEnd) {
            // Held part way (for tests that cancel): no progress until cancelled.
            while (config.holdRuntimeAt !== null && done >= DOWNLOAD * config.holdRuntimeAt && !current.cancelled) await sleep(5);
            if (current.cancelled) return status();
            await sleep(config.eventIntervalMs);
            done = Math.min(fileEnd, done + step);
            present = done;
            const rate = 96_000_000;
            channel.send({ event: 'progress', model, file, done, total: DOWNLOAD, bytes_per_second: rate, seconds_left: (DOWNLOAD - done) / rate });
          }
        }
        for (const [file] of WHEELS) {
          channel.send({ event: 'unpacking', model, file });
          while (config.holdRuntimeUnpacking) await sleep(5);
          await sleep(config.eventIntervalMs);
        }
        state = 'installed';
        present = UNPACKED;
        channel.send({ event: 'finished', model, state: 'verified', path: PATH });
        return status();
      } finally {
        channel.end();
        job = null;
      }
    },
    cancel_gpu_runtime: () => {
      if (job !== null) job.cancelled = true;
      return null;
    },
    remove_gpu_runtime: (): GpuRuntimeStatus => {
      if (job !== null) fail('busy', 'the GPU runtime is being downloaded; wait for it to end or cancel it first');
      state = 'missing';
      present = 0;
      return status();
    },
  };
}
