//! The safetensors header of a feature file: an 8-byte little-endian length `n`, then `n`
//! bytes of JSON (padded with spaces so that the data starts 8-byte aligned), then the
//! tensor data. Parsing needs only those `8 + n` bytes and the file size.
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::{FeatureKind, FeatureMeta, InputChecksum};

/// The one tensor a feature file holds.
pub const TENSOR_NAME: &str = "embeddings";
/// Headers longer than this are rejected before any allocation (the safetensors limit).
pub const MAX_HEADER_LEN: u64 = 100 << 20;
/// Widest row accepted (embeddings are 768 to 3328 wide): a row buffer of this many values
/// is allocated per pair, so a crafted header must not ask for more.
pub const MAX_DIM: u64 = 1 << 20;
const METADATA_KEY: &str = "__metadata__";
/// The metadata key of the data checksum: XXH3-64 of the tensor data bytes, 16 lower-case
/// hex digits. Files written before it existed have none (see [`Header::data_xxh3`]).
pub const DATA_CHECKSUM_KEY: &str = "data_xxh3";

/// Element types we read. We write only F32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F16,
    BF16,
}

impl Dtype {
    pub fn size(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 | Self::BF16 => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::F32 => "F32",
            Self::F16 => "F16",
            Self::BF16 => "BF16",
        }
    }

    fn parse(name: &str) -> Result<Self, HeaderError> {
        match name {
            "F32" => Ok(Self::F32),
            "F16" => Ok(Self::F16),
            "BF16" => Ok(Self::BF16),
            other => Err(HeaderError::UnsupportedDtype(other.to_string())),
        }
    }

    /// Decode little-endian values of this type from `bytes` into `out`
    /// (`bytes.len() == out.len() * self.size()`).
    pub fn decode(self, bytes: &[u8], out: &mut [f32]) {
        match self {
            Self::F32 => {
                for (v, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                    *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
            }
            Self::F16 => {
                for (v, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                    *v = half::f16::from_le_bytes([b[0], b[1]]).to_f32();
                }
            }
            Self::BF16 => {
                for (v, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                    *v = half::bf16::from_le_bytes([b[0], b[1]]).to_f32();
                }
            }
        }
    }
}

/// Why a header (with the file size) does not describe a valid feature file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("truncated: {actual} bytes, the header requires {expected}")]
    Truncated { expected: u64, actual: u64 },
    #[error("{actual} bytes, the header describes {expected}: trailing bytes")]
    TrailingBytes { expected: u64, actual: u64 },
    #[error("header length {0} exceeds the limit")]
    TooLarge(u64),
    #[error("bad header: {0}")]
    Malformed(String),
    #[error("unsupported dtype {0} (F32, F16 and BF16 are read)")]
    UnsupportedDtype(String),
    #[error("{what}: header says {declared}, tensor has {found}")]
    Dimension {
        what: &'static str,
        declared: u64,
        found: u64,
    },
}

/// A parsed, validated header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub meta: FeatureMeta,
    pub dtype: Dtype,
    pub rows: usize,
    /// Length of the JSON part (`n`).
    pub json_len: usize,
    /// XXH3-64 of the data bytes as the writer computed it; `None` in files written
    /// before the checksum was recorded.
    pub data_xxh3: Option<u64>,
}

#[derive(Deserialize)]
struct RawTensor {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: (u64, u64),
}

fn malformed(what: impl Into<String>) -> HeaderError {
    HeaderError::Malformed(what.into())
}

impl Header {
    /// Offset of the first data byte.
    pub fn data_start(&self) -> usize {
        8 + self.json_len
    }

    /// Bytes of tensor data.
    pub fn data_len(&self) -> usize {
        self.rows * self.meta.dim * self.dtype.size()
    }

    /// The size the whole file must have.
    pub fn file_len(&self) -> u64 {
        (self.data_start() + self.data_len()) as u64
    }

    /// The number of leading bytes [`Header::parse`] needs from a file of `file_len`
    /// bytes whose first 8 bytes are `first8` (never more than the file or the limit).
    pub fn prefix_len(first8: [u8; 8], file_len: u64) -> u64 {
        let n = u64::from_le_bytes(first8).min(MAX_HEADER_LEN);
        (8 + n).min(file_len)
    }

    /// Parse the header at the start of `prefix` (the file's first bytes, at least
    /// [`Header::prefix_len`] of them) of a file of `file_len` bytes.
    pub fn parse(prefix: &[u8], file_len: u64) -> Result<Self, HeaderError> {
        let Some(first8) = prefix.get(..8) else {
            return Err(HeaderError::Truncated {
                expected: 8,
                actual: file_len.min(prefix.len() as u64),
            });
        };
        let mut len_bytes = [0u8; 8];
        len_bytes.copy_from_slice(first8);
        let n = u64::from_le_bytes(len_bytes);
        if n > MAX_HEADER_LEN {
            return Err(HeaderError::TooLarge(n));
        }
        let json_end = 8 + n;
        let available = file_len.min(prefix.len() as u64);
        if available < json_end {
            return Err(HeaderError::Truncated {
                expected: json_end,
                actual: available,
            });
        }
        let json_len = n as usize;
        let json = &prefix[8..8 + json_len];
        if json.first() != Some(&b'{') {
            return Err(malformed("the header is not a JSON object"));
        }
        let mut entries: BTreeMap<String, Value> =
            serde_json::from_slice(json).map_err(|e| malformed(format!("header JSON: {e}")))?;
        let metadata: BTreeMap<String, String> = match entries.remove(METADATA_KEY) {
            Some(value) => serde_json::from_value(value)
                .map_err(|e| malformed(format!("{METADATA_KEY} is not str -> str: {e}")))?,
            None => return Err(malformed(format!("no {METADATA_KEY}"))),
        };
        let raw = match (entries.remove(TENSOR_NAME), entries.keys().next()) {
            (Some(raw), None) => raw,
            (_, Some(other)) => {
                return Err(malformed(format!(
                    "expected one tensor named {TENSOR_NAME:?}, found {other:?}"
                )))
            }
            (None, None) => return Err(malformed(format!("no tensor {TENSOR_NAME:?}"))),
        };
        let raw: RawTensor = serde_json::from_value(raw)
            .map_err(|e| malformed(format!("tensor {TENSOR_NAME:?}: {e}")))?;
        let dtype = Dtype::parse(&raw.dtype)?;
        let &[rows, dim] = raw.shape.as_slice() else {
            return Err(HeaderError::Dimension {
                what: "tensor rank",
                declared: 2,
                found: raw.shape.len() as u64,
            });
        };
        if dim == 0 || dim > MAX_DIM {
            return Err(malformed(format!("dim {dim} is outside 1..={MAX_DIM}")));
        }
        let data_len = rows
            .checked_mul(dim)
            .and_then(|v| v.checked_mul(dtype.size() as u64))
            .filter(|len| json_end.checked_add(*len).is_some())
            .ok_or_else(|| malformed("tensor size overflows"))?;
        if raw.data_offsets != (0, data_len) {
            return Err(malformed(format!(
                "data_offsets {:?} do not match shape [{rows}, {dim}] ({data_len} bytes)",
                raw.data_offsets
            )));
        }
        let expected = json_end + data_len;
        if file_len < expected {
            return Err(HeaderError::Truncated {
                expected,
                actual: file_len,
            });
        }
        if file_len > expected {
            return Err(HeaderError::TrailingBytes {
                expected,
                actual: file_len,
            });
        }
        let (rows, dim) = match (usize::try_from(rows), usize::try_from(dim)) {
            (Ok(r), Ok(d)) => (r, d),
            _ => return Err(malformed("tensor too large for this platform")),
        };
        let meta = parse_metadata(&metadata, rows, dim)?;
        let data_xxh3 = parse_data_checksum(&metadata)?;
        Ok(Self {
            meta,
            dtype,
            rows,
            json_len,
            data_xxh3,
        })
    }

    /// The `8 + n` header bytes of an F32 file holding `meta.ids.len()` rows of `meta`,
    /// without a data checksum (as files were written before it existed).
    pub fn encode(meta: &FeatureMeta) -> Result<Vec<u8>, serde_json::Error> {
        Self::encode_inner(meta, None)
    }

    /// [`Header::encode`] with the data checksum. Its length does not depend on the
    /// checksum, so a writer can write a placeholder first and the real one over it.
    pub fn encode_with_data_checksum(
        meta: &FeatureMeta,
        data_xxh3: u64,
    ) -> Result<Vec<u8>, serde_json::Error> {
        Self::encode_inner(meta, Some(data_xxh3))
    }

    fn encode_inner(
        meta: &FeatureMeta,
        data_xxh3: Option<u64>,
    ) -> Result<Vec<u8>, serde_json::Error> {
        let rows = meta.ids.len() as u64;
        let dim = meta.dim as u64;
        let mut metadata = json!({
            "ids": serde_json::to_string(&meta.ids)?,
            "kind": meta.kind.as_str(),
            "model": meta.model,
            "dim": meta.dim.to_string(),
            "inputs": serde_json::to_string(&meta.inputs)?,
        });
        if let (Some(checksum), Some(map)) = (data_xxh3, metadata.as_object_mut()) {
            map.insert(
                DATA_CHECKSUM_KEY.into(),
                Value::String(format!("{checksum:016x}")),
            );
        }
        let header = json!({
            METADATA_KEY: metadata,
            TENSOR_NAME: {
                "dtype": Dtype::F32.as_str(),
                "shape": [rows, dim],
                "data_offsets": [0, rows * dim * 4],
            },
        });
        let mut json = serde_json::to_vec(&header)?;
        while (8 + json.len()) % 8 != 0 {
            json.push(b' ');
        }
        let mut out = Vec::with_capacity(8 + json.len());
        out.extend_from_slice(&(json.len() as u64).to_le_bytes());
        out.extend_from_slice(&json);
        Ok(out)
    }
}

fn parse_metadata(
    metadata: &BTreeMap<String, String>,
    rows: usize,
    dim: usize,
) -> Result<FeatureMeta, HeaderError> {
    let field = |key: &str| {
        metadata
            .get(key)
            .ok_or_else(|| malformed(format!("metadata has no {key:?}")))
    };
    let kind = field("kind")?.parse::<FeatureKind>().map_err(malformed)?;
    let declared_dim: u64 = field("dim")?
        .parse()
        .map_err(|e| malformed(format!("metadata dim: {e}")))?;
    if declared_dim != dim as u64 {
        return Err(HeaderError::Dimension {
            what: "dim",
            declared: declared_dim,
            found: dim as u64,
        });
    }
    let ids: Vec<String> =
        serde_json::from_str(field("ids")?).map_err(|e| malformed(format!("metadata ids: {e}")))?;
    if ids.len() != rows {
        return Err(HeaderError::Dimension {
            what: "ids",
            declared: ids.len() as u64,
            found: rows as u64,
        });
    }
    let inputs: Vec<InputChecksum> = match metadata.get("inputs") {
        Some(text) => {
            serde_json::from_str(text).map_err(|e| malformed(format!("metadata inputs: {e}")))?
        }
        None => Vec::new(),
    };
    Ok(FeatureMeta {
        kind,
        model: metadata.get("model").cloned().unwrap_or_default(),
        dim,
        ids,
        inputs,
    })
}

/// The data checksum, if the file has one; one that is there must be 16 hex digits.
fn parse_data_checksum(metadata: &BTreeMap<String, String>) -> Result<Option<u64>, HeaderError> {
    let Some(text) = metadata.get(DATA_CHECKSUM_KEY) else {
        return Ok(None);
    };
    let valid = text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit());
    valid
        .then(|| u64::from_str_radix(text, 16).ok())
        .flatten()
        .map(Some)
        .ok_or_else(|| {
            malformed(format!(
                "metadata {DATA_CHECKSUM_KEY}: {text:?} is not 16 hex digits"
            ))
        })
}

impl HeaderError {
    pub fn kind(&self) -> super::FeatureErrorKind {
        use super::FeatureErrorKind as K;
        match self {
            Self::UnsupportedDtype(_) => K::UnsupportedDtype,
            Self::Dimension { .. } => K::DimensionMismatch,
            Self::Truncated { .. }
            | Self::TrailingBytes { .. }
            | Self::TooLarge(_)
            | Self::Malformed(_) => K::Corrupt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(rows: usize, dim: usize) -> FeatureMeta {
        FeatureMeta {
            kind: FeatureKind::Protein,
            model: "esm2".into(),
            dim,
            ids: (0..rows).map(|i| format!("id \"{i}\" é")).collect(),
            inputs: vec![InputChecksum {
                name: "output_1.fa".into(),
                xxh3: "00ff".into(),
                bytes: 12,
            }],
        }
    }

    fn file_of(meta: &FeatureMeta) -> Vec<u8> {
        let mut bytes = Header::encode(meta).unwrap();
        bytes.resize(bytes.len() + meta.ids.len() * meta.dim * 4, 0);
        bytes
    }

    #[test]
    fn encode_parse_round_trip_and_alignment() {
        for rows in [0, 1, 7] {
            let m = meta(rows, 3);
            let bytes = file_of(&m);
            let header = Header::parse(&bytes, bytes.len() as u64).unwrap();
            assert_eq!(header.data_start() % 8, 0);
            assert_eq!(header.meta, m);
            assert_eq!(header.rows, rows);
            assert_eq!(header.file_len(), bytes.len() as u64);
        }
    }

    #[test]
    fn the_data_checksum_round_trips_and_keeps_the_header_length() {
        let m = meta(3, 2);
        let placeholder = Header::encode_with_data_checksum(&m, 0).unwrap();
        let real = Header::encode_with_data_checksum(&m, 0xdead_beef_0123_4567).unwrap();
        assert_eq!(placeholder.len(), real.len());
        let mut bytes = real;
        bytes.resize(bytes.len() + 3 * 2 * 4, 0);
        let header = Header::parse(&bytes, bytes.len() as u64).unwrap();
        assert_eq!(header.data_xxh3, Some(0xdead_beef_0123_4567));
        assert_eq!(header.meta, m);
        let old = file_of(&m);
        assert_eq!(
            Header::parse(&old, old.len() as u64).unwrap().data_xxh3,
            None
        );
        let at = bytes
            .windows(16)
            .position(|w| w == b"deadbeef01234567")
            .unwrap();
        bytes[at + 15] = b'z';
        assert!(matches!(
            Header::parse(&bytes, bytes.len() as u64),
            Err(HeaderError::Malformed(_))
        ));
    }

    #[test]
    fn size_decides_truncation_and_trailing_bytes() {
        let bytes = file_of(&meta(4, 2));
        let len = bytes.len() as u64;
        assert!(matches!(
            Header::parse(&bytes, len - 1),
            Err(HeaderError::Truncated { .. })
        ));
        assert!(matches!(
            Header::parse(&bytes, len + 4),
            Err(HeaderError::TrailingBytes { .. })
        ));
        assert!(matches!(
            Header::parse(&bytes[..5], 5),
            Err(HeaderError::Truncated { .. })
        ));
        assert!(matches!(
            Header::parse(&bytes[..20], len),
            Err(HeaderError::Truncated { .. })
        ));
    }

    #[test]
    fn absurd_widths_are_rejected() {
        for dim in [0, MAX_DIM + 1] {
            let json = format!(
                r#"{{"__metadata__":{{"ids":"[]","kind":"merged","dim":"{dim}"}},"embeddings":{{"dtype":"F32","shape":[0,{dim}],"data_offsets":[0,0]}}}}"#
            );
            let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
            bytes.extend_from_slice(json.as_bytes());
            assert!(matches!(
                Header::parse(&bytes, bytes.len() as u64),
                Err(HeaderError::Malformed(_))
            ));
        }
    }

    #[test]
    fn oversized_length_is_rejected_before_allocation() {
        let mut bytes = u64::MAX.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"{}");
        assert_eq!(
            Header::parse(&bytes, bytes.len() as u64),
            Err(HeaderError::TooLarge(u64::MAX))
        );
    }
}
