//! Checks on one weight file that need no weights parsed: does it exist (through the hub
//! cache's links), is it empty, is it cut short, and its SHA-256.
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use sha2::{Digest, Sha256};
use virnucpro_core::file_kind::{FileKind, SNIFF_LEN};

use super::WeightFile;

/// A safetensors header larger than this is not a model we know (ESM-2 3B's is ~60 KiB).
const MAX_SAFETENSORS_HEADER: u64 = 100 << 20;
/// The zip end record sits in the last 22 bytes plus at most a 64 KiB comment.
const ZIP_TAIL: u64 = 22 + 0xFFFF;

/// Inspect `path` as one weight file: its real size, plus every problem found, each
/// phrased with `label` (the name a user sees). `None` when it is not there to measure.
pub(super) fn inspect(
    path: &Path,
    label: &str,
    sha256: bool,
    problems: &mut Vec<String>,
) -> Option<WeightFile> {
    // `metadata` follows links: the hub cache's snapshot entries are links into blobs/.
    let size = match fs::metadata(path) {
        Ok(meta) if meta.is_file() => meta.len(),
        Ok(_) => {
            problems.push(format!("{label} is not a file"));
            return None;
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            problems.push(match fs::read_link(path) {
                Ok(target) => format!("{label} is a link to a missing file {}", target.display()),
                Err(_) => format!("{label} is missing"),
            });
            return None;
        }
        Err(err) => {
            problems.push(format!("{label} cannot be read: {err}"));
            return None;
        }
    };
    if size == 0 {
        problems.push(format!("{label} is empty (0 bytes)"));
    } else if let Err(problem) = check_whole(path, size) {
        problems.push(format!("{label} {problem}"));
    }
    let digest = if sha256 {
        match sha256_hex(path) {
            Ok(hex) => {
                check_blob_name(path, &hex, label, problems);
                Some(hex)
            }
            Err(err) => {
                problems.push(format!("{label} cannot be read: {err}"));
                None
            }
        }
    } else {
        None
    };
    Some(WeightFile {
        path: path.to_path_buf(),
        size,
        sha256: digest,
    })
}

/// Whether the file is a weight file we can load, and ends where its own header says it
/// does. The kind comes from core's one detector, never from the file name.
fn check_whole(path: &Path, size: u64) -> Result<(), String> {
    let result = FileKind::of_file(path).and_then(|kind| match kind {
        FileKind::Safetensors { header_len } => check_safetensors(path, size, header_len),
        FileKind::TorchZip => check_zip(path, size),
        FileKind::TruncatedSafetensors { .. } => Ok(Err(format!("is {kind}"))),
        // Too short for its kind to show: a download cut short in its first bytes.
        FileKind::Unknown if size < SNIFF_LEN as u64 => {
            Ok(Err(format!("is cut short ({size} bytes)")))
        }
        FileKind::LegacyPickle { .. } | FileKind::Unknown => {
            Ok(Err(format!("cannot be loaded: it is {kind}")))
        }
        // `inspect` reports an empty file before asking.
        FileKind::Empty => Ok(Err("is empty (0 bytes)".to_string())),
    });
    result.unwrap_or_else(|err| Err(format!("cannot be read: {err}")))
}

/// A safetensors file is 8 bytes of header length, the JSON header, then the data: the
/// largest `data_offsets` end must be the data's length, else the download was cut short.
fn check_safetensors(path: &Path, size: u64, header_len: u64) -> io::Result<Result<(), String>> {
    if header_len > MAX_SAFETENSORS_HEADER {
        return Ok(Err(format!(
            "is not a safetensors file we know (a header of {header_len} bytes)"
        )));
    }
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(8))?;
    let mut header = Vec::new();
    file.take(header_len).read_to_end(&mut header)?;
    let Ok(serde_json::Value::Object(tensors)) = serde_json::from_slice(&header) else {
        return Ok(Err("is not a safetensors file (bad header)".to_string()));
    };
    let data_end = tensors
        .iter()
        .filter(|(name, _)| name.as_str() != "__metadata__")
        .filter_map(|(_, info)| info.get("data_offsets")?.get(1)?.as_u64())
        .max()
        .unwrap_or(0);
    let have = size - 8 - header_len;
    Ok(if data_end > have {
        Err(format!(
            "is cut short: its header describes {data_end} bytes of tensor data, the file holds {have}"
        ))
    } else {
        Ok(())
    })
}

/// torch.save writes zip archives; one without its end record was cut short.
fn check_zip(path: &Path, size: u64) -> io::Result<Result<(), String>> {
    let mut file = File::open(path)?;
    let tail_len = size.min(ZIP_TAIL);
    file.seek(SeekFrom::Start(size - tail_len))?;
    let mut tail = Vec::new();
    file.take(tail_len).read_to_end(&mut tail)?;
    let has_end = tail.windows(4).any(|w| w == b"PK\x05\x06");
    Ok(if has_end {
        Ok(())
    } else {
        Err("is cut short (its zip archive has no end record)".to_string())
    })
}

/// SHA-256 as lowercase hex, read in 1 MiB pieces (weights can be 11 GB).
pub(super) fn sha256_hex(path: &Path) -> io::Result<String> {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut hasher = Sha256::new();
    io::copy(&mut reader, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hub cache names large-file blobs by their SHA-256: a different digest is a corrupt
/// download. Links that do not end in such a name (plain folders) are not judged.
fn check_blob_name(path: &Path, digest: &str, label: &str, problems: &mut Vec<String>) {
    let Ok(target) = fs::read_link(path) else {
        return;
    };
    let Some(blob) = target.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let is_sha256 = blob.len() == 64 && blob.bytes().all(|b| b.is_ascii_hexdigit());
    if is_sha256 && !blob.eq_ignore_ascii_case(digest) {
        problems.push(format!(
            "{label} is corrupt: its SHA-256 is {digest}, the hub cache expects {blob}"
        ));
    }
}
