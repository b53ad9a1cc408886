//! The reads a run called virus, copied out of its inputs into one FASTA file.
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use virnucpro_core::atomic::AtomicFile;
use virnucpro_core::fasta::{InputFile, ReadChecks, ReadItem, ReadStream};
use virnucpro_core::run_folder::layout::RunLayout;
use virnucpro_core::run_folder::manifest::RunManifest;

use crate::api::ReadCall;
use crate::error::{CommandError, CommandResult};
use crate::results::load_reads;

/// Write the virus reads of the run in `out_dir` to `dest` (`>id` and the sequence on one
/// line), in input order, reading the inputs the run's manifest lists. Returns how many.
pub fn export(out_dir: &Path, dest: &Path) -> CommandResult<u64> {
    let virus: HashSet<String> = load_reads(out_dir)?
        .into_iter()
        .filter(|r| r.call == ReadCall::Virus)
        .map(|r| r.read_id)
        .collect();
    let manifest_path = RunLayout::new(out_dir).manifest();
    // One that cannot be read is an error naming the file and the field.
    let manifest = RunManifest::load(&manifest_path)?.ok_or_else(|| {
        CommandError::not_found(format!(
            "{}: missing; the inputs of the run are unknown",
            manifest_path.display()
        ))
    })?;
    let inputs = manifest
        .inputs
        .iter()
        .map(|i| InputFile {
            path: i.path.clone(),
            bytes: i.bytes,
        })
        .collect();
    let mut out = AtomicFile::create(dest).map_err(CommandError::io_at(dest))?;
    let mut stream = ReadStream::new(inputs, ReadChecks::default());
    let mut written = 0u64;
    while let Some(item) = stream.next() {
        // Records the run skipped as bad were never scored, so they cannot be virus reads.
        let ReadItem::Read(read) = item.map_err(|e| CommandError::invalid(e.to_string()))? else {
            continue;
        };
        if virus.contains(&read.id) {
            out.write_all(format!(">{}\n", read.id).as_bytes())
                .and_then(|()| out.write_all(&read.seq))
                .and_then(|()| out.write_all(b"\n"))
                .map_err(CommandError::io_at(dest))?;
            written += 1;
        }
    }
    out.commit().map_err(CommandError::io_at(dest))?;
    Ok(written)
}
