//! Loading libtorch's CUDA backend at run time.
//!
//! Since Rust 1.90 the default linker drops `-ltorch_cuda` (it is `--as-needed` and no
//! symbol of it is referenced), so a plain tch binary silently never sees CUDA
//! (../shared/docs/libtorch.md, "Linking traps" 2). We `dlopen` it ourselves with
//! RTLD_GLOBAL before any CUDA query: one binary then serves CPU-only machines (the library
//! is absent, we run on CPU) and GPU machines (it registers the CUDA kernels).
//!
//! Where from: the GPU runtime `virnucpro runtime fetch` unpacked for this libtorch
//! (`virnucpro_models::runtime`), else wherever the dynamic loader finds
//! `libtorch_cuda.so` (next to libtorch, `LD_LIBRARY_PATH`: a full `pip install torch`).
//! The CPU libraries are already loaded, so the runtime's `libtorch_cuda.so` binds to them
//! by name; its own RPATH finds the `nvidia/*/lib` folders beside it.
use std::path::PathBuf;
use std::sync::OnceLock;

use virnucpro_models::runtime::{check_driver, cuda_library, RuntimeManifest, RuntimePaths};

/// libtorch version this binary was built against (read from `torch/version.py` by build.rs).
pub const LIBTORCH_VERSION: &str = env!("VIRNUCPRO_LIBTORCH_VERSION");

/// The CUDA version the libtorch this binary was built against was compiled for (`cuda`
/// in `torch/version.py`); `None` for a CPU-only libtorch.
pub fn libtorch_cuda_version() -> Option<&'static str> {
    Some(env!("VIRNUCPRO_LIBTORCH_CUDA")).filter(|v| !v.is_empty())
}

const CUDA_LIBRARY: &str = "libtorch_cuda.so";

/// What became of the attempt to load the CUDA backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CudaBackend {
    /// `libtorch_cuda.so` loaded; `devices` CUDA devices are visible.
    Loaded { devices: usize },
    /// The library loaded but libtorch sees no device (no driver, or no GPU).
    NoDevice,
    /// The library is not installed next to libtorch (a CPU-only install) or failed to load.
    Unavailable { reason: String },
}

impl CudaBackend {
    /// Why CUDA is not used here and what fixes it; `None` when it is used.
    pub fn why_not(&self) -> Option<String> {
        match self {
            CudaBackend::Loaded { .. } => None,
            CudaBackend::Unavailable { reason } => Some(format!(
                "the GPU runtime (libtorch's CUDA libraries) is not installed, so only the CPU \
                 can be used: `virnucpro runtime fetch` (or the app's GPU support panel) \
                 installs it ({reason})"
            )),
            CudaBackend::NoDevice => {
                let manifest = RuntimeManifest::builtin();
                let driver = crate::devices::driver_versions().and_then(|(driver, _)| driver);
                let check = check_driver(driver.as_deref(), manifest.min_driver);
                Some(match driver {
                    Some(_) if check.blocks_install() => check.message(&manifest.cuda),
                    Some(found) => format!(
                        "the CUDA backend is loaded and NVIDIA driver {found} is here, but no GPU \
                         is visible to it (is CUDA_VISIBLE_DEVICES set?)"
                    ),
                    None => format!(
                        "the CUDA backend is loaded, but no NVIDIA driver was found: install \
                         driver {} or newer to use a GPU",
                        manifest.min_driver
                    ),
                })
            }
        }
    }
}

/// The runtime facts of the tensor backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub libtorch_version: &'static str,
    pub cuda: CudaBackend,
}

impl Backend {
    /// Load the CUDA backend once per process and report what is available.
    pub fn detect() -> &'static Backend {
        static BACKEND: OnceLock<Backend> = OnceLock::new();
        BACKEND.get_or_init(|| {
            let cuda = load_cuda();
            match &cuda {
                CudaBackend::Loaded { devices } => {
                    tracing::info!(devices, "libtorch CUDA backend loaded")
                }
                CudaBackend::NoDevice => {
                    tracing::info!("libtorch CUDA backend loaded, but no CUDA device is visible")
                }
                CudaBackend::Unavailable { reason } => {
                    tracing::info!(%reason, "libtorch CUDA backend not available; using CPU")
                }
            }
            Backend {
                libtorch_version: LIBTORCH_VERSION,
                cuda,
            }
        })
    }

    /// One line for `--version` and logs.
    pub fn describe(&self) -> String {
        let cuda = match &self.cuda {
            CudaBackend::Loaded { devices } => format!("CUDA backend loaded, {devices} device(s)"),
            CudaBackend::NoDevice => "CUDA backend loaded, no device visible".to_string(),
            CudaBackend::Unavailable { .. } => {
                "CPU only (CUDA backend not installed: `virnucpro runtime fetch`)".to_string()
            }
        };
        format!("libtorch {}, {cuda}", self.libtorch_version)
    }
}

/// Where to look for `libtorch_cuda.so`, in order: the fetched GPU runtime for this
/// libtorch, then the dynamic loader's own search (by name).
fn cuda_candidates() -> Vec<PathBuf> {
    let runtime = RuntimePaths::from_env()
        .map(|paths| cuda_library(&paths.runtime_dir(LIBTORCH_VERSION)))
        .filter(|library| library.is_file());
    runtime
        .into_iter()
        .chain([PathBuf::from(CUDA_LIBRARY)])
        .collect()
}

fn load_cuda() -> CudaBackend {
    let mut failures = Vec::new();
    for candidate in cuda_candidates() {
        // SAFETY: loading libtorch_cuda runs its static initialisers, which only register
        // CUDA kernels with the already-loaded libtorch; the handle is leaked on purpose so
        // the library stays loaded for the life of the process.
        let opened = unsafe {
            libloading::os::unix::Library::open(
                Some(&candidate),
                libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_GLOBAL,
            )
        };
        match opened {
            Ok(library) => {
                std::mem::forget(library);
                tracing::info!(library = %candidate.display(), "CUDA backend library loaded");
                return match tch::Cuda::device_count() {
                    0 => CudaBackend::NoDevice,
                    n => CudaBackend::Loaded {
                        devices: usize::try_from(n).unwrap_or(0),
                    },
                };
            }
            Err(err) => failures.push(err.to_string()),
        }
    }
    CudaBackend::Unavailable {
        reason: failures.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind, Tensor};

    #[test]
    fn built_against_libtorch_2_13() {
        assert!(LIBTORCH_VERSION.starts_with("2.13."), "{LIBTORCH_VERSION}");
    }

    #[test]
    fn libtorch_computes_on_cpu() {
        let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([2, 2]);
        let b = a.matmul(&a.transpose(0, 1));
        let got: Vec<f32> = b
            .to_kind(Kind::Float)
            .to_device(Device::Cpu)
            .view([-1])
            .try_into()
            .unwrap();
        assert_eq!(got, vec![5.0, 11.0, 11.0, 25.0]);
    }

    #[test]
    fn detection_reports_a_state_without_panicking() {
        let backend = Backend::detect();
        assert_eq!(backend.libtorch_version, LIBTORCH_VERSION);
        assert!(backend.describe().starts_with("libtorch 2.13."));
    }
}
