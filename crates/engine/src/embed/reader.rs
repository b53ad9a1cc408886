//! The reader and the feeder of an embedding engine. The reader takes each job in turn,
//! checks, hashes, tokenizes and plans its file (or settles it: up to date, or failed);
//! the feeder queues each planned file's batches for the device workers.
use std::path::Path;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use virnucpro_core::cancel::CancelToken;
use virnucpro_core::features::{DataCheck, FeatureFile, InputChecksum, MappedFile};

use super::batch::{plan_batches, Batch};
use super::collect::Msg;
use super::error::{FailureKind, FileFailure};
use super::jobs::{Delivery, EngineModel, FileJob};
use super::sequences::{tokenize_bytes, TokenizedFile};
use super::worker::Work;
use super::{EmbedEvent, EmbedOptions, FileStatus};

/// How often a reader waiting for the next job looks at the cancel tokens.
const JOB_POLL: Duration = Duration::from_millis(50);

/// A tokenized file waiting for the feeder.
pub(super) struct Planned {
    file: usize,
    model: usize,
    tokens: Vec<Vec<i64>>,
    batches: Vec<Batch>,
}

/// Take each job in turn: check, tokenize and plan its file, then hand it to the feeder.
pub(super) fn read_jobs(
    models: &[EngineModel],
    options: &EmbedOptions,
    jobs: Receiver<FileJob>,
    stop: &CancelToken,
    start: Sender<()>,
    plans: Sender<Planned>,
    msgs: Sender<Msg>,
) {
    let mut reader = Reader {
        models,
        options,
        msgs,
        start: Some(start),
    };
    let mut file = 0usize;
    loop {
        if stop.is_cancelled() {
            break;
        }
        let job = match jobs.recv_timeout(JOB_POLL) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let this = file;
        file += 1;
        let Some(planned) = reader.read(this, job) else {
            continue;
        };
        // Blocks while the feeder still queues the previous file.
        if plans.send(planned).is_err() {
            break;
        }
    }
    // Stopped: jobs already handed over are still named in the report (as not finished),
    // never silently dropped. Jobs that come later were never given to this run.
    for job in jobs.try_iter() {
        let _ = reader.msgs.send(Msg::Taken { file, job });
        file += 1;
    }
}

struct Reader<'a> {
    models: &'a [EngineModel<'a>],
    options: &'a EmbedOptions,
    msgs: Sender<Msg>,
    /// Dropped after the workers were told to load their models.
    start: Option<Sender<()>>,
}

impl Reader<'_> {
    /// Job `file`, planned for the feeder; `None` when it was settled without the workers.
    fn read(&mut self, file: usize, job: FileJob) -> Option<Planned> {
        let _ = self.msgs.send(Msg::Taken {
            file,
            job: job.clone(),
        });
        let (tokenized, checksum) = match self.tokenize(&job) {
            Ok(read) => read,
            Err((status, sequences)) => {
                let _ = self.msgs.send(Msg::Settled {
                    file,
                    status,
                    sequences,
                });
                return None;
            }
        };
        let lengths: Vec<usize> = tokenized.tokens.iter().map(Vec::len).collect();
        let batches = plan_batches(&lengths, self.options.batch_tokens);
        let _ = self.msgs.send(Msg::Queued(EmbedEvent::FileQueued {
            input: job.input.clone(),
            sequences: lengths.len(),
            tokens: tokenized.total_tokens(),
            batches: batches.len(),
        }));
        let _ = self.msgs.send(Msg::Planned {
            file,
            ids: tokenized.ids,
            checksum,
            batches: batches.len(),
        });
        let planned = Planned {
            file,
            model: job.model,
            tokens: tokenized.tokens,
            batches,
        };
        if !planned.batches.is_empty() {
            if let Some(start) = self.start.take() {
                for _ in &self.options.devices {
                    let _ = start.send(());
                }
            }
        }
        Some(planned)
    }

    /// The job's file tokenized, with its checksum; or how it settles without the workers
    /// (up to date, or failed) and its sequences.
    fn tokenize(
        &self,
        job: &FileJob,
    ) -> Result<(TokenizedFile, InputChecksum), (FileStatus, usize)> {
        let Some(model) = self.models.get(job.model) else {
            let failure = FileFailure::new(
                FailureKind::Model,
                format!(
                    "{}: no model {} in this run",
                    job.input.display(),
                    job.model
                ),
            );
            return Err((FileStatus::Failed(failure), 0));
        };
        // Mapped once: hashed, then tokenized from the same bytes, so a file moved in
        // between (see `FileJob::moved_to`) cannot mix two versions.
        let mapped = open_input(job).map_err(|e| {
            let failure = FileFailure::new(
                FailureKind::Unreadable,
                format!("{}: {e}", job.input.display()),
            );
            (FileStatus::Failed(failure), 0)
        })?;
        let checksum = mapped.checksum();
        if !self.options.force && job.delivery == Delivery::File {
            if let Some(rows) = up_to_date(&job.output, model, &checksum) {
                return Err((FileStatus::UpToDate, rows));
            }
        }
        let tokenized = tokenize_bytes(mapped.bytes(), &job.input, model.tokenizer)
            .map_err(|failure| (FileStatus::Failed(failure), 0))?;
        drop(mapped);
        Ok((tokenized, checksum))
    }
}

fn open_input(job: &FileJob) -> std::io::Result<MappedFile> {
    match (MappedFile::open(&job.input), &job.moved_to) {
        (Err(e), Some(moved)) if e.kind() == std::io::ErrorKind::NotFound => {
            MappedFile::open(moved)
        }
        (result, _) => result,
    }
}

/// Queue the batches of each planned file for the workers.
pub(super) fn feed(
    models: &[EngineModel],
    plans: Receiver<Planned>,
    work: Sender<Work>,
    stop: &CancelToken,
) {
    for planned in plans {
        let pad_id = models[planned.model].tokenizer.pad_id();
        let mut tokens: Vec<Option<Vec<i64>>> = planned.tokens.into_iter().map(Some).collect();
        for batch in planned.batches {
            let item = Work {
                file: planned.file,
                model: planned.model,
                tokens: batch
                    .indices
                    .iter()
                    .map(|&i| tokens[i].take().unwrap_or_default())
                    .collect(),
                indices: batch.indices,
                pad_id,
            };
            // Blocks while the workers are busy: at most a few batches wait in memory.
            if stop.is_cancelled() || work.send(item).is_err() {
                return;
            }
        }
    }
}

/// The number of rows of an existing output made from the same input by the same model,
/// whose data is what was written. A file that fails a check is stale: it is embedded
/// again (and replaced), never handed on to merge.
fn up_to_date(output: &Path, model: &EngineModel, checksum: &InputChecksum) -> Option<usize> {
    // The header alone rules out most stale files without reading their data.
    let header = FeatureFile::validate_header(output).ok()?;
    let meta = &header.meta;
    let same =
        meta.kind == model.kind && meta.model == model.model && meta.inputs == [checksum.clone()];
    if !same {
        return None;
    }
    let verified = FeatureFile::open(output).and_then(|file| file.verify_data());
    match verified {
        Ok(DataCheck::Checksum) => Some(header.rows),
        Ok(DataCheck::FiniteValues) => {
            tracing::info!(
                "{}: no data checksum (written by an older version); every value was checked",
                output.display()
            );
            Some(header.rows)
        }
        Err(e) => {
            tracing::warn!("{e}; embedding it again");
            None
        }
    }
}
