//! Tauri's build step (config, icons, capabilities), plus the RUNPATH to libtorch so the
//! app and its tests run without LD_LIBRARY_PATH (see crates/cli/build.rs).
//!
//! First in the app's RUNPATH is the packaged layout: the `.deb` installs the app as
//! `/usr/bin/virnucpro-desktop` and libtorch in `/usr/lib/virnucpro/torch/lib`
//! (scripts/package.sh), the same relative layout as the CLI tarball, so an installed app
//! finds the libtorch it ships; then the folder it was built against, for `cargo run`.
//! On macOS the `.app` carries libtorch in `Contents/Resources` (the release workflow's
//! bundle resources); on Windows (MSVC, no RUNPATH) the libraries sit beside the executable.
fn main() {
    println!("cargo::rerun-if-env-changed=DEP_VIRNUCPRO_ENGINE_LIBTORCH_LIB");
    match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux") => rpath_bins("$ORIGIN/../lib/virnucpro/torch/lib"),
        Ok("macos") => rpath_bins("@executable_path/../Resources"),
        _ => {}
    }
    let Ok(dir) = std::env::var("DEP_VIRNUCPRO_ENGINE_LIBTORCH_LIB") else {
        panic!("virnucpro-engine did not export its libtorch folder");
    };
    // Every target (the app, its unit and integration tests) links libtorch.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        println!("cargo::rustc-link-arg=-Wl,-rpath,{dir}");
    }
    tauri_build::build();
}

fn rpath_bins(dir: &str) {
    println!("cargo::rustc-link-arg-bins=-Wl,-rpath,{dir}");
}
