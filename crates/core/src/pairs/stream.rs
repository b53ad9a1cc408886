//! A pair of files read in lockstep: record i of R1, then record i of R2, each checked as
//! a read of its own (`crate::fasta::RecordChecker`), after their names are compared.
use std::path::{Path, PathBuf};

use needletail::FastxReader;

use super::{Mate, PairError};
use crate::fasta::{
    header_id, mate_name, open_fastx, parse_error, InputError, ReadItem, RecordAt, RecordChecker,
};

pub(crate) struct MateStream {
    paths: [PathBuf; 2],
    r1: Box<dyn FastxReader>,
    r2: Box<dyn FastxReader>,
    /// Records read from each file.
    record: u64,
    /// R2's item of the current record, given out after R1's.
    pending: Option<ReadItem>,
    done: bool,
    /// Paired by their names (the errors say how to read them apart).
    by_name: bool,
}

impl MateStream {
    pub(crate) fn open(paths: [&Path; 2], by_name: bool) -> Result<Self, InputError> {
        Ok(Self {
            r1: open_fastx(paths[0])?,
            r2: open_fastx(paths[1])?,
            paths: paths.map(Path::to_path_buf),
            record: 0,
            pending: None,
            done: false,
            by_name,
        })
    }

    /// The next mate, or the error that ends the pair.
    pub(crate) fn next(
        &mut self,
        checker: &mut RecordChecker,
    ) -> Option<Result<ReadItem, InputError>> {
        if let Some(item) = self.pending.take() {
            return Some(Ok(item));
        }
        if self.done {
            return None;
        }
        let [p1, p2] = &self.paths;
        let (record, by_name) = (self.record, self.by_name);
        let records = match (self.r1.next(), self.r2.next()) {
            (None, None) => {
                self.done = true;
                return None;
            }
            (Some(Err(err)), _) => Err(parse_error(p1, record, err)),
            (_, Some(Err(err))) => Err(parse_error(p2, record, err)),
            (Some(Ok(a)), None) => Err(unequal_counts(
                &self.paths,
                Mate::R1,
                record,
                a.id(),
                by_name,
            )),
            (None, Some(Ok(b))) => Err(unequal_counts(
                &self.paths,
                Mate::R2,
                record,
                b.id(),
                by_name,
            )),
            (Some(Ok(a)), Some(Ok(b))) => Ok((a, b)),
        };
        let (a, b) = match records {
            Ok(records) => records,
            Err(error) => {
                self.done = true;
                return Some(Err(error));
            }
        };
        self.record += 1;
        // Records whose header is no ID are reported by the checks below instead.
        let names = (header_id(a.id()), header_id(b.id()));
        if let (Some(n1), Some(n2)) = names {
            if !n1.is_empty()
                && !n2.is_empty()
                && mate_name(n1, Mate::R1) != mate_name(n2, Mate::R2)
            {
                let error = PairError::NamesDiffer {
                    r1: p1.clone(),
                    r2: p2.clone(),
                    record: self.record,
                    r1_id: n1.to_owned(),
                    r2_id: n2.to_owned(),
                    by_name: self.by_name,
                };
                self.done = true;
                return Some(Err(error.into()));
            }
        }
        let at = |path, line| RecordAt {
            path,
            record: self.record,
            line,
        };
        let checked = checker
            .check(
                &at(p1, a.start_line_number()),
                a.id(),
                a.seq().into_owned(),
                Some(Mate::R1),
            )
            .and_then(|first| {
                let second = checker.check(
                    &at(p2, b.start_line_number()),
                    b.id(),
                    b.seq().into_owned(),
                    Some(Mate::R2),
                )?;
                Ok((first, second))
            });
        let (first, second) = match checked {
            Ok(items) => items,
            Err(error) => {
                self.done = true;
                return Some(Err(error));
            }
        };
        self.pending = Some(second);
        Some(Ok(first))
    }
}

/// The error for a pair whose `longer` file still has a record (`header`) after `record`
/// records, when the other has ended.
fn unequal_counts(
    paths: &[PathBuf; 2],
    longer: Mate,
    record: u64,
    header: &[u8],
    by_name: bool,
) -> InputError {
    let [p1, p2] = paths;
    PairError::CountsDiffer {
        r1: p1.clone(),
        r2: p2.clone(),
        longer,
        record: record + 1,
        id: header_id(header).map_or_else(
            || String::from_utf8_lossy(header).chars().take(40).collect(),
            str::to_owned,
        ),
        by_name,
    }
    .into()
}
