//! Feature file headers: any bytes must parse to a header or a typed error — never a panic,
//! a hang or an allocation the file size does not justify. A header that parses must
//! describe exactly these bytes, decide the same from its prefix alone (what
//! `FeatureFile::validate_header` reads), decode every row, and survive re-encoding. The
//! file-kind detector must call every such file safetensors, with the header's length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use virnucpro_core::features::{Dtype, Header};
use virnucpro_core::file_kind::FileKind;

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    let full = Header::parse(data, len);
    if data.len() >= 8 {
        let mut first8 = [0u8; 8];
        first8.copy_from_slice(&data[..8]);
        let prefix = &data[..Header::prefix_len(first8, len) as usize];
        assert_eq!(Header::parse(prefix, len), full, "prefix and whole file disagree");
    }
    let Ok(header) = full else { return };
    assert_eq!(header.file_len(), len);
    let header_len = header.data_start() as u64 - 8;
    assert!(
        matches!(FileKind::sniff(data, len), FileKind::Safetensors { header_len: n } if n == header_len),
        "a valid feature file not detected as safetensors: {:?}",
        FileKind::sniff(data, len)
    );
    assert_eq!(header.meta.ids.len(), header.rows);
    let dim = header.meta.dim;
    let width = dim * header.dtype.size();
    let mut row = vec![0f32; dim];
    for r in 0..header.rows {
        let start = header.data_start() + r * width;
        header.dtype.decode(&data[start..start + width], &mut row);
    }
    if header.dtype == Dtype::F32 {
        let mut again = Header::encode(&header.meta).expect("metadata that parsed encodes");
        again.extend_from_slice(&data[header.data_start()..]);
        let reparsed = Header::parse(&again, again.len() as u64).expect("re-encoded header parses");
        assert_eq!(reparsed.meta, header.meta);
        assert_eq!(reparsed.rows, header.rows);
        assert_eq!(reparsed.data_start() % 8, 0);
    }
});
