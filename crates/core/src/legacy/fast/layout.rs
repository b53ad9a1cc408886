//! The streaming decoder's last step: the stream's root as a DNABERT-S or ESM feature file,
//! with the general decoder's checks on ids, labels and rows (`super::super::general`).
use std::rc::Rc;

use crate::pickle::{ByteSource, TensorRef, TorchArchive};

use super::super::{finish, LegacyError, LegacyFeatures, LegacyKind, Rows};
use super::{Decline, Val, Vm};

/// Where a row's values are.
enum RowSource {
    /// A list of floats: this run of the row buffer.
    Floats(usize, usize),
    /// A 1-D tensor, read from the archive.
    Tensor(Rc<TensorRef>),
}

/// The features of the stream's `root`, or a decline for anything the general decoder
/// might read differently; errors are those of the shared final checks.
pub(super) fn read<S: ByteSource>(
    archive: &TorchArchive<S>,
    mut vm: Vm<'_, S>,
    root: Val,
) -> Result<Result<LegacyFeatures, LegacyError>, Decline> {
    let Val::Dict(root) = root else {
        return Err(Decline::new("the root is not a dict"));
    };
    let entries = &vm
        .dicts
        .get(root)
        .ok_or_else(|| Decline::new("internal: unknown dict"))?
        .entries;
    let present: Vec<_> = [
        ("nucleotide", LegacyKind::Dnabert),
        ("proteins", LegacyKind::Esm),
        ("ids", LegacyKind::Merged),
    ]
    .into_iter()
    .filter(|(key, _)| get(entries, key).is_some())
    .collect();
    let [(id_key, kind)] = present[..] else {
        return Err(Decline::new("not exactly one of the id keys"));
    };
    if kind == LegacyKind::Merged {
        return Err(Decline::new(
            "a merged file (one tensor, read by the general decoder)",
        ));
    }
    let ids = ids(&vm, get(entries, id_key))?;
    let data = get(entries, "data").ok_or_else(|| Decline::new("no 'data'"))?;
    let items = seq(&vm, data)?;
    let sources = items
        .iter()
        .enumerate()
        .map(|(i, item)| match kind {
            LegacyKind::Dnabert => dnabert_row(&vm, item, ids.get(i)),
            _ => row_source(&vm, item),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // The VM's tables (memo, containers) are not needed past this point: free them before
    // the ESM rows are read, so they never add to the rows' memory.
    let floats = std::mem::take(&mut vm.floats);
    drop(vm);
    let rows = if sources.iter().all(|s| matches!(s, RowSource::Floats(..))) {
        float_rows(&sources, floats)?
    } else if floats.is_empty() {
        // The same buffer: empty here, it may hold the memory of an earlier file's rows.
        tensor_rows(archive, &sources, ids.len(), floats)?
    } else {
        return Err(Decline::new("rows of floats and of tensors in one file"));
    };
    Ok(finish(archive.path(), kind, id_key, ids, rows))
}

/// The value under string key `key` (the last, if a key repeats, as the general VM keeps).
fn get<'v>(entries: &'v [(Val, Val)], key: &str) -> Option<&'v Val> {
    entries
        .iter()
        .rev()
        .find(|(k, _)| matches!(k, Val::Str(s) if &**s == key))
        .map(|(_, v)| v)
}

/// The items of a list or tuple of values.
fn seq<'v, S: ByteSource + ?Sized>(
    vm: &'v Vm<'_, S>,
    value: &'v Val,
) -> Result<&'v [Val], Decline> {
    match value {
        Val::List(id) => {
            let list = vm
                .lists
                .get(*id)
                .ok_or_else(|| Decline::new("internal: unknown list"))?;
            if list.floats.is_some() {
                return Err(Decline::new("a list of floats where values are expected"));
            }
            Ok(&list.items)
        }
        Val::Tuple(t) => Ok(&t.items),
        _ => Err(Decline::new("not a list")),
    }
}

fn ids<S: ByteSource + ?Sized>(
    vm: &Vm<'_, S>,
    value: Option<&Val>,
) -> Result<Vec<String>, Decline> {
    let value = value.ok_or_else(|| Decline::new("no ids"))?;
    seq(vm, value)?
        .iter()
        .map(|v| match v {
            Val::Str(s) => Ok(s.to_string()),
            _ => Err(Decline::new("an id that is not a string")),
        })
        .collect()
}

/// `{'label': id, 'mean_representation': row}`, its label `expected` when there is one.
fn dnabert_row<S: ByteSource + ?Sized>(
    vm: &Vm<'_, S>,
    item: &Val,
    expected: Option<&String>,
) -> Result<RowSource, Decline> {
    let Val::Dict(id) = item else {
        return Err(Decline::new("a data item that is not a dict"));
    };
    let entries = &vm
        .dicts
        .get(*id)
        .ok_or_else(|| Decline::new("internal: unknown dict"))?
        .entries;
    match (get(entries, "label"), expected) {
        (Some(Val::Str(label)), Some(id)) if **label == **id => {}
        (Some(Val::Str(_)), None) => {}
        _ => return Err(Decline::new("a label that does not match its id")),
    }
    let values = get(entries, "mean_representation")
        .ok_or_else(|| Decline::new("a data item without 'mean_representation'"))?;
    row_source(vm, values)
}

fn row_source<S: ByteSource + ?Sized>(vm: &Vm<'_, S>, value: &Val) -> Result<RowSource, Decline> {
    match value {
        Val::List(id) => match vm.lists.get(*id).map(|l| (l.floats, l.items.is_empty())) {
            Some((Some((start, len)), _)) => Ok(RowSource::Floats(start, len)),
            _ => Err(Decline::new("a row that is not a list of floats")),
        },
        Val::Tensor(t) if t.shape.len() == 1 => Ok(RowSource::Tensor(t.clone())),
        _ => Err(Decline::new(
            "a row that is not a list of floats or a 1-D tensor",
        )),
    }
}

/// Rows that are lists of floats: they must be the row buffer, in order and nothing else,
/// so that the buffer is the matrix as it stands.
fn float_rows(sources: &[RowSource], floats: Vec<f32>) -> Result<Rows, Decline> {
    let mut rows = Rows::new();
    let mut next = 0;
    for (i, source) in sources.iter().enumerate() {
        let RowSource::Floats(start, len) = *source else {
            return Err(Decline::new("internal: not a float row"));
        };
        if start != next {
            return Err(Decline::new("rows out of stream order"));
        }
        rows.check_next(len, i).map_err(Decline::new)?;
        rows.count += 1;
        next = start + len;
    }
    if next != floats.len() {
        return Err(Decline::new("floats outside the rows"));
    }
    rows.data = floats;
    Ok(rows)
}

/// Rows that are 1-D tensors, read from the archive into one buffer sized once the first
/// row gives the width.
fn tensor_rows<S: ByteSource>(
    archive: &TorchArchive<S>,
    sources: &[RowSource],
    expected_rows: usize,
    buffer: Vec<f32>,
) -> Result<Rows, Decline> {
    let mut rows = Rows::new();
    rows.data = buffer;
    for (i, source) in sources.iter().enumerate() {
        let RowSource::Tensor(tensor) = source else {
            return Err(Decline::new("rows of floats and of tensors in one file"));
        };
        let before = rows.data.len();
        archive
            .read_f32_into(tensor, &mut rows.data)
            .map_err(|e| Decline::new(format!("a tensor the general decoder will report: {e}")))?;
        rows.check_next(rows.data.len() - before, i)
            .map_err(Decline::new)?;
        rows.check_finite();
        rows.count += 1;
        if i == 0 {
            reserve_rows(&mut rows.data, archive, expected_rows);
        }
    }
    Ok(rows)
}

/// Room for all rows at the first row's width, no more than the file could hold (a row
/// element takes at least 2 bytes of storage).
fn reserve_rows<S: ByteSource>(data: &mut Vec<f32>, archive: &TorchArchive<S>, rows: usize) {
    let bound = usize::try_from(archive.source().len() / 2).unwrap_or(usize::MAX);
    let wanted = rows.saturating_mul(data.len()).min(bound);
    let _ = data.try_reserve_exact(wanted.saturating_sub(data.len()));
}
