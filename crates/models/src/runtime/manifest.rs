//! The wheels a runtime is made of, pinned by this build (`runtime.json`, written by
//! `scripts/make_runtime_manifest.py` from the package index).
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalogue::CatalogueError;

/// Environment variable naming a manifest file to use instead of the built-in one (tests).
pub const MANIFEST_VAR: &str = "VIRNUCPRO_RUNTIME_MANIFEST";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wheel {
    /// The index's project name (`torch`, `nvidia-cublas`).
    pub project: String,
    pub version: String,
    pub filename: String,
    pub size: u64,
    /// As the index publishes it; lowercase hex.
    pub sha256: String,
    /// Bytes of what is unpacked from it.
    pub unpacked: u64,
    /// Members to unpack: a path, or a folder ending in `/` for every shared library in it.
    pub extract: Vec<String>,
}

impl Wheel {
    /// Whether the member `name` of the wheel is unpacked.
    pub fn wants(&self, name: &str) -> bool {
        self.extract
            .iter()
            .any(|rule| match rule.strip_suffix('/') {
                Some(folder) => name
                    .strip_prefix(folder)
                    .and_then(|rest| rest.strip_prefix('/'))
                    .is_some_and(|file| !file.contains('/') && is_shared_library(file)),
                None => rule == name,
            })
    }
}

/// `libx.so`, `libx.so.13`, `libx.so.13.0`.
fn is_shared_library(file: &str) -> bool {
    match file.find(".so") {
        Some(at) => {
            let rest = &file[at + 3..];
            rest.is_empty()
                || (rest.starts_with('.')
                    && rest[1..]
                        .split('.')
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
        }
        None => false,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeManifest {
    /// The libtorch version it completes (`2.13.0+cu130`): must be the binary's.
    pub libtorch: String,
    pub cuda: String,
    /// The oldest NVIDIA driver (major version) that runs this CUDA.
    pub min_driver: u32,
    /// The package index (PEP 691 JSON API), e.g. `https://pypi.org/simple`.
    pub index: String,
    pub wheels: Vec<Wheel>,
}

impl RuntimeManifest {
    pub fn builtin() -> RuntimeManifest {
        // A unit test parses it, so this cannot fail in a released build.
        serde_json::from_str(include_str!("runtime.json"))
            .unwrap_or_else(|err| panic!("the built-in runtime manifest does not parse: {err}"))
    }

    /// `VIRNUCPRO_RUNTIME_MANIFEST`'s file when set, else the built-in manifest.
    pub fn from_env() -> Result<RuntimeManifest, CatalogueError> {
        match std::env::var_os(MANIFEST_VAR).filter(|v| !v.is_empty()) {
            Some(path) => RuntimeManifest::load(Path::new(&path)),
            None => Ok(RuntimeManifest::builtin()),
        }
    }

    pub fn load(path: &Path) -> Result<RuntimeManifest, CatalogueError> {
        crate::catalogue::read_json(path)
    }

    pub fn download_bytes(&self) -> u64 {
        self.wheels.iter().map(|w| w.size).sum()
    }

    pub fn unpacked_bytes(&self) -> u64 {
        self.wheels.iter().map(|w| w.unpacked).sum()
    }

    /// The CUDA major version (`13` of `13.0`).
    pub fn cuda_major(&self) -> &str {
        self.cuda.split('.').next().unwrap_or(&self.cuda)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_manifest_completes_libtorch_2_13_with_cuda_13() {
        let m = RuntimeManifest::builtin();
        assert_eq!(m.libtorch, "2.13.0+cu130");
        assert_eq!(m.min_driver, 580);
        assert_eq!(m.wheels[0].project, "torch");
        assert!(m.wheels[0].wants("torch/lib/libtorch_cuda.so"));
        assert!(!m.wheels[0].wants("torch/lib/libtorch_cpu.so"));
        for w in &m.wheels {
            assert_eq!(w.sha256.len(), 64, "{}", w.filename);
            assert!(w.filename.ends_with(".whl") && w.size > 0 && w.unpacked > 0);
        }
        assert!(m.download_bytes() > 2_000_000_000);
    }

    #[test]
    fn folder_rules_take_shared_libraries_only() {
        let w = Wheel {
            project: "nvidia-cublas".into(),
            version: "13".into(),
            filename: "x.whl".into(),
            size: 1,
            sha256: String::new(),
            unpacked: 1,
            extract: vec!["nvidia/cu13/lib/".into()],
        };
        for yes in [
            "nvidia/cu13/lib/libcublas.so.13",
            "nvidia/cu13/lib/libnvrtc-builtins.so.13.0",
            "nvidia/cu13/lib/libcheckpoint.so",
        ] {
            assert!(w.wants(yes), "{yes}");
        }
        for no in [
            "nvidia/cu13/lib/libcublas.so.13.py",
            "nvidia/cu13/include/cublas.h",
            "nvidia/cu13/lib/sub/libx.so",
            "nvidia/cu13/lib",
            "nvidia/cu13/libx.so",
            "nvidia/cu13/lib/notes.txt",
        ] {
            assert!(!w.wants(no), "{no}");
        }
    }
}
