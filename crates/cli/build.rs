//! Both binaries find libtorch through a RUNPATH, so they run without LD_LIBRARY_PATH (the
//! front, `virnucpro`, links no libtorch and the RUNPATH is unused there; the linker's
//! `--as-needed` drops libraries a binary does not call). The engine's build script
//! resolves and version-checks the folder; we only read it.
//!
//! First in the RUNPATH is the packaged layout (`lib/virnucpro/virnucpro-torch` beside
//! `lib/virnucpro/torch/lib`, scripts/package-cli.sh; or a binary in `bin/` beside
//! `lib/`), relative to the binary, so an unpacked package runs wherever it is; then the
//! folder it was built against.
//! On Windows (MSVC, no RUNPATH) the libraries are found beside the executable instead.
fn main() {
    println!("cargo::rerun-if-env-changed=DEP_VIRNUCPRO_ENGINE_LIBTORCH_LIB");
    println!("cargo::rerun-if-env-changed=DEP_VIRNUCPRO_ENGINE_LIBTORCH_VERSION");
    match std::env::var("DEP_VIRNUCPRO_ENGINE_LIBTORCH_VERSION") {
        Ok(version) => println!("cargo::rustc-env=VIRNUCPRO_LIBTORCH_VERSION={version}"),
        Err(_) => panic!("virnucpro-engine did not export its libtorch version"),
    }
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "windows" {
        return;
    }
    if os == "linux" {
        // `virnucpro-torch` lives in lib/virnucpro/ of a package, beside torch/.
        println!("cargo::rustc-link-arg-bins=-Wl,-rpath,$ORIGIN/torch/lib");
        println!("cargo::rustc-link-arg-bins=-Wl,-rpath,$ORIGIN/../lib/virnucpro/torch/lib");
    }
    match std::env::var("DEP_VIRNUCPRO_ENGINE_LIBTORCH_LIB") {
        Ok(dir) => println!("cargo::rustc-link-arg-bins=-Wl,-rpath,{dir}"),
        Err(_) => panic!("virnucpro-engine did not export its libtorch folder"),
    }
}
