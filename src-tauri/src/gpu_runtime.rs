//! The GPU support panel's side of the shell: libtorch's CUDA libraries (the "GPU
//! runtime", `virnucpro_models::runtime`, docs/gpu-runtime.md), what is installed, the
//! NVIDIA driver, whether this process uses CUDA and why not; one download at a time with
//! cancellation, and removal. Knows nothing of Tauri: the commands wrap it.
//!
//! The engine loads the CUDA backend once per process, so a runtime fetched while the app
//! runs is used only after a restart: `restart_needed` says so.
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use virnucpro_core::CancelToken;
use virnucpro_engine::backend::{Backend, CudaBackend, LIBTORCH_VERSION};
use virnucpro_models::download::RetryPolicy;
use virnucpro_models::runtime::{
    check_driver, fetch_runtime, remove_runtime, runtime_status, RuntimeError, RuntimeManifest,
    RuntimeOptions, RuntimePaths, RuntimeState,
};
use virnucpro_models::FetchEvent;

use crate::api::GpuRuntimeStatus;
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::model_store::{Thinner, PROGRESS_INTERVAL};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The runtime this build wants, where it goes, and the download going on it.
pub struct GpuRuntime {
    manifest: RuntimeManifest,
    paths: RuntimePaths,
    /// A package index instead of the manifest's (`PIP_INDEX_URL`).
    index: Option<String>,
    retry: RetryPolicy,
    /// The NVIDIA driver version NVML reports; `None` without a driver.
    driver: Option<String>,
    /// The libtorch this binary is built against.
    binary: String,
    job: Arc<Mutex<Option<CancelToken>>>,
}

/// Marks the runtime as being downloaded until dropped (also when the thread panics).
pub struct FetchSlot {
    job: Arc<Mutex<Option<CancelToken>>>,
    pub cancel: CancelToken,
}

impl Drop for FetchSlot {
    fn drop(&mut self) {
        lock(&self.job).take();
    }
}

impl GpuRuntime {
    pub fn new(manifest: RuntimeManifest, paths: RuntimePaths, driver: Option<String>) -> Self {
        Self {
            manifest,
            paths,
            index: None,
            retry: RetryPolicy::default(),
            driver,
            binary: LIBTORCH_VERSION.to_string(),
            job: Arc::default(),
        }
    }

    /// As the CLI finds it: `VIRNUCPRO_RUNTIME_MANIFEST` (else the built-in one),
    /// `VIRNUCPRO_RUNTIME_DIR` (else the user's data folder), `PIP_INDEX_URL`, and the
    /// driver NVML reports.
    pub fn from_env() -> CommandResult<Self> {
        let manifest = RuntimeManifest::from_env().map_err(|e| {
            CommandError::invalid(format!("the GPU runtime manifest is unusable: {e}"))
        })?;
        let paths = RuntimePaths::from_env().ok_or_else(|| {
            CommandError::not_found(
                "no home folder and no VIRNUCPRO_RUNTIME_DIR: nowhere to put the GPU runtime",
            )
        })?;
        let driver = virnucpro_engine::devices::driver_versions().and_then(|(driver, _)| driver);
        let index = std::env::var("PIP_INDEX_URL")
            .ok()
            .filter(|u| !u.trim().is_empty());
        Ok(Self::new(manifest, paths, driver).with_index(index))
    }

    pub fn with_index(mut self, index: Option<String>) -> Self {
        self.index = index;
        self
    }

    /// Retries for downloads (tests make them quick).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// What is installed, the driver, and what `backend` (this process's) makes of it.
    pub fn status(&self, backend: &Backend) -> GpuRuntimeStatus {
        let runtime = runtime_status(&self.manifest, &self.paths);
        let driver = check_driver(self.driver.as_deref(), self.manifest.min_driver);
        // The backend loads at start-up: a runtime installed since is not in use yet.
        let restart_needed = runtime.state == RuntimeState::Installed
            && matches!(backend.cuda, CudaBackend::Unavailable { .. });
        GpuRuntimeStatus {
            driver_message: driver.message(&runtime.cuda),
            runtime,
            driver,
            backend: backend.describe(),
            why_not_cuda: backend.cuda.why_not(),
            restart_needed,
            busy: lock(&self.job).is_some(),
        }
    }

    /// Take the runtime for a download; `busy` while one is going.
    pub fn begin(&self) -> CommandResult<FetchSlot> {
        let mut job = lock(&self.job);
        if job.is_some() {
            return Err(CommandError::new(
                ErrorKind::Busy,
                "the GPU runtime is being downloaded; wait for it to end or cancel it first",
            ));
        }
        let cancel = CancelToken::new();
        *job = Some(cancel.clone());
        Ok(FetchSlot {
            job: self.job.clone(),
            cancel,
        })
    }

    /// Ask the download to stop; `false` when none is going. What was downloaded is kept.
    pub fn cancel(&self) -> bool {
        match lock(&self.job).as_ref() {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Download and unpack the runtime on this thread, events thinned to `sink`. Resolves
    /// with the status also when cancelled (then partial: a later fetch resumes it).
    pub fn fetch(
        &self,
        slot: &FetchSlot,
        backend: &Backend,
        sink: impl FnMut(FetchEvent),
    ) -> CommandResult<GpuRuntimeStatus> {
        let options = RuntimeOptions {
            paths: self.paths.clone(),
            index: self.index.clone(),
            retry: self.retry.clone(),
            driver: self.driver.clone(),
        };
        let mut thin = Thinner::new(sink, PROGRESS_INTERVAL);
        let result = fetch_runtime(
            &self.manifest,
            &self.binary,
            &options,
            &slot.cancel,
            &mut |event| thin.push(event.clone(), Instant::now()),
        );
        thin.flush();
        match result {
            Ok(_) => {}
            Err(RuntimeError::Cancelled) => {
                tracing::info!("gpu-runtime: cancelled; what was downloaded is kept")
            }
            Err(err) => {
                tracing::warn!("gpu-runtime: {err}");
                return Err(runtime_error(err));
            }
        }
        // The slot is still held: report the state as it is once the job ends.
        let mut status = self.status(backend);
        status.busy = false;
        Ok(status)
    }

    /// Delete the runtime (and its wheels still downloaded); `busy` during a download.
    pub fn remove(&self, backend: &Backend) -> CommandResult<GpuRuntimeStatus> {
        let _slot = self.begin()?;
        let freed = remove_runtime(&self.manifest, &self.paths).map_err(runtime_error)?;
        tracing::info!("gpu-runtime: removed ({freed} bytes freed)");
        let mut status = self.status(backend);
        status.busy = false;
        Ok(status)
    }
}

/// The runtime the commands share (managed state), or why there is none (an unreadable
/// manifest, no home folder): every GPU runtime command then fails with that message.
pub type GpuRuntimes = CommandResult<Arc<GpuRuntime>>;

/// [`GpuRuntime::from_env`] for the app's state; why it is unavailable goes to the log.
pub fn shared_from_env() -> GpuRuntimes {
    let runtime = GpuRuntime::from_env();
    if let Err(e) = &runtime {
        tracing::warn!("GPU runtime unavailable: {}", e.message);
    }
    runtime.map(Arc::new)
}

fn runtime_error(err: RuntimeError) -> CommandError {
    let kind = match &err {
        // The driver must be updated first, or the build does not match: nothing to retry.
        RuntimeError::DriverTooOld(_) | RuntimeError::WrongLibtorch { .. } => ErrorKind::Invalid,
        RuntimeError::NotInIndex { .. } => ErrorKind::NotFound,
        RuntimeError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            ErrorKind::NotFound
        }
        _ => ErrorKind::Io,
    };
    CommandError::new(kind, err.to_string())
}

#[cfg(test)]
mod tests;
