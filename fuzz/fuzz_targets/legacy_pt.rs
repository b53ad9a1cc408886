//! Any bytes as the `data.pkl` of a torch archive (with eight float storages "0".."7"),
//! read as a legacy feature file by the streaming decoder, the general decoder and the two
//! together (`Decoder::Auto`). Whatever the streaming decoder reads or refuses, the general
//! decoder must read or refuse identically (rows bit for bit, errors word for word); where
//! it declines, Auto must give the general decoder's answer. None may panic or hang.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use virnucpro_core::legacy::{read_legacy_from, Decoded, Decoder, LegacyError};

/// Elements per storage: the reference ESM fixture's rows are 2560 wide.
const STORAGE_LEN: usize = 2560;

/// A zip of STORED entries as torch.save writes them (CRCs are not checked by the reader).
fn zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in entries {
        let offset = out.len() as u32;
        let size = (data.len() as u32).to_le_bytes();
        let name_len = (name.len() as u16).to_le_bytes();
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&size);
        out.extend_from_slice(&size);
        out.extend_from_slice(&name_len);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        central.extend_from_slice(&size);
        central.extend_from_slice(&size);
        central.extend_from_slice(&name_len);
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let (dir_at, dir_len) = (out.len() as u32, central.len() as u32);
    let count = (entries.len() as u16).to_le_bytes();
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&count);
    out.extend_from_slice(&count);
    out.extend_from_slice(&dir_len.to_le_bytes());
    out.extend_from_slice(&dir_at.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

fn archive(pickle: &[u8]) -> Vec<u8> {
    let mut entries = vec![("archive/data.pkl".to_string(), pickle.to_vec())];
    entries.push(("archive/byteorder".into(), b"little".to_vec()));
    for key in 0..8u32 {
        let values: Vec<u8> = (0..STORAGE_LEN)
            .flat_map(|i| ((i as f32) * 0.25 - key as f32).to_le_bytes())
            .collect();
        entries.push((format!("archive/data/{key}"), values));
    }
    zip(&entries)
}

type Outcome = Option<Result<(String, Vec<String>, usize, Vec<u32>), String>>;

fn outcome(result: Result<Decoded, LegacyError>) -> Outcome {
    match result {
        Ok(Decoded::Read { features: f, .. }) => Some(Ok((
            format!("{:?}", f.kind),
            f.ids,
            f.dim,
            f.data.iter().map(|v| v.to_bits()).collect(),
        ))),
        Ok(Decoded::Declined(_)) => None,
        Err(e) => Some(Err(format!("{:?}: {e}", e.kind()))),
    }
}

fuzz_target!(|data: &[u8]| {
    let bytes = archive(data);
    let read = |decoder| outcome(read_legacy_from(Path::new("fuzz.pt"), bytes.clone(), decoder));
    let general = read(Decoder::General);
    assert!(general.is_some(), "the general decoder never declines");
    let fast = read(Decoder::Fast);
    if fast.is_some() {
        assert_eq!(fast, general, "streaming vs general");
    }
    assert_eq!(read(Decoder::Auto), general, "auto vs general");
});
