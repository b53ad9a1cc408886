//! `run-manifest.json` and `failures.tsv` moved to `virnucpro_core::run_folder` (issue 13);
//! these re-exports go when the run is split. What needs the engine stays: detecting the
//! software versions ([`DetectSoftware`]).
pub use virnucpro_core::run_folder::failures::{failures_tsv, FAILURES_HEADER};
pub use virnucpro_core::run_folder::manifest::*;

/// The versions of this binary and of the machine it runs on (libtorch, CUDA, the driver).
pub trait DetectSoftware {
    fn detect() -> Self;
}

impl DetectSoftware for Software {
    fn detect() -> Self {
        let backend = crate::Backend::detect();
        let (nvidia_driver, driver_cuda) = crate::devices::driver_versions().unwrap_or_default();
        Self {
            app: format!("virnucpro {}", env!("CARGO_PKG_VERSION")),
            libtorch: backend.libtorch_version.to_string(),
            cuda: backend.describe(),
            libtorch_cuda: crate::backend::libtorch_cuda_version().map(str::to_owned),
            nvidia_driver,
            driver_cuda,
        }
    }
}
