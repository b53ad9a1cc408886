//! The backend loader looks for `libtorch_cuda.so` in the fetched GPU runtime first (its own
//! process: the backend is detected once per process). A file there that is not a library
//! makes the load fail naming that file: proof that the runtime folder is where it looked.
use virnucpro_engine::backend::{Backend, CudaBackend, LIBTORCH_VERSION};

#[test]
fn the_fetched_runtime_is_where_the_cuda_backend_is_looked_for_first() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir
        .path()
        .join(format!("libtorch-{LIBTORCH_VERSION}"))
        .join("torch/lib/libtorch_cuda.so");
    std::fs::create_dir_all(lib.parent().unwrap()).unwrap();
    std::fs::write(&lib, b"not an ELF file").unwrap();
    // SAFETY: set before any thread of this test process reads the environment.
    unsafe { std::env::set_var("VIRNUCPRO_RUNTIME_DIR", dir.path()) };
    let backend = Backend::detect();
    let CudaBackend::Unavailable { reason } = &backend.cuda else {
        panic!("a broken runtime library cannot load: {:?}", backend.cuda);
    };
    assert!(reason.contains(lib.to_str().unwrap()), "{reason}");
    let why = backend.cuda.why_not().unwrap();
    assert!(why.contains("virnucpro runtime fetch"), "{why}");
    assert!(backend.describe().contains("virnucpro runtime fetch"));
}
