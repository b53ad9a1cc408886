//! The software record of `run-manifest.json` (`core::run_folder::manifest` owns the file):
//! detecting the versions needs the engine, so it lives here.
use virnucpro_core::run_folder::manifest::Software;

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
