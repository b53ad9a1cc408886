//! Arbitrary bytes through the file-kind detector, the pickle VM and the torch-archive
//! reader: none may panic, hang or exhaust memory, whatever the input. The detector decides
//! from the first `SNIFF_LEN` bytes and the length alone, each kind it names has that
//! kind's structure, and every file the archive reader opens is one it calls a torch zip.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use virnucpro_core::file_kind::{FileKind, SNIFF_LEN};
use virnucpro_core::pickle::{named_tensors, parse_pickle, Limits, TorchArchive};

fn check_kind(data: &[u8]) -> FileKind {
    let len = data.len() as u64;
    let kind = FileKind::sniff(data, len);
    assert_eq!(kind, FileKind::sniff(&data[..data.len().min(SNIFF_LEN)], len));
    match kind {
        FileKind::Safetensors { header_len } => {
            assert!(header_len >= 2 && 8 + header_len <= len && data[8] == b'{')
        }
        FileKind::TruncatedSafetensors { header_len, .. } => {
            assert!(header_len > len - 8 && data[8] == b'{')
        }
        FileKind::TorchZip => assert!(data.starts_with(b"PK\x03\x04")),
        FileKind::LegacyPickle { protocol } => {
            assert!(data[0] == 0x80 && data[1] == protocol && (2..=5).contains(&protocol))
        }
        FileKind::Empty => assert!(data.is_empty()),
        FileKind::Unknown => {}
    }
    kind
}

fuzz_target!(|data: &[u8]| {
    let kind = check_kind(data);
    let limits = Limits::default();
    let _ = parse_pickle(data, &limits);

    if let Ok(archive) = TorchArchive::from_source(Path::new("fuzz.pt"), data.to_vec()) {
        assert_eq!(kind, FileKind::TorchZip);
        if let Ok(value) = archive.load_with(&limits) {
            for (_, tensor) in named_tensors(&value) {
                let _ = archive.read_f32(&tensor);
            }
        }
    }
});
