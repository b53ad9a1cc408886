//! Make binaries that use the engine find libtorch without LD_LIBRARY_PATH, and pin its version.
//!
//! tch's own link arguments never reach dependent targets, so nothing sets a RUNPATH unless
//! we do (../shared/docs/libtorch.md, "Linking traps"). With LIBTORCH set, torch-sys checks no
//! version either, so we read `torch/version.py` ourselves and refuse anything but 2.13.
use std::path::PathBuf;

const REQUIRED_LIBTORCH: &str = "2.13.";

fn main() {
    println!("cargo::rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib_dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        panic!("torch-sys did not report its libtorch lib directory; run `make setup`");
    };
    let lib_dir = PathBuf::from(lib_dir);
    let version_py = lib_dir.join("../version.py");
    println!("cargo::rerun-if-changed={}", version_py.display());
    let version = std::fs::read_to_string(&version_py)
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("__version__ = '"))
                .map(|v| v.trim_end_matches('\'').to_string())
        })
        .unwrap_or_else(|| {
            panic!(
                "cannot read the libtorch version from {}",
                version_py.display()
            )
        });
    // The lent GPU machine ships only torch 2.11 and a 2.13 build cannot travel there
    // (scripts/gpu-check.sh); that one build opts in explicitly. Users never set this.
    println!("cargo::rerun-if-env-changed=VIRNUCPRO_ACCEPT_LIBTORCH");
    let accepted = std::env::var("VIRNUCPRO_ACCEPT_LIBTORCH").ok();
    let accepted_here = accepted.as_deref().is_some_and(|v| version.starts_with(v));
    if !version.starts_with(REQUIRED_LIBTORCH) && !accepted_here {
        panic!("libtorch {version} found in {}, but {REQUIRED_LIBTORCH}x is required; run `make setup`", lib_dir.display());
    }
    println!("cargo::rustc-env=VIRNUCPRO_LIBTORCH_VERSION={version}");
    // The CUDA version libtorch was built with, for the run manifest; empty for a CPU-only
    // build (`cuda: Optional[str] = None`, or an older version.py without the line).
    let cuda = std::fs::read_to_string(&version_py)
        .ok()
        .and_then(|text| text.lines().find_map(cuda_version))
        .unwrap_or_default();
    println!("cargo::rustc-env=VIRNUCPRO_LIBTORCH_CUDA={cuda}");
    println!(
        "cargo::rustc-env=VIRNUCPRO_LIBTORCH_LIB={}",
        lib_dir.display()
    );
    // For this package's own tests and examples. MSVC has no RUNPATH: on Windows the
    // libraries are found beside the executable (the release workflow puts them there).
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        println!("cargo::rustc-link-arg=-Wl,-rpath,{}", lib_dir.display());
    }
    // Exported to dependents as DEP_VIRNUCPRO_ENGINE_LIBTORCH_LIB (see `links` in Cargo.toml).
    println!("cargo::metadata=libtorch_lib={}", lib_dir.display());
    // And the version, for `virnucpro --version`: the front binary links no libtorch.
    println!("cargo::metadata=libtorch_version={version}");
}

/// `'13.0'` from `cuda: Optional[str] = '13.0'` or `cuda = '13.0'`.
fn cuda_version(line: &str) -> Option<String> {
    let rest = line.strip_prefix("cuda")?;
    let (name_rest, value) = rest.split_once('=')?;
    // `cuda_home = ...` or any longer name is not the line.
    if !(name_rest.trim().is_empty() || name_rest.trim_start().starts_with(':')) {
        return None;
    }
    let value = value.trim();
    let quoted = value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))?;
    Some(quoted.to_string())
}
