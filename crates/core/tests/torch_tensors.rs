//! Reading tensors out of hand-built archives: dtypes, layouts and bad ranges.
mod support;

use std::path::Path;

use support::{f32_bytes, torch_archive, Pickle};
use virnucpro_core::pickle::{
    named_tensors, ByteSource, Dtype, TorchArchive, TorchFileProblem, Value,
};

/// An archive whose pickle is one tensor over storage "0" holding `bytes`.
fn single_tensor(
    class: &str,
    bytes: Vec<u8>,
    numel: i32,
    offset: i32,
    shape: &[i32],
    stride: &[i32],
) -> (TorchArchive<Vec<u8>>, Value) {
    let pickle = Pickle::proto(2)
        .tensor(class, "0", numel, offset, shape, stride)
        .stop();
    let archive =
        TorchArchive::from_source(Path::new("t.pt"), torch_archive(&pickle, &[("0", bytes)]))
            .unwrap();
    let value = archive.load().unwrap();
    (archive, value)
}

fn read(class: &str, bytes: Vec<u8>, offset: i32, shape: &[i32], stride: &[i32]) -> Vec<f32> {
    let numel = shape.iter().product();
    let (archive, value) = single_tensor(class, bytes, numel, offset, shape, stride);
    archive.read_f32(value.as_tensor().unwrap()).unwrap()
}

#[test]
fn float_dtypes_convert_to_f32() {
    let values = [1.5f32, -2.0, 0.099975586, 3.0e-5];
    assert_eq!(
        read("FloatStorage", f32_bytes(&values), 0, &[4], &[1]),
        values
    );
    let doubles: Vec<u8> = [1.5f64, -2.0, 0.1]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    assert_eq!(
        read("DoubleStorage", doubles, 0, &[3], &[1]),
        [1.5, -2.0, 0.1f64 as f32]
    );
    let halves: Vec<u8> = [1.5f32, -2.0, 0.099975586]
        .iter()
        .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
        .collect();
    assert_eq!(
        read("HalfStorage", halves, 0, &[3], &[1]),
        [1.5, -2.0, 0.099975586]
    );
    let bf16s: Vec<u8> = [1.5f32, -2.0, 3.140625]
        .iter()
        .flat_map(|&v| half::bf16::from_f32(v).to_le_bytes())
        .collect();
    assert_eq!(
        read("BFloat16Storage", bf16s, 0, &[3], &[1]),
        [1.5, -2.0, 3.140625]
    );
}

#[test]
fn layouts_offset_and_strides_are_respected() {
    let storage: Vec<f32> = (0..12).map(|i| i as f32).collect();
    // A 2x3 view starting at element 4.
    assert_eq!(
        read("FloatStorage", f32_bytes(&storage), 4, &[2, 3], &[3, 1]),
        [4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    );
    // The transpose of a 3x4 matrix, saved without copying.
    assert_eq!(
        read("FloatStorage", f32_bytes(&storage), 0, &[4, 3], &[1, 4]),
        [0.0, 4.0, 8.0, 1.0, 5.0, 9.0, 2.0, 6.0, 10.0, 3.0, 7.0, 11.0]
    );
    // A scalar and an empty tensor.
    assert_eq!(
        read("FloatStorage", f32_bytes(&storage), 7, &[], &[]),
        [7.0]
    );
    assert!(read("FloatStorage", f32_bytes(&storage), 0, &[0, 3], &[3, 1]).is_empty());
}

#[test]
fn bad_ranges_dtypes_and_layouts_are_typed_errors() {
    let (archive, value) =
        single_tensor("FloatStorage", f32_bytes(&[0.0; 6]), 6, 4, &[2, 2], &[2, 1]);
    let err = archive.read_f32(value.as_tensor().unwrap()).unwrap_err();
    assert!(
        matches!(
            err.problem,
            TorchFileProblem::StorageOutOfBounds {
                first: 4,
                end: 8,
                available: 6,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().starts_with("t.pt: "), "{err}");

    let (archive, value) = single_tensor("IntStorage", vec![0; 8], 2, 0, &[2], &[1]);
    let tensor = value.as_tensor().unwrap();
    assert_eq!(tensor.storage.dtype, Some(Dtype::I32));
    assert!(matches!(
        archive.read_f32(tensor).unwrap_err().problem,
        TorchFileProblem::UnsupportedDtype { ref dtype, .. } if dtype == "int32"
    ));

    // Stride 0 repeats one element: more output than the storage holds is refused.
    let (archive, value) = single_tensor("FloatStorage", f32_bytes(&[1.0]), 1, 0, &[1000], &[0]);
    assert!(matches!(
        archive
            .read_f32(value.as_tensor().unwrap())
            .unwrap_err()
            .problem,
        TorchFileProblem::UnsupportedLayout(_)
    ));

    // A storage the pickle names but the archive lacks.
    let pickle = Pickle::proto(2)
        .tensor("FloatStorage", "9", 1, 0, &[1], &[1])
        .stop();
    let archive =
        TorchArchive::from_source(Path::new("t.pt"), torch_archive(&pickle, &[])).unwrap();
    let value = archive.load().unwrap();
    assert!(matches!(
        archive.read_f32(value.as_tensor().unwrap()).unwrap_err().problem,
        TorchFileProblem::MissingStorage(ref k) if k == "9"
    ));
}

#[test]
fn nested_state_dicts_are_named_with_dots() {
    // {"model": {"a.weight": t0}, "extra": [t1]}
    let pickle = Pickle::proto(2)
        .op(b'}')
        .mark()
        .str("model")
        .op(b'}')
        .mark()
        .str("a.weight")
        .tensor("FloatStorage", "0", 2, 0, &[2], &[1])
        .op(b'u')
        .str("extra")
        .op(b']')
        .tensor("FloatStorage", "1", 1, 0, &[1], &[1])
        .op(b'a')
        .op(b'u')
        .stop();
    let archive = TorchArchive::from_source(
        Path::new("t.pt"),
        torch_archive(
            &pickle,
            &[("0", f32_bytes(&[1.0, 2.0])), ("1", f32_bytes(&[3.0]))],
        ),
    )
    .unwrap();
    let names: Vec<String> = named_tensors(&archive.load().unwrap())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["model.a.weight", "extra.0"]);
    assert_eq!(archive.storage_size("0"), Some(8));
}

#[test]
fn archive_reader_never_reads_outside_a_byte_source() {
    // ByteSource on a slice refuses out-of-range reads instead of panicking.
    let bytes = vec![1u8, 2, 3];
    let mut buf = [0u8; 2];
    assert!(bytes.read_exact_at(2, &mut buf).is_err());
    assert!(bytes.read_exact_at(u64::MAX, &mut buf).is_err());
    assert!(bytes.read_exact_at(1, &mut buf).is_ok());
    assert_eq!(buf, [2, 3]);
}

/// A source that reads like `bytes` until `broken` is set, and then fails every read.
struct BreakingSource {
    bytes: Vec<u8>,
    broken: std::rc::Rc<std::cell::Cell<bool>>,
}

impl ByteSource for BreakingSource {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        if self.broken.get() {
            return Err(std::io::Error::other("the disk went away"));
        }
        self.bytes.read_exact_at(offset, buf)
    }
}

#[test]
fn tensors_are_appended_after_what_a_buffer_holds_and_a_failed_read_keeps_it() {
    let values = [1.5f32, -2.0, 0.099975586, 3.0e-5, 7.25];
    let halves: Vec<u8> = values[..3]
        .iter()
        .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
        .collect();
    // f32 and f16 (converted), each with an offset.
    for (class, bytes, expected) in [
        ("FloatStorage", f32_bytes(&values), &values[1..4]),
        ("HalfStorage", halves, &values[1..3]),
    ] {
        let numel = expected.len() as i32;
        let (archive, value) = single_tensor(class, bytes, numel, 1, &[numel], &[1]);
        let mut out = vec![9.0f32, 8.0];
        archive
            .read_f32_into(value.as_tensor().unwrap(), &mut out)
            .unwrap();
        assert_eq!(out, [&[9.0, 8.0][..], expected].concat(), "{class}");
    }

    let pickle = Pickle::proto(2)
        .tensor("FloatStorage", "0", 5, 0, &[5], &[1])
        .stop();
    let broken = std::rc::Rc::new(std::cell::Cell::new(false));
    let source = BreakingSource {
        bytes: torch_archive(&pickle, &[("0", f32_bytes(&values))]),
        broken: broken.clone(),
    };
    let archive = TorchArchive::from_source(Path::new("t.pt"), source).unwrap();
    let value = archive.load().unwrap();
    broken.set(true);
    let mut out = vec![9.0f32, 8.0];
    let err = archive
        .read_f32_into(value.as_tensor().unwrap(), &mut out)
        .unwrap_err();
    assert!(matches!(err.problem, TorchFileProblem::Io(_)), "{err}");
    assert!(err.to_string().contains("the disk went away"), "{err}");
    assert_eq!(out, [9.0, 8.0], "the rows before are kept");
}
