//! The binary finds libtorch through a RUNPATH, so it runs without LD_LIBRARY_PATH.
//! The engine's build script resolves and version-checks the folder; we only read it.
fn main() {
    println!("cargo::rerun-if-env-changed=DEP_VIRNUCPRO_ENGINE_LIBTORCH_LIB");
    match std::env::var("DEP_VIRNUCPRO_ENGINE_LIBTORCH_LIB") {
        Ok(dir) => println!("cargo::rustc-link-arg-bins=-Wl,-rpath,{dir}"),
        Err(_) => panic!("virnucpro-engine did not export its libtorch folder"),
    }
}
