//! The binary finds libtorch through a RUNPATH, so it runs without LD_LIBRARY_PATH.
//! The engine's build script resolves and version-checks the folder; we only read it.
//!
//! First in the RUNPATH is the packaged layout (`bin/virnucpro` beside
//! `lib/virnucpro/torch/lib`, scripts/package-cli.sh), relative to the binary, so an
//! unpacked package runs wherever it is; then the folder it was built against.
//! On Windows (MSVC, no RUNPATH) the libraries are found beside the executable instead.
fn main() {
    println!("cargo::rerun-if-env-changed=DEP_VIRNUCPRO_ENGINE_LIBTORCH_LIB");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "windows" {
        return;
    }
    if os == "linux" {
        println!("cargo::rustc-link-arg-bins=-Wl,-rpath,$ORIGIN/../lib/virnucpro/torch/lib");
    }
    match std::env::var("DEP_VIRNUCPRO_ENGINE_LIBTORCH_LIB") {
        Ok(dir) => println!("cargo::rustc-link-arg-bins=-Wl,-rpath,{dir}"),
        Err(_) => panic!("virnucpro-engine did not export its libtorch folder"),
    }
}
