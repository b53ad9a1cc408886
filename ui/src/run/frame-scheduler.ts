// Coalesces any number of change notifications into at most one render per animation
// frame: the Channel can deliver hundreds of events between two frames.

export interface FrameScheduler {
  /** Asks for a render before the next frame; repeated calls before it are free. */
  request(): void;
}

export function frameScheduler(render: () => void): FrameScheduler {
  let pending = false;
  const run = () => {
    pending = false;
    render();
  };
  return {
    request() {
      if (pending) return;
      pending = true;
      requestAnimationFrame(run);
    },
  };
}
