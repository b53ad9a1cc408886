//! Arbitrary bytes through the pickle VM and through the torch-archive reader: neither may
//! panic, hang or exhaust memory, whatever the input.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use virnucpro_core::pickle::{named_tensors, parse_pickle, Limits, TorchArchive};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let _ = parse_pickle(data, &limits);

    if let Ok(archive) = TorchArchive::from_source(Path::new("fuzz.pt"), data.to_vec()) {
        if let Ok(value) = archive.load_with(&limits) {
            for (_, tensor) in named_tensors(&value) {
                let _ = archive.read_f32(&tensor);
            }
        }
    }
});
