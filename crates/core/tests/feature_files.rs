//! Feature files: our writer against the reference safetensors implementation, both ways.
use std::path::Path;

mod common;

use common::write_safetensors;
use safetensors::tensor::{Dtype as StDtype, SafeTensors};
use virnucpro_core::features::{
    checksum_file, write_features, Dtype, FeatureErrorKind, FeatureFile, FeatureKind, FeatureMeta,
    InputChecksum,
};

fn meta(rows: usize, dim: usize) -> FeatureMeta {
    FeatureMeta {
        kind: FeatureKind::Nucleotide,
        model: "DNABERT-S".into(),
        dim,
        ids: (0..rows).map(|i| format!("seq{i}_chunk_1F1")).collect(),
        inputs: vec![InputChecksum {
            name: "output_1.fa".into(),
            xxh3: "0123456789abcdef".into(),
            bytes: 99,
        }],
    }
}

fn data(rows: usize, dim: usize) -> Vec<f32> {
    (0..rows * dim)
        .map(|i| (i as f32 * 0.37).sin() * 1e3 + f32::EPSILON * i as f32)
        .collect()
}

#[test]
fn our_file_round_trips_bit_for_bit_and_reads_in_safetensors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("output_1.nucleotide.safetensors");
    let (m, d) = (meta(5, 7), data(5, 7));
    let size = write_features(&path, &m, &d).unwrap();
    assert_eq!(size, std::fs::metadata(&path).unwrap().len());

    let file = FeatureFile::open(&path).unwrap();
    assert_eq!(file.meta(), &m);
    assert_eq!(file.dtype(), Dtype::F32);
    let back = file.to_vec();
    assert_eq!(
        back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        d.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    let mut row = vec![0f32; 7];
    file.row_into(3, &mut row);
    assert_eq!(row, d[21..28]);
    assert_eq!(FeatureFile::validate_header(&path).unwrap(), *file.header());

    // The reference implementation accepts it and sees the same tensor and metadata.
    let bytes = std::fs::read(&path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let t = st.tensor("embeddings").unwrap();
    assert_eq!(t.dtype(), StDtype::F32);
    assert_eq!(t.shape(), &[5, 7]);
    let raw: Vec<u8> = d.iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(t.data(), raw.as_slice());
    let (_, md) = SafeTensors::read_metadata(&bytes).unwrap();
    let md = md.metadata().clone().unwrap();
    assert_eq!(md["kind"], "nucleotide");
    assert_eq!(md["dim"], "7");
    let ids: Vec<String> = serde_json::from_str(&md["ids"]).unwrap();
    assert_eq!(ids, m.ids);
}

#[test]
fn half_precision_files_from_another_writer_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let values = [1.5f32, -2.25, 0.0, 65504.0, 1e-3, 3.0];
    for (dtype, ours, bytes) in [
        (
            StDtype::F16,
            Dtype::F16,
            values
                .iter()
                .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                .collect::<Vec<u8>>(),
        ),
        (
            StDtype::BF16,
            Dtype::BF16,
            values
                .iter()
                .flat_map(|v| half::bf16::from_f32(*v).to_le_bytes())
                .collect::<Vec<u8>>(),
        ),
    ] {
        let path = dir.path().join(format!("x_{dtype:?}.protein.safetensors"));
        write_safetensors(
            &path,
            dtype,
            [2, 3],
            &bytes,
            &["a".into(), "b".into()],
            "protein",
            3,
        );
        let read = FeatureFile::open(&path).unwrap();
        assert_eq!(read.dtype(), ours);
        assert_eq!(read.ids(), ["a", "b"]);
        let expected: Vec<f32> = match ours {
            Dtype::F16 => values
                .iter()
                .map(|v| half::f16::from_f32(*v).to_f32())
                .collect(),
            _ => values
                .iter()
                .map(|v| half::bf16::from_f32(*v).to_f32())
                .collect(),
        };
        assert_eq!(read.to_vec(), expected);
    }
}

fn error_kind(path: &Path) -> FeatureErrorKind {
    let open = FeatureFile::open(path).unwrap_err().kind();
    let header = FeatureFile::validate_header(path).unwrap_err().kind();
    assert_eq!(
        open, header,
        "open and validate_header disagree on {path:?}"
    );
    open
}

#[test]
fn bad_files_are_classified() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.protein.safetensors");
    write_features(&good, &meta(4, 3), &data(4, 3)).unwrap();
    let bytes = std::fs::read(&good).unwrap();

    let truncated = dir.path().join("truncated");
    std::fs::write(&truncated, &bytes[..bytes.len() - 5]).unwrap();
    assert_eq!(error_kind(&truncated), FeatureErrorKind::Corrupt);

    let garbage = dir.path().join("garbage");
    std::fs::write(&garbage, b"this is not a safetensors file at all").unwrap();
    assert_eq!(error_kind(&garbage), FeatureErrorKind::Corrupt);

    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(error_kind(&empty), FeatureErrorKind::Corrupt);

    let f64_bytes: Vec<u8> = [1.0f64, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let f64_file = dir.path().join("f64");
    write_safetensors(
        &f64_file,
        StDtype::F64,
        [1, 2],
        &f64_bytes,
        &["a".into()],
        "protein",
        2,
    );
    assert_eq!(error_kind(&f64_file), FeatureErrorKind::UnsupportedDtype);

    let f32_bytes: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let wrong_dim = dir.path().join("wrong_dim");
    write_safetensors(
        &wrong_dim,
        StDtype::F32,
        [1, 2],
        &f32_bytes,
        &["a".into()],
        "protein",
        3,
    );
    assert_eq!(error_kind(&wrong_dim), FeatureErrorKind::DimensionMismatch);

    let missing = dir.path().join("missing");
    assert_eq!(error_kind(&missing), FeatureErrorKind::Unreadable);
}

#[test]
fn checksum_changes_with_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.fa");
    std::fs::write(&path, b">a\nACGT\n").unwrap();
    let first = checksum_file(&path).unwrap();
    assert_eq!(first.name, "in.fa");
    assert_eq!(first.bytes, 8);
    assert_eq!(first.xxh3.len(), 16);
    std::fs::write(&path, b">a\nACGA\n").unwrap();
    assert_ne!(checksum_file(&path).unwrap(), first);
}
