//! What kind of file a weight, feature or classifier file is, told by its structure.
//!
//! This is the one detector for every reader that must tell these files apart (weight
//! loading, model discovery, the classifier, the torch-archive reader behind the legacy
//! `.pt` features, the merge's choice of reader, the desktop's model check). None of them
//! keeps its own test of magic bytes.
//!
//! The tests run in an order that cannot mistake one valid file for another:
//! 1. **safetensors**: an 8-byte little-endian header length `n` with `8 + n` within the
//!    file, followed by `{`. The length's low byte can be anything, `0x80` included (a
//!    one-byte test for pickle's PROTO refused 1 in 256 valid files).
//! 2. **torch zip**: `torch.save` since PyTorch 1.6 writes a zip archive, which starts
//!    with a local file header (`PK\x03\x04`). Its byte 8 is the compression method, never
//!    `{`, so no zip passes test 1.
//! 3. **legacy pickle**: a bare pickle stream, as `torch.save` wrote before 1.6 (or with
//!    `_use_new_zipfile_serialization=False`): PROTO (`0x80`), a protocol 2–5, then an
//!    opcode. The opcode test keeps a safetensors file cut short inside its header (whose
//!    length's bytes 1 and 2 are small numbers, not opcodes) from being called a pickle.
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// How many leading bytes [`FileKind::sniff`] looks at.
pub const SNIFF_LEN: usize = 9;

const ZIP_LOCAL_HEADER: &[u8; 4] = b"PK\x03\x04";
const PICKLE_PROTO: u8 = 0x80;
/// The smallest safetensors header is `{}`.
const MIN_SAFETENSORS_HEADER: u64 = 2;

/// The kind of a file, from its first [`SNIFF_LEN`] bytes and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A safetensors file whose JSON header is `header_len` bytes long.
    Safetensors { header_len: u64 },
    /// A zip archive, as `torch.save` writes since PyTorch 1.6.
    TorchZip,
    /// A bare pickle stream of this protocol: `torch.save` before PyTorch 1.6.
    LegacyPickle { protocol: u8 },
    /// Starts like a safetensors file, but its header would end past the end of the
    /// file: cut short (or not safetensors at all).
    TruncatedSafetensors { header_len: u64, file_len: u64 },
    /// A file of 0 bytes.
    Empty,
    /// None of the above (or cut short before its kind shows).
    Unknown,
}

impl FileKind {
    /// The kind of a file of `file_len` bytes that starts with `head` (its first
    /// [`SNIFF_LEN`] bytes, or all of it when shorter).
    pub fn sniff(head: &[u8], file_len: u64) -> Self {
        if file_len == 0 {
            return Self::Empty;
        }
        let safetensors_len = safetensors_header_len(head);
        let fits = |n: u64| n >= MIN_SAFETENSORS_HEADER && n <= file_len.saturating_sub(8);
        match safetensors_len {
            Some(header_len) if fits(header_len) => return Self::Safetensors { header_len },
            _ => {}
        }
        if head.starts_with(ZIP_LOCAL_HEADER) {
            return Self::TorchZip;
        }
        if let [PICKLE_PROTO, protocol @ 2..=5, next, ..] = *head {
            if is_pickle_opcode(next) {
                return Self::LegacyPickle { protocol };
            }
        }
        match safetensors_len {
            Some(header_len) if header_len > file_len.saturating_sub(8) => {
                Self::TruncatedSafetensors {
                    header_len,
                    file_len,
                }
            }
            _ => Self::Unknown,
        }
    }

    /// The kind of the file at `path` (reads its first [`SNIFF_LEN`] bytes).
    pub fn of_file(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let file_len = file.metadata()?.len();
        let mut head = Vec::with_capacity(SNIFF_LEN);
        file.take(SNIFF_LEN as u64).read_to_end(&mut head)?;
        Ok(Self::sniff(&head, file_len))
    }

    /// Whether this is a safetensors file, whole or cut short.
    pub fn is_safetensors(self) -> bool {
        matches!(
            self,
            Self::Safetensors { .. } | Self::TruncatedSafetensors { .. }
        )
    }
}

/// What the file is, for messages ("… is {kind}").
impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Safetensors { .. } => f.write_str("a safetensors file"),
            Self::TorchZip => f.write_str("a PyTorch (torch.save) zip archive"),
            Self::LegacyPickle { .. } => f.write_str(
                "a torch file in the legacy (pre-1.6, non-zip) format; re-save it with a recent PyTorch",
            ),
            Self::TruncatedSafetensors {
                header_len,
                file_len,
            } => write!(
                f,
                "a safetensors file cut short (a header of {header_len} bytes in a file of {file_len})"
            ),
            Self::Empty => f.write_str("empty (0 bytes)"),
            Self::Unknown => {
                f.write_str("neither a safetensors file nor a torch.save zip archive")
            }
        }
    }
}

/// The header length, when the file starts like a safetensors file: 8 bytes of length,
/// then the header's opening `{`.
fn safetensors_header_len(head: &[u8]) -> Option<u64> {
    let length: [u8; 8] = head.get(..8)?.try_into().ok()?;
    (head.get(8) == Some(&b'{')).then(|| u64::from_le_bytes(length))
}

/// Every opcode of pickle protocols 0–5 (Python's `pickletools`).
fn is_pickle_opcode(byte: u8) -> bool {
    const ASCII_OPCODES: &[u8] = b"()0.12BCFGIJKLMNPQRSTUVXabcdeghijlopqrstu}]";
    matches!(byte, 0x80..=0x98) || ASCII_OPCODES.contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safetensors_head(header_len: u64) -> Vec<u8> {
        let mut head = header_len.to_le_bytes().to_vec();
        head.push(b'{');
        head
    }

    #[test]
    fn every_low_byte_of_a_fitting_header_length_is_safetensors() {
        for low in 0u64..=255 {
            let header_len = 0x1a00 + low;
            let kind = FileKind::sniff(&safetensors_head(header_len), 8 + header_len + 64);
            assert_eq!(
                kind,
                FileKind::Safetensors { header_len },
                "low byte {low:#04x}"
            );
        }
    }

    #[test]
    fn a_header_length_past_the_end_is_not_safetensors() {
        // The file: 0x1a80-byte header, cut short inside it.
        let head = safetensors_head(0x1a80);
        let cut = |file_len| FileKind::TruncatedSafetensors {
            header_len: 0x1a80,
            file_len,
        };
        assert_eq!(FileKind::sniff(&head, 100), cut(100));
        assert_eq!(
            FileKind::sniff(&head, 8 + 0x1a80),
            FileKind::Safetensors { header_len: 0x1a80 }
        );
        assert_eq!(FileKind::sniff(&head, 8 + 0x1a7f), cut(8 + 0x1a7f));
        // A length near u64::MAX must not wrap around.
        for header_len in [u64::MAX, u64::MAX - 7] {
            let kind = FileKind::sniff(&safetensors_head(header_len), 1 << 20);
            assert_eq!(
                kind,
                FileKind::TruncatedSafetensors {
                    header_len,
                    file_len: 1 << 20
                }
            );
        }
    }

    #[test]
    fn a_safetensors_length_must_be_followed_by_an_object() {
        let mut head = 16u64.to_le_bytes().to_vec();
        head.push(b'[');
        assert_eq!(FileKind::sniff(&head, 100), FileKind::Unknown);
        assert_eq!(FileKind::sniff(&head[..8], 100), FileKind::Unknown);
        // A header of 1 byte (`{` alone) is no JSON object.
        assert_eq!(
            FileKind::sniff(&safetensors_head(1), 100),
            FileKind::Unknown
        );
        assert_eq!(
            FileKind::sniff(&safetensors_head(2), 10),
            FileKind::Safetensors { header_len: 2 }
        );
    }

    #[test]
    fn zip_archives_and_legacy_pickles() {
        let zip = b"PK\x03\x04\x14\x00\x08\x08\x00";
        assert_eq!(FileKind::sniff(zip, 1000), FileKind::TorchZip);
        // torch.save(..., _use_new_zipfile_serialization=False) starts with the pickled
        // magic number: PROTO 2, LONG1.
        let legacy = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9";
        assert_eq!(
            FileKind::sniff(legacy, 1000),
            FileKind::LegacyPickle { protocol: 2 }
        );
        for protocol in 2..=5u8 {
            let head = [0x80, protocol, b'}'];
            assert_eq!(
                FileKind::sniff(&head, 3),
                FileKind::LegacyPickle { protocol }
            );
        }
        for protocol in [0u8, 1, 6, 0xff] {
            assert_eq!(
                FileKind::sniff(&[0x80, protocol, b'}'], 3),
                FileKind::Unknown
            );
        }
    }

    #[test]
    fn a_safetensors_file_cut_short_in_its_header_is_no_pickle() {
        // Header lengths 0x0280..=0x0580 start `80 02..05 00`: byte 2 is no opcode.
        for protocol in 2..=5u8 {
            let header_len = u64::from(protocol) << 8 | 0x80;
            let kind = FileKind::sniff(&safetensors_head(header_len), 64);
            assert_eq!(
                kind,
                FileKind::TruncatedSafetensors {
                    header_len,
                    file_len: 64
                }
            );
        }
    }

    #[test]
    fn empty_and_short_files() {
        assert_eq!(FileKind::sniff(&[], 0), FileKind::Empty);
        assert_eq!(FileKind::sniff(b"P", 1), FileKind::Unknown);
        assert_eq!(FileKind::sniff(b"PK\x03", 3), FileKind::Unknown);
        assert_eq!(FileKind::sniff(b"\x80", 1), FileKind::Unknown);
        assert_eq!(FileKind::sniff(b">read_1\nACGT", 12), FileKind::Unknown);
    }

    #[test]
    fn the_opcode_table_is_the_protocol_5_set() {
        // 68 opcodes in pickletools for protocols 0-5.
        let count = (0..=255u8).filter(|&b| is_pickle_opcode(b)).count();
        assert_eq!(count, 68);
    }

    #[test]
    fn of_file_reads_the_head_of_a_real_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let mut bytes = safetensors_head(0x80);
        bytes.extend(std::iter::repeat_n(b' ', 0x80 - 1));
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(
            FileKind::of_file(&path).unwrap(),
            FileKind::Safetensors { header_len: 0x80 }
        );
        let empty = dir.path().join("empty.pt");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(FileKind::of_file(&empty).unwrap(), FileKind::Empty);
        assert!(FileKind::of_file(&dir.path().join("missing")).is_err());
    }
}
