//! Writing rendered batches, in order, into the staging folder, split into shards.
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::layout::{chunked_file_name, shard_file_name, NUCLEOTIDE_DIR, PROTEIN_DIR};
use super::record::ShardInfo;
use super::render::Rendered;

const BUFFER: usize = 1 << 20;

struct OpenShard {
    index: usize,
    records: usize,
    nucleotide_path: PathBuf,
    protein_path: PathBuf,
    nucleotide: BufWriter<File>,
    protein: BufWriter<File>,
}

/// Writes the chunked reads and the shards under `staging`.
pub(super) struct StagedWriter {
    staging: PathBuf,
    shard_size: usize,
    chunked: BufWriter<File>,
    chunked_path: PathBuf,
    open: Option<OpenShard>,
    shards: Vec<ShardInfo>,
}

/// An output error with the path it concerns.
pub(super) struct WriteError {
    pub path: PathBuf,
    pub source: io::Error,
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError {
        path: path.to_path_buf(),
        source,
    }
}

impl StagedWriter {
    pub fn create(staging: &Path, chunk_len: usize, shard_size: usize) -> Result<Self, WriteError> {
        for dir in [NUCLEOTIDE_DIR, PROTEIN_DIR] {
            let path = staging.join(dir);
            fs::create_dir(&path).map_err(at(&path))?;
        }
        let chunked_path = staging.join(chunked_file_name(chunk_len));
        let chunked = File::create(&chunked_path).map_err(at(&chunked_path))?;
        Ok(Self {
            staging: staging.to_path_buf(),
            shard_size,
            chunked: BufWriter::with_capacity(BUFFER, chunked),
            chunked_path,
            open: None,
            shards: Vec::new(),
        })
    }

    pub fn write(&mut self, batch: &Rendered) -> Result<(), WriteError> {
        let chunked_path = &self.chunked_path;
        self.chunked
            .write_all(&batch.chunked)
            .map_err(at(chunked_path))?;
        let mut frame = 0;
        let total = batch.nuc_ends.len();
        let shard_size = self.shard_size;
        while frame < total {
            let shard = self.shard_with_room()?;
            // Write the longest run of frames that fits in this shard in one go.
            let run = (shard_size - shard.records).min(total - frame);
            let span = |ends: &[usize]| {
                let start = if frame == 0 { 0 } else { ends[frame - 1] };
                start..ends[frame + run - 1]
            };
            let (nuc, prot) = (span(&batch.nuc_ends), span(&batch.prot_ends));
            shard
                .nucleotide
                .write_all(&batch.nucleotide[nuc])
                .map_err(at(&shard.nucleotide_path))?;
            shard
                .protein
                .write_all(&batch.protein[prot])
                .map_err(at(&shard.protein_path))?;
            shard.records += run;
            frame += run;
        }
        Ok(())
    }

    /// The shards closed so far (complete and synced), in order.
    pub fn closed_shards(&self) -> &[ShardInfo] {
        &self.shards
    }

    pub fn staging(&self) -> &Path {
        &self.staging
    }

    fn shard_with_room(&mut self) -> Result<&mut OpenShard, WriteError> {
        let full = matches!(&self.open, Some(s) if s.records >= self.shard_size);
        if full {
            self.close_shard()?;
        }
        if self.open.is_none() {
            let index = self.shards.len() + 1;
            let nuc_path = self
                .staging
                .join(NUCLEOTIDE_DIR)
                .join(shard_file_name(index, false));
            let prot_path = self
                .staging
                .join(PROTEIN_DIR)
                .join(shard_file_name(index, true));
            let nucleotide = File::create(&nuc_path).map_err(at(&nuc_path))?;
            let protein = File::create(&prot_path).map_err(at(&prot_path))?;
            self.open = Some(OpenShard {
                index,
                records: 0,
                nucleotide_path: nuc_path,
                protein_path: prot_path,
                nucleotide: BufWriter::with_capacity(BUFFER, nucleotide),
                protein: BufWriter::with_capacity(BUFFER, protein),
            });
        }
        self.open.as_mut().ok_or_else(|| WriteError {
            path: self.staging.clone(),
            source: io::Error::other("no open shard"),
        })
    }

    fn close_shard(&mut self) -> Result<(), WriteError> {
        let Some(shard) = self.open.take() else {
            return Ok(());
        };
        finish_file(shard.nucleotide, &shard.nucleotide_path)?;
        finish_file(shard.protein, &shard.protein_path)?;
        let nucleotide = PathBuf::from(NUCLEOTIDE_DIR).join(shard_file_name(shard.index, false));
        let protein = PathBuf::from(PROTEIN_DIR).join(shard_file_name(shard.index, true));
        self.shards.push(ShardInfo {
            index: shard.index,
            records: shard.records,
            nucleotide,
            protein,
        });
        Ok(())
    }

    /// Flush and fsync everything; returns the shards written.
    pub fn finish(mut self) -> Result<Vec<ShardInfo>, WriteError> {
        self.close_shard()?;
        finish_file(self.chunked, &self.chunked_path)?;
        for dir in [NUCLEOTIDE_DIR, PROTEIN_DIR] {
            let path = self.staging.join(dir);
            crate::atomic::sync_dir(&path).map_err(at(&path))?;
        }
        Ok(self.shards)
    }
}

fn finish_file(writer: BufWriter<File>, path: &Path) -> Result<(), WriteError> {
    let file = writer.into_inner().map_err(|e| WriteError {
        path: path.to_path_buf(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(at(path))
}
