//! libtorch's CUDA runtime without Python: the torch wheel's CUDA libraries and the
//! `nvidia-*` wheels they need, from the Python package index (the only place they are
//! published), checked against the index's SHA-256 and the pins of this build, and unpacked
//! (shared libraries only, in the layout their RUNPATHs expect) into the user's data folder,
//! where the engine's backend loader finds `libtorch_cuda.so`.
//!
//! The wheels are downloaded like models ([`crate::fetch`]): resumable, verified before
//! use, free space checked first.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod driver;
mod install;
mod manifest;
mod unpack;

pub use driver::{check_driver, DriverCheck};
pub use install::{fetch_runtime, remove_runtime, RuntimeError, RuntimeOptions};
pub use manifest::{RuntimeManifest, Wheel, MANIFEST_VAR};

/// Environment variable for the folder runtimes are unpacked into.
pub const RUNTIME_DIR_VAR: &str = "VIRNUCPRO_RUNTIME_DIR";

/// Where runtimes are unpacked, and where their wheels are downloaded first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimePaths {
    /// Holds one folder per runtime (`libtorch-2.13.0+cu130`).
    pub install: PathBuf,
    /// The wheels while they are downloaded (removed once unpacked).
    pub wheels: PathBuf,
}

impl RuntimePaths {
    /// `VIRNUCPRO_RUNTIME_DIR`, else `virnucpro/runtime` in the user's data folder
    /// (`$XDG_DATA_HOME`, else `~/.local/share`); the wheels in VirNucPro's cache folder.
    pub fn from_env() -> Option<RuntimePaths> {
        let install = std::env::var_os(RUNTIME_DIR_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                directories::BaseDirs::new()
                    .map(|dirs| dirs.data_dir().join("virnucpro").join("runtime"))
            })?;
        let cache = crate::CacheRoots::from_env()?;
        Some(RuntimePaths {
            install,
            wheels: cache.virnucpro.join("wheels"),
        })
    }

    /// The folder of the runtime for `libtorch` (a version such as `2.13.0+cu130`).
    pub fn runtime_dir(&self, libtorch: &str) -> PathBuf {
        self.install.join(format!("libtorch-{libtorch}"))
    }
}

/// The CUDA backend library in an unpacked runtime.
pub fn cuda_library(runtime_dir: &Path) -> PathBuf {
    runtime_dir
        .join("torch")
        .join("lib")
        .join("libtorch_cuda.so")
}

/// Written last into an unpacked runtime: what it is, and what it holds.
pub const RECORD_FILE: &str = "runtime.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledRecord {
    pub libtorch: String,
    pub cuda: String,
    /// Bytes of the unpacked libraries.
    pub bytes: u64,
    /// `project==version` of each wheel.
    pub wheels: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "GpuRuntimeState"))]
#[serde(rename_all = "kebab-case")]
pub enum RuntimeState {
    Installed,
    /// Wheels partly or wholly downloaded, not unpacked yet: `fetch` resumes.
    Partial,
    Missing,
}

impl std::fmt::Display for RuntimeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            RuntimeState::Installed => "installed",
            RuntimeState::Partial => "partial",
            RuntimeState::Missing => "missing",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RuntimeStatus {
    pub libtorch: String,
    pub cuda: String,
    pub min_driver: u32,
    pub state: RuntimeState,
    pub path: PathBuf,
    /// Bytes on disk: the unpacked libraries, or the wheels downloaded so far.
    pub bytes_present: u64,
    pub download_bytes: u64,
    pub unpacked_bytes: u64,
}

/// The runtime of `manifest` under `paths`.
pub fn runtime_status(manifest: &RuntimeManifest, paths: &RuntimePaths) -> RuntimeStatus {
    let path = paths.runtime_dir(&manifest.libtorch);
    let record: Option<InstalledRecord> = std::fs::read(path.join(RECORD_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let wheel_bytes: u64 = manifest
        .wheels
        .iter()
        .map(|w| {
            [
                install::wheel_path(paths, w),
                install::wheel_partial(paths, w),
            ]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum::<u64>()
        })
        .sum();
    let (state, bytes_present) = match &record {
        Some(record) if record.libtorch == manifest.libtorch && cuda_library(&path).is_file() => {
            (RuntimeState::Installed, record.bytes)
        }
        _ if wheel_bytes > 0 => (RuntimeState::Partial, wheel_bytes),
        _ => (RuntimeState::Missing, 0),
    };
    RuntimeStatus {
        libtorch: manifest.libtorch.clone(),
        cuda: manifest.cuda.clone(),
        min_driver: manifest.min_driver,
        state,
        path,
        bytes_present,
        download_bytes: manifest.download_bytes(),
        unpacked_bytes: manifest.unpacked_bytes(),
    }
}
