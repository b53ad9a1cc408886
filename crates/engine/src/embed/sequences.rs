//! Reading one FASTA file of sequences to embed and tokenizing every record. Any problem
//! fails the whole file (a feature file must hold every record, in order), with a message
//! that names the file, the record and what is wrong.
use std::collections::HashSet;
use std::path::Path;

use super::error::{FailureKind, FileFailure};
use crate::encode::Tokenize;

/// The records of one file, tokenized.
#[derive(Debug, Default)]
pub struct TokenizedFile {
    pub ids: Vec<String>,
    pub tokens: Vec<Vec<i64>>,
}

impl TokenizedFile {
    pub fn total_tokens(&self) -> usize {
        self.tokens.iter().map(Vec::len).sum()
    }
}

pub fn read_and_tokenize(
    path: &Path,
    tokenizer: &dyn Tokenize,
) -> Result<TokenizedFile, FileFailure> {
    let reader = needletail::parse_fastx_file(path).map_err(|e| unreadable(path, e))?;
    tokenize_records(reader, path, tokenizer)
}

/// [`read_and_tokenize`] of a file already in memory (`path` names it in messages).
pub fn tokenize_bytes(
    bytes: &[u8],
    path: &Path,
    tokenizer: &dyn Tokenize,
) -> Result<TokenizedFile, FileFailure> {
    let reader = needletail::parse_fastx_reader(bytes).map_err(|e| unreadable(path, e))?;
    tokenize_records(reader, path, tokenizer)
}

fn unreadable(path: &Path, detail: impl std::fmt::Display) -> FileFailure {
    FileFailure::new(
        FailureKind::Unreadable,
        format!("{}: {detail}", path.display()),
    )
}

fn tokenize_records(
    mut reader: Box<dyn needletail::FastxReader + '_>,
    path: &Path,
    tokenizer: &dyn Tokenize,
) -> Result<TokenizedFile, FileFailure> {
    let mut file = TokenizedFile::default();
    let mut seen = HashSet::new();
    let mut number = 0u64;
    while let Some(record) = reader.next() {
        number += 1;
        let record = record.map_err(|e| unreadable(path, format!("record {number}: {e}")))?;
        let header = String::from_utf8_lossy(record.id());
        let id = header.split_whitespace().next().unwrap_or("").to_owned();
        let bad = |problem: String| {
            FileFailure::new(
                FailureKind::BadRecord,
                format!("{}: record {number} ('{id}'): {problem}", path.display()),
            )
        };
        if id.is_empty() {
            return Err(bad("the header has no ID".into()));
        }
        if !seen.insert(id.clone()) {
            return Err(bad("the ID appears twice in the file".into()));
        }
        let seq = record.seq();
        if seq.is_empty() {
            return Err(bad("the sequence is empty".into()));
        }
        let text = std::str::from_utf8(&seq).map_err(|_| bad("the sequence is not text".into()))?;
        let tokens = tokenizer.encode(text).map_err(bad)?;
        file.ids.push(id);
        file.tokens.push(tokens);
    }
    Ok(file)
}
