//! The binary finds libtorch through a RUNPATH, so it runs without LD_LIBRARY_PATH.
//! The engine's build script resolves and version-checks the folder; we only read it.
//!
//! First in the RUNPATH is the packaged layout (`bin/virnucpro` beside
//! `lib/virnucpro/torch/lib`, scripts/package-cli.sh), relative to the binary, so an
//! unpacked package runs wherever it is; then the folder it was built against.
fn main() {
    println!("cargo::rerun-if-env-changed=DEP_VIRNUCPRO_ENGINE_LIBTORCH_LIB");
    println!("cargo::rustc-link-arg-bins=-Wl,-rpath,$ORIGIN/../lib/virnucpro/torch/lib");
    match std::env::var("DEP_VIRNUCPRO_ENGINE_LIBTORCH_LIB") {
        Ok(dir) => println!("cargo::rustc-link-arg-bins=-Wl,-rpath,{dir}"),
        Err(_) => panic!("virnucpro-engine did not export its libtorch folder"),
    }
}
