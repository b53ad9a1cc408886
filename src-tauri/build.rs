//! Tauri's build step (config, icons, capabilities), plus the RUNPATH to libtorch so the
//! app and its tests run without LD_LIBRARY_PATH (see crates/cli/build.rs).
fn main() {
    println!("cargo::rerun-if-env-changed=DEP_VIRNUCPRO_ENGINE_LIBTORCH_LIB");
    match std::env::var("DEP_VIRNUCPRO_ENGINE_LIBTORCH_LIB") {
        // Every target (the app, its unit and integration tests) links libtorch.
        Ok(dir) => println!("cargo::rustc-link-arg=-Wl,-rpath,{dir}"),
        Err(_) => panic!("virnucpro-engine did not export its libtorch folder"),
    }
    tauri_build::build();
}
