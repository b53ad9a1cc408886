//! The general decoder: the pickle VM's value tree ([`Value`]), walked. It reads every
//! layout the Python tools wrote and is the reference the streaming decoder is tested
//! against.
use std::path::Path;

use crate::pickle::{ByteSource, TorchArchive, Value};

use super::{finish, LegacyError, LegacyFeatures, LegacyKind, Rows};

pub(super) fn decode<S: ByteSource>(
    archive: &TorchArchive<S>,
) -> Result<LegacyFeatures, LegacyError> {
    let root = archive.load().map_err(LegacyError::from_torch)?;
    let reader = Reader {
        path: archive.path(),
        archive,
    };
    reader.features(&root)
}

struct Reader<'a, S: ByteSource> {
    path: &'a Path,
    archive: &'a TorchArchive<S>,
}

impl<S: ByteSource> Reader<'_, S> {
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
        finish(self.path, *kind, id_key, ids, rows)
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
        Ok(Rows::of(
            Some(usize::try_from(d).map_err(|_| too_big())?),
            values,
            usize::try_from(n).map_err(|_| too_big())?,
        ))
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
