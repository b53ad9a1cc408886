//! Import of the feature files written by the Python VirNucPro tools (reference §9):
//!
//! * `*_DNABERT_S.pt`: `{'nucleotide': [id], 'data': [{'label': id, 'mean_representation': [f]}]}`
//! * `*_ESM.pt`: `{'proteins': [id], 'data': [tensor(D)]}`
//! * `*_merged.pt`: `{'ids': [id], 'data': tensor(N, D)}`
//!
//! The kind is told by the keys, never the file name; other keys (`version`, `status`) are
//! ignored. Dimensions come from the data. Files are read with the safe pickle reader in
//! [`crate::pickle`]: nothing in them is executed.
use std::path::{Path, PathBuf};

use crate::pickle::{TorchArchive, TorchFileError, TorchFileProblem, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyKind {
    Dnabert,
    Esm,
    Merged,
}

/// Per-sequence feature rows.
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyFeatures {
    pub kind: LegacyKind,
    pub ids: Vec<String>,
    pub dim: usize,
    /// Row-major, `ids.len() x dim`.
    pub data: Vec<f32>,
}

impl LegacyFeatures {
    /// Row `i` (the features of `ids[i]`).
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        let start = i.checked_mul(self.dim)?;
        self.data.get(start..start.checked_add(self.dim)?)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyErrorKind {
    /// The file could not be read (missing, permissions, I/O failure).
    Unreadable,
    /// The file is not a well-formed feature file.
    Corrupt,
    /// The features are stored in a dtype that cannot be read as floats.
    UnsupportedDtype,
}

#[derive(Debug, thiserror::Error)]
#[error("{}: {detail}", path.display())]
pub struct LegacyError {
    path: PathBuf,
    kind: LegacyErrorKind,
    detail: String,
}

impl LegacyError {
    pub fn kind(&self) -> LegacyErrorKind {
        self.kind
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn corrupt(path: &Path, detail: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            kind: LegacyErrorKind::Corrupt,
            detail: detail.into(),
        }
    }

    fn from_torch(error: TorchFileError) -> Self {
        let kind = match error.problem {
            TorchFileProblem::Io(_) => LegacyErrorKind::Unreadable,
            TorchFileProblem::UnsupportedDtype { .. } => LegacyErrorKind::UnsupportedDtype,
            _ => LegacyErrorKind::Corrupt,
        };
        Self {
            detail: error.problem.to_string(),
            path: error.path,
            kind,
        }
    }
}

/// Read a DNABERT-S, ESM or merged feature file of the Python tools.
pub fn read_legacy_features(path: &Path) -> Result<LegacyFeatures, LegacyError> {
    let archive = TorchArchive::open(path).map_err(LegacyError::from_torch)?;
    let root = archive.load().map_err(LegacyError::from_torch)?;
    let reader = Reader {
        path,
        archive: &archive,
    };
    let features = reader.features(&root)?;
    tracing::info!(
        path = %path.display(),
        kind = ?features.kind,
        rows = features.ids.len(),
        dim = features.dim,
        "imported legacy features"
    );
    Ok(features)
}

struct Reader<'a> {
    path: &'a Path,
    archive: &'a TorchArchive,
}

/// Rows accumulated into one row-major matrix, checking that they agree in length.
struct Rows {
    dim: Option<usize>,
    data: Vec<f32>,
    count: usize,
}

impl Reader<'_> {
    fn corrupt(&self, detail: impl Into<String>) -> LegacyError {
        LegacyError::corrupt(self.path, detail)
    }

    fn features(&self, root: &Value) -> Result<LegacyFeatures, LegacyError> {
        let Value::Dict(_) = root else {
            return Err(self.corrupt(format!(
                "not a feature file: the pickle holds a {}, not a dict",
                root.type_name()
            )));
        };
        let kinds = [
            ("nucleotide", LegacyKind::Dnabert),
            ("proteins", LegacyKind::Esm),
            ("ids", LegacyKind::Merged),
        ];
        let present: Vec<_> = kinds
            .iter()
            .filter(|(key, _)| root.get(key).is_some())
            .collect();
        let [(id_key, kind)] = present[..] else {
            return Err(self.corrupt(format!(
                "not a feature file: expected exactly one of the keys 'nucleotide', 'proteins', 'ids'; found {}",
                key_list(root)
            )));
        };
        let ids = self.ids(root.get(id_key), id_key)?;
        let data = root
            .get("data")
            .ok_or_else(|| self.corrupt(format!("'{id_key}' is present but 'data' is missing")))?;
        let rows = match kind {
            LegacyKind::Dnabert => self.dnabert_rows(data, &ids)?,
            LegacyKind::Esm => self.list_rows(data)?,
            LegacyKind::Merged => self.matrix_rows(data)?,
        };
        if rows.count != ids.len() {
            return Err(self.corrupt(format!(
                "{} ids in '{id_key}' but {} rows in 'data'",
                ids.len(),
                rows.count
            )));
        }
        let dim = rows.dim.unwrap_or(0);
        if let Some(bad) = rows.data.iter().position(|v| !v.is_finite()) {
            let (row, col) = (bad / dim.max(1), bad % dim.max(1));
            let id = ids.get(row).map_or("?", String::as_str);
            return Err(self.corrupt(format!(
                "row {row} ({id}) column {col} is {} (features must be finite)",
                rows.data[bad]
            )));
        }
        Ok(LegacyFeatures {
            kind: *kind,
            ids,
            dim,
            data: rows.data,
        })
    }

    fn ids(&self, value: Option<&Value>, key: &str) -> Result<Vec<String>, LegacyError> {
        let items = value
            .and_then(Value::as_seq)
            .ok_or_else(|| self.corrupt(format!("'{key}' is not a list")))?;
        items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    self.corrupt(format!(
                        "'{key}' item {i} is a {}, not a string",
                        v.type_name()
                    ))
                })
            })
            .collect()
    }

    /// `[{'label': id, 'mean_representation': row}]`, labels matching the ids in order.
    fn dnabert_rows(&self, data: &Value, ids: &[String]) -> Result<Rows, LegacyError> {
        let items = data
            .as_seq()
            .ok_or_else(|| self.corrupt(format!("'data' is a {}, not a list", data.type_name())))?;
        let mut rows = Rows::new();
        for (i, item) in items.iter().enumerate() {
            let label = item.get("label").and_then(Value::as_str);
            let expected = ids.get(i).map(String::as_str);
            if label.is_none() || (expected.is_some() && label != expected) {
                return Err(self.corrupt(format!(
                    "data item {i} has label {label:?}, expected {expected:?}"
                )));
            }
            let values = item.get("mean_representation").ok_or_else(|| {
                self.corrupt(format!("data item {i} has no 'mean_representation'"))
            })?;
            let row = self.row(values, i)?;
            rows.push(row, i).map_err(|e| self.corrupt(e))?;
        }
        Ok(rows)
    }

    /// `[row, ...]`, each row a 1-D tensor or a list of numbers.
    fn list_rows(&self, data: &Value) -> Result<Rows, LegacyError> {
        let items = data
            .as_seq()
            .ok_or_else(|| self.corrupt(format!("'data' is a {}, not a list", data.type_name())))?;
        let mut rows = Rows::new();
        for (i, item) in items.iter().enumerate() {
            let row = self.row(item, i)?;
            rows.push(row, i).map_err(|e| self.corrupt(e))?;
        }
        Ok(rows)
    }

    /// A 2-D tensor `(N, D)`.
    fn matrix_rows(&self, data: &Value) -> Result<Rows, LegacyError> {
        let Value::Tensor(tensor) = data else {
            return Err(self.corrupt(format!("'data' is a {}, not a tensor", data.type_name())));
        };
        let [n, d] = tensor.shape[..] else {
            return Err(self.corrupt(format!(
                "'data' has shape {:?}, expected (rows, dim)",
                tensor.shape
            )));
        };
        let values = self
            .archive
            .read_f32(tensor)
            .map_err(LegacyError::from_torch)?;
        if n > 0 && d == 0 {
            return Err(self.corrupt("'data' has rows of no values"));
        }
        let too_big = || self.corrupt(format!("'data' shape {:?} is too large", tensor.shape));
        Ok(Rows {
            dim: Some(usize::try_from(d).map_err(|_| too_big())?),
            count: usize::try_from(n).map_err(|_| too_big())?,
            data: values,
        })
    }

    fn row(&self, value: &Value, index: usize) -> Result<Vec<f32>, LegacyError> {
        match value {
            Value::Tensor(t) if t.shape.len() == 1 => {
                self.archive.read_f32(t).map_err(LegacyError::from_torch)
            }
            Value::Tensor(t) => Err(self.corrupt(format!(
                "row {index} is a tensor of shape {:?}, expected one dimension",
                t.shape
            ))),
            Value::List(items) | Value::Tuple(items) => items
                .iter()
                .map(|v| v.as_f64().map(|f| f as f32))
                .collect::<Option<Vec<f32>>>()
                .ok_or_else(|| {
                    self.corrupt(format!("row {index} holds a value that is not a number"))
                }),
            other => Err(self.corrupt(format!(
                "row {index} is a {}, not a tensor or a list of numbers",
                other.type_name()
            ))),
        }
    }
}

impl Rows {
    fn new() -> Self {
        Self {
            dim: None,
            data: Vec::new(),
            count: 0,
        }
    }

    fn push(&mut self, row: Vec<f32>, index: usize) -> Result<(), String> {
        if row.is_empty() {
            return Err(format!("row {index} is empty"));
        }
        match self.dim {
            Some(dim) if dim != row.len() => {
                return Err(format!(
                    "row {index} has {} values but earlier rows have {dim}",
                    row.len()
                ))
            }
            _ => self.dim = Some(row.len()),
        }
        self.data.extend_from_slice(&row);
        self.count += 1;
        Ok(())
    }
}

fn key_list(root: &Value) -> String {
    let Value::Dict(entries) = root else {
        return String::new();
    };
    let keys: Vec<String> = entries
        .iter()
        .map(|(k, _)| match k {
            Value::Str(s) => format!("'{s}'"),
            other => other.type_name().to_owned(),
        })
        .collect();
    if keys.is_empty() {
        "no keys".into()
    } else {
        keys.join(", ")
    }
}
